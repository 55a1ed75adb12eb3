import Domain
import Synchronization

/// Scan answers reused while they are still exact: dashboards poll the same screens many times a second, and between
/// two index changes the answer to the same query only changes when one of its matches expires.
///
/// An entry is the page a scan gave (with its item fragments and encoded cursor) for one query on one snapshot
/// version. It serves the same query (full equality, not a hash) on the same version before the page's
/// ``ScanPage/validUntil``. The time-dependent strings (time ago, expiry, response time) are still written per
/// request. Bounded: only the newest version's entries are kept, and when `capacity` are held the next insertion starts
/// afresh.
final class ScanResultCache: Sendable {
    struct Entry: Sendable {
        var page: ScanPage
        var fragments: [PatternItemFragment]
        var nextCursor: String?
    }

    /// Its size, what it holds and how often it answered since start: `stats.scan_cache`.
    struct Figures: Encodable, Sendable, Equatable {
        var capacity: Int
        var entries: Int
        var hits: Int
        var misses: Int

        /// Hits over look-ups; 0 before the first.
        var hitRatio: Double { hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses) }
    }

    private struct State {
        var version: UInt64 = 0
        var entries: [ScanQuery: Entry] = [:]
        var hits = 0
        var misses = 0
    }

    private let state = Mutex(State())
    let capacity: Int

    /// `capacity` 0 turns the cache off.
    init(capacity: Int) {
        precondition(capacity >= 0, "the scan cache capacity cannot be negative")
        self.capacity = capacity
    }

    var figures: Figures {
        state.withLock { Figures(capacity: capacity, entries: $0.entries.count, hits: $0.hits, misses: $0.misses) }
    }

    /// The answer to `query` on snapshot `version` at `now`, when one is held and still exact.
    func answer(_ query: ScanQuery, version: UInt64, now: EpochMillis) -> Entry? {
        guard capacity > 0 else { return nil }
        return state.withLock { state in
            guard state.version == version, let entry = state.entries[query], now < entry.page.validUntil else {
                state.misses += 1
                return nil
            }
            state.hits += 1
            return entry
        }
    }

    /// Keeps `entry` as the answer to `query` on snapshot `version`, unless a newer version has been seen.
    func keep(_ entry: Entry, for query: ScanQuery, version: UInt64) {
        guard capacity > 0 else { return }
        state.withLock { state in
            if version != state.version {
                guard version > state.version else { return }
                state.version = version
                state.entries.removeAll(keepingCapacity: true)
            }
            if state.entries.count >= capacity, state.entries[query] == nil { state.entries.removeAll(keepingCapacity: true) }
            state.entries[query] = entry
        }
    }
}
