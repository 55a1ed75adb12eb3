import Domain
import HummingbirdWebSocket
import Logging
import NIOWebSocket
import Ports
import Synchronization

extension WebSocketHub {
    /// Subscriptions one connection may hold.
    static let maximumSubscriptions = 100

    /// The native protocol at `/ws`: `connected` first, then requests answered in order, events as they match.
    func runNative(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) async throws {
        try await withConnection(.native, outbound: outbound) { id, outbox, seq, oldestSeq in
            _ = outbox.push(
                OutboundMessage(body: NativeProtocol.connected(epoch: epoch, seq: seq, oldestSeq: oldestSeq, serverTime: clock.now())))
            try await serve(outbox, kind: .native, outbound: outbound, logger: logger) {
                for try await message in inbound.messages(maxSize: self.settings.maxFrameSize) {
                    self.handleNative(message, connection: id, outbox: outbox)
                }
            }
        }
    }

    func handleNative(_ message: WebSocketMessage, connection: UInt64, outbox: Outbox) {
        let reply: [UInt8]?
        do throws(RealtimeProtocolError) {
            reply = try nativeReply(message, connection: connection)
        } catch {
            counters.badRequests.add(1, ordering: .relaxed)
            if error.code == "too_large" { counters.oversizeRequests.add(1, ordering: .relaxed) }
            reply = NativeProtocol.error(error, epoch: epoch, seq: latestSeq)
        }
        if let reply { _ = outbox.push(OutboundMessage(body: reply)) }
    }

    /// The reply to one request; nil when the request queues its own messages (`resume`).
    private func nativeReply(_ message: WebSocketMessage, connection: UInt64) throws(RealtimeProtocolError) -> [UInt8]? {
        guard case .text(let text) = message else {
            throw RealtimeProtocolError(code: "bad_request", message: "binary frames are not supported; send JSON text frames")
        }
        guard text.utf8.count <= settings.maxRequestBytes else {
            throw RealtimeProtocolError(
                code: "too_large", message: "request of \(text.utf8.count) bytes exceeds the \(settings.maxRequestBytes)-byte limit")
        }
        switch try NativeProtocol.parse(Array(text.utf8), catalog: catalog) {
        case .subscribe(let id, let criteria):
            let existing = subscriptions(of: connection)
            guard existing.contains(id) || existing.count < Self.maximumSubscriptions else {
                throw RealtimeProtocolError(
                    code: "too_many_subscriptions", message: "a connection may hold \(Self.maximumSubscriptions) subscriptions")
            }
            let seq = subscribe(connection, name: id, criteria: criteria)
            return NativeProtocol.subscribed(id: id, epoch: epoch, seq: seq)
        case .unsubscribe(let id):
            let (existed, seq) = unsubscribe(connection, name: id)
            guard existed else { throw RealtimeProtocolError(code: "not_found", message: "no subscription '\(id)' on this connection") }
            return NativeProtocol.unsubscribed(id: id, epoch: epoch, seq: seq)
        case .ping:
            return NativeProtocol.pong(epoch: epoch, seq: latestSeq)
        case .resume(let after, let clientEpoch):
            resume(connection, after: after, epoch: clientEpoch)
            return nil
        }
    }
}
