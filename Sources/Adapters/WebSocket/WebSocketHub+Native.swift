import Domain
import NIOCore
import Ports
import Synchronization

extension WebSocketHub {
    /// Subscriptions one connection may hold.
    static let maximumSubscriptions = 100

    /// For a `subscribe` that names a saved preset, the look-up of its filters for the connection's user, to run before
    /// the request is handled (the store is asynchronous, the hub is not); nil when it names none or there is no user.
    func presetLookup(_ text: String, user: UserID?, users: WebSocketUsers?) -> (@Sendable () async -> Result<JSONValue?, RealtimeProtocolError>)? {
        guard text.utf8.count <= settings.maxRequestBytes, text.contains("preset"),
            let request = try? JSONParser.parse(text), request["action"]?.stringValue == "subscribe",
            let reference = SubscriptionCriteria.presetReference(request), let user, let users
        else { return nil }
        guard let id = Int64(reference) else { return { .success(nil) } }
        return {
            do {
                return .success(try await users.presetFilters(user, id))
            } catch {
                return .failure(RealtimeProtocolError(code: "unavailable", message: "saved presets are unavailable right now; try again shortly"))
            }
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
