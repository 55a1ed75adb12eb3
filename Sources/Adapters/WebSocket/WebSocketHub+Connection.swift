import Domain
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Ports
import Synchronization

extension WebSocketHub {
    /// Runs one connection until it ends: `read` consumes the inbound messages while a watchdog closes the socket when
    /// the outbox is doomed (slow consumer, shutdown). Outbound messages need no task here: the `ConnectionWriter`
    /// writes them on the channel's event loop. A protocol error from reading (a message over the size limit) is
    /// rethrown, so the connection closes with its code (1009).
    func serve(
        _ writer: ConnectionWriter, outbound: WebSocketOutboundWriter, logger: Logger,
        read: @escaping @Sendable () async throws -> Void
    ) async throws {
        let outbox = writer.outbox
        enum Role { case reader((any Error)?), watchdog }
        let readError = await withTaskGroup(of: Role.self) { group -> (any Error)? in
            group.addTask {
                guard let closing = await outbox.doomed() else { return .watchdog }
                logger.info("closing websocket", metadata: ["ws.close.code": "\(closing.code)", "ws.close.reason": "\(closing.reason.rawValue)"])
                await withTimeout(self.settings.closeGrace) {
                    try? await outbound.close(WebSocketErrorCode(codeNumber: Int(closing.code)), reason: closing.reason.rawValue)
                }
                return .watchdog
            }
            group.addTask {
                do {
                    try await read()
                    return .reader(nil)
                } catch {
                    logger.debug("websocket read ended", metadata: ["error": "\(error)"])
                    return .reader(error)
                }
            }
            var readError: (any Error)?
            while let role = await group.next() {
                switch role {
                case .reader(let error):
                    if !(error is CancellationError) { readError = error }
                    outbox.finish()
                case .watchdog: group.cancelAll()
                }
            }
            return readError
        }
        if let readError { throw readError }
    }
}

/// Runs `body` for at most `timeout`.
func withTimeout(_ timeout: Duration, _ body: @escaping @Sendable () async -> Void) async {
    await withTaskGroup(of: Void.self) { group in
        group.addTask { await body() }
        group.addTask { try? await Task.sleep(for: timeout) }
        await group.next()
        group.cancelAll()
    }
}
