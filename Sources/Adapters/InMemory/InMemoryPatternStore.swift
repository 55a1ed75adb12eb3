public import Domain
public import Ports
import Synchronization

/// The live pattern index in process memory. One writer at a time applies batches under a lock; every batch ends by
/// publishing a new immutable snapshot, which readers pick up with a pointer-sized critical section and scan unlocked.
public final class InMemoryPatternStore: PatternStore {
    private struct WriterState: ~Copyable {
        var index: PatternIndex
        var statistics = IngestStatistics()
    }

    private let writer: Mutex<WriterState>
    /// What readers see: a snapshot and the counters of the same batch, swapped together.
    private let published = Mutex((snapshot: PatternSnapshot.empty, statistics: IngestStatistics()))

    /// `chunkCapacity`: slots per index chunk (see ``PatternIndex/defaultChunkCapacity``): larger chunks scan faster,
    /// smaller ones make the clone of the open tail chunk after each published batch cheaper.
    public init(chunkCapacity: Int = PatternIndex.defaultChunkCapacity) {
        writer = Mutex(WriterState(index: PatternIndex(chunkCapacity: chunkCapacity)))
    }

    @discardableResult public func apply(_ items: [IngestBatchItem], now: EpochMillis) -> AppliedChanges {
        writer.withLock { state in
            var changes = AppliedChanges()
            for item in items {
                state.statistics.recordReceived(channel: item.channel)
                for result in item.results {
                    switch result {
                    case .operation(let operation):
                        switch operation {
                        case .upsert(let pattern):
                            changes.upserted.append(pattern)
                            switch state.index.upsert(pattern) {
                            case .inserted: state.statistics.inserted += 1
                            case .updated: state.statistics.updated += 1
                            }
                        case .expire(let selector):
                            let removed = state.index.expire(selector)
                            state.statistics.expiredByEvent += removed.count
                            changes.removed += removed
                        }
                        state.statistics.applied += 1
                        state.statistics.lastEventAt = now
                    case .rejected(let reason):
                        state.statistics.recordRejected(reason)
                    case .ignored(let kind):
                        state.statistics.recordIgnored(kind)
                    }
                }
            }
            publish(&state)
            return changes
        }
    }

    public func removeExpired(now: EpochMillis) -> [Pattern] {
        writer.withLock { state in
            let removed = state.index.removeExpired(now: now)
            if !removed.isEmpty {
                state.statistics.expiredByTime += removed.count
                publish(&state)
            }
            return removed
        }
    }

    public func snapshot() -> PatternSnapshot { published.withLock { $0.snapshot } }

    public func statistics() -> IngestStatistics { published.withLock { $0.statistics } }

    private func publish(_ state: inout WriterState) {
        let next = (snapshot: state.index.snapshot(), statistics: state.statistics)
        published.withLock { $0 = next }
    }
}
