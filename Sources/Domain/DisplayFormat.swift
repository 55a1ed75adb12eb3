/// The compat display strings of the scan API, exactly as http-api.md specifies them. Rounding is correct rounding of
/// the binary value with ties to even, which is what Python's `f"{x:.1f}"` (the old server) does.
public enum DisplayFormat {
    /// `conf`: confidence rounded to 2 dp.
    public static func confidence(_ value: Double) -> Double { rounded(value, decimals: 2) }

    /// `rs` / `vol`: one decimal and `x` (`1.4x`); `1.0x` when absent.
    public static func multiple(_ value: Double?) -> String { text { writeMultiple(value, to: &$0) } }

    /// `price`: `$` and 2 dp (`$150.25`); `$0.00` when absent, as the old server printed.
    public static func price(_ value: Double?) -> String { text { writePrice(value, to: &$0) } }

    /// `chg`: sign, 1 dp and `%` (`+2.3%`, `-0.4%`).
    public static func change(_ value: Double?) -> String { text { writeChange(value, to: &$0) } }

    /// `time`: time since detection, truncated: `Ns` under a minute, `Nm` under an hour, `Nh` under a day, else `Nd`.
    public static func age(since detectedAt: EpochMillis, now: EpochMillis) -> String {
        text { writeAge(since: detectedAt, now: now, to: &$0) }
    }

    /// `exp`: `Expired` when nothing is left, else `Nm` under an hour, `Nh` under a day, `Nd`.
    public static func expiry(_ expiresAt: EpochMillis, now: EpochMillis) -> String { text { writeExpiry(expiresAt, now: now, to: &$0) } }

    // The same texts appended to a writer as raw bytes (the scan writes them inside `asciiString`, with no String made).
    static func writeMultiple(_ value: Double?, to w: inout JSONWriter) {
        writeFixed(value ?? 1.0, decimals: 1, to: &w)
        w.appendByte(UInt8(ascii: "x"))
    }

    static func writePrice(_ value: Double?, to w: inout JSONWriter) {
        w.appendByte(UInt8(ascii: "$"))
        writeFixed(value ?? 0, decimals: 2, to: &w)
    }

    static func writeChange(_ value: Double?, to w: inout JSONWriter) {
        let value = value ?? 0
        if value.sign != .minus { w.appendByte(UInt8(ascii: "+")) }
        writeFixed(value, decimals: 1, to: &w)
        w.appendByte(UInt8(ascii: "%"))
    }

    static func writeAge(since detectedAt: EpochMillis, now: EpochMillis, to w: inout JSONWriter) {
        let seconds = max(0, (now - detectedAt) / 1000)
        if seconds < 60 { return writeCount(seconds, "s", to: &w) }
        if seconds < 3600 { return writeCount(seconds / 60, "m", to: &w) }
        if seconds < 86_400 { return writeCount(seconds / 3600, "h", to: &w) }
        writeCount(seconds / 86_400, "d", to: &w)
    }

    static func writeExpiry(_ expiresAt: EpochMillis, now: EpochMillis, to w: inout JSONWriter) {
        let left = expiresAt - now
        guard left > 0 else { return w.appendStatic("Expired") }
        let seconds = left / 1000
        if seconds < 3600 { return writeCount(seconds / 60, "m", to: &w) }
        if seconds < 86_400 { return writeCount(seconds / 3600, "h", to: &w) }
        writeCount(seconds / 86_400, "d", to: &w)
    }

    private static func writeCount(_ count: Int64, _ unit: Unicode.Scalar, to w: inout JSONWriter) {
        w.appendInteger(count)
        w.appendByte(UInt8(ascii: unit))
    }

    private static func text(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter(capacity: 24)
        body(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// `priority` of the per-tier endpoint.
    public static func priority(_ confidence: Double) -> String {
        if confidence >= 0.9 { return "CRITICAL" }
        if confidence >= 0.8 { return "HIGH" }
        if confidence >= 0.7 { return "MEDIUM" }
        return "LOW"
    }

    /// `value` correctly rounded to `decimals` places, as a Double.
    public static func rounded(_ value: Double, decimals: Int) -> Double {
        guard value.isFinite else { return value }
        let scale = pow10(decimals)
        return scaledInteger(value, scale: scale) / scale
    }

    /// Fixed-point text with exactly `decimals` places (`-0.0` keeps its sign, as `printf` does).
    public static func fixed(_ value: Double, decimals: Int) -> String { text { writeFixed(value, decimals: decimals, to: &$0) } }

    static func writeFixed(_ value: Double, decimals: Int, to w: inout JSONWriter) {
        guard value.isFinite else { return value.isNaN ? w.appendStatic("nan") : value < 0 ? w.appendStatic("-inf") : w.appendStatic("inf") }
        let scale = pow10(decimals)
        let integer = scaledInteger(value, scale: scale)
        guard abs(integer) < 9.0e15 else { return w.appendVerbatim(String(value)) }
        let magnitude = UInt64(abs(integer))
        let unit = UInt64(scale)
        if value.sign == .minus { w.appendByte(UInt8(ascii: "-")) }
        w.appendDigits(magnitude / unit)
        if decimals > 0 {
            w.appendByte(UInt8(ascii: "."))
            w.appendDigits(magnitude % unit, width: decimals)
        }
    }

    /// round(value × scale) for the exact real product, ties to even. The product is formed in floating point and its
    /// rounding error recovered with a fused multiply-add, so values like 0.15 (really 0.1499999…) round down.
    static func scaledInteger(_ value: Double, scale: Double) -> Double {
        let product = value * scale
        let error = (-product).addingProduct(value, scale)
        var integer = product.rounded(.toNearestOrEven)
        if abs(product - integer) == 0.5 {
            if error > 0 {
                integer = product.rounded(.up)
            } else if error < 0 {
                integer = product.rounded(.down)
            }
        }
        return integer
    }

    static func pow10(_ decimals: Int) -> Double {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        return scale
    }
}
