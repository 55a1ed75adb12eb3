import Configuration
import Foundation
import Hummingbird
import InMemory
import Logging
import Postgres
import ServiceLifecycle
import UnixSignals

/// `patterndesk`: `serve` (the default) runs the service; `bench` runs the index benchmark.
@main
struct PatternDesk {
    static func main() async throws {
        var arguments = CommandLine.arguments
        let program = arguments.removeFirst()
        let command = arguments.first.flatMap { $0.hasPrefix("-") ? nil : $0 } ?? "serve"
        if !arguments.isEmpty, arguments[0] == command { arguments.removeFirst() }
        // Flags first, then the environment, then defaults in code.
        let reader = ConfigReader(providers: [
            CommandLineArgumentsProvider(arguments: [program] + arguments), EnvironmentVariablesProvider(),
        ])
        switch command {
        case "serve":
            // A port already in use, an unreachable address: one line and a failing status, not a crash report.
            await orExit("serve: cannot run") { try await runService(reader: reader) }
        case "migrate", "seed":
            await orExit(command) { try await DatabaseCommand(reader: reader, seed: command == "seed").run() }
        case "token":
            await orExit(command) { try await TokenCommand(reader: reader).run() }
        case "bench":
            try IndexBenchmark(reader: reader).run()
        case "bench-apply":
            try ApplyBenchmark(reader: reader).run()
        case "bench-ws-clients":
            await orExit(command) { try await WebSocketBenchClients(reader: reader).run() }
        case "publish":
            await orExit(command) { try await PublishCommand(reader: reader).run() }
        case "detect":
            await orExit(command) { try await DetectCommand(reader: reader).run() }
        case "help", "--help", "-h":
            print(usage)
        default:
            FileHandle.standardError.write(Data("patterndesk: unknown command '\(command)'\n\n\(usage)\n".utf8))
            exit(64)
        }
    }

    /// Runs a command; what it throws becomes one line on stderr (`patterndesk <what>: <error>`) and exit status 1.
    static func orExit(_ what: String, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch {
            FileHandle.standardError.write(Data("patterndesk \(what): \(error)\n".utf8))
            exit(1)
        }
    }

    static func runService(reader: ConfigReader) async throws {
        let configuration: AppConfiguration
        do {
            configuration = try AppConfiguration(reader: reader)
            try configuration.checkServable()
        } catch {
            FileHandle.standardError.write(Data("patterndesk: \(error)\n".utf8))
            exit(78)
        }
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "patterndesk")
        if configuration.devUserHeader {
            let warning = "auth: X-User-ID is trusted without a token (development mode; auth.dev-user-header=false turns it off)"
            print(warning)
            logger.warning("\(warning)")
        }
        guard let settings = configuration.database else {
            try await serve(configuration: configuration, database: nil, logger: logger)
            return
        }
        // The PostgreSQL client runs beside the service and stops after it, so that draining requests can still query.
        let database = PostgresDatabase(
            endpoint: settings.endpoint, timeout: settings.timeout, maximumConnections: settings.poolSize, cachedUsers: settings.cachedUsers,
            logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await database.run() }
            if settings.migrate {
                do {
                    try await PostgresMigrator(database: database).migrate(logger: logger)
                } catch {
                    // A dead database degrades readiness; it never stops the service. The next start migrates again.
                    logger.error("migrations not applied; user data answers 503 until the database is back", metadata: ["error": "\(error)"])
                }
            }
            try await serve(configuration: configuration, database: database, logger: logger)
            group.cancelAll()
        }
    }

    static func serve(configuration: AppConfiguration, database: PostgresDatabase?, logger: Logger) async throws {
        let dependencies = try await makeDependencies(
            configuration: configuration, clock: SystemWallClock(), database: database, logger: logger)
        let app = buildApplication(dependencies: dependencies, logger: logger)
        // Services stop in reverse order: WebSocket clients get close 1001 before the HTTP server stops.
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app), .init(service: WebSocketDrain(hub: dependencies.hub))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    static let usage = """
        usage: patterndesk [serve] [--http-host H] [--http-port P] [--demo-rate N] [--demo-enabled false] [--log-level L]
                                   [--redis-url redis://host:port/db] [--redis-stream S] [--redis-channels a,b] …
               patterndesk migrate --database-url postgres://…      apply pending SQL migrations
               patterndesk seed --database-url postgres://…         migrate, then load the bundled catalogue (idempotent)
               patterndesk token --user ID [--token-hours 24]       print a bearer token (needs AUTH_JWT_SECRET)
               patterndesk bench-apply [--bench-events N] [--bench-batch N]
               patterndesk publish --redis-url URL (--publish-channel C | --publish-stream S) [--publish-file F] [--publish-rate N]
               patterndesk detect --bars DIR [--symbols A,B] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--detectors names|families]
                                  [--benchmark SPY] [--lifetime-days 5]   (producer events as JSON lines on stdout)
               patterndesk bench [--bench-sizes 10000,100000,1000000] [--bench-queries N] [--bench-seed S]
               patterndesk bench-ws-clients --bench-ws-port P --bench-ws-groups S00+S01,S10+S11 [--bench-ws-clients 250]
                                  [--bench-ws-heavy 0] [--bench-ws-stalled 0] [--bench-ws-threads 1]
                                  (scripts/bench_ws.py's compiled clients)
        Every flag can also be set in the environment: HTTP_PORT, DEMO_RATE, LOG_LEVEL, …
        """
}
