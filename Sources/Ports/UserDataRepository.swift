public import Domain

/// Why a user-data call failed, in the port's terms. Adapters translate their driver's errors into these.
public enum UserDataError: Error, Equatable, Sendable {
    /// The user already has a watchlist or preset with this name.
    case duplicateName
    /// The change would take a watchlist over `UserDataRules.maxWatchlistSymbols`.
    case tooManySymbols
    /// The store cannot be reached or did not answer in time; `detail` is for logs, never for clients.
    case unavailable(detail: String)
}

/// Users' watchlists and filter presets. Every call is scoped to one user: a row of another user is reported exactly
/// as a missing one (nil or false), so ids never leak. Inputs are already validated by `UserDataRules`.
public protocol UserDataRepository: Sendable {
    /// The user's watchlists, oldest first.
    func watchlists(of user: UserID) async throws -> [Watchlist]
    /// The watchlist, or nil when absent or another user's.
    func watchlist(_ id: Int64, of user: UserID) async throws -> Watchlist?
    /// Creates a watchlist from a change with every field set; throws `UserDataError.duplicateName`.
    func createWatchlist(_ change: WatchlistChange, for user: UserID, at now: EpochMillis) async throws -> Watchlist
    /// Applies the fields the change sets; nil when absent or another user's; throws `UserDataError.duplicateName`.
    func updateWatchlist(_ id: Int64, _ change: WatchlistChange, for user: UserID, at now: EpochMillis) async throws -> Watchlist?
    /// Deletes the watchlist; false when absent or another user's.
    func deleteWatchlist(_ id: Int64, of user: UserID) async throws -> Bool
    /// Appends a symbol unless present; nil when the watchlist is absent or another user's; throws
    /// `UserDataError.tooManySymbols`.
    func addSymbol(_ symbol: String, toWatchlist id: Int64, of user: UserID, at now: EpochMillis) async throws -> Watchlist?
    /// Removes a symbol if present; nil when the watchlist is absent or another user's.
    func removeSymbol(_ symbol: String, fromWatchlist id: Int64, of user: UserID, at now: EpochMillis) async throws -> Watchlist?

    /// The user's presets, oldest first.
    func presets(of user: UserID) async throws -> [FilterPreset]
    /// The preset, or nil when absent or another user's.
    func preset(_ id: Int64, of user: UserID) async throws -> FilterPreset?
    /// Creates a preset from a change with every field set. A new default demotes the user's previous default in the
    /// same transaction. Throws `UserDataError.duplicateName`.
    func createPreset(_ change: FilterPresetChange, for user: UserID, at now: EpochMillis) async throws -> FilterPreset
    /// Applies the fields the change sets (a new default demotes the previous one); nil when absent or another user's.
    func updatePreset(_ id: Int64, _ change: FilterPresetChange, for user: UserID, at now: EpochMillis) async throws -> FilterPreset?
    /// Deletes the preset; false when absent or another user's.
    func deletePreset(_ id: Int64, of user: UserID) async throws -> Bool

    /// Answers when the store is reachable; throws `UserDataError.unavailable` otherwise.
    func ping() async throws
}
