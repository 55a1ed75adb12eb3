/// A client request of the native protocol at `/ws`, one JSON object per text frame.
public enum NativeClientMessage: Sendable, Equatable {
    case subscribe(id: String, criteria: SubscriptionCriteria)
    case unsubscribe(id: String)
    case ping
    /// Replay what was published after `after`; `epoch` (optional) must be the server's current one.
    case resume(after: UInt64, epoch: String?)
}

/// Why a client frame was refused; sent back as `{"T":"error","code":…,"message":…}`. The connection stays open.
public struct RealtimeProtocolError: Error, Equatable, Sendable {
    public var code: String
    public var message: String
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    static func badRequest(_ message: String) -> RealtimeProtocolError { .init(code: "bad_request", message: message) }
}

/// The native protocol: parsing client frames and writing server messages. Server frames are JSON arrays of typed
/// messages (`{"T":…}`); one frame may carry several. Every message carries the server's `epoch` and a `seq`: for
/// `pattern` and `expired` it is the event's own number, for the others the newest number published when it was sent.
public enum NativeProtocol {
    /// Subscription ids: short, printable, so they can be echoed safely.
    public static let maximumIDLength = 64

    /// - Parameter savedPreset: for a `subscribe` that names a saved preset by id, what looking it up for the
    ///   connection's user gave (its filters, nil when the user has none with that id, or why the lookup failed); nil
    ///   when nothing was looked up (an anonymous connection).
    public static func parse(
        _ frame: some Collection<UInt8>, catalog: Catalog, savedPreset: Result<JSONValue?, RealtimeProtocolError>? = nil
    ) throws(RealtimeProtocolError) -> NativeClientMessage {
        let message: JSONValue
        do {
            message = try JSONParser.parse(frame)
        } catch {
            throw .badRequest("frame is not valid JSON (\(error))")
        }
        guard message.isObject else { throw .badRequest("a message must be a JSON object with an action") }
        guard let action = message["action"]?.stringValue else {
            throw .badRequest("action is required: subscribe, unsubscribe, ping or resume")
        }
        switch action {
        case "subscribe":
            let id = try subscriptionID(message)
            var saved: JSONValue?
            if SubscriptionCriteria.presetReference(message) != nil, let savedPreset {
                switch savedPreset {
                case .success(let filters): saved = filters
                case .failure(let error): throw error
                }
            }
            do {
                return .subscribe(id: id, criteria: try SubscriptionCriteria.parse(message, catalog: catalog, savedPreset: saved))
            } catch {
                throw .badRequest(error.message)
            }
        case "unsubscribe":
            return .unsubscribe(id: try subscriptionID(message))
        case "ping":
            return .ping
        case "resume":
            guard let after = message["after"]?.numberValue, after >= 0, after == after.rounded(), after < 1e18 else {
                throw .badRequest("resume needs after: the last seq received (an integer >= 0)")
            }
            return .resume(after: UInt64(after), epoch: message["epoch"]?.stringValue)
        default:
            throw .badRequest("unknown action '\(action)': use subscribe, unsubscribe, ping or resume")
        }
    }

    static func subscriptionID(_ message: JSONValue) throws(RealtimeProtocolError) -> String {
        guard let value = message["id"], value.stringValue != nil || value.numberValue != nil,
            let id = ScanQuery.scalarText(value)
        else { throw .badRequest("id is required: a string naming the subscription") }
        guard !id.isEmpty, id.utf8.count <= maximumIDLength, id.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw .badRequest("id must be 1 to \(maximumIDLength) printable characters")
        }
        return id
    }

    // MARK: - Server messages (each one JSON object; the transport wraps a batch in `[…]`)

    /// The first message on every connection.
    public static func connected(epoch: String, seq: UInt64, oldestSeq: UInt64?, serverTime: EpochMillis) -> [UInt8] {
        message("connected", epoch: epoch, seq: seq) { w in
            w.field("server_time", Timestamp.iso8601(serverTime))
            w.key("history_oldest_seq")
            if let oldestSeq { w.integer(Int(oldestSeq)) } else { w.null() }
        }
    }

    public static func subscribed(id: String, epoch: String, seq: UInt64) -> [UInt8] {
        message("subscribed", epoch: epoch, seq: seq) { $0.field("id", id) }
    }

    public static func unsubscribed(id: String, epoch: String, seq: UInt64) -> [UInt8] {
        message("unsubscribed", epoch: epoch, seq: seq) { $0.field("id", id) }
    }

    public static func pong(epoch: String, seq: UInt64) -> [UInt8] { message("pong", epoch: epoch, seq: seq) { _ in } }

    /// Sent when `resume` cannot be served from the history: reload through the scan API, then subscribe again.
    public static func resync(epoch: String, seq: UInt64, reason: String) -> [UInt8] {
        message("resync", epoch: epoch, seq: seq) { $0.field("reason", reason) }
    }

    /// The end of a replay: everything up to `seq` has been sent.
    public static func resumed(epoch: String, seq: UInt64, replayed: Int) -> [UInt8] {
        message("resumed", epoch: epoch, seq: seq) { $0.field("replayed", replayed) }
    }

    public static func error(_ error: RealtimeProtocolError, epoch: String, seq: UInt64) -> [UInt8] {
        message("error", epoch: epoch, seq: seq) { w in
            w.field("code", error.code)
            w.field("message", error.message)
        }
    }

    /// The part of an event message shared by every recipient: everything but the closing `,"subscription":…}`
    /// (see ``recipientTail(_:)``), so the event is serialised once and only the tail differs.
    public static func eventBody(_ event: FeedEvent, seq: UInt64, epoch: String) -> [UInt8] {
        var w = JSONWriter(capacity: 1024)
        w.append("{".utf8)
        switch event {
        case .pattern(let pattern):
            w.field("T", "pattern")
            w.field("seq", Int(seq))
            w.field("epoch", epoch)
            w.key("data")
            PatternItem(pattern: pattern, now: pattern.detectedAt).write(to: &w)
        case .expired(let pattern):
            w.field("T", "expired")
            w.field("seq", Int(seq))
            w.field("epoch", epoch)
            w.field("key", pattern.key.id)
            w.field("symbol", pattern.symbol)
            w.field("pattern_type", pattern.patternType)
            w.field("tier", pattern.tier.name)
        }
        return w.bytes
    }

    /// Closes an ``eventBody(_:seq:epoch:)`` for one recipient: the subscription it matched and, when several of the
    /// connection's subscriptions matched, all of them.
    public static func recipientTail(_ subscriptions: [String]) -> [UInt8] {
        var w = JSONWriter(capacity: 64)
        w.append(",".utf8)
        w.field("subscription", subscriptions.first ?? "")
        if subscriptions.count > 1 { w.field("subscriptions", subscriptions) }
        w.append("}".utf8)
        return w.bytes
    }

    static func message(_ type: String, epoch: String, seq: UInt64, _ body: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter(capacity: 128)
        w.object { w in
            w.field("T", type)
            w.field("seq", Int(seq))
            w.field("epoch", epoch)
            body(&w)
        }
        return w.bytes
    }
}
