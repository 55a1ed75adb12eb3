public import Domain

/// One stream entry: its id and field/value pairs as Redis returned them.
public struct StreamEntry: Sendable, Equatable {
    public var id: String
    /// Nil when the entry was deleted from the stream while still pending.
    public var fields: [(name: String, value: [UInt8])]?

    public init(id: String, fields: [(name: String, value: [UInt8])]?) {
        self.id = id
        self.fields = fields
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.id == rhs.id && lhs.fields?.map(\.name) == rhs.fields?.map(\.name) && lhs.fields?.map(\.value) == rhs.fields?.map(\.value)
    }

    /// The event JSON the entry carries: field `data`, `event` or `payload` when that is all it has; otherwise the
    /// event's top-level keys as flat fields, where a value holding a JSON object, array or number is taken as that
    /// JSON (`data`, `indicators` sent as JSON strings) and anything else as a string.
    public var eventBody: [UInt8] {
        guard let fields, !fields.isEmpty else { return [] }
        let envelope = fields.filter { ["data", "event", "payload"].contains($0.name) }
        if envelope.count == 1, fields.allSatisfy({ ["data", "event", "payload", "channel"].contains($0.name) }) {
            return envelope[0].value
        }
        let members = fields.map { field -> (key: String, value: JSONValue) in
            let text = String(decoding: field.value, as: UTF8.self)
            if let first = field.value.first(where: { $0 != UInt8(ascii: " ") }),
                first == UInt8(ascii: "{") || first == UInt8(ascii: "["),
                let parsed = try? JSONParser.parse(field.value)
            {
                return (field.name, parsed)
            }
            if let number = Double(text), number.isFinite, !text.isEmpty { return (field.name, .number(number)) }
            return (field.name, .string(text))
        }
        return Array(JSONValue.object(members).serialized().utf8)
    }

    /// Parses the entries of an XREADGROUP / XRANGE / XAUTOCLAIM reply.
    static func entries(_ reply: RedisReply) -> [StreamEntry] {
        (reply.array ?? []).compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { return nil }
            guard let flat = parts[1].array else { return StreamEntry(id: id, fields: nil) }
            var fields: [(name: String, value: [UInt8])] = []
            fields.reserveCapacity(flat.count / 2)
            var index = 0
            while index + 1 < flat.count {
                if let name = flat[index].string, case .bulk(let value) = flat[index + 1] { fields.append((name, value)) }
                index += 2
            }
            return StreamEntry(id: id, fields: fields)
        }
    }
}
