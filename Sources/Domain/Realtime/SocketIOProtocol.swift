/// Engine.IO v4 / Socket.IO v5 over the websocket transport, as far as TickStock dashboards and python-socketio use
/// it: text packets only, the default namespace, events with optional acknowledgement ids.
public enum SocketIOProtocol {
    /// One inbound text frame, decoded.
    public enum Inbound: Sendable, Equatable {
        /// Engine.IO ping from the client (`2`); answered with `3` and the same data.
        case ping(String)
        /// Engine.IO pong (`3`), the answer to the server's ping.
        case pong
        /// Engine.IO close (`1`).
        case close
        /// Socket.IO CONNECT (`40`) to `namespace`.
        case connect(namespace: String)
        /// Socket.IO DISCONNECT (`41`).
        case disconnect
        /// Socket.IO EVENT (`42`): name, first argument (null when none) and the acknowledgement id if one was asked.
        case event(name: String, payload: JSONValue, ackID: Int?, namespace: String)
        /// Anything else that is well formed but not acted on (noop, upgrade, acks from the client).
        case ignored
    }

    public static let pingInterval = 25_000
    public static let pingTimeout = 20_000
    public static let maxPayload = 1_000_000

    public static func parse(_ text: some Collection<UInt8>) throws(RealtimeProtocolError) -> Inbound {
        let bytes = Array(text)
        guard let first = bytes.first else { throw .badRequest("empty Engine.IO packet") }
        switch first {
        case UInt8(ascii: "1"): return .close
        case UInt8(ascii: "2"): return .ping(String(decoding: bytes.dropFirst(), as: UTF8.self))
        case UInt8(ascii: "3"): return .pong
        case UInt8(ascii: "5"), UInt8(ascii: "6"): return .ignored
        case UInt8(ascii: "4"): return try parseSocketIO(bytes.dropFirst())
        default: throw .badRequest("unknown Engine.IO packet type '\(Character(Unicode.Scalar(first)))'")
        }
    }

    static func parseSocketIO(_ packet: ArraySlice<UInt8>) throws(RealtimeProtocolError) -> Inbound {
        guard let type = packet.first else { throw .badRequest("empty Socket.IO packet") }
        var rest = packet.dropFirst()
        // Binary packets carry an attachment count and a dash before the rest; we do not accept attachments.
        if type == UInt8(ascii: "5") || type == UInt8(ascii: "6") {
            throw .badRequest("binary Socket.IO packets are not supported")
        }
        var namespace = "/"
        if rest.first == UInt8(ascii: "/") {
            let end = rest.firstIndex(of: UInt8(ascii: ",")) ?? rest.endIndex
            namespace = String(decoding: rest[rest.startIndex..<end], as: UTF8.self)
            rest = end < rest.endIndex ? rest[(end + 1)...] : rest[end...]
        }
        var ackID: Int?
        var digits = 0
        while let byte = rest.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), digits < 9 {
            ackID = (ackID ?? 0) * 10 + Int(byte - UInt8(ascii: "0"))
            rest = rest.dropFirst()
            digits += 1
        }
        switch type {
        case UInt8(ascii: "0"): return .connect(namespace: namespace)
        case UInt8(ascii: "1"): return .disconnect
        case UInt8(ascii: "3"): return .ignored
        case UInt8(ascii: "2"):
            let arguments: JSONValue
            do {
                arguments = try JSONParser.parse(rest)
            } catch {
                throw .badRequest("Socket.IO event payload is not valid JSON (\(error))")
            }
            guard case .array(let items) = arguments, case .string(let name)? = items.first else {
                throw .badRequest("a Socket.IO event must be a JSON array starting with the event name")
            }
            return .event(name: name, payload: items.count > 1 ? items[1] : .null, ackID: ackID, namespace: namespace)
        default:
            throw .badRequest("unsupported Socket.IO packet type '\(Character(Unicode.Scalar(type)))'")
        }
    }

    // MARK: - Outbound packets

    /// Engine.IO OPEN, the first frame on a connection.
    public static func open(sessionID: String) -> [UInt8] {
        var w = JSONWriter(capacity: 160)
        w.append("0".utf8)
        w.object { w in
            w.field("sid", sessionID)
            w.key("upgrades")
            w.array { _ in }
            w.field("pingInterval", pingInterval)
            w.field("pingTimeout", pingTimeout)
            w.field("maxPayload", maxPayload)
        }
        return w.bytes
    }

    /// Socket.IO CONNECT acknowledgement for the default namespace.
    public static func connected(sessionID: String) -> [UInt8] {
        var w = JSONWriter(capacity: 48)
        w.append("40".utf8)
        w.object { $0.field("sid", sessionID) }
        return w.bytes
    }

    /// Socket.IO CONNECT_ERROR for a namespace this server does not serve.
    public static func connectError(namespace: String, message: String) -> [UInt8] {
        var w = JSONWriter(capacity: 96)
        w.append("44".utf8)
        if namespace != "/" { w.append("\(namespace),".utf8) }
        w.object { $0.field("message", message) }
        return w.bytes
    }

    /// `42["name",payload]`; `payload` writes one JSON value.
    public static func event(_ name: String, _ payload: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter(capacity: 512)
        w.append("42".utf8)
        w.array { w in
            w.string(name)
            payload(&w)
        }
        return w.bytes
    }

    /// `43<id>[payload]`, the acknowledgement of an event that asked for one.
    public static func ack(_ id: Int, _ payload: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.append("43\(id)".utf8)
        w.array { payload(&$0) }
        return w.bytes
    }

    public static let ping: [UInt8] = Array("2".utf8)

    public static func pong(_ data: String) -> [UInt8] { Array("3\(data)".utf8) }

    /// The Socket.IO frames for one feed event: `pattern_update` and `pattern_alert` for a pattern (both shapes TickStock
    /// dashboards parse), `pattern_expired` for an expiry. `now` stamps `timestamp`.
    public static func eventFrames(_ event: FeedEvent, seq: UInt64, epoch: String) -> [[UInt8]] {
        switch event {
        case .pattern(let pattern):
            var data = JSONWriter(capacity: 768)
            writeUpdate(pattern, seq: seq, epoch: epoch, to: &data)
            let seconds = Double(pattern.detectedAt) / 1000
            let update = Self.event("pattern_update") { $0.raw(data.bytes) }
            var eventObject = JSONWriter(capacity: 1024)
            eventObject.object { w in
                w.field("event_type", "pattern_detected")
                w.field("source", pattern.source)
                w.field("timestamp", seconds)
                w.key("data")
                w.raw(data.bytes)
            }
            let alert = Self.event("pattern_alert") { w in
                w.object { w in
                    w.field("type", "pattern_alert")
                    w.field("pattern", pattern.patternType)
                    w.field("symbol", pattern.symbol)
                    w.key("event")
                    w.raw(eventObject.bytes)
                    w.key("event_data")
                    w.raw(eventObject.bytes)
                    w.field("timestamp", seconds)
                    w.field("seq", Int(seq))
                    w.field("epoch", epoch)
                }
            }
            return [update, alert]
        case .expired(let pattern):
            return [
                Self.event("pattern_expired") { w in
                    w.object { w in
                        w.field("id", pattern.key.id)
                        w.field("symbol", pattern.symbol)
                        w.field("pattern", pattern.patternType)
                        w.field("tier", pattern.tier.name)
                        w.field("seq", Int(seq))
                        w.field("epoch", epoch)
                    }
                }
            ]
        }
    }

    /// `pattern_update`: the TickStock fields (`symbol`, `pattern`, `price`, `change`, `timestamp` in epoch seconds)
    /// followed by the scan API's typed fields (`confidence` among them).
    static func writeUpdate(_ p: Pattern, seq: UInt64, epoch: String, to w: inout JSONWriter) {
        w.object { w in
            w.field("symbol", p.symbol)
            w.field("pattern", p.patternType)
            w.field("price", p.price)
            w.field("change", p.changePercent)
            w.field("timestamp", Double(p.detectedAt) / 1000)
            w.field("id", p.key.id)
            w.field("source", p.source)
            PatternItem.writeTypedFields(p, to: &w)
            w.field("seq", Int(seq))
            w.field("epoch", epoch)
        }
    }
}
