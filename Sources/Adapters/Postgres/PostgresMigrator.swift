import Foundation
public import Logging
import PostgresNIO

/// Applies the versioned SQL files in `Migrations/` (`NNNN_name.sql`, in version order), each once: every migration
/// runs in its own transaction, under an advisory lock so that two instances starting together do not race, and is
/// recorded in `schema_migrations`.
public struct PostgresMigrator: Sendable {
    public struct Migration: Sendable, Equatable {
        public var version: Int
        public var name: String
        public var sql: String

        public init(version: Int, name: String, sql: String) {
            self.version = version
            self.name = name
            self.sql = sql
        }

        /// The statements: each ends with a semicolon at the end of a line, outside a `$$`-quoted body; `--` comment
        /// lines are dropped.
        public var statements: [String] {
            let lines = sql.split(separator: "\n", omittingEmptySubsequences: false).filter {
                !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--")
            }
            var statements: [String] = []
            var current: [Substring] = []
            var quoted = false
            for line in lines {
                current.append(line)
                if line.components(separatedBy: "$$").count % 2 == 0 { quoted.toggle() }
                if !quoted && line.trimmingCharacters(in: .whitespaces).hasSuffix(";") {
                    statements.append(current.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines))
                    current = []
                }
            }
            let rest = current.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            if !rest.isEmpty { statements.append(rest) }
            return statements
        }
    }

    public enum LoadError: Error, Equatable, CustomStringConvertible {
        case missingFolder
        case badFileName(String)
        case duplicateVersion(Int)
        public var description: String {
            switch self {
            case .missingFolder: "the Migrations folder is missing from the Postgres adapter's resources"
            case .badFileName(let name): "migration file '\(name)' must be named NNNN_name.sql"
            case .duplicateVersion(let version): "two migration files have version \(version)"
            }
        }
    }

    /// An arbitrary constant: the key of the advisory lock held while a migration runs.
    static let lockKey: Int64 = 0x7061_7474_6572_6e64

    public let migrations: [Migration]
    let database: PostgresDatabase

    public init(database: PostgresDatabase, migrations: [Migration]? = nil) throws {
        self.database = database
        self.migrations = try migrations ?? Self.bundled()
    }

    /// The migrations shipped with the adapter, in version order.
    public static func bundled() throws -> [Migration] {
        guard let folder = Bundle.module.resourceURL?.appendingPathComponent("Migrations"),
            let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path)
        else { throw LoadError.missingFolder }
        var migrations: [Migration] = []
        for name in names where name.hasSuffix(".sql") {
            guard let underscore = name.firstIndex(of: "_"), let version = Int(name[..<underscore]) else { throw LoadError.badFileName(name) }
            let sql = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            migrations.append(Migration(version: version, name: String(name.dropLast(4)), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version { throw LoadError.duplicateVersion(a.version) }
        return migrations
    }

    /// Applies what is not applied yet and returns the names applied now (empty when the schema is current).
    @discardableResult
    public func migrate(logger: Logger) async throws -> [String] {
        let client = database.client
        // Under the lock too: two sessions creating the same table at once collide in the catalogue.
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
        }
        var applied: [String] = []
        for migration in migrations {
            let ran = try await client.withTransaction(logger: logger) { connection -> Bool in
                // binds, not string concatenation
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
                let done = try await connection.query(
                    "SELECT 1 FROM schema_migrations WHERE version = \(migration.version)", logger: logger
                ).collect()
                guard done.isEmpty else { return false }
                for statement in migration.statements {
                    // A statement from a migration file in this repository, never from input.
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger)
                return true
            }
            if ran {
                logger.info("migration applied", metadata: ["db.migration": "\(migration.name)"])
                applied.append(migration.name)
            }
        }
        return applied
    }

    /// The versions recorded in `schema_migrations`, ascending.
    public func appliedVersions(logger: Logger) async throws -> [Int] {
        var versions: [Int] = []
        for try await version in try await database.client.query("SELECT version FROM schema_migrations ORDER BY version", logger: logger)
            .decode(Int.self)
        {
            versions.append(version)
        }
        return versions
    }
}
