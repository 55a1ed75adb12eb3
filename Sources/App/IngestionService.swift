import Domain
import Logging
import Ports
import ServiceLifecycle

/// The event pump: reads batches from the event source, normalises each message in the Domain and applies the batch to
/// the store. The source acknowledges a batch only after `apply` returned.
struct IngestionService<Source: PatternEventSource, Store: PatternStore, Clock: WallClock>: Service {
    let source: Source
    let store: Store
    let clock: Clock
    let normalizer: PatternEventNormalizer
    let logger: Logger

    func run() async throws {
        logger.info("ingestion started", metadata: ["source.name": "\(source.name)"])
        try await cancelWhenGracefulShutdown {
            try await source.run { batch in ingest(batch) }
        }
        logger.info("ingestion stopped")
    }

    /// Normalises and applies one batch; also used directly by tests and the demo warm-up.
    func ingest(_ batch: [IncomingEvent]) {
        let items = batch.map { event in
            IngestBatchItem(
                channel: event.channel,
                results: normalizer.normalize(event.body, context: .init(channel: event.channel, receivedAt: event.receivedAt)))
        }
        store.apply(items, now: clock.now())
    }
}

/// Drops expired patterns once a second, so memory and counts follow `expires_at` even when no events arrive.
struct ExpirySweeper<Store: PatternStore, Clock: WallClock>: Service {
    let store: Store
    let clock: Clock
    let interval: Duration
    let logger: Logger

    func run() async throws {
        for await _ in AsyncTimerSequence(interval: interval).cancelOnGracefulShutdown() {
            let removed = store.removeExpired(now: clock.now())
            if !removed.isEmpty { logger.debug("expired patterns removed", metadata: ["patterns.count": "\(removed.count)"]) }
        }
    }
}

/// Ticks every `interval` until cancelled.
struct AsyncTimerSequence: AsyncSequence, Sendable {
    let interval: Duration

    struct AsyncIterator: AsyncIteratorProtocol {
        let interval: Duration
        mutating func next() async -> Void? {
            do {
                try await Task.sleep(for: interval)
                return ()
            } catch {
                return nil
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(interval: interval) }
}
