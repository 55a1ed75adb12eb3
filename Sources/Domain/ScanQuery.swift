/// The five scan sort keys.
public enum SortKey: String, Sendable, CaseIterable {
    case confidence
    case detectedAt = "detected_at"
    case symbol
    case rs
    case volume
}

public enum SortOrder: String, Sendable, CaseIterable {
    case asc, desc
}

/// A validated scan: every filter of http-api.md §Patterns, sorting and pagination. Build one with
/// ``ScanQuery/parse(_:catalog:universes:)`` from request parameters, or directly in code.
public struct ScanQuery: Sendable, Hashable {
    /// Canonical pattern types; nil = all.
    public var patternTypes: Set<String>?
    public var rsMin: Double = 0
    public var volMin: Double = 0
    public var rsiRange: ClosedRange<Double> = 0...100
    public var confidenceMin: Double = 0.5
    /// nil = all tiers.
    public var tiers: Set<Tier>?
    /// Upper-cased symbols; nil = all.
    public var symbols: Set<String>?
    /// Canonical GICS sector names; nil = all.
    public var sectors: Set<String>?
    /// The universe key and its members; nil = all.
    public var universe: String?
    public var universeSymbols: Set<String>?
    public var page = 1
    public var perPage = 30
    public var sortBy: SortKey = .confidence
    public var sortOrder: SortOrder = .desc
    /// Keyset position: when set, the page starts strictly after this entry and `page` comes from the cursor.
    public var cursor: ScanCursor?

    public init() {}

    public static let maxPerPage = 100

    /// The symbols a pattern must belong to: the intersection of `symbols` and the universe; nil = any.
    public var symbolRestriction: Set<String>? {
        switch (symbols, universeSymbols) {
        case (nil, nil): nil
        case (let some?, nil): some
        case (nil, let some?): some
        case (let a?, let b?): a.intersection(b)
        }
    }

    /// Whether `pattern` passes every filter at `now` (the reference semantics; the index implements the same).
    public func matches(_ pattern: Pattern, now: EpochMillis) -> Bool {
        pattern.isLive(at: now) && matchesFilters(pattern)
    }

    /// Whether `pattern` passes every filter, whatever its expiry.
    public func matchesFilters(_ pattern: Pattern) -> Bool {
        guard pattern.confidence >= confidenceMin else { return false }
        if rsMin > 0, !(pattern.effectiveRelativeStrength >= rsMin) { return false }
        if volMin > 0, !(pattern.effectiveRelativeVolume >= volMin) { return false }
        if rsiRange != 0...100, !rsiRange.contains(pattern.effectiveRSI) { return false }
        if let tiers, !tiers.contains(pattern.tier) { return false }
        if let patternTypes, !patternTypes.contains(pattern.patternType) { return false }
        if let restriction = symbolRestriction, !restriction.contains(pattern.symbol) { return false }
        if let sectors, !(pattern.sector.map(sectors.contains) ?? false) { return false }
        return true
    }

    /// The scan order on plain values: the sort key in the requested direction, then detected_at descending, symbol,
    /// type and tier ascending. This is the reference the index's ranked implementation must agree with.
    public func orders(_ a: Pattern, before b: Pattern) -> Bool {
        let descending = sortOrder == .desc
        if sortBy == .symbol, a.symbol != b.symbol { return descending ? a.symbol > b.symbol : a.symbol < b.symbol }
        let (pa, pb): (Double, Double)
        switch sortBy {
        case .confidence: (pa, pb) = (a.confidence, b.confidence)
        case .detectedAt: (pa, pb) = (Double(a.detectedAt), Double(b.detectedAt))
        case .symbol: (pa, pb) = (0, 0)
        case .rs: (pa, pb) = (a.effectiveRelativeStrength, b.effectiveRelativeStrength)
        case .volume: (pa, pb) = (a.effectiveRelativeVolume, b.effectiveRelativeVolume)
        }
        if pa != pb { return descending ? pa > pb : pa < pb }
        if a.detectedAt != b.detectedAt { return a.detectedAt > b.detectedAt }
        if a.symbol != b.symbol { return a.symbol < b.symbol }
        if a.patternType != b.patternType { return a.patternType < b.patternType }
        return a.tier < b.tier
    }

    /// Hashes the fingerprint and the paging; a universe's members by their number only (equality still compares them),
    /// so that keying a cache by a query stays cheap with a 500-symbol universe.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(fingerprint)
        hasher.combine(page)
        hasher.combine(perPage)
        hasher.combine(cursor)
        hasher.combine(universeSymbols?.count)
    }

    /// A stable description of the filters and sort (not the page), used to bind cursors to their query.
    public var fingerprint: UInt64 {
        // FNV-1a over the fields' bytes (no text formatting: this runs on every scan that has a next page). A set is
        // hashed sorted, so its iteration order does not matter; a tag byte tells an absent set from an empty one.
        var hash = FNV1a()
        func names(_ names: (some Collection<String>)?) {
            guard let names else { return hash.byte(0) }
            hash.byte(1)
            for name in names.sorted() { hash.string(name) }
        }
        names(patternTypes)
        hash.word(rsMin.bitPattern)
        hash.word(volMin.bitPattern)
        hash.word(rsiRange.lowerBound.bitPattern)
        hash.word(rsiRange.upperBound.bitPattern)
        hash.word(confidenceMin.bitPattern)
        names(tiers?.map(\.name))
        names(symbols)
        names(sectors)
        names(universe.map { [$0] })
        hash.string(sortBy.rawValue)
        hash.string(sortOrder.rawValue)
        return hash.value
    }
}

/// A bad scan parameter: which one, and a sentence saying what is accepted.
public struct ScanQueryError: Error, Equatable, Sendable {
    public var parameter: String
    public var message: String
    public init(parameter: String, message: String) {
        self.parameter = parameter
        self.message = message
    }
}

/// 64-bit FNV-1a, for fingerprints that must be the same in every process (Swift's `Hasher` is seeded per process).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func byte(_ byte: UInt8) {
        value ^= UInt64(byte)
        value = value &* 0x0000_0100_0000_01B3
    }

    mutating func word(_ word: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { byte(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
    }

    /// The UTF-8 bytes, then a terminator that no UTF-8 byte equals, so ("ab", "c") and ("a", "bc") differ.
    mutating func string(_ text: String) {
        for b in text.utf8 { byte(b) }
        byte(0xFF)
    }
}
