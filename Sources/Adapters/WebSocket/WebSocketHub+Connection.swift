import Domain
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Ports
import Synchronization

extension WebSocketHub {
    /// Runs one connection until it ends: a writer task drains the outbox into frames, a watchdog closes the socket
    /// when the outbox is doomed (slow consumer, shutdown), and `read` consumes the inbound messages. A protocol error
    /// from reading (a message over the size limit) is rethrown, so the connection closes with its code (1009).
    func serve(
        _ outbox: Outbox, kind: Kind, outbound: WebSocketOutboundWriter, logger: Logger,
        read: @escaping @Sendable () async throws -> Void
    ) async throws {
        enum Role { case reader((any Error)?), writer, watchdog }
        let readError = try await withTaskGroup(of: Role.self) { group -> (any Error)? in
            group.addTask {
                await self.write(outbox, kind: kind, to: outbound)
                return .writer
            }
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
                case .writer: outbox.finish()
                case .watchdog: group.cancelAll()
                }
            }
            return readError
        }
        if let readError { throw readError }
    }

    /// Drains the outbox: native messages go out as one JSON array per frame (up to `batchMessages`), Socket.IO
    /// packets one per frame. Returns when the outbox is doomed or finished, or a write fails.
    func write(_ outbox: Outbox, kind: Kind, to outbound: WebSocketOutboundWriter) async {
        let allocator = ByteBufferAllocator()
        while let batch = await outbox.next(maximum: kind == .native ? settings.batchMessages : 64) {
            var events = 0
            var bytes = 0
            var frames = 0
            do {
                switch kind {
                case .native:
                    var size = 2
                    for message in batch { size += message.byteCount + 1 }
                    var buffer = allocator.buffer(capacity: size)
                    buffer.writeInteger(UInt8(ascii: "["))
                    var first = true
                    for message in batch {
                        if !first { buffer.writeInteger(UInt8(ascii: ",")) }
                        first = false
                        buffer.writeBytes(message.body)
                        buffer.writeBytes(message.tail)
                        if message.isEvent { events += 1 }
                    }
                    buffer.writeInteger(UInt8(ascii: "]"))
                    bytes = buffer.readableBytes
                    frames = 1
                    try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: buffer)))
                case .socketIO:
                    for message in batch {
                        var buffer = allocator.buffer(capacity: message.byteCount)
                        buffer.writeBytes(message.body)
                        buffer.writeBytes(message.tail)
                        bytes += buffer.readableBytes
                        frames += 1
                        if message.isEvent { events += 1 }
                        try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: buffer)))
                    }
                }
            } catch {
                return
            }
            counters.messagesDelivered.add(events, ordering: .relaxed)
            counters.framesSent.add(frames, ordering: .relaxed)
            counters.bytesSent.add(bytes, ordering: .relaxed)
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
