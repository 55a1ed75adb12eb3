/// An opaque keyset position in a scan's order: the sort value and identity of the last entry of a page. The next page
/// starts strictly after it, so inserts and removals elsewhere never shift or repeat entries while a client pages.
public struct ScanCursor: Sendable, Hashable {
    public var fingerprint: UInt64
    /// The page number the cursor leads to.
    public var page: Int
    /// The primary sort value (unused for `symbol`, which compares by name).
    public var primary: Double
    public var key: PatternKey

    public init(fingerprint: UInt64, page: Int, primary: Double, key: PatternKey) {
        self.fingerprint = fingerprint
        self.page = page
        self.primary = primary
        self.key = key
    }

    /// The URL-safe text form.
    public var encoded: String {
        let text = "1|\(String(fingerprint, radix: 16))|\(page)|\(String(primary.bitPattern, radix: 16))|\(key.id)"
        return Base64URL.encode(Array(text.utf8))
    }

    public init?(encoded: String) {
        guard let bytes = Base64URL.decode(encoded) else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: "|", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "1", let fingerprint = UInt64(parts[1], radix: 16), let page = Int(parts[2]), page >= 1,
            let bits = UInt64(parts[3], radix: 16), let key = PatternKey(id: String(parts[4]))
        else { return nil }
        self.init(fingerprint: fingerprint, page: page, primary: Double(bitPattern: bits), key: key)
    }
}

/// RFC 4648 §5 base64url without padding.
enum Base64URL {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = UInt32(bytes[index])
            let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(triple >> 18 & 63)])
            out.append(alphabet[Int(triple >> 12 & 63)])
            if index + 1 < bytes.count { out.append(alphabet[Int(triple >> 6 & 63)]) }
            if index + 2 < bytes.count { out.append(alphabet[Int(triple & 63)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var values = [UInt32]()
        for byte in text.utf8 {
            guard let value = alphabet.firstIndex(of: byte) else { return nil }
            values.append(UInt32(value))
        }
        guard values.count % 4 != 1 else { return nil }
        var out = [UInt8]()
        var index = 0
        while index < values.count {
            let chunk = values[index..<min(index + 4, values.count)]
            var triple: UInt32 = 0
            for (offset, value) in chunk.enumerated() { triple |= value << (18 - 6 * offset) }
            out.append(UInt8(triple >> 16 & 255))
            if chunk.count > 2 { out.append(UInt8(triple >> 8 & 255)) }
            if chunk.count > 3 { out.append(UInt8(triple & 255)) }
            index += 4
        }
        return out
    }
}
