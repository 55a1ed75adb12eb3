import Domain
import Logging
import Ports
import Redis
import ServiceLifecycle
import Synchronization

/// What ingestion knows beyond the index: whether the warm start finished and what the producer's heartbeat says.
/// Read by stats, health and readiness.
final class IngestionState: Sendable {
    private let state = Mutex((warmStartLoaded: false, warmStartPatterns: 0, producer: ProducerStatus.unknown))

    init(warmStartNeeded: Bool) { state.withLock { $0.warmStartLoaded = !warmStartNeeded } }

    var warmStartLoaded: Bool { state.withLock { $0.warmStartLoaded } }

    func warmStartFinished(patterns: Int) {
        state.withLock {
            $0.warmStartLoaded = true
            $0.warmStartPatterns = patterns
        }
    }

    func producer(_ status: ProducerStatus) { state.withLock { $0.producer = status } }

    func status(source: EventSourceStatus) -> IngestionStatus {
        state.withLock {
            IngestionStatus(source: source, producer: $0.producer, warmStartLoaded: $0.warmStartLoaded, warmStartPatterns: $0.warmStartPatterns)
        }
    }
}

/// The event pump: loads the warm-start cache into the index, then reads batches from the event source, normalises
/// each message in the Domain, applies the batch to the store and writes the changes to the cache. The source
/// acknowledges a batch only after all of that returned; when it throws (the cache is down), the source stops, and
/// the pump starts it again after a backoff, so at-least-once sources redeliver the batch.
struct IngestionService<Store: PatternStore, Clock: WallClock>: Service {
    let source: any PatternEventSource
    let store: Store
    let clock: Clock
    let normalizer: PatternEventNormalizer
    let cache: (any PatternCache)?
    /// Told about every applied batch, before the cache write, so subscribers hear of a pattern the moment it is live.
    let broadcaster: (any PatternBroadcaster)?
    let state: IngestionState
    let logger: Logger
    var backoff = Backoff(base: .milliseconds(200), cap: .seconds(5))

    func run() async throws {
        logger.info("ingestion started", metadata: ["source.name": "\(source.name)"])
        await cancelWhenGracefulShutdown {
            await warmStart()
            var attempt = 0
            while !Task.isCancelled {
                do {
                    try await source.run { batch in try await ingest(batch) }
                    break
                } catch {
                    if Task.isCancelled { break }
                    let delay = backoff.delay(attempt: attempt)
                    attempt += 1
                    logger.error("ingestion failed; restarting the event source", metadata: ["error": "\(error)", "retry.in": "\(delay)"])
                    try? await Task.sleep(for: delay)
                }
            }
        }
        logger.info("ingestion stopped")
    }

    /// Loads the cached live set into the index before any new event, retrying while the cache is unreachable.
    func warmStart() async {
        guard let cache else { return }
        var attempt = 0
        while !Task.isCancelled {
            do {
                let started = ContinuousClock.now
                let now = clock.now()
                let cached = try await cache.loadPatterns()
                let live = cached.filter { $0.isLive(at: now) }
                let expired = cached.filter { !$0.isLive(at: now) }.map(\.key)
                if !live.isEmpty {
                    store.apply([IngestBatchItem(channel: "warm-start", results: live.map { .operation(.upsert($0)) })], now: now)
                }
                if !expired.isEmpty { try await cache.persist(upserted: [], removed: expired) }
                state.warmStartFinished(patterns: live.count)
                logger.info(
                    "warm start loaded",
                    metadata: ["patterns.live": "\(live.count)", "patterns.expired": "\(expired.count)", "duration": "\(ContinuousClock.now - started)"])
                return
            } catch {
                let delay = backoff.delay(attempt: attempt)
                attempt += 1
                logger.warning("warm start failed; retrying", metadata: ["error": "\(error)", "retry.in": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Normalises, applies and caches one batch; returns one outcome per event.
    func ingest(_ batch: [IncomingEvent]) async throws -> [EventOutcome] {
        let (changes, outcomes) = apply(batch)
        if let cache { try await cache.persist(upserted: changes.upserted, removed: changes.removed.map(\.key)) }
        return outcomes
    }

    /// Normalises and applies one batch without the cache; also used by the demo warm-up and the benchmarks.
    @discardableResult
    func apply(_ batch: [IncomingEvent]) -> (AppliedChanges, [EventOutcome]) {
        var outcomes: [EventOutcome] = []
        outcomes.reserveCapacity(batch.count)
        let items = batch.map { event in
            let results = normalizer.normalize(event.body, context: .init(channel: event.channel, receivedAt: event.receivedAt))
            outcomes.append(Self.outcome(results))
            return IngestBatchItem(channel: event.channel, results: results)
        }
        let now = clock.now()
        let changes = store.apply(items, now: now)
        broadcaster?.broadcast(changes, at: now)
        return (changes, outcomes)
    }

    /// An event is rejected when nothing in it could be used; the first reason names why.
    static func outcome(_ results: [NormalizedEvent]) -> EventOutcome {
        var firstReason: RejectReason?
        for result in results {
            switch result {
            case .rejected(let reason): firstReason = firstReason ?? reason
            case .operation, .ignored: return .accepted
            }
        }
        return firstReason.map { .rejected(reason: $0.rawValue) } ?? .accepted
    }
}

/// Drops expired patterns once a second, so memory and counts follow `expires_at` even when no events arrive, and
/// prunes them from the warm-start cache.
struct ExpirySweeper<Store: PatternStore, Clock: WallClock>: Service {
    let store: Store
    let clock: Clock
    let cache: (any PatternCache)?
    let broadcaster: (any PatternBroadcaster)?
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var unpruned: [PatternKey] = []
        for await _ in AsyncTimerSequence(interval: interval).cancelOnGracefulShutdown() {
            let now = clock.now()
            let removed = store.removeExpired(now: now)
            if !removed.isEmpty { broadcaster?.broadcast(AppliedChanges(removed: removed), at: now) }
            if !removed.isEmpty { logger.debug("expired patterns removed", metadata: ["patterns.count": "\(removed.count)"]) }
            guard let cache else { continue }
            unpruned += removed.map(\.key)
            guard !unpruned.isEmpty else { continue }
            do {
                try await cache.persist(upserted: [], removed: unpruned)
                unpruned = []
            } catch {
                // Kept for the next tick; a warm start also drops expired records.
                logger.warning("cache prune failed", metadata: ["error": "\(error)", "patterns.count": "\(unpruned.count)"])
            }
        }
    }
}

/// Reads the producer's heartbeat every `interval` into `state`.
struct HeartbeatMonitor<Clock: WallClock>: Service {
    let heartbeat: any ProducerHeartbeatSource
    let clock: Clock
    let state: IngestionState
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var last = ProducerStatus.unknown
        func check() async {
            let status: ProducerStatus
            do {
                status = ProducerStatus(heartbeatSeconds: try await heartbeat.lastHeartbeat(), now: clock.now())
            } catch {
                status = .unknown
            }
            state.producer(status)
            if status.state != last.state { logger.info("producer \(status.state.rawValue)") }
            last = status
        }
        await check()
        for await _ in AsyncTimerSequence(interval: interval).cancelOnGracefulShutdown() { await check() }
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
