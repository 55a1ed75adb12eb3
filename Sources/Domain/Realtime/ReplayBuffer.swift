/// The recent history of a sequenced feed, for `resume` after a reconnect. It keeps every entry younger than
/// `minimumAge` and at least the newest `minimumCount`, never more than `capacity`. Sequence numbers are appended in
/// increasing order without gaps.
public struct ReplayBuffer<Element: Sendable>: Sendable {
    public struct Entry: Sendable {
        public var seq: UInt64
        public var at: EpochMillis
        public var element: Element
    }

    /// What a resume after a given sequence number gets.
    public enum Resume {
        /// Everything published after it, oldest first (possibly nothing).
        case replay(ArraySlice<Entry>)
        /// Some of what came after it is no longer held (or it is from the future): reload instead.
        case gap
    }

    public let minimumCount: Int
    public let minimumAge: EpochMillis
    public let capacity: Int
    /// Oldest first.
    private var entries: [Entry] = []
    private var start = 0

    public init(minimumCount: Int = 10_000, minimumAge: EpochMillis = 120_000, capacity: Int = 250_000) {
        precondition(minimumCount <= capacity, "the minimum history cannot exceed the capacity")
        self.minimumCount = minimumCount
        self.minimumAge = minimumAge
        self.capacity = capacity
    }

    public var count: Int { entries.count - start }
    public var oldestSeq: UInt64? { start < entries.count ? entries[start].seq : nil }
    public var newestSeq: UInt64? { entries.last?.seq }

    /// Appends `element` as `seq` at `now` and drops what is both older than `minimumAge` and beyond `minimumCount`.
    public mutating func append(_ element: Element, seq: UInt64, at now: EpochMillis) {
        entries.append(Entry(seq: seq, at: now, element: element))
        while count > capacity || (count > minimumCount && entries[start].at <= now - minimumAge) { start += 1 }
        // Compact once the dropped prefix is as large as what is kept, so appends stay amortised O(1).
        if start > 1024 && start >= count {
            entries.removeFirst(start)
            start = 0
        }
    }

    /// What a subscriber that has everything up to `seq` missed, given that `latest` is the newest number published.
    public func resume(after seq: UInt64, latest: UInt64) -> Resume {
        if seq == latest { return .replay([]) }
        guard seq < latest, let oldest = oldestSeq, oldest <= seq + 1 else { return .gap }
        let first = start + Int(seq + 1 - oldest)
        return .replay(entries[first...])
    }
}
