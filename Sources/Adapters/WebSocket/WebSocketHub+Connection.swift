import Domain
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Ports
import Synchronization

extension WebSocketHub {
    /// Runs one connection until `read`, which consumes the inbound messages, returns. Outbound messages need no task
    /// here: the `ConnectionWriter` writes them on the channel's event loop. Nor does the close of a doomed connection
    /// (slow consumer, shutdown): the doom starts a task that sends the close frame and, when the client does not answer
    /// within the grace period (one that stopped reading never will), closes the socket, which ends `read`. An idle
    /// connection thus holds no task of its own besides the one running `read`. A protocol error from reading (a
    /// message over the size limit) is rethrown, so the connection closes with its code (1009).
    func serve(
        _ writer: ConnectionWriter, outbound: WebSocketOutboundWriter, logger: Logger,
        read: @Sendable () async throws -> Void
    ) async throws {
        let outbox = writer.outbox
        let channel = writer.channel
        let grace = settings.closeGrace
        outbox.whenDoomed { closing in
            logger.info("closing websocket", metadata: ["ws.close.code": "\(closing.code)", "ws.close.reason": "\(closing.reason.rawValue)"])
            Task {
                await withTimeout(grace) {
                    try? await outbound.close(WebSocketErrorCode(codeNumber: Int(closing.code)), reason: closing.reason.rawValue)
                }
                try? await Task.sleep(for: grace)
                try? await channel.close()
            }
        }
        defer { outbox.finish() }
        do {
            try await read()
        } catch is CancellationError {
        } catch {
            logger.debug("websocket read ended", metadata: ["error": "\(error)"])
            throw error
        }
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
