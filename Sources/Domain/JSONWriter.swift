/// Writes compact JSON straight into UTF-8 bytes: the hot HTTP responses (scan, tier lists, liveness), the warm-start
/// records and `JSONValue.serialized()`. No `JSONEncoder`, no `[String: Any]`, no intermediate strings. Objects and
/// arrays are written in call order; commas are automatic.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var first = true

    public init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        separator()
        bytes.append(UInt8(ascii: "{"))
        first = true
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        first = false
    }

    public mutating func array(_ body: (inout JSONWriter) -> Void) {
        separator()
        bytes.append(UInt8(ascii: "["))
        first = true
        body(&self)
        bytes.append(UInt8(ascii: "]"))
        first = false
    }

    /// Writes `"key":` inside an object; the next value call writes its value.
    public mutating func key(_ key: String) {
        separator()
        quoted(key)
        bytes.append(UInt8(ascii: ":"))
        first = true
    }

    public mutating func field(_ key: String, _ value: String) {
        self.key(key)
        string(value)
    }
    public mutating func field(_ key: String, _ value: String?) {
        self.key(key)
        if let value { string(value) } else { null() }
    }
    public mutating func field(_ key: String, _ value: Double) {
        self.key(key)
        number(value)
    }
    public mutating func field(_ key: String, _ value: Double?) {
        self.key(key)
        if let value { number(value) } else { null() }
    }
    public mutating func field(_ key: String, _ value: Int) {
        self.key(key)
        integer(value)
    }
    public mutating func field(_ key: String, _ value: Bool) {
        self.key(key)
        bool(value)
    }
    public mutating func field(_ key: String, _ values: [String]?) {
        self.key(key)
        guard let values else { return null() }
        array { writer in for value in values { writer.string(value) } }
    }

    public mutating func string(_ value: String) {
        separator()
        quoted(value)
    }

    /// Finite numbers in Swift's shortest round-trip form (valid JSON); NaN and infinities as `null`.
    public mutating func number(_ value: Double) {
        separator()
        guard value.isFinite else { return bytes.append(contentsOf: "null".utf8) }
        if value == value.rounded(), abs(value) < 1e15 {
            bytes.append(contentsOf: String(Int64(value)).utf8)
            bytes.append(contentsOf: ".0".utf8)
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    public mutating func field(_ key: String, _ value: Int64) {
        self.key(key)
        separator()
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func integer(_ value: Int) {
        separator()
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func null() {
        separator()
        bytes.append(contentsOf: "null".utf8)
    }

    private mutating func separator() {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
    }

    private mutating func quoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        // Fast path: nothing to escape (symbols, names, timestamps), one scan of the contiguous bytes, one bulk copy.
        let copied = text.utf8.withContiguousStorageIfAvailable { buffer -> Bool in
            for byte in buffer where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            bytes.append(contentsOf: buffer)
            return true
        }
        if copied == true {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func bool(_ value: Bool) {
        separator()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// A value serialised earlier (by another writer), copied as is: lets one serialisation be embedded many times.
    public mutating func raw(_ json: [UInt8]) {
        separator()
        bytes.append(contentsOf: json)
    }

    /// Appends bytes with no separator logic (envelope pieces around a shared, pre-serialised body).
    public mutating func append(_ fragment: some Sequence<UInt8>) {
        bytes.append(contentsOf: fragment)
    }

    /// Any parsed JSON document.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .number(let figure): number(figure)
        case .string(let text): string(text)
        case .array(let elements): array { writer in for element in elements { writer.value(element) } }
        case .object(let members):
            object { writer in
                for member in members {
                    writer.key(member.key)
                    writer.value(member.value)
                }
            }
        }
    }
}
