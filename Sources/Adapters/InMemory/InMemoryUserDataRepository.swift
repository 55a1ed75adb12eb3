public import Domain
public import Ports

/// Watchlists and presets in memory: the embedded default's store and the reference the contract suite checks the
/// PostgreSQL adapter against. Lost on restart.
public actor InMemoryUserDataRepository: UserDataRepository {
    private var watchlistRows: [Int64: Watchlist] = [:]
    private var presetRows: [Int64: FilterPreset] = [:]
    private var nextWatchlistID: Int64 = 1
    private var nextPresetID: Int64 = 1

    public init() {}

    public func watchlists(of user: UserID) -> [Watchlist] {
        watchlistRows.values.filter { $0.userID == user }.sorted { $0.id < $1.id }
    }

    public func watchlist(_ id: Int64, of user: UserID) -> Watchlist? {
        watchlistRows[id].flatMap { $0.userID == user ? $0 : nil }
    }

    public func createWatchlist(_ change: WatchlistChange, for user: UserID, at now: EpochMillis) throws -> Watchlist {
        let name = change.name ?? ""
        guard !Self.nameTaken(name, by: user, in: watchlistRows) else { throw UserDataError.duplicateName }
        let row = Watchlist(
            id: nextWatchlistID, userID: user, name: name, symbols: change.symbols ?? [], filters: change.filters ?? .null,
            createdAt: now, updatedAt: now)
        nextWatchlistID += 1
        watchlistRows[row.id] = row
        return row
    }

    public func updateWatchlist(_ id: Int64, _ change: WatchlistChange, for user: UserID, at now: EpochMillis) throws -> Watchlist? {
        guard var row = watchlist(id, of: user) else { return nil }
        if let name = change.name {
            guard !Self.nameTaken(name, by: user, in: watchlistRows, except: id) else { throw UserDataError.duplicateName }
            row.name = name
        }
        if let symbols = change.symbols { row.symbols = symbols }
        if let filters = change.filters { row.filters = filters }
        row.updatedAt = now
        watchlistRows[id] = row
        return row
    }

    public func deleteWatchlist(_ id: Int64, of user: UserID) -> Bool {
        guard watchlist(id, of: user) != nil else { return false }
        watchlistRows[id] = nil
        return true
    }

    public func addSymbol(_ symbol: String, toWatchlist id: Int64, of user: UserID, at now: EpochMillis) throws -> Watchlist? {
        guard var row = watchlist(id, of: user) else { return nil }
        guard !row.symbols.contains(symbol) else { return row }
        guard row.symbols.count < UserDataRules.maxWatchlistSymbols else { throw UserDataError.tooManySymbols }
        row.symbols.append(symbol)
        row.updatedAt = now
        watchlistRows[id] = row
        return row
    }

    public func removeSymbol(_ symbol: String, fromWatchlist id: Int64, of user: UserID, at now: EpochMillis) -> Watchlist? {
        guard var row = watchlist(id, of: user) else { return nil }
        guard let index = row.symbols.firstIndex(of: symbol) else { return row }
        row.symbols.remove(at: index)
        row.updatedAt = now
        watchlistRows[id] = row
        return row
    }

    public func presets(of user: UserID) -> [FilterPreset] {
        presetRows.values.filter { $0.userID == user }.sorted { $0.id < $1.id }
    }

    public func preset(_ id: Int64, of user: UserID) -> FilterPreset? {
        presetRows[id].flatMap { $0.userID == user ? $0 : nil }
    }

    public func createPreset(_ change: FilterPresetChange, for user: UserID, at now: EpochMillis) throws -> FilterPreset {
        let name = change.name ?? ""
        guard !Self.nameTaken(name, by: user, in: presetRows) else { throw UserDataError.duplicateName }
        let row = FilterPreset(
            id: nextPresetID, userID: user, name: name, filters: change.filters ?? .object([]), isDefault: change.isDefault ?? false,
            createdAt: now, updatedAt: now)
        nextPresetID += 1
        if row.isDefault { demoteDefault(of: user, at: now) }
        presetRows[row.id] = row
        return row
    }

    public func updatePreset(_ id: Int64, _ change: FilterPresetChange, for user: UserID, at now: EpochMillis) throws -> FilterPreset? {
        guard var row = preset(id, of: user) else { return nil }
        if let name = change.name {
            guard !Self.nameTaken(name, by: user, in: presetRows, except: id) else { throw UserDataError.duplicateName }
            row.name = name
        }
        if let filters = change.filters { row.filters = filters }
        if let isDefault = change.isDefault {
            if isDefault && !row.isDefault { demoteDefault(of: user, at: now) }
            row.isDefault = isDefault
        }
        row.updatedAt = now
        presetRows[id] = row
        return row
    }

    public func deletePreset(_ id: Int64, of user: UserID) -> Bool {
        guard preset(id, of: user) != nil else { return false }
        presetRows[id] = nil
        return true
    }

    public func ping() {}

    /// Whether another row of the user already has this name (names are unique per user, as in PostgreSQL).
    private static func nameTaken<Row: NamedUserRow>(_ name: String, by user: UserID, in rows: [Int64: Row], except id: Int64? = nil) -> Bool {
        rows.values.contains { $0.userID == user && $0.name == name && $0.id != id }
    }

    private func demoteDefault(of user: UserID, at now: EpochMillis) {
        for (id, row) in presetRows where row.userID == user && row.isDefault {
            presetRows[id]?.isDefault = false
            presetRows[id]?.updatedAt = now
        }
    }
}

/// What the name check needs of a watchlist or a preset.
protocol NamedUserRow {
    var id: Int64 { get }
    var userID: UserID { get }
    var name: String { get }
}

extension Watchlist: NamedUserRow {}
extension FilterPreset: NamedUserRow {}
