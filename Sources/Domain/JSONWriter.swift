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
        appendQuoted(key, colon: true)
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
        appendQuoted(value, colon: false)
    }

    /// `key` and `string`: the separator, the text quoted and escaped, and the colon after a key. In the common case,
    /// nothing to escape, all of it is one bulk append.
    private mutating func appendQuoted(_ text: String, colon: Bool) {
        let comma = !first
        first = false
        let written = text.utf8.withContiguousStorageIfAvailable { buffer -> Bool in
            guard !Self.needsEscape(buffer) else { return false }
            bytes.append(addingCapacity: buffer.count + 4) { span in
                if comma { span.append(UInt8(ascii: ",")) }
                span.append(UInt8(ascii: "\""))
                span.withUnsafeMutableBufferPointer { storage, initialized in
                    _ = UnsafeMutableBufferPointer(rebasing: storage[initialized...]).initialize(fromContentsOf: buffer)
                    initialized += buffer.count
                }
                span.append(UInt8(ascii: "\""))
                if colon { span.append(UInt8(ascii: ":")) }
            }
            return true
        }
        if written == true { return }
        if comma { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        appendEscapedSlowly(text)
        bytes.append(UInt8(ascii: "\""))
        if colon { bytes.append(UInt8(ascii: ":")) }
    }

    /// Finite numbers in Swift's shortest round-trip form (valid JSON); NaN and infinities as `null`.
    public mutating func number(_ value: Double) {
        separator()
        guard value.isFinite else { return appendStatic("null") }
        if value == value.rounded(), abs(value) < 1e15 {
            appendInteger(Int64(value))
            appendStatic(".0")
        } else if abs(value) < 1e11, case let scaled = (value * 10_000).rounded(), scaled / 10_000 == value {
            // Prices, ratios and confidences have at most 4 decimals. `scaled / 10_000 == value` means the decimal
            // scaled × 10⁻⁴ parses back to exactly `value`; below 1e11 the doubles are closer together than 10⁻⁴, so no
            // shorter decimal does, and this is the text `description` would give, without its cost.
            let magnitude = UInt64(abs(scaled))
            if value < 0 { appendByte(UInt8(ascii: "-")) }
            appendDigits(magnitude / 10_000)
            appendByte(UInt8(ascii: "."))
            var fraction = magnitude % 10_000
            var width = 4
            while fraction % 10 == 0 {
                fraction /= 10
                width -= 1
            }
            appendDigits(fraction, width: width)
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    public mutating func field(_ key: String, _ value: Int64) {
        self.key(key)
        separator()
        appendInteger(value)
    }

    public mutating func integer(_ value: Int) {
        separator()
        appendInteger(Int64(value))
    }

    public mutating func null() {
        separator()
        appendStatic("null")
    }

    /// A string value built from ASCII pieces that need no escaping (digits, fixed text), written between quotes
    /// without an intermediate `String`: display strings and timestamps.
    public mutating func asciiString(_ body: (inout JSONWriter) -> Void) {
        separator()
        appendByte(UInt8(ascii: "\""))
        body(&self)
        appendByte(UInt8(ascii: "\""))
    }

    /// An ISO-8601 UTC timestamp string (`"2024-09-04T13:33:09.123Z"`).
    public mutating func timestamp(_ millis: EpochMillis) {
        asciiString { Timestamp.writeISO8601(millis, to: &$0) }
    }

    public mutating func field(_ key: String, timestamp millis: EpochMillis) {
        self.key(key)
        timestamp(millis)
    }

    // MARK: Raw appends (no separators, no quotes): building blocks for the writers above and for DisplayFormat.

    mutating func appendByte(_ byte: UInt8) { bytes.append(byte) }

    mutating func appendStatic(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// The text's UTF-8 as it is: for text known to need no escaping.
    mutating func appendVerbatim(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    mutating func appendInteger(_ value: Int64) {
        if value < 0 { appendByte(UInt8(ascii: "-")) }
        appendDigits(value.magnitude)
    }

    /// Decimal digits of `value`, left-padded with zeros to `width`.
    mutating func appendDigits(_ value: UInt64, width: Int = 1) {
        if value < 10 && width <= 1 { return appendByte(0x30 &+ UInt8(truncatingIfNeeded: value)) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
            var index = 24
            var rest = value
            repeat {
                index -= 1
                buffer[index] = 0x30 &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0 || 24 - index < min(width, 24)
            bytes.append(addingCapacity: 24 - index) { span in
                for position in index..<24 { span.append(buffer[position]) }
            }
        }
    }

    private mutating func separator() {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
    }

    /// Whether any byte is a control character, `"` or `\`: eight bytes per step (a word-at-a-time test for a byte
    /// below 0x20 or equal to 0x22 or 0x5C); texts under eight bytes byte by byte.
    static func needsEscape(_ buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = buffer.baseAddress else { return false }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        func special(_ word: UInt64) -> UInt64 {
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            return ((word &- ones &* 0x20) & ~word | (quote &- ones) & ~quote | (backslash &- ones) & ~backslash) & high
        }
        guard buffer.count >= 8 else {
            var flags: UInt8 = 0
            for byte in buffer {
                flags |= (byte < 0x20 ? 1 : 0) | (byte == UInt8(ascii: "\"") ? 1 : 0) | (byte == UInt8(ascii: "\\") ? 1 : 0)
            }
            return flags != 0
        }
        let raw = UnsafeRawPointer(base)
        // The last word overlaps the one before it rather than reading past the end.
        var flags = special(raw.loadUnaligned(fromByteOffset: buffer.count - 8, as: UInt64.self))
        var offset = 0
        while offset + 8 <= buffer.count {
            flags |= special(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        return flags != 0
    }

    /// The text's UTF-8 with JSON escapes, without quotes.
    mutating func appendEscaped(_ text: String) {
        // Fast path: nothing to escape (symbols, names, keys), one scan of the contiguous bytes, one bulk copy.
        let copied = text.utf8.withContiguousStorageIfAvailable { buffer -> Bool in
            guard !Self.needsEscape(buffer) else { return false }
            bytes.append(contentsOf: buffer)
            return true
        }
        if copied != true { appendEscapedSlowly(text) }
    }

    /// Byte by byte, escaping what JSON requires.
    private mutating func appendEscapedSlowly(_ text: String) {
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
    }

    public mutating func bool(_ value: Bool) {
        separator()
        if value { appendStatic("true") } else { appendStatic("false") }
    }

    /// A value serialised earlier (by another writer), copied as is: lets one serialisation be embedded many times.
    public mutating func raw(_ json: [UInt8]) {
        separator()
        bytes.append(contentsOf: json)
    }

    /// One value assembled by `body` from raw appends, with the separator before it.
    mutating func separatedValue(_ body: (inout JSONWriter) -> Void) {
        separator()
        body(&self)
        first = false
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
