/// Every live subscription of every connection, indexed so that matching one event touches only the subscriptions
/// that could want it: a subscription naming symbols is filed under each symbol, one naming only pattern types under
/// each type, and only the rest (no symbol, no type) is checked for every event. Each subscription sits in exactly
/// one kind of bucket, so an event meets it at most once.
///
/// Sans-I/O: the caller owns the lock and the sequence numbers. `Owner` is the caller's connection identity.
public struct SubscriptionIndex<Owner: Hashable & Sendable>: Sendable {
    public struct Key: Hashable, Sendable {
        public var owner: Owner
        public var name: String
        public init(owner: Owner, name: String) {
            self.owner = owner
            self.name = name
        }
    }

    struct Entry: Sendable {
        var criteria: SubscriptionCriteria
        /// The last sequence number published before the subscription existed: live delivery covers later ones.
        var since: UInt64
        /// Preset subscriptions: patterns already sent, so an update of the same pattern is not a new alert.
        var alerted: Set<PatternKey> = []
    }

    private var entries: [Key: Entry] = [:]
    private var names: [Owner: [String]] = [:]
    private var bySymbol: [String: Set<Key>] = [:]
    private var byType: [String: Set<Key>] = [:]
    private var unindexed: Set<Key> = []

    public init() {}

    /// Live subscriptions.
    public var count: Int { entries.count }
    /// Subscriptions that every event must be checked against (neither symbols nor pattern types given).
    public var unindexedCount: Int { unindexed.count }

    /// The owner's subscription names, in the order they were made.
    public func subscriptions(of owner: Owner) -> [String] { names[owner] ?? [] }

    public func criteria(_ key: Key) -> SubscriptionCriteria? { entries[key]?.criteria }

    /// Adds or replaces a subscription; `since` is the newest sequence number already published.
    public mutating func add(_ key: Key, criteria: SubscriptionCriteria, since: UInt64) {
        if entries[key] != nil { remove(key) }
        entries[key] = Entry(criteria: criteria, since: since)
        names[key.owner, default: []].append(key.name)
        file(key, criteria, insert: true)
    }

    /// Removes a subscription; false when there was none.
    @discardableResult
    public mutating func remove(_ key: Key) -> Bool {
        guard let entry = entries.removeValue(forKey: key) else { return false }
        file(key, entry.criteria, insert: false)
        names[key.owner]?.removeAll { $0 == key.name }
        if names[key.owner]?.isEmpty == true { names[key.owner] = nil }
        return true
    }

    /// Removes every subscription of `owner`; returns how many there were.
    @discardableResult
    public mutating func removeAll(of owner: Owner) -> Int {
        let owned = names[owner] ?? []
        for name in owned { remove(Key(owner: owner, name: name)) }
        return owned.count
    }

    /// The deliveries for one event, published with sequence number `seq`: for each owner, the names of its matching
    /// subscriptions in the order they were made. A preset subscription gets a pattern only the first time it satisfies
    /// the preset, and its expiry only when it got the pattern.
    public mutating func match(_ event: FeedEvent) -> [Owner: [String]] {
        let pattern = event.pattern
        var deliveries: [Owner: [String]] = [:]
        func consider(_ key: Key) {
            guard let entry = entries[key], entry.criteria.matches(pattern) || isAlerted(entry, event) else { return }
            if entry.criteria.preset != nil {
                switch event {
                case .pattern:
                    guard entries[key]!.alerted.insert(pattern.key).inserted else { return }
                case .expired:
                    guard entries[key]!.alerted.remove(pattern.key) != nil else { return }
                }
            }
            deliveries[key.owner, default: []].append(key.name)
        }
        if let keys = bySymbol[pattern.symbol] { for key in keys { consider(key) } }
        if let keys = byType[pattern.patternType] { for key in keys { consider(key) } }
        for key in unindexed { consider(key) }
        // Buckets are sets: put an owner's several matches back in the order its subscriptions were made.
        for (owner, matched) in deliveries where matched.count > 1 {
            deliveries[owner] = (names[owner] ?? []).filter(matched.contains)
        }
        return deliveries
    }

    /// For a resume: the owner's subscriptions that should receive `event` (published as `seq`) but did not get it
    /// live, because they were made after it. Empty when any subscription of the owner already got it live.
    public mutating func replay(_ event: FeedEvent, seq: UInt64, to owner: Owner) -> [String] {
        var missed: [String] = []
        for name in names[owner] ?? [] {
            let key = Key(owner: owner, name: name)
            guard let entry = entries[key], entry.criteria.matches(event.pattern) else { continue }
            if entry.since < seq { return [] }
            if entry.criteria.preset != nil, case .pattern = event { entries[key]!.alerted.insert(event.pattern.key) }
            missed.append(name)
        }
        return missed
    }

    /// A preset subscription still owes its subscriber the expiry of a pattern it alerted, even when the pattern's last
    /// state no longer satisfies the preset.
    private func isAlerted(_ entry: Entry, _ event: FeedEvent) -> Bool {
        guard case .expired(let pattern) = event, entry.criteria.preset != nil else { return false }
        return entry.alerted.contains(pattern.key)
    }

    private mutating func file(_ key: Key, _ criteria: SubscriptionCriteria, insert: Bool) {
        func update(_ set: inout Set<Key>) {
            if insert { set.insert(key) } else { set.remove(key) }
        }
        if let symbols = criteria.symbols {
            for symbol in symbols {
                update(&bySymbol[symbol, default: []])
                if bySymbol[symbol]?.isEmpty == true { bySymbol[symbol] = nil }
            }
        } else if let types = criteria.patternTypes {
            for type in types {
                update(&byType[type, default: []])
                if byType[type]?.isEmpty == true { byType[type] = nil }
            }
        } else {
            update(&unindexed)
        }
    }
}
