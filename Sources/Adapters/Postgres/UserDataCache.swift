import Domain
import Synchronization

/// Each user's watchlists and presets as last read from PostgreSQL, so that the hot reads (a dashboard's watchlist,
/// a scan with `preset=ID`, a WebSocket subscription to a saved preset) skip the database round trip.
///
/// It is only used while `UserDataListener` is listening to `patterndesk_user_data` (migration 0004): a trigger
/// announces every committed change to a user's rows, and the listener drops that user's entry. When the listener
/// is down, notifications may be missed, so the cache is emptied and bypassed until it listens again. This instance's
/// own writes drop the entry as soon as they return, so a caller always reads its own writes.
///
/// A read that missed gets a `Ticket` and fills the entry only if nothing was invalidated in between: a load that
/// raced a write (and may hold the old rows) is answered but not kept.
public final class UserDataCache: Sendable {
    struct Ticket: Equatable {
        let generation: UInt64
        let version: UInt64
    }

    enum Lookup<Row: Sendable>: Sendable {
        case hit([Row])
        case miss(Ticket)
        /// Not listening: read from the database and keep nothing.
        case bypass
    }

    private struct Entry {
        /// Bumped by every invalidation of this user; a tombstone (both nil) keeps it.
        var version: UInt64 = 0
        var watchlists: [Watchlist]?
        var presets: [FilterPreset]?
    }

    private struct State {
        var listening = false
        /// Bumped when everything is dropped (listener lost or back, '*', an eviction), so no older load fills.
        var generation: UInt64 = 0
        var users: [UserID: Entry] = [:]
        var hits = 0
        var misses = 0
        var invalidations = 0
    }

    /// The most users kept; 0 turns caching off.
    public let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int = 10_000) { self.capacity = capacity }

    public var isEnabled: Bool { capacity > 0 }

    /// Whether reads are being served from memory now.
    public var isListening: Bool { state.withLock { $0.listening } }

    public struct Counters: Sendable, Equatable {
        public var users: Int
        public var hits: Int
        public var misses: Int
        public var invalidations: Int
    }

    public var counters: Counters {
        state.withLock { Counters(users: $0.users.count, hits: $0.hits, misses: $0.misses, invalidations: $0.invalidations) }
    }

    func watchlists(of user: UserID) -> Lookup<Watchlist> { lookup(user, \.watchlists) }
    func presets(of user: UserID) -> Lookup<FilterPreset> { lookup(user, \.presets) }
    func fill(watchlists rows: [Watchlist], of user: UserID, ticket: Ticket) { fill(user, \.watchlists, rows, ticket) }
    func fill(presets rows: [FilterPreset], of user: UserID, ticket: Ticket) { fill(user, \.presets, rows, ticket) }

    /// Drops the user's rows: their data changed (a notification, or a write of ours that returned or failed).
    func invalidate(_ user: UserID) {
        state.withLock { state in
            guard state.listening, capacity > 0 else { return }
            state.invalidations += 1
            guard var entry = state.users[user] else {
                // Loads in flight for this user started with version 0 and must not fill: leave a tombstone.
                insert(&state, user, Entry(version: 1))
                return
            }
            entry.version += 1
            entry.watchlists = nil
            entry.presets = nil
            state.users[user] = entry
        }
    }

    /// What a notification's payload asks: one user, or '*' for everyone.
    func invalidate(payload: String) {
        if payload == "*" {
            dropAll(listening: nil)
        } else {
            invalidate(UserID(payload))
        }
    }

    /// The listener started (true) or stopped (false) listening. Either way nothing held before can be trusted.
    func listening(_ listening: Bool) { dropAll(listening: listening) }

    private func dropAll(listening: Bool?) {
        state.withLock { state in
            if let listening { state.listening = listening }
            state.generation += 1
            state.invalidations += 1
            state.users.removeAll(keepingCapacity: true)
        }
    }

    private func lookup<Row: Sendable>(_ user: UserID, _ slot: KeyPath<Entry, [Row]?>) -> Lookup<Row> {
        state.withLock { state in
            guard state.listening, capacity > 0 else { return .bypass }
            let entry = state.users[user]
            if let rows = entry?[keyPath: slot] {
                state.hits += 1
                return .hit(rows)
            }
            state.misses += 1
            return .miss(Ticket(generation: state.generation, version: entry?.version ?? 0))
        }
    }

    private func fill<Row: Sendable>(_ user: UserID, _ slot: WritableKeyPath<Entry, [Row]?>, _ rows: [Row], _ ticket: Ticket) {
        state.withLock { state in
            guard state.listening, state.generation == ticket.generation else { return }
            var entry = state.users[user] ?? Entry()
            guard entry.version == ticket.version else { return }
            entry[keyPath: slot] = rows
            insert(&state, user, entry)
        }
    }

    /// Stores an entry, first evicting an arbitrary one when full; an eviction loses a tombstone's version, so it
    /// also bumps the generation.
    private func insert(_ state: inout State, _ user: UserID, _ entry: Entry) {
        if state.users[user] == nil, state.users.count >= capacity, let victim = state.users.keys.randomElement() {
            state.users[victim] = nil
            state.generation += 1
        }
        state.users[user] = entry
    }
}
