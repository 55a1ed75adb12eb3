import Domain
import HTTP
import Hummingbird
import InMemory
import Logging
import Ports
import Postgres
import Redis
import ServiceLifecycle
import WebSocket

/// The adapters a running PatternDesk is made of, chosen from configuration.
struct Dependencies<Store: PatternStore, Clock: WallClock>: Sendable {
    let store: Store
    let clock: Clock
    let catalog: Catalog
    let source: any PatternEventSource
    /// The in-process source the demo producer publishes into (embedded default only).
    let demoSource: InMemoryEventSource?
    /// The warm-start cache; nil in the embedded default.
    let cache: (any PatternCache)?
    let heartbeat: (any ProducerHeartbeatSource)?
    let configuration: AppConfiguration
    let state: IngestionState
    /// Real-time delivery over WebSocket.
    let hub: WebSocketHub
    /// Watchlists and presets: PostgreSQL when configured, else in memory.
    let userData: any UserDataRepository
    /// The running PostgreSQL client, when configured (readiness and dashboard stats ask it).
    let database: PostgresDatabase?
    let authenticator: UserAuthenticator

    init(
        store: Store, clock: Clock, catalog: Catalog, source: any PatternEventSource, demoSource: InMemoryEventSource?,
        cache: (any PatternCache)?, heartbeat: (any ProducerHeartbeatSource)?, configuration: AppConfiguration,
        userData: any UserDataRepository, database: PostgresDatabase?, authenticator: UserAuthenticator
    ) {
        self.userData = userData
        self.database = database
        self.authenticator = authenticator
        self.store = store
        self.clock = clock
        self.catalog = catalog
        self.source = source
        self.demoSource = demoSource
        self.cache = cache
        self.heartbeat = heartbeat
        self.configuration = configuration
        state = IngestionState(warmStartNeeded: cache != nil)
        // A new epoch per process: sequence numbers restart, so a resume from an earlier run gets `resync`.
        let epoch = String(UInt64(clock.now()), radix: 36) + "-" + String(UInt32.random(in: .min ... .max), radix: 36)
        hub = WebSocketHub(catalog: catalog, clock: clock, epoch: epoch, settings: configuration.webSocket)
    }

    var normalizer: PatternEventNormalizer { PatternEventNormalizer(catalog: catalog, configuration: configuration.normalizer) }

    func ingestion(logger: Logger) -> IngestionService<Store, Clock> {
        IngestionService(
            source: source, store: store, clock: clock, normalizer: normalizer, cache: cache, broadcaster: hub, state: state, logger: logger)
    }

    /// What stats, health and readiness show about ingestion.
    var ingestionStatus: @Sendable () -> IngestionStatus {
        { [source, state] in state.status(source: source.status()) }
    }
}

/// The embedded default (bundled catalogue, in-memory store, event source and user data), Redis ingestion when
/// `redis.url` is set, and user data and the catalogue in PostgreSQL when `database` (already running) is given.
func makeDependencies<Clock: WallClock>(
    configuration: AppConfiguration, clock: Clock, database: PostgresDatabase? = nil, logger: Logger = Logger(label: "patterndesk")
) async throws -> Dependencies<InMemoryPatternStore, Clock> {
    let catalog = try await loadCatalog(database: database, logger: logger)
    let userData: any UserDataRepository = database.map { PostgresUserDataRepository(database: $0) } ?? InMemoryUserDataRepository()
    let authenticator = await UserAuthenticator(
        settings: .init(secret: configuration.authSecret, allowUserHeader: configuration.devUserHeader))
    guard let redis = configuration.redis else {
        let source = InMemoryEventSource()
        return Dependencies(
            store: InMemoryPatternStore(chunkCapacity: configuration.indexChunkCapacity), clock: clock, catalog: catalog,
            source: source, demoSource: source, cache: nil,
            heartbeat: nil, configuration: configuration, userData: userData, database: database, authenticator: authenticator)
    }
    let endpoint = redis.endpoint
    let pool = RedisCommandPool(endpoint: endpoint, size: 2)
    logger.info(
        "redis ingestion configured",
        metadata: [
            "redis.host": "\(endpoint.host):\(endpoint.port)", "redis.db": "\(endpoint.database)",
            "redis.channels": "\(redis.channels.joined(separator: ","))", "redis.stream": "\(redis.stream ?? "-")",
            "redis.consumer": "\(redis.consumer)", "redis.cache": "\(redis.cacheKey ?? "off")",
        ])
    return Dependencies(
        store: InMemoryPatternStore(chunkCapacity: configuration.indexChunkCapacity), clock: clock, catalog: catalog,
        source: RedisEventSource(endpoint: endpoint, configuration: redis.source, clock: clock, logger: logger),
        demoSource: nil, cache: redis.cacheKey.map { RedisPatternCache(pool: pool, key: $0) },
        heartbeat: RedisProducerHeartbeat(pool: pool, key: redis.heartbeatKey), configuration: configuration, userData: userData,
        database: database, authenticator: authenticator)
}

/// The catalogue from PostgreSQL when it is configured and seeded; otherwise, or when it cannot be read, the bundled
/// one, so that scans always work.
func loadCatalog(database: PostgresDatabase?, logger: Logger) async throws -> Catalog {
    guard let database else { return try InMemorySymbolCatalog.bundled() }
    do {
        let stored = try await PostgresSymbolCatalog(database: database).catalog()
        guard !stored.symbols.isEmpty else {
            logger.warning("the database catalogue is empty (run `patterndesk seed`); serving the bundled catalogue")
            return try InMemorySymbolCatalog.bundled()
        }
        logger.info("catalogue loaded from postgres", metadata: ["db.rows": "\(stored.symbols.count)"])
        return stored
    } catch {
        logger.warning("cannot read the catalogue from postgres; serving the bundled catalogue", metadata: ["error": "\(error)"])
        return try InMemorySymbolCatalog.bundled()
    }
}

/// Builds the whole service for `configuration`. `patterndesk serve` calls this; tests call it or the overload below.
func buildApplication(
    configuration: AppConfiguration, logger: Logger, clock: some WallClock = SystemWallClock()
) async throws -> some ApplicationProtocol {
    buildApplication(dependencies: try await makeDependencies(configuration: configuration, clock: clock, logger: logger), logger: logger)
}

/// Builds the service over given dependencies: the ingestion pump, the expiry sweeper, the heartbeat monitor, the demo
/// producer when enabled, and the HTTP server.
func buildApplication<Store: PatternStore, Clock: WallClock>(
    dependencies: Dependencies<Store, Clock>, logger: Logger
) -> some ApplicationProtocol {
    let configuration = dependencies.configuration
    let ingestion = dependencies.ingestion(logger: logger)
    let clock = dependencies.clock
    var services: [any Service] = [
        ingestion,
        ExpirySweeper(
            store: dependencies.store, clock: clock, cache: dependencies.cache, broadcaster: dependencies.hub, interval: .seconds(1),
            logger: logger),
    ]
    if let heartbeat = dependencies.heartbeat {
        services.append(HeartbeatMonitor(heartbeat: heartbeat, clock: clock, state: dependencies.state, interval: .seconds(5), logger: logger))
    }
    if configuration.demoEnabled, configuration.demoMode == .bars, let demoSource = dependencies.demoSource {
        do {
            let replay = BarReplayService(
                source: demoSource, clock: clock,
                replay: try BarReplayService<Clock>.demoReplay(catalog: dependencies.catalog, replayBars: configuration.demoReplayBars),
                barSeconds: configuration.demoBarSeconds, lifetimeBars: configuration.demoLifetimeBars, logger: logger)
            // Warm-up: the index holds the recent days' detections before the server starts answering.
            let warmUp = replay.warmUp(now: clock.now())
            ingestion.apply(warmUp)
            services.append(replay)
            logger.info(
                "embedded default: in-memory index with detections over the bundled demo bars",
                metadata: ["demo.initial_detections": "\(warmUp.count)", "demo.bar_seconds": "\(configuration.demoBarSeconds)"])
        } catch {
            logger.error("the bundled demo bars could not be read; no demo data", metadata: ["error": "\(error)"])
        }
    } else if configuration.demoEnabled, let demoSource = dependencies.demoSource {
        var generator = DemoEventGenerator(catalog: dependencies.catalog, seed: configuration.demoSeed)
        // Warm-up: the index holds demo patterns before the server starts answering.
        let warmUp = (0..<configuration.demoInitial).map { _ in
            let event = generator.next(now: clock.now())
            return IncomingEvent(body: Array(event.body.utf8), channel: event.channel, receivedAt: clock.now())
        }
        ingestion.apply(warmUp)
        // A service that returns ends the whole group, so a producer with nothing to do is not added at all.
        if configuration.demoRate > 0 {
            services.append(
                DemoProducerService(source: demoSource, clock: clock, rate: configuration.demoRate, generator: generator, logger: logger))
        }
        logger.info("embedded default: in-memory index with the synthetic demo producer", metadata: ["demo.rate": "\(configuration.demoRate)"])
    }
    let requestMetrics = HTTPRequestMetrics()
    let router = buildRouter(dependencies, requestMetrics: requestMetrics)
    let responder = MethodRouting(router, metrics: requestMetrics).buildResponder()
    var app = Application(
        responder: responder,
        server: patternDeskServer(responder, endpoints: webSocketEndpoints(dependencies), logger: logger),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "patterndesk"),
        logger: logger)
    app.addServices(services)
    return app
}

/// The HTTP and WebSocket surface over the given dependencies. `requestMetrics` is what `/metrics` reports; the
/// caller records into it around the router (`MethodRouting`), so that each request counts with its final status.
func buildRouter<Store: PatternStore, Clock: WallClock>(
    _ dependencies: Dependencies<Store, Clock>, requestMetrics: HTTPRequestMetrics = HTTPRequestMetrics()
) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    addAPIErrorHandling(to: router)
    var settings = PatternController<Store, Clock>.Settings()
    settings.sourceName = dependencies.source.name
    settings.scanCacheCapacity = dependencies.configuration.scanCacheCapacity
    settings.ingestionStatus = dependencies.ingestionStatus
    let hub = dependencies.hub
    settings.realtimeStatus = { hub.status() }
    settings.personalizer = ScanPersonalizer(repository: dependencies.userData, authenticator: dependencies.authenticator)
    let patterns = PatternController(store: dependencies.store, clock: dependencies.clock, catalog: dependencies.catalog, settings: settings)
    patterns.register(on: router)
    registerUserRoutes(dependencies.userData, dependencies, on: router)
    let database = dependencies.database
    let userData = dependencies.userData
    CatalogController(catalog: dependencies.catalog, store: dependencies.store) {
        guard database != nil else { return "in_memory" }
        return (try? await userData.ping()) != nil ? "connected" : "unavailable"
    }.register(on: router)
    let store = dependencies.store
    let symbolCount = dependencies.catalog.symbols.count
    let status = dependencies.ingestionStatus
    let sourceName = dependencies.source.name
    let ready: @Sendable () async -> ReadinessReport = {
        var report = readiness(status(), realtime: hub.status(), patterns: store.snapshot().count, symbols: symbolCount, sourceName: sourceName)
        if let database {
            await report.addDatabaseCheck(database)
        }
        return report
    }
    OperationsController(readiness: ready).register(on: router)
    MetricsEndpoint(patterns: patterns, requests: requestMetrics, readiness: ready).register(on: router)
    WebSocketEndpoints.register(on: router)
    return router
}

/// The WebSocket endpoints: the hub, with users identified by the HTTP adapter's authenticator and presets read from
/// the user-data store.
func webSocketEndpoints<Store: PatternStore, Clock: WallClock>(_ dependencies: Dependencies<Store, Clock>) -> WebSocketEndpoints {
    let authenticator = dependencies.authenticator
    let userData = dependencies.userData
    return WebSocketEndpoints(
        hub: dependencies.hub,
        users: WebSocketUsers(
            identify: { request in
                do {
                    return try await authenticator.optionalUser(forUpgrade: request)
                } catch let error as APIError {
                    throw WebSocketRefusal(status: error.status, code: error.code, message: error.message)
                }
            },
            presetFilters: { user, id in try await userData.preset(id, of: user)?.filters }))
}

/// Ready when the warm start is loaded and the event source is connected; otherwise `not_ready` with the failing
/// check marked `down` (degraded: scans still answer from the last index).
func readiness(_ status: IngestionStatus, realtime: RealtimeStatus, patterns: Int, symbols: Int, sourceName: String) -> ReadinessReport {
    var checks: [ReadinessReport.Check] = [
        .init(
            name: "index", status: status.warmStartLoaded ? "up" : "down",
            detail: status.warmStartLoaded ? "\(patterns) patterns loaded" : "warm start not loaded yet"),
        .init(name: "catalog", status: "up", detail: "\(symbols) symbols"),
        .init(
            name: "event_source", status: status.source.connected ? "up" : "down",
            detail: status.source.connected ? "\(sourceName) connected" : "\(sourceName): \(status.source.problem ?? "disconnected")"),
    ]
    checks.append(
        .init(
            name: "websocket", status: realtime.accepting ? "up" : "down",
            detail: realtime.accepting
                ? "\(realtime.connections) connections, \(realtime.subscriptions) subscriptions, seq \(realtime.seq)"
                : "shutting down: not accepting connections"))
    if status.producer.state != .unknown || sourceName != "memory" {
        checks.append(
            .init(
                name: "producer", status: status.producer.state == .online ? "up" : "warning",
                detail: "heartbeat \(status.producer.state.rawValue)\(status.producer.lastHeartbeat.map { ", last \(Timestamp.iso8601($0))" } ?? "")"))
    }
    return ReadinessReport(
        ready: status.warmStartLoaded && status.source.connected, degraded: status.warmStartLoaded && !status.source.connected,
        checks: checks)
}

extension ReadinessReport {
    /// PostgreSQL holds user data only: while it is down the service is degraded (scans and the feed go on, user routes
    /// answer 503), not dead.
    mutating func addDatabaseCheck(_ database: PostgresDatabase) async {
        do {
            try await database.ping()
            let cache = database.userDataCache
            let cacheState =
                !cache.isEnabled ? "user-data cache off" : cache.isListening ? "user-data cache listening" : "user-data cache waiting for its listener"
            checks.append(
                .init(name: "database", status: "up", detail: "postgres \(database.endpoint.host):\(database.endpoint.port) reachable; \(cacheState)"))
        } catch {
            checks.append(.init(name: "database", status: "down", detail: "postgres unreachable: user data answers 503"))
            degraded = degraded || ready
            ready = false
        }
    }
}

/// Opens the repository existential so that the controller is specialised for the concrete adapter.
private func registerUserRoutes<Store: PatternStore, Clock: WallClock>(
    _ repository: some UserDataRepository, _ dependencies: Dependencies<Store, Clock>, on router: Router<BasicRequestContext>
) {
    UserDataController(repository: repository, authenticator: dependencies.authenticator, catalog: dependencies.catalog, clock: dependencies.clock)
        .register(on: router)
}
