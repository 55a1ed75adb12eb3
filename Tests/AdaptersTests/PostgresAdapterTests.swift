import Domain
import Foundation
import InMemory
import Logging
import Ports
import Postgres
import Testing

/// The PostgreSQL adapter against the real server that `make test` starts (`PATTERNDESK_TEST_DATABASE_URL`).
@Suite(
    .enabled(if: PostgresTestServer.url != nil, "needs PATTERNDESK_TEST_DATABASE_URL (make test starts a PostgreSQL cluster)"),
    .timeLimit(.minutes(2)))
struct ThePostgresAdapter {
    @Test func `the user-data store meets the user-data contract`() async throws {
        try await PostgresTestServer.withDatabase { database in
            try await userDataContract { PostgresUserDataRepository(database: database) }
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
            #expect(migrator.migrations.map(\.version) == [1, 2, 3])
            #expect(migrator.migrations[2].statements.count == 2)
            #expect(try await migrator.migrate(logger: PostgresTestServer.logger).isEmpty)
            #expect(try await migrator.appliedVersions(logger: PostgresTestServer.logger).prefix(3) == [1, 2, 3])
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
        let database = PostgresDatabase(endpoint: endpoint, timeout: .milliseconds(300), logger: PostgresTestServer.logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await database.run() }
            let started = ContinuousClock.now
            await #expect {
                try await PostgresUserDataRepository(database: database).watchlists(of: UserID("x"))
            } throws: { error in
                if case .unavailable? = error as? UserDataError { return true }
                return false
            }
            #expect(ContinuousClock.now - started < .seconds(5))
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

    /// Runs `body` with a running client on the test database, migrated.
    static func withDatabase(_ body: @escaping @Sendable (PostgresDatabase) async throws -> Void) async throws {
        let database = PostgresDatabase(endpoint: try PostgresEndpoint(url: url!), timeout: .seconds(10), logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await database.run() }
            do {
                try await PostgresMigrator(database: database).migrate(logger: logger)
                try await body(database)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }
}
