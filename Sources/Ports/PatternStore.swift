public import Domain

/// One transport message after normalisation.
public struct IngestBatchItem: Sendable {
    public var channel: String
    public var results: [NormalizedEvent]
    public init(channel: String, results: [NormalizedEvent]) {
        self.channel = channel
        self.results = results
    }
}

/// The live pattern set: one writer applies normalised events, any number of readers scan snapshots.
/// Implementations are synchronous and never block a reader behind the writer.
public protocol PatternStore: Sendable {
    /// Applies the operations of `items` in order and counts every result; readers see the whole batch or none of it.
    /// Returns what changed, for the warm-start cache.
    @discardableResult func apply(_ items: [IngestBatchItem], now: EpochMillis) -> AppliedChanges
    /// Removes patterns whose expiry is at or before `now`; returns them as they were.
    func removeExpired(now: EpochMillis) -> [Pattern]
    /// The newest published snapshot. Never waits for the writer.
    func snapshot() -> PatternSnapshot
    /// Ingestion counters at this instant.
    func statistics() -> IngestStatistics
}

/// What one `apply` changed in the live set.
public struct AppliedChanges: Sendable, Equatable {
    /// Patterns inserted or updated, in order; a pattern upserted twice appears twice.
    public var upserted: [Pattern] = []
    /// Patterns removed by `pattern_expired` events, as they were.
    public var removed: [Pattern] = []
    public init(upserted: [Pattern] = [], removed: [Pattern] = []) {
        self.upserted = upserted
        self.removed = removed
    }
}
