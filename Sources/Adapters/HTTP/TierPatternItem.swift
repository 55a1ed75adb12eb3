import Domain

/// One row of the per-tier endpoint.
struct TierPatternItem: Sendable {
    let pattern: Pattern

    func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("id")
            PatternItem.writeID(pattern.key, to: &w)
            w.field("symbol", pattern.symbol)
            w.field("pattern_type", pattern.patternType)
            w.field("confidence", pattern.confidence)
            w.field("detection_timestamp", timestamp: pattern.detectedAt)
            w.field("expiration_timestamp", timestamp: pattern.expiresAt)
            w.field("tier", pattern.tier.name)
            w.field("priority", DisplayFormat.priority(pattern.confidence))
        }
    }
}
