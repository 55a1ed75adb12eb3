import Domain
import Synchronization

/// Scan items serialised once and reused across requests while their pattern is unchanged (``PatternItemFragment``):
/// dashboards ask for the same top pages over and over, and most of an item's bytes do not depend on the moment.
///
/// Exact by construction: a fragment is used only when its pattern equals the live one field for field, and the two
/// `now`-dependent strings are written per request. Bounded: when `capacity` fragments are held, the next insertion
/// starts the cache afresh (a clear, not an LRU: the pages people poll are rebuilt by the next request or two).
final class PatternFragmentCache: Sendable {
    private let entries = Mutex<[PatternKey: PatternItemFragment]>([:])
    let capacity: Int

    init(capacity: Int = 8_192) {
        precondition(capacity > 0, "the fragment cache needs room for at least one item")
        self.capacity = capacity
    }

    var count: Int { entries.withLock { $0.count } }

    /// One fragment per pattern, in order: cached ones where they still match, fresh ones (then cached) otherwise.
    func fragments(for patterns: [Pattern]) -> [PatternItemFragment] {
        let keys = patterns.map(\.key)
        var found = entries.withLock { map in
            keys.indices.map { i -> PatternItemFragment? in
                guard let cached = map[keys[i]], cached.isMade(from: patterns[i]) else { return nil }
                return cached
            }
        }
        var fresh: [(PatternKey, PatternItemFragment)] = []
        for i in found.indices where found[i] == nil {
            let fragment = PatternItemFragment(patterns[i])
            found[i] = fragment
            fresh.append((keys[i], fragment))
        }
        if !fresh.isEmpty {
            entries.withLock { map in
                for (key, fragment) in fresh {
                    if map.count >= capacity, map[key] == nil { map.removeAll(keepingCapacity: true) }
                    map[key] = fragment
                }
            }
        }
        return found.map { $0! }
    }
}
