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
    func apply(_ items: [IngestBatchItem], now: EpochMillis)
    /// Removes patterns whose expiry is at or before `now`; returns their identities.
    func removeExpired(now: EpochMillis) -> [PatternKey]
    /// The newest published snapshot. Never waits for the writer.
    func snapshot() -> PatternSnapshot
    /// Ingestion counters at this instant.
    func statistics() -> IngestStatistics
}
