/// Commands encoded as RESP arrays of bulk strings, back to back, ready for `RedisConnection.pipeline(encoded:)`.
public struct RESPCommands: Sendable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var count = 0

    public init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    /// Appends one command of `arguments` arguments: `prefix` (all but the last, pre-encoded with `encode`), then `last`.
    public mutating func append(arguments: Int, prefix: [UInt8], _ last: [UInt8]) {
        bytes.append(UInt8(ascii: "*"))
        bytes.append(contentsOf: String(arguments).utf8)
        bytes.append(contentsOf: [0x0D, 0x0A])
        bytes.append(contentsOf: prefix)
        Self.bulk(last, into: &bytes)
        count += 1
    }

    /// Arguments as consecutive bulk strings, to be reused as a prefix.
    public static func encode(_ arguments: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for argument in arguments { bulk(argument, into: &out) }
        return out
    }

    static func bulk(_ argument: [UInt8], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "$"))
        out.append(contentsOf: String(argument.count).utf8)
        out.append(contentsOf: [0x0D, 0x0A])
        out.append(contentsOf: argument)
        out.append(contentsOf: [0x0D, 0x0A])
    }

    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        count = 0
    }
}
