import CHiredis
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
        // The usual case: one field holding the whole event.
        if fields.count == 1, Self.envelopeFields.contains(fields[0].name) { return fields[0].value }
        let envelope = fields.filter { Self.envelopeFields.contains($0.name) }
        if envelope.count == 1, fields.allSatisfy({ Self.envelopeFields.contains($0.name) || $0.name == "channel" }) {
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
        return JSONValue.object(members).serializedBytes()
    }

    private static let envelopeFields: Set<String> = ["data", "event", "payload"]

    /// The entries of an XREADGROUP reply for one stream (`[[stream, [[id, [field, value, …]], …]]]`, or nil), read
    /// straight from hiredis's reply objects.
    static func entries(xreadgroup reply: UnsafeMutablePointer<redisReply>) -> [StreamEntry] {
        guard Int32(reply.pointee.type) == REDIS_REPLY_ARRAY, reply.pointee.elements > 0, let stream = reply.pointee.element[0],
            stream.pointee.elements == 2, let list = stream.pointee.element[1]
        else { return [] }
        return entries(list: list)
    }

    /// The next cursor and the claimed entries of an XAUTOCLAIM reply (`[cursor, [entries], [deleted ids]]`).
    static func entries(xautoclaim reply: UnsafeMutablePointer<redisReply>) -> (cursor: String, entries: [StreamEntry])? {
        guard Int32(reply.pointee.type) == REDIS_REPLY_ARRAY, reply.pointee.elements >= 2, let cursor = reply.pointee.element[0],
            let list = reply.pointee.element[1]
        else { return nil }
        return (string(cursor), entries(list: list))
    }

    /// `[[id, [field, value, …] or nil], …]`.
    private static func entries(list: UnsafeMutablePointer<redisReply>) -> [StreamEntry] {
        guard Int32(list.pointee.type) == REDIS_REPLY_ARRAY else { return [] }
        var entries: [StreamEntry] = []
        entries.reserveCapacity(list.pointee.elements)
        for index in 0..<list.pointee.elements {
            guard let entry = list.pointee.element[index], entry.pointee.elements == 2, let id = entry.pointee.element[0],
                let flat = entry.pointee.element[1]
            else { continue }
            guard Int32(flat.pointee.type) == REDIS_REPLY_ARRAY else {
                entries.append(StreamEntry(id: string(id), fields: nil))
                continue
            }
            var fields: [(name: String, value: [UInt8])] = []
            fields.reserveCapacity(flat.pointee.elements / 2)
            var position = 0
            while position + 1 < flat.pointee.elements {
                if let name = flat.pointee.element[position], let value = flat.pointee.element[position + 1] {
                    fields.append((string(name), value.pointee.len == 0 ? [] : Array(bytes(value))))
                }
                position += 2
            }
            entries.append(StreamEntry(id: string(id), fields: fields))
        }
        return entries
    }

    private static func bytes(_ item: UnsafeMutablePointer<redisReply>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: item.pointee.str, count: item.pointee.len)
    }

    private static func string(_ item: UnsafeMutablePointer<redisReply>) -> String {
        String(decoding: bytes(item), as: UTF8.self)
    }
}
