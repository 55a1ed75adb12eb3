public import Domain

/// `GET /api/patterns/scan` response.
struct ScanResponse: Encodable, Sendable {
    struct Pagination: Encodable, Sendable {
        var page: Int
        var perPage: Int
        var total: Int
        var pages: Int
        enum CodingKeys: String, CodingKey { case page, total, pages, perPage = "per_page" }
    }

    struct Performance: Encodable, Sendable {
        var apiResponseTimeMs: Double
        var source: String
        var indexVersion: UInt64
        enum CodingKeys: String, CodingKey {
            case source
            case apiResponseTimeMs = "api_response_time_ms", indexVersion = "index_version"
        }
    }

    var patterns: [PatternItem]
    var pagination: Pagination
    var nextCursor: String?
    var nextURL: String?
    var appliedFilters: AppliedFilters
    var performance: Performance

    enum CodingKeys: String, CodingKey {
        case patterns, pagination, performance
        case nextCursor = "next_cursor", nextURL = "next_url", appliedFilters = "applied_filters"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(patterns, forKey: .patterns)
        try c.encode(pagination, forKey: .pagination)
        try c.encode(nextCursor, forKey: .nextCursor)
        try c.encode(nextURL, forKey: .nextURL)
        try c.encode(appliedFilters, forKey: .appliedFilters)
        try c.encode(performance, forKey: .performance)
    }
}

/// The effective filters of a scan, after defaults: what the client actually got.
struct AppliedFilters: Encodable, Sendable {
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

    enum CodingKeys: String, CodingKey {
        case symbols, sectors, universe, timeframe, cursor
        case patternTypes = "pattern_types", rsMin = "rs_min", volMin = "vol_min", rsiRange = "rsi_range"
        case confidenceMin = "confidence_min", sortBy = "sort_by", sortOrder = "sort_order"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(patternTypes, forKey: .patternTypes)
        try c.encode(rsMin, forKey: .rsMin)
        try c.encode(volMin, forKey: .volMin)
        try c.encode(rsiRange, forKey: .rsiRange)
        try c.encode(confidenceMin, forKey: .confidenceMin)
        try c.encode(timeframe, forKey: .timeframe)
        try c.encode(symbols, forKey: .symbols)
        try c.encode(sectors, forKey: .sectors)
        try c.encode(universe, forKey: .universe)
        try c.encode(sortBy, forKey: .sortBy)
        try c.encode(sortOrder, forKey: .sortOrder)
        try c.encode(cursor, forKey: .cursor)
    }
}
