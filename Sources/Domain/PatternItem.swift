/// One pattern as the scan API and the real-time feeds show it: the TickStock compat display strings and the typed
/// fields side by side. `now` is the instant the relative strings (`time`, `exp`) are computed for.
public struct PatternItem: Sendable {
    public let pattern: Pattern
    public let now: EpochMillis

    public init(pattern: Pattern, now: EpochMillis) {
        self.pattern = pattern
        self.now = now
    }

    public func write(to w: inout JSONWriter) {
        let p = pattern
        w.object { w in
            w.field("id", p.key.id)
            w.field("symbol", p.symbol)
            w.field("pattern", PatternName.display(p.patternType))
            w.field("conf", DisplayFormat.confidence(p.confidence))
            w.field("rs", DisplayFormat.multiple(p.relativeStrength))
            w.field("vol", DisplayFormat.multiple(p.relativeVolume))
            w.field("price", DisplayFormat.price(p.price))
            w.field("chg", DisplayFormat.change(p.changePercent))
            w.field("time", DisplayFormat.age(since: p.detectedAt, now: now))
            w.field("exp", DisplayFormat.expiry(p.expiresAt, now: now))
            w.field("source", p.source)
            Self.writeTypedFields(p, to: &w)
        }
    }

    /// The typed fields, written into an open object: shared by the scan item and the Socket.IO `pattern_update`.
    public static func writeTypedFields(_ p: Pattern, to w: inout JSONWriter) {
        w.field("pattern_type", p.patternType)
        w.field("raw_name", p.rawName)
        w.field("tier", p.tier.name)
        w.field("confidence", p.confidence)
        w.field("relative_strength", p.effectiveRelativeStrength)
        w.field("relative_volume", p.effectiveRelativeVolume)
        w.field("rsi", p.effectiveRSI)
        w.field("price_value", p.price)
        w.field("change_percent", p.changePercent)
        w.field("detected_at", Timestamp.iso8601(p.detectedAt))
        w.field("expires_at", Timestamp.iso8601(p.expiresAt))
        w.field("sector", p.sector)
        var defaults: [String] = []
        if p.relativeStrength == nil { defaults.append("relative_strength") }
        if p.relativeVolume == nil { defaults.append("relative_volume") }
        if p.rsi == nil { defaults.append("rsi") }
        w.field("defaults_applied", defaults)
        w.key("indicators")
        w.object { w in
            for extra in p.extras {
                switch extra.value {
                case .number(let number): w.field(extra.name, number)
                case .text(let text): w.field(extra.name, text)
                }
            }
        }
    }
}
