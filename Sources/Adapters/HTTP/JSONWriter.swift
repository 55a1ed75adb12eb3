public import Hummingbird

/// Writes JSON straight into bytes for the hot responses (scan, tier lists, liveness): no `JSONEncoder`, no
/// `[String: Any]`, no intermediate strings. Objects and arrays are written in call order; commas are automatic.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    private var first = true

    init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    mutating func object(_ body: (inout JSONWriter) -> Void) {
        separator()
        bytes.append(UInt8(ascii: "{"))
        first = true
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        first = false
    }

    mutating func array(_ body: (inout JSONWriter) -> Void) {
        separator()
        bytes.append(UInt8(ascii: "["))
        first = true
        body(&self)
        bytes.append(UInt8(ascii: "]"))
        first = false
    }

    /// Writes `"key":` inside an object; the next value call writes its value.
    mutating func key(_ key: String) {
        separator()
        quoted(key)
        bytes.append(UInt8(ascii: ":"))
        first = true
    }

    mutating func field(_ key: String, _ value: String) {
        self.key(key)
        string(value)
    }
    mutating func field(_ key: String, _ value: String?) {
        self.key(key)
        if let value { string(value) } else { null() }
    }
    mutating func field(_ key: String, _ value: Double) {
        self.key(key)
        number(value)
    }
    mutating func field(_ key: String, _ value: Double?) {
        self.key(key)
        if let value { number(value) } else { null() }
    }
    mutating func field(_ key: String, _ value: Int) {
        self.key(key)
        integer(value)
    }
    mutating func field(_ key: String, _ value: Bool) {
        self.key(key)
        separator()
        bytes.append(contentsOf: value ? Array("true".utf8) : Array("false".utf8))
    }
    mutating func field(_ key: String, _ values: [String]?) {
        self.key(key)
        guard let values else { return null() }
        array { writer in for value in values { writer.string(value) } }
    }

    mutating func string(_ value: String) {
        separator()
        quoted(value)
    }

    /// Finite numbers in Swift's shortest round-trip form (valid JSON); NaN and infinities as `null`.
    mutating func number(_ value: Double) {
        separator()
        guard value.isFinite else { return bytes.append(contentsOf: "null".utf8) }
        if value == value.rounded(), abs(value) < 1e15 {
            bytes.append(contentsOf: String(Int64(value)).utf8)
            bytes.append(contentsOf: ".0".utf8)
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    mutating func integer(_ value: Int) {
        separator()
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func null() {
        separator()
        bytes.append(contentsOf: "null".utf8)
    }

    private mutating func separator() {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
    }

    private mutating func quoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        // Fast path: nothing to escape (symbols, names, timestamps), one bulk copy.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: text.utf8)
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

    func response(status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
