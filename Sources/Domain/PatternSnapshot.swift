/// One page of a scan.
public struct ScanPage: Sendable {
    public var patterns: [Pattern]
    /// Matches of the whole query (every page).
    public var total: Int
    public var page: Int
    public var perPage: Int
    /// Present when a further page exists.
    public var nextCursor: ScanCursor?
    /// The same query on the same snapshot gives this very page at any `now` before this instant: no match expires
    /// sooner (it is the earliest expiry among the matches, or an earlier bound). Time alters a scan only through
    /// expiry, so an answer can be reused until then.
    public var validUntil: EpochMillis = .max

    public var pages: Int { total == 0 ? 0 : (total + perPage - 1) / perPage }
}

/// Totals over every live pattern.
public struct PatternSummary: Sendable, Equatable {
    public var total: Int
    public var highConfidence: Int
    /// Every type with its count, most frequent first (ties by name).
    public var byType: [(name: String, count: Int)]
    /// Every symbol with its count, most frequent first (ties by name).
    public var bySymbol: [(name: String, count: Int)]
    public var byTier: [Tier: Int]

    public static func == (lhs: PatternSummary, rhs: PatternSummary) -> Bool {
        lhs.total == rhs.total && lhs.highConfidence == rhs.highConfidence && lhs.byTier == rhs.byTier
            && lhs.byType.map(\.name) == rhs.byType.map(\.name) && lhs.byType.map(\.count) == rhs.byType.map(\.count)
            && lhs.bySymbol.map(\.name) == rhs.bySymbol.map(\.name) && lhs.bySymbol.map(\.count) == rhs.bySymbol.map(\.count)
    }
}

/// An immutable, consistent view of the index at one version. Any number of readers scan it concurrently while the
/// writer goes on; it shares the writer's chunks, which the writer clones before changing.
public struct PatternSnapshot: Sendable {
    let chunks: [PatternChunk]
    let chunkCapacity: Int
    /// Patterns held, including any expired since the writer's last sweep (scans never return those).
    public let count: Int
    public let version: UInt64
    let symbols: InternTable
    let types: InternTable
    let rawNames: [String]
    let sources: [String]
    let sectors: InternTable
    let symbolRanks: (rank: [UInt32], sorted: [UInt32])
    let typeRanks: (rank: [UInt32], sorted: [UInt32])

    public static let empty: PatternSnapshot = {
        var index = PatternIndex()
        return index.snapshot()
    }()

    init(
        chunks: [PatternChunk], chunkCapacity: Int, count: Int, version: UInt64, symbols: InternTable, types: InternTable, rawNames: [String],
        sources: [String], sectors: InternTable, symbolRanks: (rank: [UInt32], sorted: [UInt32]),
        typeRanks: (rank: [UInt32], sorted: [UInt32])
    ) {
        self.chunks = chunks
        self.chunkCapacity = chunkCapacity
        self.count = count
        self.version = version
        self.symbols = symbols
        self.types = types
        self.rawNames = rawNames
        self.sources = sources
        self.sectors = sectors
        self.symbolRanks = symbolRanks
        self.typeRanks = typeRanks
    }

    /// Visits every pattern live at `now`, in storage order.
    public func forEachLive(now: EpochMillis, _ body: (Pattern) -> Void) {
        for chunk in chunks {
            for slot in 0..<chunk.used where chunk.alive[slot] != 0 && chunk.expires[slot] > now {
                body(materialize(chunk, slot))
            }
        }
    }

    /// Every pattern live at `now`.
    public func livePatterns(now: EpochMillis) -> [Pattern] {
        var result: [Pattern] = []
        result.reserveCapacity(count)
        forEachLive(now: now) { result.append($0) }
        return result
    }

    /// Counts over every pattern live at `now` (not a sample).
    public func summary(now: EpochMillis) -> PatternSummary {
        var byType = [Int](repeating: 0, count: types.names.count)
        var bySymbol = [Int](repeating: 0, count: symbols.names.count)
        var byTier: [Tier: Int] = [:]
        var total = 0
        var high = 0
        for chunk in chunks {
            for slot in 0..<chunk.used where chunk.alive[slot] != 0 && chunk.expires[slot] > now {
                total += 1
                if chunk.confidence[slot] > 0.8 { high += 1 }
                byType[Int(chunk.type[slot])] += 1
                bySymbol[Int(chunk.symbol[slot])] += 1
                byTier[Tier(rawValue: chunk.tier[slot]) ?? .daily, default: 0] += 1
            }
        }
        func ranked(_ counts: [Int], _ names: [String]) -> [(name: String, count: Int)] {
            counts.indices.filter { counts[$0] > 0 }.map { (name: names[$0], count: counts[$0]) }
                .sorted { $0.count != $1.count ? $0.count > $1.count : $0.name < $1.name }
        }
        return PatternSummary(
            total: total, highConfidence: high, byType: ranked(byType, types.names), bySymbol: ranked(bySymbol, symbols.names),
            byTier: byTier)
    }

    func materialize(_ chunk: PatternChunk, _ slot: Int) -> Pattern {
        Self.materialize(
            chunk, slot, symbols: symbols.names, types: types.names, rawNames: rawNames, sources: sources, sectors: sectors.names)
    }

    static func materialize(
        _ chunk: PatternChunk, _ slot: Int, symbols: [String], types: [String], rawNames: [String], sources: [String],
        sectors: [String]
    ) -> Pattern {
        let presence = chunk.presence[slot]
        let sector = sectors[Int(chunk.sector[slot])]
        return Pattern(
            symbol: symbols[Int(chunk.symbol[slot])], patternType: types[Int(chunk.type[slot])],
            rawName: rawNames[Int(chunk.rawName[slot])], tier: Tier(rawValue: chunk.tier[slot]) ?? .daily,
            confidence: chunk.confidence[slot], detectedAt: chunk.detected[slot], expiresAt: chunk.expires[slot],
            price: chunk.price[slot].isNaN ? nil : chunk.price[slot], changePercent: chunk.change[slot].isNaN ? nil : chunk.change[slot],
            relativeStrength: presence & PatternChunk.rsPresent != 0 ? chunk.rs[slot] : nil,
            relativeVolume: presence & PatternChunk.volPresent != 0 ? chunk.vol[slot] : nil,
            rsi: presence & PatternChunk.rsiPresent != 0 ? chunk.rsi[slot] : nil, extras: chunk.extras[slot] ?? [],
            sector: sector.isEmpty ? nil : sector, source: sources[Int(chunk.source[slot])])
    }
}
