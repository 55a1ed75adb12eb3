import Domain
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Ports
import Synchronization

extension WebSocketHub {
    /// Subscriptions one connection may hold.
    static let maximumSubscriptions = 100

    /// The native protocol at `/ws`: `connected` first, then requests answered in order, events as they match.
    func runNative(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel, user: UserID? = nil,
        users: WebSocketUsers? = nil, logger: Logger
    ) async throws {
        try await withConnection(.native, channel: channel, outbound: outbound) { id, writer, seq, oldestSeq in
            writer.send(
                OutboundMessage(body: NativeProtocol.connected(epoch: epoch, seq: seq, oldestSeq: oldestSeq, serverTime: clock.now())))
            try await serve(writer, outbound: outbound, logger: logger) {
                for try await message in inbound.messages(maxSize: self.settings.maxFrameSize) {
                    let saved = await self.savedPreset(named: message, user: user, users: users)
                    self.handleNative(message, connection: id, writer: writer, savedPreset: saved)
                }
            }
        }
    }

    /// The filters of the saved preset a `subscribe` names by id, looked up for the connection's user before the
    /// request is handled (the store is asynchronous, the hub is not); nil when it names none or there is no user.
    func savedPreset(named message: WebSocketMessage, user: UserID?, users: WebSocketUsers?) async -> Result<JSONValue?, RealtimeProtocolError>? {
        guard case .text(let text) = message, text.utf8.count <= settings.maxRequestBytes, text.contains("preset"),
            let request = try? JSONParser.parse(text), request["action"]?.stringValue == "subscribe",
            let reference = SubscriptionCriteria.presetReference(request), let user, let users
        else { return nil }
        guard let id = Int64(reference) else { return .success(nil) }
        do {
            return .success(try await users.presetFilters(user, id))
        } catch {
            return .failure(RealtimeProtocolError(code: "unavailable", message: "saved presets are unavailable right now; try again shortly"))
        }
    }

    func handleNative(
        _ message: WebSocketMessage, connection: UInt64, writer: ConnectionWriter, savedPreset: Result<JSONValue?, RealtimeProtocolError>? = nil
    ) {
        let reply: [UInt8]?
        do throws(RealtimeProtocolError) {
            reply = try nativeReply(message, connection: connection, savedPreset: savedPreset)
        } catch {
            counters.badRequests.add(1, ordering: .relaxed)
            if error.code == "too_large" { counters.oversizeRequests.add(1, ordering: .relaxed) }
            reply = NativeProtocol.error(error, epoch: epoch, seq: latestSeq)
        }
        if let reply { writer.send(OutboundMessage(body: reply)) }
    }

    /// The reply to one request; nil when the request queues its own messages (`resume`).
    private func nativeReply(
        _ message: WebSocketMessage, connection: UInt64, savedPreset: Result<JSONValue?, RealtimeProtocolError>?
    ) throws(RealtimeProtocolError) -> [UInt8]? {
        guard case .text(let text) = message else {
            throw RealtimeProtocolError(code: "bad_request", message: "binary frames are not supported; send JSON text frames")
        }
        guard text.utf8.count <= settings.maxRequestBytes else {
            throw RealtimeProtocolError(
                code: "too_large", message: "request of \(text.utf8.count) bytes exceeds the \(settings.maxRequestBytes)-byte limit")
        }
        switch try NativeProtocol.parse(Array(text.utf8), catalog: catalog, savedPreset: savedPreset) {
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
