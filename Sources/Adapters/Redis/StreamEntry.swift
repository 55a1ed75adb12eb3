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

    /// The entries of a raw XREADGROUP reply for one stream (`[[stream, [[id, [field, value, …]], …]]]`, or nil),
    /// read straight from hiredis's reply objects.
    static func entries(xreadgroup reply: UnsafeMutablePointer<redisReply>) -> [StreamEntry] {
        guard Int32(reply.pointee.type) == REDIS_REPLY_ARRAY, reply.pointee.elements > 0, let stream = reply.pointee.element[0],
            stream.pointee.elements == 2, let list = stream.pointee.element[1], Int32(list.pointee.type) == REDIS_REPLY_ARRAY
        else { return [] }
        func bytes(_ item: UnsafeMutablePointer<redisReply>) -> [UInt8] {
            item.pointee.len == 0 ? [] : Array(UnsafeRawBufferPointer(start: item.pointee.str, count: item.pointee.len))
        }
        var entries: [StreamEntry] = []
        entries.reserveCapacity(list.pointee.elements)
        for index in 0..<list.pointee.elements {
            guard let entry = list.pointee.element[index], entry.pointee.elements == 2, let id = entry.pointee.element[0],
                let flat = entry.pointee.element[1]
            else { continue }
            let identifier = String(decoding: UnsafeRawBufferPointer(start: id.pointee.str, count: id.pointee.len), as: UTF8.self)
            guard Int32(flat.pointee.type) == REDIS_REPLY_ARRAY else {
                entries.append(StreamEntry(id: identifier, fields: nil))
                continue
            }
            var fields: [(name: String, value: [UInt8])] = []
            fields.reserveCapacity(flat.pointee.elements / 2)
            var position = 0
            while position + 1 < flat.pointee.elements {
                if let name = flat.pointee.element[position], let value = flat.pointee.element[position + 1] {
                    fields.append((String(decoding: UnsafeRawBufferPointer(start: name.pointee.str, count: name.pointee.len), as: UTF8.self), bytes(value)))
                }
                position += 2
            }
            entries.append(StreamEntry(id: identifier, fields: fields))
        }
        return entries
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
