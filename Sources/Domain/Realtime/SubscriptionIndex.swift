/// Every live subscription of every connection, indexed so that matching one event touches only the subscriptions
/// that could want it: a subscription naming symbols is filed under each symbol, one naming only pattern types under
/// each type, and only the rest (no symbol, no type) is checked for every event. Each subscription sits in exactly
/// one kind of bucket, so an event meets it at most once.
///
/// Subscriptions and owners live in slots that buckets refer to by number, so matching an event indexes arrays and
/// hashes nothing: that is the per-event cost the fan-out pays for every recipient. The index is not generic over
/// the owner. A generic index called from another module ran unspecialised, copying its storage and going through
/// value witnesses for every subscription an event met.
///
/// Sans-I/O: the caller owns the lock and the sequence numbers. An `Owner` is the caller's connection id.
public struct SubscriptionIndex: Sendable {
    public typealias Owner = UInt64

    public struct Key: Hashable, Sendable {
        public var owner: Owner
        public var name: String
        public init(owner: Owner, name: String) {
            self.owner = owner
            self.name = name
        }
    }

    /// A subscription's criteria, immutable and shared, with the tests `match` runs for every subscription an event
    /// meets. They read the criteria through optional chaining on this class's constants, which borrows them; testing
    /// a `SubscriptionCriteria` held in an array element copied the whole struct, preset included, every time.
    /// `SubscriptionCriteria.matches` stays the definition: the property test checks `match` against it.
    final class Rule: Sendable {
        let criteria: SubscriptionCriteria
        private let symbols: Set<String>?
        private let patternTypes: Set<String>?
        private let tiers: Set<Tier>?
        private let confidenceMin: Double?
        private let sectors: Set<String>?
        let preset: ScanQuery?

        init(_ criteria: SubscriptionCriteria) {
            self.criteria = criteria
            symbols = criteria.symbols
            patternTypes = criteria.patternTypes
            tiers = criteria.tiers
            confidenceMin = criteria.confidenceMin
            sectors = criteria.sectors
            preset = criteria.preset
        }

        /// `SubscriptionCriteria.matches`, skipping the symbol or type test when the bucket already guarantees it.
        func matches(_ pattern: Pattern, symbolKnown: Bool, typeKnown: Bool) -> Bool {
            if !symbolKnown, symbols?.contains(pattern.symbol) == false { return false }
            if !typeKnown, patternTypes?.contains(pattern.patternType) == false { return false }
            if tiers?.contains(pattern.tier) == false { return false }
            if let confidenceMin, !(pattern.confidence >= confidenceMin) { return false }
            if sectors != nil, !(pattern.sector.map { sectors!.contains($0) } ?? false) { return false }
            if preset?.matchesFilters(pattern) == false { return false }
            return true
        }
    }

    struct Entry: Sendable {
        var name: String
        /// The owner's slot.
        var owner: Int
        var rule: Rule
        var criteria: SubscriptionCriteria { rule.criteria }
        /// The last sequence number published before the subscription existed: live delivery covers later ones.
        var since: UInt64
        /// Preset subscriptions: patterns already sent, so an update of the same pattern is not a new alert.
        var alerted: Set<PatternKey> = []

        static let free = Entry(name: "", owner: -1, rule: Rule(SubscriptionCriteria()), since: 0)
    }

    /// An owner's subscriptions in the order they were made, and scratch space for `match`.
    struct OwnerRecord: Sendable {
        var owner: Owner
        var slots: [Int] = []
        /// The `match` call that last delivered to this owner, and where its delivery sits in that call's answer.
        var mark: UInt64 = 0
        var position = 0
    }

    /// A free slot holds `Entry.free`.
    private var entries: [Entry] = []
    private var freeEntries: [Int] = []
    private var slotByKey: [Key: Int] = [:]
    /// A free slot holds an owner with no subscriptions.
    private var owners: [OwnerRecord] = []
    private var freeOwners: [Int] = []
    private var ownerSlot: [Owner: Int] = [:]
    private var bySymbol: [String: [Int]] = [:]
    private var byType: [String: [Int]] = [:]
    private var unindexed: [Int] = []
    private var matchMark: UInt64 = 0

    public init() {}

    /// Live subscriptions.
    public var count: Int { slotByKey.count }
    /// Subscriptions that every event must be checked against (neither symbols nor pattern types given).
    public var unindexedCount: Int { unindexed.count }

    /// The owner's subscription names, in the order they were made.
    public func subscriptions(of owner: Owner) -> [String] { ownerSlot[owner].map(names(ofOwner:)) ?? [] }

    public func criteria(_ key: Key) -> SubscriptionCriteria? { slotByKey[key].map { entries[$0].criteria } }

    /// Adds or replaces a subscription; `since` is the newest sequence number already published.
    public mutating func add(_ key: Key, criteria: SubscriptionCriteria, since: UInt64) {
        if slotByKey[key] != nil { remove(key) }
        let owner: Int
        if let existing = ownerSlot[key.owner] {
            owner = existing
        } else {
            owner = Self.take(&freeOwners, from: &owners, OwnerRecord(owner: key.owner))
            ownerSlot[key.owner] = owner
        }
        let slot = Self.take(&freeEntries, from: &entries, Entry(name: key.name, owner: owner, rule: Rule(criteria), since: since))
        slotByKey[key] = slot
        owners[owner].slots.append(slot)
        file(slot, criteria, insert: true)
    }

    /// Removes a subscription; false when there was none.
    @discardableResult
    public mutating func remove(_ key: Key) -> Bool {
        guard let slot = slotByKey.removeValue(forKey: key) else { return false }
        let owner = entries[slot].owner
        file(slot, entries[slot].criteria, insert: false)
        entries[slot] = .free
        freeEntries.append(slot)
        owners[owner].slots.removeAll { $0 == slot }
        if owners[owner].slots.isEmpty {
            ownerSlot[key.owner] = nil
            freeOwners.append(owner)
        }
        return true
    }

    /// Removes every subscription of `owner`; returns how many there were.
    @discardableResult
    public mutating func removeAll(of owner: Owner) -> Int {
        let owned = subscriptions(of: owner)
        for name in owned { remove(Key(owner: owner, name: name)) }
        return owned.count
    }

    /// The deliveries for one event: each owner with a matching subscription once, with the names of its matching
    /// subscriptions in the order they were made. A preset subscription gets a pattern only the first time it
    /// satisfies the preset, and its expiry only when it got the pattern.
    public mutating func match(_ event: FeedEvent) -> [(owner: Owner, names: [String])] {
        let pattern = event.pattern
        matchMark &+= 1
        let mark = matchMark
        var deliveries: [(owner: Owner, names: [String])] = []
        var regroup = false
        // Through buffer pointers, each entry is read and updated where it lies.
        entries.withUnsafeMutableBufferPointer { entries in
            owners.withUnsafeMutableBufferPointer { owners in
                func consider(_ slot: Int, symbolKnown: Bool, typeKnown: Bool) {
                    let rule = entries[slot].rule
                    guard
                        rule.matches(pattern, symbolKnown: symbolKnown, typeKnown: typeKnown)
                            || Self.isAlerted(entries[slot], event)
                    else { return }
                    if rule.preset != nil {
                        switch event {
                        case .pattern:
                            guard entries[slot].alerted.insert(pattern.key).inserted else { return }
                        case .expired:
                            guard entries[slot].alerted.remove(pattern.key) != nil else { return }
                        }
                    }
                    let owner = entries[slot].owner
                    if owners[owner].mark == mark {
                        deliveries[owners[owner].position].names.append(entries[slot].name)
                        regroup = true
                    } else {
                        owners[owner].mark = mark
                        owners[owner].position = deliveries.count
                        deliveries.append((owners[owner].owner, [entries[slot].name]))
                    }
                }
                if let slots = bySymbol[pattern.symbol] { for slot in slots { consider(slot, symbolKnown: true, typeKnown: false) } }
                if let slots = byType[pattern.patternType] { for slot in slots { consider(slot, symbolKnown: false, typeKnown: true) } }
                for slot in unindexed { consider(slot, symbolKnown: false, typeKnown: false) }
            }
        }
        // Buckets hold slots in no particular order: put an owner's several matches back in the order they were made.
        if regroup {
            for index in deliveries.indices where deliveries[index].names.count > 1 {
                let matched = deliveries[index].names
                deliveries[index].names = subscriptions(of: deliveries[index].owner).filter(matched.contains)
            }
        }
        return deliveries
    }

    /// For a resume: the owner's subscriptions that should receive `event` (published as `seq`) but did not get it
    /// live, because they were made after it. Empty when any subscription of the owner already got it live.
    public mutating func replay(_ event: FeedEvent, seq: UInt64, to owner: Owner) -> [String] {
        guard let owner = ownerSlot[owner] else { return [] }
        var missed: [String] = []
        for slot in owners[owner].slots {
            guard entries[slot].criteria.matches(event.pattern) else { continue }
            if entries[slot].since < seq { return [] }
            if entries[slot].criteria.preset != nil, case .pattern = event { entries[slot].alerted.insert(event.pattern.key) }
            missed.append(entries[slot].name)
        }
        return missed
    }

    /// A preset subscription still owes its subscriber the expiry of a pattern it alerted, even when the pattern's last
    /// state no longer satisfies the preset.
    private static func isAlerted(_ entry: borrowing Entry, _ event: FeedEvent) -> Bool {
        guard case .expired(let pattern) = event, entry.rule.preset != nil else { return false }
        return entry.alerted.contains(pattern.key)
    }

    private func names(ofOwner owner: Int) -> [String] { owners[owner].slots.map { entries[$0].name } }

    /// Puts `element` in a free slot of `array` (or a new one at the end) and returns the slot.
    private static func take<Element>(_ free: inout [Int], from array: inout [Element], _ element: Element) -> Int {
        if let slot = free.popLast() {
            array[slot] = element
            return slot
        }
        array.append(element)
        return array.count - 1
    }

    private mutating func file(_ slot: Int, _ criteria: SubscriptionCriteria, insert: Bool) {
        func update(_ bucket: inout [Int]) {
            if insert {
                bucket.append(slot)
            } else if let position = bucket.firstIndex(of: slot) {
                bucket.swapAt(position, bucket.count - 1)
                bucket.removeLast()
            }
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
