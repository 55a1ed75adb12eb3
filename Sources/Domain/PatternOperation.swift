/// Which patterns a `pattern_expired` event removes: one identity, or every detection time when none was sent.
public struct PatternSelector: Sendable, Equatable {
    public var symbol: String
    public var patternType: String
    public var tier: Tier
    public var detectedAt: EpochMillis?

    public init(symbol: String, patternType: String, tier: Tier, detectedAt: EpochMillis?) {
        self.symbol = symbol
        self.patternType = patternType
        self.tier = tier
        self.detectedAt = detectedAt
    }

    public func matches(_ key: PatternKey) -> Bool {
        key.symbol == symbol && key.patternType == patternType && key.tier == tier && (detectedAt.map { $0 == key.detectedAt } ?? true)
    }
}

/// What one producer event asks of the index.
public enum PatternOperation: Sendable, Equatable {
    /// `pattern_detected` / `pattern_updated`: insert, or update the pattern with the same identity.
    case upsert(Pattern)
    /// `pattern_expired`: remove.
    case expire(PatternSelector)
}

/// Why an event was set aside. The raw value is the counter label in `/api/patterns/stats`.
public enum RejectReason: String, Sendable, CaseIterable, Hashable {
    case oversize = "oversize"
    case notJSON = "not_json"
    case notObject = "not_object"
    case missingSymbol = "missing_symbol"
    case invalidSymbol = "invalid_symbol"
    case missingPattern = "missing_pattern"
    case missingConfidence = "missing_confidence"
    case invalidConfidence = "invalid_confidence"
    case invalidTimestamp = "invalid_timestamp"
}

/// The normaliser's verdict on one event (a batch yields one per element).
public enum NormalizedEvent: Sendable, Equatable {
    case operation(PatternOperation)
    case rejected(RejectReason)
    /// A well-formed message that carries no pattern (health, backtest progress): counted, not an error.
    case ignored(kind: String)
}
