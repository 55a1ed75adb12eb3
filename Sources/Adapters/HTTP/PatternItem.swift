public import Domain

/// One scan result: the TickStock compat display strings and the typed fields side by side.
struct PatternItem: Encodable, Sendable {
    let pattern: Pattern
    let now: EpochMillis

    enum Key: String, CodingKey {
        case id, symbol, pattern, conf, rs, vol, price, chg, time, exp, source
        case patternType = "pattern_type", rawName = "raw_name", tier, confidence
        case relativeStrength = "relative_strength", relativeVolume = "relative_volume", rsi
        case priceValue = "price_value", changePercent = "change_percent", detectedAt = "detected_at", expiresAt = "expires_at"
        case sector, defaultsApplied = "defaults_applied", indicators
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(pattern.key.id, forKey: .id)
        try c.encode(pattern.symbol, forKey: .symbol)
        try c.encode(PatternName.display(pattern.patternType), forKey: .pattern)
        try c.encode(DisplayFormat.confidence(pattern.confidence), forKey: .conf)
        try c.encode(DisplayFormat.multiple(pattern.relativeStrength), forKey: .rs)
        try c.encode(DisplayFormat.multiple(pattern.relativeVolume), forKey: .vol)
        try c.encode(DisplayFormat.price(pattern.price), forKey: .price)
        try c.encode(DisplayFormat.change(pattern.changePercent), forKey: .chg)
        try c.encode(DisplayFormat.age(since: pattern.detectedAt, now: now), forKey: .time)
        try c.encode(DisplayFormat.expiry(pattern.expiresAt, now: now), forKey: .exp)
        try c.encode(pattern.source, forKey: .source)
        try c.encode(pattern.patternType, forKey: .patternType)
        try c.encode(pattern.rawName, forKey: .rawName)
        try c.encode(pattern.tier.name, forKey: .tier)
        try c.encode(pattern.confidence, forKey: .confidence)
        try c.encode(pattern.effectiveRelativeStrength, forKey: .relativeStrength)
        try c.encode(pattern.effectiveRelativeVolume, forKey: .relativeVolume)
        try c.encode(pattern.effectiveRSI, forKey: .rsi)
        try c.encode(pattern.price, forKey: .priceValue)
        try c.encode(pattern.changePercent, forKey: .changePercent)
        try c.encode(Timestamp.iso8601(pattern.detectedAt), forKey: .detectedAt)
        try c.encode(Timestamp.iso8601(pattern.expiresAt), forKey: .expiresAt)
        try c.encode(pattern.sector, forKey: .sector)
        var defaults: [String] = []
        if pattern.relativeStrength == nil { defaults.append("relative_strength") }
        if pattern.relativeVolume == nil { defaults.append("relative_volume") }
        if pattern.rsi == nil { defaults.append("rsi") }
        try c.encode(defaults, forKey: .defaultsApplied)
        try c.encode(
            OrderedMap(
                pattern.extras.map { extra -> (String, JSONScalar) in
                    switch extra.value {
                    case .number(let number): (extra.name, .number(number))
                    case .text(let text): (extra.name, .text(text))
                    }
                }), forKey: .indicators)
    }
}

/// One row of the per-tier endpoint.
struct TierPatternItem: Encodable, Sendable {
    let id: String
    let symbol: String
    let patternType: String
    let confidence: Double
    let detectionTimestamp: String
    let expirationTimestamp: String
    let tier: String
    let priority: String

    init(_ pattern: Pattern) {
        id = pattern.key.id
        symbol = pattern.symbol
        patternType = pattern.patternType
        confidence = pattern.confidence
        detectionTimestamp = Timestamp.iso8601(pattern.detectedAt)
        expirationTimestamp = Timestamp.iso8601(pattern.expiresAt)
        tier = pattern.tier.name
        priority = DisplayFormat.priority(pattern.confidence)
    }

    enum CodingKeys: String, CodingKey {
        case id, symbol, confidence, tier, priority
        case patternType = "pattern_type", detectionTimestamp = "detection_timestamp", expirationTimestamp = "expiration_timestamp"
    }
}
