/// An extra indicator field a producer sent beside the standard ones (support levels, `sma_20`, `action`…).
public enum ExtraValue: Sendable, Equatable {
    case number(Double)
    case text(String)
}

/// The identity of a pattern: the same symbol, canonical type, tier and detection time is the same pattern, so a
/// repeated event updates it and never duplicates it.
public struct PatternKey: Hashable, Sendable, Comparable {
    public var symbol: String
    public var patternType: String
    public var tier: Tier
    public var detectedAt: EpochMillis

    public init(symbol: String, patternType: String, tier: Tier, detectedAt: EpochMillis) {
        self.symbol = symbol
        self.patternType = patternType
        self.tier = tier
        self.detectedAt = detectedAt
    }

    /// The stable string form used as the API's `id`: `AAPL:Bull_Flag:daily:1725456789100`.
    public var id: String { "\(symbol):\(patternType):\(tier.name):\(detectedAt)" }

    /// Parses the `id` form back; nil when malformed.
    public init?(id: String) {
        let parts = id.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, let tier = Tier(name: String(parts[2])), let detected = EpochMillis(parts[3]) else { return nil }
        self.init(symbol: String(parts[0]), patternType: String(parts[1]), tier: tier, detectedAt: detected)
    }

    public static func < (lhs: PatternKey, rhs: PatternKey) -> Bool {
        (lhs.symbol, lhs.patternType, lhs.tier.rawValue, lhs.detectedAt) < (rhs.symbol, rhs.patternType, rhs.tier.rawValue, rhs.detectedAt)
    }
}

/// One live chart-pattern detection, normalised from whatever shape the producer sent.
public struct Pattern: Sendable, Equatable {
    public var symbol: String
    /// The canonical type (`Weekly_Breakout`), used for identity and filters.
    public var patternType: String
    /// The name exactly as the producer sent it (`WeeklyBO`).
    public var rawName: String
    public var tier: Tier
    /// In 0...1.
    public var confidence: Double
    public var detectedAt: EpochMillis
    public var expiresAt: EpochMillis
    public var price: Double?
    public var changePercent: Double?
    /// Absent when the producer did not send it; filters and displays then use ``Pattern/defaultRelativeStrength``.
    public var relativeStrength: Double?
    public var relativeVolume: Double?
    public var rsi: Double?
    /// Every other indicator field, in the order received.
    public var extras: [(name: String, value: ExtraValue)]
    /// GICS sector, from the catalogue when the symbol is known.
    public var sector: String?
    /// The producer's source label (`daily`, `TickStockPL`, …).
    public var source: String

    public static let defaultRelativeStrength = 1.0
    public static let defaultRelativeVolume = 1.0
    public static let defaultRSI = 50.0

    public init(
        symbol: String, patternType: String, rawName: String? = nil, tier: Tier, confidence: Double, detectedAt: EpochMillis,
        expiresAt: EpochMillis, price: Double? = nil, changePercent: Double? = nil, relativeStrength: Double? = nil,
        relativeVolume: Double? = nil, rsi: Double? = nil, extras: [(name: String, value: ExtraValue)] = [], sector: String? = nil,
        source: String = "unknown"
    ) {
        self.symbol = symbol
        self.patternType = patternType
        self.rawName = rawName ?? patternType
        self.tier = tier
        self.confidence = confidence
        self.detectedAt = detectedAt
        self.expiresAt = expiresAt
        self.price = price
        self.changePercent = changePercent
        self.relativeStrength = relativeStrength
        self.relativeVolume = relativeVolume
        self.rsi = rsi
        self.extras = extras
        self.sector = sector
        self.source = source
    }

    public var key: PatternKey { PatternKey(symbol: symbol, patternType: patternType, tier: tier, detectedAt: detectedAt) }

    /// The value filters and sorts use: the sent one, or the documented default.
    public var effectiveRelativeStrength: Double { relativeStrength ?? Self.defaultRelativeStrength }
    public var effectiveRelativeVolume: Double { relativeVolume ?? Self.defaultRelativeVolume }
    public var effectiveRSI: Double { rsi ?? Self.defaultRSI }

    /// Live at `now` when it expires strictly later.
    public func isLive(at now: EpochMillis) -> Bool { expiresAt > now }

    public static func == (lhs: Pattern, rhs: Pattern) -> Bool {
        lhs.symbol == rhs.symbol && lhs.patternType == rhs.patternType && lhs.rawName == rhs.rawName && lhs.tier == rhs.tier
            && lhs.confidence == rhs.confidence && lhs.detectedAt == rhs.detectedAt && lhs.expiresAt == rhs.expiresAt
            && lhs.price == rhs.price && lhs.changePercent == rhs.changePercent && lhs.relativeStrength == rhs.relativeStrength
            && lhs.relativeVolume == rhs.relativeVolume && lhs.rsi == rhs.rsi && lhs.sector == rhs.sector && lhs.source == rhs.source
            && lhs.extras.count == rhs.extras.count && zip(lhs.extras, rhs.extras).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
