public import Domain

/// `GET /api/patterns/scan` response, written with ``JSONWriter``.
struct ScanResponse: Sendable {
    /// The page's items, written for the instant `now`.
    var patterns: [PatternItemFragment]
    var now: EpochMillis
    var page: Int
    var perPage: Int
    var total: Int
    var pages: Int
    var nextCursor: String?
    var nextURL: String?
    var appliedFilters: AppliedFilters
    var responseTimeMs: Double
    var indexVersion: UInt64

    func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("patterns")
            w.array { w in for item in patterns { item.write(now: now, to: &w) } }
            w.key("pagination")
            w.object { w in
                w.field("page", page)
                w.field("per_page", perPage)
                w.field("total", total)
                w.field("pages", pages)
            }
            w.field("next_cursor", nextCursor)
            w.field("next_url", nextURL)
            w.key("applied_filters")
            appliedFilters.write(to: &w)
            w.key("performance")
            w.object { w in
                w.field("api_response_time_ms", responseTimeMs)
                w.field("source", "memory_index")
                w.field("index_version", Int(truncatingIfNeeded: indexVersion))
            }
        }
    }
}

/// The effective filters of a scan, after defaults: what the client actually got.
struct AppliedFilters: Sendable {
    var patternTypes: [String]?
    var rsMin: Double
    var volMin: Double
    var rsiRange: [Double]
    var confidenceMin: Double
    var timeframe: String
    var symbols: [String]?
    var sectors: [String]?
    var universe: String?
    var sortBy: String
    var sortOrder: String
    var cursor: Bool

    init(_ query: ScanQuery) {
        patternTypes = query.patternTypes?.sorted()
        rsMin = query.rsMin
        volMin = query.volMin
        rsiRange = [query.rsiRange.lowerBound, query.rsiRange.upperBound]
        confidenceMin = query.confidenceMin
        timeframe =
            query.tiers.map { tiers in
                ScanQuery.timeframes.first { $0.tier.map(tiers.contains) == true }?.name ?? "All"
            } ?? "All"
        symbols = query.symbols?.sorted()
        sectors = query.sectors?.sorted()
        universe = query.universe
        sortBy = query.sortBy.rawValue
        sortOrder = query.sortOrder.rawValue
        cursor = query.cursor != nil
    }

    func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("pattern_types", patternTypes)
            w.field("rs_min", rsMin)
            w.field("vol_min", volMin)
            w.key("rsi_range")
            w.array { w in for bound in rsiRange { w.number(bound) } }
            w.field("confidence_min", confidenceMin)
            w.field("timeframe", timeframe)
            w.field("symbols", symbols)
            w.field("sectors", sectors)
            w.field("universe", universe)
            w.field("sort_by", sortBy)
            w.field("sort_order", sortOrder)
            w.field("cursor", cursor)
        }
    }
}
