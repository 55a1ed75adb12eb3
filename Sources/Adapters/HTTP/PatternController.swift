public import Domain
public import Hummingbird
public import Ports

/// The pattern endpoints: scan, stats, summary, health and the per-tier lists.
public struct PatternController<Store: PatternStore, Clock: WallClock>: Sendable {
    public struct Settings: Sendable {
        /// `health` turns to `warning` when no event arrived for this long.
        public var staleAfter: EpochMillis = 300_000
        /// Label of the event source (`memory`, `redis`) shown in stats.
        public var sourceName = "memory"
        /// The event source, producer and warm-start state at this instant.
        public var ingestionStatus: @Sendable () -> IngestionStatus = { IngestionStatus(source: EventSourceStatus(connected: true)) }
        /// The real-time layer's figures; nil when there is none.
        public var realtimeStatus: (@Sendable () -> RealtimeStatus)?
        /// Resolves `preset=` and `universe=<watchlist id>`; nil when there is no user data store.
        public var personalizer: ScanPersonalizer?
        /// Scan answers kept for reuse while exact (see ``ScanResultCache``); 0 turns the cache off.
        public var scanCacheCapacity = 1_024
        public init() {}
    }

    let store: Store
    let clock: Clock
    let catalog: Catalog
    let settings: Settings
    let fragments = PatternFragmentCache()
    let answers: ScanResultCache

    public init(store: Store, clock: Clock, catalog: Catalog, settings: Settings = Settings()) {
        self.store = store
        self.clock = clock
        self.catalog = catalog
        self.settings = settings
        answers = ScanResultCache(capacity: settings.scanCacheCapacity)
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        let group = router.group("api/patterns")
        group.get("scan") { request, _ in try await scan(request) }
        group.get("stats") { _, _ in try stats() }
        group.get("summary") { _, _ in try summary() }
        group.get("health") { _, _ in try health() }
        group.get("{tier}") { request, context in try tierList(request, tierName: context.parameters.get("tier") ?? "") }
    }

    func scan(_ request: Request) async throws -> Response {
        let started = ContinuousClock.now
        let parameters = QueryString.parse(request.uri.query)
        var effective = parameters
        var universes: [String: [String]] = [:]
        if ScanPersonalizer.needed(parameters) {
            guard let personalizer = settings.personalizer else {
                throw APIError.badParameter("preset", "preset and watchlist universes need a user data store, which is not configured")
            }
            (effective, universes) = try await personalizer.resolve(request, parameters)
        }
        let query: ScanQuery
        do {
            query = try ScanQuery.parse(effective, catalog: catalog, universes: universes)
        } catch {
            throw APIError.badParameter(error.parameter, error.message)
        }
        let now = clock.now()
        let snapshot = store.snapshot()
        let answer: ScanResultCache.Entry
        if let kept = answers.answer(query, version: snapshot.version, now: now) {
            answer = kept
        } else {
            let page = snapshot.scan(query, now: now)
            answer = ScanResultCache.Entry(page: page, fragments: fragments.fragments(for: page.patterns), nextCursor: page.nextCursor?.encoded)
            answers.keep(answer, for: query, version: snapshot.version)
        }
        let page = answer.page
        let nextCursor = answer.nextCursor
        let nextURL = nextCursor.map { cursor in
            let kept = parameters.filter { $0.name != "cursor" && $0.name != "page" }
            let pairs = kept.map { "\(QueryString.encode($0.name))=\(QueryString.encode($0.value))" } + ["cursor=\(cursor)"]
            return "/api/patterns/scan?" + pairs.joined(separator: "&")
        }
        let body = ScanResponse(
            patterns: answer.fragments, now: now, page: page.page, perPage: page.perPage,
            total: page.total, pages: page.pages, nextCursor: nextCursor, nextURL: nextURL, appliedFilters: AppliedFilters(query),
            responseTimeMs: milliseconds(ContinuousClock.now - started), indexVersion: snapshot.version)
        var writer = JSONWriter(capacity: 1024 + 1024 * page.patterns.count)
        body.write(to: &writer)
        return writer.response()
    }

    func tierList(_ request: Request, tierName: String) throws -> Response {
        let started = ContinuousClock.now
        guard let tier = Tier(name: tierName) else {
            throw APIError.notFound(
                "Unknown tier '\(tierName)'; use one of \(Tier.allCases.map(\.name).joined(separator: ", "))")
        }
        var parameters = QueryString.parse(request.uri.query).filter { ["symbols", "confidence_min", "limit"].contains($0.name) }
        if !parameters.contains(where: { $0.name == "limit" }) { parameters.append(("limit", "50")) }
        var query: ScanQuery
        do {
            query = try ScanQuery.parse(parameters, catalog: catalog)
        } catch {
            throw APIError.badParameter(error.parameter, error.message)
        }
        query.tiers = [tier]
        let page = store.snapshot().scan(query, now: clock.now())
        var writer = JSONWriter(capacity: 512 + 256 * page.patterns.count)
        writer.object { w in
            w.key("patterns")
            w.array { w in for pattern in page.patterns { TierPatternItem(pattern: pattern).write(to: &w) } }
            w.key("metadata")
            w.object { w in
                w.field("count", page.patterns.count)
                w.field("total", page.total)
                w.field("tier", tier.name)
                w.field("confidence_min", query.confidenceMin)
                w.field("response_time_ms", milliseconds(ContinuousClock.now - started))
            }
        }
        return writer.response()
    }

    func stats() throws -> Response {
        let snapshot = store.snapshot()
        let statistics = store.statistics()
        let ingestion = settings.ingestionStatus()
        let source = ingestion.source
        let answered = answers.figures
        let body = StatsResponse(
            stats: .init(
                cachedPatterns: snapshot.count, eventsProcessed: statistics.received, eventsApplied: statistics.applied,
                eventsRejected: statistics.rejectedTotal,
                rejectsByReason: OrderedMap(
                    RejectReason.allCases.map { ($0.rawValue, statistics.rejected[$0] ?? 0) }.sorted { $0.0 < $1.0 }),
                eventsIgnored: OrderedMap(statistics.ignored), inserted: statistics.inserted, updated: statistics.updated,
                expiredByEvent: statistics.expiredByEvent, expiredByTime: statistics.expiredByTime,
                lastEventTime: statistics.lastEventAt.map(Timestamp.iso8601), perChannel: OrderedMap(statistics.receivedPerChannel),
                cacheHitRatio: answered.hitRatio,
                scanCache: answered,
                indexVersion: snapshot.version, source: settings.sourceName, stale: !source.connected,
                transport: .init(
                    connected: source.connected, problem: source.problem, counters: OrderedMap(source.counters.map { ($0.name, $0.value) }),
                    streamLag: source.streamLag, streamPending: source.streamPending, warmStartLoaded: ingestion.warmStartLoaded,
                    warmStartPatterns: ingestion.warmStartPatterns),
                producer: .init(status: ingestion.producer.state.rawValue, lastHeartbeat: ingestion.producer.lastHeartbeat.map(Timestamp.iso8601)),
                websocket: settings.realtimeStatus.map { StatsResponse.WebSocket($0()) }),
            status: !source.connected ? "stale" : snapshot.count > 0 ? "healthy" : "no_data")
        return try JSONBody.response(body)
    }

    func summary() throws -> Response {
        let now = clock.now()
        let summary = store.snapshot().summary(now: now)
        let body = SummaryResponse(
            totalPatterns: summary.total, highConfidencePatterns: summary.highConfidence,
            patternTypes: .init(
                distribution: OrderedMap(summary.byType.map { ($0.name, $0.count) }),
                topPatterns: summary.byType.prefix(5).map { .init(pattern: $0.name, count: $0.count) }),
            symbols: .init(
                activeSymbols: summary.bySymbol.count,
                topSymbols: summary.bySymbol.prefix(10).map { .init(symbol: $0.name, count: $0.count) }),
            tiers: OrderedMap(Tier.allCases.map { ($0.name, summary.byTier[$0] ?? 0) }), generatedAt: Timestamp.iso8601(now))
        return try JSONBody.response(body)
    }

    func health() throws -> Response {
        let now = clock.now()
        let snapshot = store.snapshot()
        let statistics = store.statistics()
        let age = statistics.lastEventAt.map { now - $0 }
        let ingestion = settings.ingestionStatus()
        let status: String
        let message: String
        if !ingestion.source.connected {
            status = "degraded"
            message = "Event source \(settings.sourceName) disconnected (\(ingestion.source.problem ?? "unknown")); serving the last index"
        } else if ingestion.producer.state == .offline {
            status = "warning"
            message = "Producer offline: no heartbeat for over \(ProducerStatus.onlineWithin / 1000) s"
        } else if snapshot.count == 0 {
            status = "warning"
            message = "No live patterns in the index"
        } else if age.map({ $0 > settings.staleAfter }) ?? true {
            status = "warning"
            message = "No pattern event for over \(settings.staleAfter / 1000) s"
        } else {
            status = "healthy"
            message = "Pattern index is live"
        }
        let body = HealthResponse(
            status: status, healthy: status == "healthy", message: message,
            metrics: OrderedMap([
                ("cached_patterns", .integer(snapshot.count)), ("events_processed", .integer(statistics.received)),
                ("events_rejected", .integer(statistics.rejectedTotal)),
                ("last_event_age_seconds", age.map { .number(Double($0) / 1000) } ?? .null),
                ("source", .text(settings.sourceName)),
                ("source_connected", .bool(ingestion.source.connected)),
                ("producer", .text(ingestion.producer.state.rawValue)),
                ("producer_last_heartbeat", ingestion.producer.lastHeartbeat.map { .text(Timestamp.iso8601($0)) } ?? .null),
                ("stream_lag", ingestion.source.streamLag.map { .integer($0) } ?? .null),
            ]))
        return try JSONBody.response(body)
    }
}

func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return ((Double(seconds) * 1000 + Double(attoseconds) / 1e15) * 1000).rounded() / 1000
}
