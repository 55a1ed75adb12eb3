public import Domain
import Foundation
import Logging
public import Ports
import PostgresNIO

/// Watchlists and presets in PostgreSQL. Every statement filters by `user_id`, so another user's row is simply not
/// found. The user's row in `users` is created by their first write. Reads go through the database's
/// `UserDataCache` while its change listener runs.
public struct PostgresUserDataRepository: UserDataRepository {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) { self.database = database }

    typealias WatchlistRow = (Int64, String, String, [String], String?, Date, Date)
    typealias PresetRow = (Int64, String, String, String, Bool, Date, Date)
    /// The columns every watchlist and preset query returns, in the order of the row tuples above (constants, so they
    /// are interpolated unescaped; every value is still a bind).
    static let watchlistColumns = "id, user_id, name, symbols, filters::text, created_at, updated_at"
    static let presetColumns = "id, user_id, name, filter_config::text, is_default, created_at, updated_at"

    // MARK: Watchlists

    public func watchlists(of user: UserID) async throws -> [Watchlist] {
        try await readThrough(cache.watchlists(of: user), load: { try await loadWatchlists(of: user) }) { rows, ticket in
            cache.fill(watchlists: rows, of: user, ticket: ticket)
        }
    }

    func loadWatchlists(of user: UserID) async throws -> [Watchlist] {
        try await database.perform("list watchlists") { client in
            // binds, not string concatenation
            try await Self.watchlists(
                client.query("SELECT \(unescaped: Self.watchlistColumns) FROM user_watchlists WHERE user_id = \(user.rawValue) ORDER BY id"))
        }
    }

    public func watchlist(_ id: Int64, of user: UserID) async throws -> Watchlist? {
        // With the cache on, one load of the user's lists answers every later single read.
        guard !cache.isListening else { return try await watchlists(of: user).first { $0.id == id } }
        return try await database.perform("get watchlist") { client in
            // binds, not string concatenation
            try await Self.watchlists(
                client.query("SELECT \(unescaped: Self.watchlistColumns) FROM user_watchlists WHERE id = \(id) AND user_id = \(user.rawValue)")
            ).first
        }
    }

    public func createWatchlist(_ change: WatchlistChange, for user: UserID, at now: EpochMillis) async throws -> Watchlist {
        let at = Self.date(now)
        let filters = Self.json(change.filters ?? .null)
        return try await write("create watchlist", of: user) { client in
            // binds, not string concatenation. One statement: the user's row is created by the CTE, and the foreign key
            // is checked at the end of the statement, after it.
            try await Self.watchlists(
                client.query(
                    """
                    WITH new_user AS (INSERT INTO users (id) VALUES (\(user.rawValue)) ON CONFLICT (id) DO NOTHING)
                    INSERT INTO user_watchlists (user_id, name, symbols, filters, created_at, updated_at)
                    VALUES (\(user.rawValue), \(change.name ?? ""), \(change.symbols ?? [])::text[], \(filters)::jsonb, \(at), \(at))
                    RETURNING \(unescaped: Self.watchlistColumns)
                    """)
            )[0]
        }
    }

    public func updateWatchlist(_ id: Int64, _ change: WatchlistChange, for user: UserID, at now: EpochMillis) async throws -> Watchlist? {
        let at = Self.date(now)
        let setFilters = change.filters != nil
        let filters = change.filters.flatMap(Self.json)
        return try await write("update watchlist", of: user) { client in
            // binds, not string concatenation; a nil bind keeps the column (COALESCE), so one statement serves every
            // partial update.
            try await Self.watchlists(
                client.query(
                    """
                    UPDATE user_watchlists SET
                        name = COALESCE(\(change.name), name),
                        symbols = COALESCE(\(change.symbols)::text[], symbols),
                        filters = CASE WHEN \(setFilters) THEN \(filters)::jsonb ELSE filters END,
                        updated_at = \(at)
                    WHERE id = \(id) AND user_id = \(user.rawValue)
                    RETURNING \(unescaped: Self.watchlistColumns)
                    """)
            ).first
        }
    }

    public func deleteWatchlist(_ id: Int64, of user: UserID) async throws -> Bool {
        try await write("delete watchlist", of: user) { client in
            // binds, not string concatenation
            try await !client.query("DELETE FROM user_watchlists WHERE id = \(id) AND user_id = \(user.rawValue) RETURNING id").collect().isEmpty
        }
    }

    public func addSymbol(_ symbol: String, toWatchlist id: Int64, of user: UserID, at now: EpochMillis) async throws -> Watchlist? {
        let at = Self.date(now)
        return try await write("add symbol", of: user) { client in
            // binds, not string concatenation. Appends only when absent; the CHECK on cardinality guards the limit.
            try await Self.watchlists(
                client.query(
                    """
                    UPDATE user_watchlists SET
                        symbols = CASE WHEN \(symbol) = ANY(symbols) THEN symbols ELSE array_append(symbols, \(symbol)) END,
                        updated_at = CASE WHEN \(symbol) = ANY(symbols) THEN updated_at ELSE \(at) END
                    WHERE id = \(id) AND user_id = \(user.rawValue)
                    RETURNING \(unescaped: Self.watchlistColumns)
                    """)
            ).first
        }
    }

    public func removeSymbol(_ symbol: String, fromWatchlist id: Int64, of user: UserID, at now: EpochMillis) async throws -> Watchlist? {
        let at = Self.date(now)
        return try await write("remove symbol", of: user) { client in
            // binds, not string concatenation
            try await Self.watchlists(
                client.query(
                    """
                    UPDATE user_watchlists SET
                        symbols = array_remove(symbols, \(symbol)),
                        updated_at = CASE WHEN \(symbol) = ANY(symbols) THEN \(at) ELSE updated_at END
                    WHERE id = \(id) AND user_id = \(user.rawValue)
                    RETURNING \(unescaped: Self.watchlistColumns)
                    """)
            ).first
        }
    }

    // MARK: Presets

    public func presets(of user: UserID) async throws -> [FilterPreset] {
        try await readThrough(cache.presets(of: user), load: { try await loadPresets(of: user) }) { rows, ticket in
            cache.fill(presets: rows, of: user, ticket: ticket)
        }
    }

    func loadPresets(of user: UserID) async throws -> [FilterPreset] {
        try await database.perform("list presets") { client in
            // binds, not string concatenation
            try await Self.presets(
                client.query(
                    "SELECT \(unescaped: Self.presetColumns) FROM user_filter_presets WHERE user_id = \(user.rawValue) ORDER BY id"
                ))
        }
    }

    public func preset(_ id: Int64, of user: UserID) async throws -> FilterPreset? {
        guard !cache.isListening else { return try await presets(of: user).first { $0.id == id } }
        return try await database.perform("get preset") { client in
            // binds, not string concatenation
            try await Self.presets(
                client.query(
                    "SELECT \(unescaped: Self.presetColumns) FROM user_filter_presets WHERE id = \(id) AND user_id = \(user.rawValue)"
                )
            ).first
        }
    }

    public func createPreset(_ change: FilterPresetChange, for user: UserID, at now: EpochMillis) async throws -> FilterPreset {
        let at = Self.date(now)
        let filters = (change.filters ?? .object([])).serialized()
        let isDefault = change.isDefault ?? false
        return try await write("create preset", of: user) { client in
            // binds, not string concatenation; one round trip (0003_preset_functions.sql)
            try await Self.presets(
                client.query(
                    """
                    SELECT \(unescaped: Self.presetColumns)
                    FROM patterndesk_create_preset(\(user.rawValue), \(change.name ?? ""), \(filters)::jsonb, \(isDefault), \(at))
                    """)
            )[0]
        }
    }

    public func updatePreset(_ id: Int64, _ change: FilterPresetChange, for user: UserID, at now: EpochMillis) async throws -> FilterPreset? {
        let at = Self.date(now)
        let filters = change.filters.map { $0.serialized() }
        return try await write("update preset", of: user) { client in
            // binds, not string concatenation; one round trip (0003_preset_functions.sql)
            try await Self.presets(
                client.query(
                    """
                    SELECT \(unescaped: Self.presetColumns)
                    FROM patterndesk_update_preset(\(user.rawValue), \(id), \(change.name), \(filters)::jsonb, \(change.isDefault), \(at))
                    """)
            ).first
        }
    }

    public func deletePreset(_ id: Int64, of user: UserID) async throws -> Bool {
        try await write("delete preset", of: user) { client in
            // binds, not string concatenation
            try await !client.query("DELETE FROM user_filter_presets WHERE id = \(id) AND user_id = \(user.rawValue) RETURNING id").collect()
                .isEmpty
        }
    }

    public func ping() async throws { try await database.ping() }

    var cache: UserDataCache { database.userDataCache }

    /// A cached read: the kept rows, or a load that fills the cache on a miss (and keeps nothing while bypassed).
    func readThrough<Row: Sendable>(
        _ lookup: UserDataCache.Lookup<Row>, load: () async throws -> [Row], fill: ([Row], UserDataCache.Ticket) -> Void
    ) async throws -> [Row] {
        switch lookup {
        case .hit(let rows): return rows
        case .bypass: return try await load()
        case .miss(let ticket):
            let rows = try await load()
            fill(rows, ticket)
            return rows
        }
    }

    /// A write, after which (done, failed or timed out: it may have committed) the user's cached rows are dropped, so
    /// this instance reads its own writes without waiting for the notification.
    func write<Result: Sendable>(
        _ operation: String, of user: UserID, _ body: @escaping @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        defer { cache.invalidate(user) }
        return try await database.perform(operation, body)
    }

    // MARK: Helpers

    static func watchlists(_ rows: PostgresRowSequence) async throws -> [Watchlist] {
        var result: [Watchlist] = []
        for try await (id, user, name, symbols, filters, created, updated) in rows.decode(WatchlistRow.self) {
            result.append(
                Watchlist(
                    id: id, userID: UserID(user), name: name, symbols: symbols, filters: filters.flatMap { try? JSONParser.parse($0) } ?? .null,
                    createdAt: millis(created), updatedAt: millis(updated)))
        }
        return result
    }

    static func presets(_ rows: PostgresRowSequence) async throws -> [FilterPreset] {
        var result: [FilterPreset] = []
        for try await (id, user, name, filters, isDefault, created, updated) in rows.decode(PresetRow.self) {
            result.append(
                FilterPreset(
                    id: id, userID: UserID(user), name: name, filters: (try? JSONParser.parse(filters)) ?? .object([]), isDefault: isDefault,
                    createdAt: millis(created), updatedAt: millis(updated)))
        }
        return result
    }

    /// JSON null is stored as SQL NULL, so that `filters IS NULL` means "none".
    static func json(_ value: JSONValue) -> String? {
        if case .null = value { return nil }
        return value.serialized()
    }

    static func date(_ millis: EpochMillis) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
    static func millis(_ date: Date) -> EpochMillis { EpochMillis((date.timeIntervalSince1970 * 1000).rounded()) }
}
