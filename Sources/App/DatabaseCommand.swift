import Configuration
import Foundation
import HTTP
import InMemory
import Logging
import Domain
import Postgres

/// `patterndesk migrate` applies pending migrations; `patterndesk seed` migrates, then writes the bundled catalogue
/// (S&P 500 with GICS sectors, sector and index ETFs, sector universes, `sp500`). Both are safe to run again.
struct DatabaseCommand {
    let configuration: AppConfiguration.Database
    let seed: Bool

    init(reader: ConfigReader, seed: Bool) throws {
        let configuration = try AppConfiguration(reader: reader)
        guard let database = configuration.database else {
            throw CommandError("set database.url (--database-url or DATABASE_URL) to a postgres:// URL")
        }
        self.configuration = database
        self.seed = seed
    }

    func run() async throws {
        var logger = Logger(label: "patterndesk")
        logger.logLevel = .warning
        let database = PostgresDatabase(endpoint: configuration.endpoint, timeout: .seconds(30), maximumConnections: 2, cachedUsers: 0, logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await database.run() }
            let applied = try await PostgresMigrator(database: database).migrate(logger: logger)
            print(applied.isEmpty ? "migrations: schema is current" : "migrations applied: \(applied.joined(separator: ", "))")
            if seed {
                let catalog = try InMemorySymbolCatalog.bundled()
                try await PostgresSymbolCatalog(database: database).seed(catalog, logger: logger)
                print(
                    "seeded: \(catalog.symbols.count) symbols, \(catalog.sectors.count) sectors, \(catalog.universes.count) universes")
            }
            group.cancelAll()
        }
    }
}

/// `patterndesk token --user ID [--token-hours H]`: prints an HS256 bearer token signed with `auth.jwt-secret`.
struct TokenCommand {
    let secret: String
    let user: String
    let hours: Int

    init(reader: ConfigReader) throws {
        guard let secret = try AppConfiguration(reader: reader).authSecret else {
            throw CommandError("set auth.jwt-secret (--auth-jwt-secret or AUTH_JWT_SECRET), at least 32 bytes")
        }
        guard let user = reader.string(forKey: "user"), (1...200).contains(user.count) else {
            throw CommandError("give the user id: patterndesk token --user ID")
        }
        hours = reader.int(forKey: "token.hours", default: 24)
        guard (1...24 * 366).contains(hours) else { throw CommandError("token.hours must be 1...8784") }
        self.secret = secret
        self.user = user
    }

    func run() async throws {
        print(try await UserAuthenticator.issue(secret: secret, user: UserID(user), lifetime: .seconds(hours * 3600)))
    }
}

struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
