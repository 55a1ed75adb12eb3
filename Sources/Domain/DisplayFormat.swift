/// The compat display strings of the scan API, exactly as http-api.md specifies them. Rounding is correct rounding of
/// the binary value with ties to even, which is what Python's `f"{x:.1f}"` (the old server) does.
public enum DisplayFormat {
    /// `conf`: confidence rounded to 2 dp.
    public static func confidence(_ value: Double) -> Double { rounded(value, decimals: 2) }

    /// `rs` / `vol`: one decimal and `x` (`1.4x`); `1.0x` when absent.
    public static func multiple(_ value: Double?) -> String { fixed(value ?? 1.0, decimals: 1) + "x" }

    /// `price`: `$` and 2 dp (`$150.25`); `$0.00` when absent, as the old server printed.
    public static func price(_ value: Double?) -> String { "$" + fixed(value ?? 0, decimals: 2) }

    /// `chg`: sign, 1 dp and `%` (`+2.3%`, `-0.4%`).
    public static func change(_ value: Double?) -> String {
        let value = value ?? 0
        let text = fixed(value, decimals: 1)
        return (value.sign == .minus ? text : "+" + text) + "%"
    }

    /// `time`: time since detection, truncated: `Ns` under a minute, `Nm` under an hour, `Nh` under a day, else `Nd`.
    public static func age(since detectedAt: EpochMillis, now: EpochMillis) -> String {
        let seconds = max(0, (now - detectedAt) / 1000)
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m" }
        if seconds < 86_400 { return "\(seconds / 3600)h" }
        return "\(seconds / 86_400)d"
    }

    /// `exp`: `Expired` when nothing is left, else `Nm` under an hour, `Nh` under a day, `Nd`.
    public static func expiry(_ expiresAt: EpochMillis, now: EpochMillis) -> String {
        let left = expiresAt - now
        guard left > 0 else { return "Expired" }
        let seconds = left / 1000
        if seconds < 3600 { return "\(seconds / 60)m" }
        if seconds < 86_400 { return "\(seconds / 3600)h" }
        return "\(seconds / 86_400)d"
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
    public static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        let scale = pow10(decimals)
        let integer = scaledInteger(value, scale: scale)
        let negative = value.sign == .minus
        guard abs(integer) < 9.0e15 else { return String(value) }
        let magnitude = UInt64(abs(integer))
        let unit = UInt64(scale)
        var text = negative ? "-" : ""
        text += String(magnitude / unit)
        if decimals > 0 {
            let fraction = String(magnitude % unit)
            text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
        }
        return text
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
