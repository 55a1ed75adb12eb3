import Domain
import Foundation
import InMemory
import Logging
import Ports
import Postgres
import PostgresNIO
import Testing

/// The PostgreSQL adapter against the real server that `make test` starts (`PATTERNDESK_TEST_DATABASE_URL`).
@Suite(
    .enabled(if: PostgresTestServer.url != nil, "needs PATTERNDESK_TEST_DATABASE_URL (make test starts a PostgreSQL cluster)"),
    .timeLimit(.minutes(2)))
struct ThePostgresAdapter {
    @Test(arguments: [0, 10_000])
    func `the user-data store meets the user-data contract, with and without its cache`(cachedUsers: Int) async throws {
        try await PostgresTestServer.withDatabase(cachedUsers: cachedUsers) { database in
            #expect(database.userDataCache.isListening == (cachedUsers > 0))
            try await userDataContract { PostgresUserDataRepository(database: database) }
            if cachedUsers > 0 { #expect(database.userDataCache.counters.hits > 0) }
        }
    }

    @Test func `cached reads follow changes made behind the repository's back, by another instance, and while not listening`()
        async throws
    {
        // The listener waits 1 s before reconnecting, so the test can change a row while it is away.
        try await PostgresTestServer.withDatabase(cachedUsers: 100, listenerRetry: .seconds(1)) { database in
            let cache = database.userDataCache
            let repository = PostgresUserDataRepository(database: database)
            let user = UserID("cache-\(UInt64.random(in: 0 ... .max))")
            let list = try await repository.createWatchlist(
                WatchlistChange(name: "A", symbols: ["AAPL"], filters: .null), for: user, at: 1_000)
            @Sendable func name() async throws -> String? { try await repository.watchlist(list.id, of: user)?.name }
            /// Plain SQL through the pool, as an operator would run it.
            func execute(_ query: PostgresQuery) async throws {
                let waiting = reportHang("SQL to answer: \(query.sql)")
                defer { waiting.cancel() }
                _ = try await database.client.query(query).collect()
            }
            try await eventually("the watchlist is served from memory") {
                let hits = cache.counters.hits
                return try await name() == "A" && cache.counters.hits == hits + 1
            }

            // Plain SQL, as an operator in psql would: the trigger announces it.
            try await execute("UPDATE user_watchlists SET name = 'B' WHERE id = \(list.id)")
            try await eventually("the cache drops the row changed in SQL") { try await name() == "B" }

            // Another instance with its own cache and listener.
            try await PostgresTestServer.withDatabase(cachedUsers: 100, migrate: false) { other in
                let otherRepository = PostgresUserDataRepository(database: other)
                try await eventually("the other instance serves it from memory") {
                    let hits = other.userDataCache.counters.hits
                    return try await otherRepository.watchlist(list.id, of: user)?.name == "B" && other.userDataCache.counters.hits == hits + 1
                }
                _ = try await repository.updateWatchlist(list.id, WatchlistChange(name: "C"), for: user, at: 2_000)
                #expect(try await name() == "C", "an instance reads its own write at once")
                try await eventually("the other instance hears of the write") {
                    try await otherRepository.watchlist(list.id, of: user)?.name == "C"
                }
                _ = try await repository.deleteWatchlist(list.id, of: user)
                try await eventually("the other instance hears of the delete") {
                    try await otherRepository.watchlist(list.id, of: user) == nil
                }
            }

            // The listener's connection is killed: whatever changes before it listens again is never served stale.
            let kept = try await repository.createWatchlist(
                WatchlistChange(name: "D", symbols: [], filters: .null), for: user, at: 3_000)
            // Warm: the create's own notification may land after a first read and keep it from filling.
            try await eventually("the watchlist is served from memory") {
                let hits = cache.counters.hits
                return try await repository.watchlist(kept.id, of: user)?.name == "D" && cache.counters.hits == hits + 1
            }
            try await execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = \(database.listenerName)")
            try await eventually("the cache notices its listener is gone") { !cache.isListening }
            try await execute("UPDATE user_watchlists SET name = 'E' WHERE id = \(kept.id)")
            #expect(try await repository.watchlist(kept.id, of: user)?.name == "E")
            try await eventually("the listener comes back") { cache.isListening }
            #expect(try await repository.watchlist(kept.id, of: user)?.name == "E")
            let before = cache.counters.hits
            #expect(try await repository.watchlist(kept.id, of: user)?.name == "E")
            #expect(cache.counters.hits == before + 1, "caching resumes once listening again")
        }
    }

    @Test func `the seeded catalogue meets the catalogue contract and equals the bundled one`() async throws {
        try await PostgresTestServer.withDatabase { database in
            let bundled = try InMemorySymbolCatalog.bundled()
            let catalog = PostgresSymbolCatalog(database: database)
            try await catalog.seed(bundled, logger: PostgresTestServer.logger)
            try await catalog.seed(bundled, logger: PostgresTestServer.logger)  // idempotent
            try await standardCatalogContract { catalog }
            let stored = try await catalog.catalog()
            #expect(stored.symbols == bundled.symbols.sorted { $0.symbol < $1.symbol })
            #expect(stored.sectors == bundled.sectors.sorted { $0.name < $1.name })
            #expect(stored.universes == bundled.universes.sorted { $0.key < $1.key })
        }
    }

    @Test func `migrations run once, in order, and are recorded`() async throws {
        try await PostgresTestServer.withDatabase { database in
            let migrator = try PostgresMigrator(database: database)
            #expect(migrator.migrations.map(\.version) == [1, 2, 3, 4])
            #expect(migrator.migrations[2].statements.count == 2)
            #expect(try await migrator.migrate(logger: PostgresTestServer.logger).isEmpty)
            #expect(try await migrator.appliedVersions(logger: PostgresTestServer.logger).prefix(4) == [1, 2, 3, 4])
            // A later file is applied once, and only it.
            let extra = PostgresMigrator.Migration(
                version: 9000 + Int.random(in: 0..<999_999), name: "test_extra",
                sql: "-- a comment line\nCREATE TEMP TABLE t_extra (id int);\nDROP TABLE t_extra;\n")
            #expect(extra.statements == ["CREATE TEMP TABLE t_extra (id int);", "DROP TABLE t_extra;"])
            let extended = try PostgresMigrator(database: database, migrations: migrator.migrations + [extra])
            #expect(try await extended.migrate(logger: PostgresTestServer.logger) == ["test_extra"])
            #expect(try await extended.migrate(logger: PostgresTestServer.logger).isEmpty)
            #expect(try await extended.appliedVersions(logger: PostgresTestServer.logger).contains(extra.version))
        }
    }

    @Test func `an unreachable server is reported as unavailable, within the time limit`() async throws {
        var endpoint = try PostgresEndpoint(url: PostgresTestServer.url!)
        endpoint.port = 1
        let database = Postgres.PostgresDatabase(endpoint: endpoint, timeout: .milliseconds(300), logger: PostgresTestServer.logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await database.run() }
            let started = ContinuousClock.now
            await #expect {
                try await PostgresUserDataRepository(database: database).watchlists(of: UserID("x"))
            } throws: { error in
                if case .unavailable? = error as? UserDataError { return true }
                return false
            }
            // The timeout is 300 ms; without it the lease would wait for ever. The bound catches a hang, not a latency:
            // on a 2-core box the parallel suite can keep the cooperative threads busy for seconds (it once took 7 s).
            #expect(ContinuousClock.now - started < .seconds(20))
            group.cancelAll()
        }
    }
}

@Suite struct PostgresURLParsing {
    @Test func `DATABASE_URL gives host, port, credentials, database and TLS mode`() throws {
        let endpoint = try PostgresEndpoint(url: "postgres://app:p%40ss@db.internal:6543/desk?sslmode=require")
        #expect(endpoint == PostgresEndpoint(host: "db.internal", port: 6543, username: "app", password: "p@ss", database: "desk", tls: .require))
        #expect(endpoint.description == "app@db.internal:6543/desk")
        #expect(try PostgresEndpoint(url: "postgresql://u@h/d").port == 5432)
        for bad in ["mysql://u@h/d", "postgres://u@h", "postgres://u@h/d?sslmode=maybe", "postgres:///d"] {
            #expect(throws: PostgresEndpoint.ParseError.self, "\(bad)") { try PostgresEndpoint(url: bad) }
        }
    }
}

enum PostgresTestServer {
    static let url = ProcessInfo.processInfo.environment["PATTERNDESK_TEST_DATABASE_URL"]
    static let logger = Logger(label: "test")

    /// Runs `body` with a running client on the test database, migrated; with a cache, once its listener listens.
    static func withDatabase(
        cachedUsers: Int = 0, listenerRetry: Duration = .milliseconds(100), migrate: Bool = true, _ body: @escaping @Sendable (Postgres.PostgresDatabase) async throws -> Void
    ) async throws {
        let database = Postgres.PostgresDatabase(
            endpoint: try PostgresEndpoint(url: url!), timeout: .seconds(10), cachedUsers: cachedUsers,
            listenerRetry: listenerRetry, logger: logger)
        var stopping: Task<Void, Never>?
        defer { stopping?.cancel() }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await database.run() }
            defer {  // whether the body returned or threw
                stopping = reportHang("PostgresDatabase.run() to return after cancellation")
                group.cancelAll()
            }
            if migrate { try await PostgresMigrator(database: database).migrate(logger: logger) }
            if cachedUsers > 0 { try await eventually("the change listener listens") { database.userDataCache.isListening } }
            try await body(database)
        }
    }
}

/// Prints `what` if it is still awaited after `limit` (unless cancelled first). A hang in the parallel suite then names
/// its step in the log, where the suite's time limit alone only names the test (it hung once in 4 CI runs, at 614d730).
func reportHang(_ what: String, after limit: Duration = .seconds(20)) -> Task<Void, Never> {
    Task {
        guard (try? await Task.sleep(for: limit)) != nil else { return }
        print("⚠ still waiting after \(limit) for \(what)")
    }
}

/// Polls `condition` every 20 ms for up to 5 s; throws naming `what` when it never holds.
func eventually(_ what: String, _ condition: @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(5)
    while ContinuousClock.now < deadline {
        let check = reportHang("one check of \"\(what)\" to answer")
        defer { check.cancel() }
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    struct NeverHappened: Error, CustomStringConvertible { let description: String }
    throw NeverHappened(description: "never happened within 5 s: \(what)")
}
