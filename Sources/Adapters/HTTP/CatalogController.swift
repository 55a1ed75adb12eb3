public import Domain
public import Hummingbird
public import Ports

/// `GET /api/symbols`, `/api/symbols/{symbol}` and `/api/dashboard/stats`: the catalogue the service loaded at start
/// (from PostgreSQL when configured, else the bundled one), plus event counters.
public struct CatalogController<Store: PatternStore>: Sendable {
    let catalog: Catalog
    let store: Store
    /// `connected`, `unavailable` or `not_configured`, asked per request (dashboard stats only).
    let databaseStatus: @Sendable () async -> String
    /// Catalogue counts for the dashboard: the catalogue never changes while the service runs.
    let symbolsByMarket: [(market: String, count: Int)]
    let activeSymbols: Int

    public init(catalog: Catalog, store: Store, databaseStatus: @escaping @Sendable () async -> String) {
        self.catalog = catalog
        self.store = store
        self.databaseStatus = databaseStatus
        symbolsByMarket = Dictionary(grouping: catalog.symbols, by: \.market).map { ($0.key, $0.value.count) }.sorted { $0.market < $1.market }
        activeSymbols = catalog.symbols.count { $0.active }
    }

    public static var maxLimit: Int { 5000 }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("api/symbols") { request, _ in try symbols(request) }
        router.get("api/symbols/{symbol}") { _, context in try symbol(context.parameters.get("symbol") ?? "") }
        router.get("api/dashboard/stats") { _, _ in await dashboardStats() }
    }

    func symbols(_ request: Request) throws -> Response {
        let parameters = QueryString.parse(request.uri.query)
        func last(_ name: String) -> String? { parameters.last { $0.name == name }?.value }
        var limit = 1000
        if let raw = last("limit") {
            guard let value = Int(raw), (1...Self.maxLimit).contains(value) else {
                throw APIError.badParameter("limit", "limit must be an integer between 1 and \(Self.maxLimit); got '\(raw)'")
            }
            limit = value
        }
        let market = last("market").flatMap { $0.isEmpty ? nil : $0.lowercased() }
        let search = last("search").flatMap { $0.isEmpty ? nil : $0.lowercased() }
        var matches: [SymbolInfo] = []
        for info in catalog.symbols where matches.count < limit {
            if let market, info.market.lowercased() != market { continue }
            if let search, !info.symbol.lowercased().contains(search) && !info.name.lowercased().contains(search) { continue }
            matches.append(info)
        }
        var writer = JSONWriter(capacity: 256 + 256 * matches.count)
        writer.object { w in
            w.key("symbols")
            w.array { w in for info in matches { w.symbolInfo(info, catalog: catalog) } }
            w.field("count", matches.count)
            w.key("filters")
            w.object { w in
                w.field("market", market)
                w.field("search", search)
                w.field("limit", limit)
            }
        }
        return writer.response()
    }

    func symbol(_ name: String) throws -> Response {
        guard let info = catalog.symbol(name) else {
            let message = "Symbol \(name.uppercased()) not found"
            throw APIError(status: .notFound, code: message, message: message)
        }
        var writer = JSONWriter(capacity: 512)
        writer.symbolInfo(info, catalog: catalog)
        return writer.response()
    }

    func dashboardStats() async -> Response {
        let statistics = store.statistics()
        let database = await databaseStatus()
        var writer = JSONWriter(capacity: 512)
        writer.object { w in
            w.field("symbols_count", catalog.symbols.count)
            w.field("active_symbols_count", activeSymbols)
            w.key("symbols_by_market")
            w.object { w in for (market, count) in symbolsByMarket { w.field(market, count) } }
            w.field("events_count", statistics.received)
            w.field("latest_event_time", statistics.lastEventAt.map(Timestamp.iso8601))
            w.field("database_status", database)
        }
        return writer.response()
    }
}
