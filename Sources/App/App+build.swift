import Domain
import HTTP
import Hummingbird
import InMemory
import Logging
import Ports
import ServiceLifecycle

/// The adapters and services a running PatternDesk is made of.
struct Dependencies<Store: PatternStore, Clock: WallClock>: Sendable {
    let store: Store
    let clock: Clock
    let catalog: Catalog
    let source: InMemoryEventSource
    let configuration: AppConfiguration
}

/// Builds the whole service for `configuration`: the embedded default (in-memory adapters and the demo producer).
/// Tests call this too, with their own configuration and clock.
func buildApplication(
    configuration: AppConfiguration, logger: Logger, clock: some WallClock = SystemWallClock()
) async throws -> some ApplicationProtocol {
    let catalog = try await InMemorySymbolCatalog().catalog()
    let dependencies = Dependencies(
        store: InMemoryPatternStore(), clock: clock, catalog: catalog, source: InMemoryEventSource(), configuration: configuration)
    let ingestion = IngestionService(
        source: dependencies.source, store: dependencies.store, clock: clock,
        normalizer: PatternEventNormalizer(catalog: catalog, configuration: configuration.normalizer), logger: logger)

    var services: [any Service] = [
        ingestion, ExpirySweeper(store: dependencies.store, clock: clock, interval: .seconds(1), logger: logger),
    ]
    if configuration.demoEnabled {
        var generator = DemoEventGenerator(catalog: catalog, seed: configuration.demoSeed)
        // Warm-up: the index holds demo patterns before the server reports ready.
        let warmUp = (0..<configuration.demoInitial).map { _ in
            let event = generator.next(now: clock.now())
            return IncomingEvent(body: Array(event.body.utf8), channel: event.channel, receivedAt: clock.now())
        }
        ingestion.ingest(warmUp)
        services.append(
            DemoProducerService(
                source: dependencies.source, clock: clock, rate: configuration.demoRate, generator: generator, logger: logger))
        logger.info("embedded default: in-memory index with the demo producer", metadata: ["demo.rate": "\(configuration.demoRate)"])
    }

    let router = buildRouter(dependencies)
    var app = Application(
        router: router,
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
    OperationsController {
        let snapshot = store.snapshot()
        return ReadinessReport(
            ready: true,
            checks: [
                .init(name: "index", status: "up", detail: "\(snapshot.count) patterns loaded"),
                .init(name: "catalog", status: "up", detail: "\(dependencies.catalog.symbols.count) symbols"),
            ])
    }.register(on: router)
    return router
}
