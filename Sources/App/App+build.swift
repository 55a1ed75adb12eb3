import Domain
import HTTP
import Hummingbird
import InMemory
import Logging
import Ports
import ServiceLifecycle

/// The adapters a running PatternDesk is made of, chosen from configuration.
struct Dependencies<Store: PatternStore, Clock: WallClock>: Sendable {
    let store: Store
    let clock: Clock
    let catalog: Catalog
    let source: InMemoryEventSource
    let configuration: AppConfiguration

    var normalizer: PatternEventNormalizer { PatternEventNormalizer(catalog: catalog, configuration: configuration.normalizer) }

    func ingestion(logger: Logger) -> IngestionService<InMemoryEventSource, Store, Clock> {
        IngestionService(source: source, store: store, clock: clock, normalizer: normalizer, logger: logger)
    }
}

/// The embedded default: bundled catalogue, in-memory store and event source.
func makeDependencies<Clock: WallClock>(
    configuration: AppConfiguration, clock: Clock
) async throws -> Dependencies<InMemoryPatternStore, Clock> {
    Dependencies(
        store: InMemoryPatternStore(), clock: clock, catalog: try await InMemorySymbolCatalog().catalog(),
        source: InMemoryEventSource(), configuration: configuration)
}

/// Builds the whole service for `configuration`. `patterndesk serve` calls this; tests call it or the overload below.
func buildApplication(
    configuration: AppConfiguration, logger: Logger, clock: some WallClock = SystemWallClock()
) async throws -> some ApplicationProtocol {
    buildApplication(dependencies: try await makeDependencies(configuration: configuration, clock: clock), logger: logger)
}

/// Builds the service over given dependencies: the ingestion pump, the expiry sweeper, the demo producer when enabled,
/// and the HTTP server.
func buildApplication<Store: PatternStore, Clock: WallClock>(
    dependencies: Dependencies<Store, Clock>, logger: Logger
) -> some ApplicationProtocol {
    let configuration = dependencies.configuration
    let ingestion = dependencies.ingestion(logger: logger)
    var services: [any Service] = [
        ingestion, ExpirySweeper(store: dependencies.store, clock: dependencies.clock, interval: .seconds(1), logger: logger),
    ]
    if configuration.demoEnabled {
        var generator = DemoEventGenerator(catalog: dependencies.catalog, seed: configuration.demoSeed)
        // Warm-up: the index holds demo patterns before the server starts answering.
        let clock = dependencies.clock
        let warmUp = (0..<configuration.demoInitial).map { _ in
            let event = generator.next(now: clock.now())
            return IncomingEvent(body: Array(event.body.utf8), channel: event.channel, receivedAt: clock.now())
        }
        ingestion.ingest(warmUp)
        // A service that returns ends the whole group, so a producer with nothing to do is not added at all.
        if configuration.demoRate > 0 {
            services.append(
                DemoProducerService(
                    source: dependencies.source, clock: clock, rate: configuration.demoRate, generator: generator, logger: logger))
        }
        logger.info("embedded default: in-memory index with the demo producer", metadata: ["demo.rate": "\(configuration.demoRate)"])
    }
    var app = Application(
        router: buildRouter(dependencies),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "patterndesk"),
        logger: logger)
    app.addServices(services)
    return app
}

/// The HTTP surface over the given dependencies.
func buildRouter<Store: PatternStore, Clock: WallClock>(_ dependencies: Dependencies<Store, Clock>) -> Router<BasicRequestContext> {
    let router = Router()
    addAPIErrorHandling(to: router)
    var settings = PatternController<Store, Clock>.Settings()
    settings.sourceName = dependencies.source.name
    PatternController(store: dependencies.store, clock: dependencies.clock, catalog: dependencies.catalog, settings: settings)
        .register(on: router)
    let store = dependencies.store
    let symbolCount = dependencies.catalog.symbols.count
    OperationsController {
        ReadinessReport(
            ready: true,
            checks: [
                .init(name: "index", status: "up", detail: "\(store.snapshot().count) patterns loaded"),
                .init(name: "catalog", status: "up", detail: "\(symbolCount) symbols"),
            ])
    }.register(on: router)
    return router
}
