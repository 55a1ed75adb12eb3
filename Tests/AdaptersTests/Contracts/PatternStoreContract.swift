import Domain
import Ports
import Testing

/// What every `PatternStore` must do.
func patternStoreContract<Store: PatternStore>(_ make: () async throws -> Store) async throws {
    let now: EpochMillis = 1_725_456_789_000
    func upsert(_ symbol: String, detected: EpochMillis, expires: EpochMillis, confidence: Double = 0.8) -> NormalizedEvent {
        .operation(.upsert(Pattern(symbol: symbol, patternType: "Doji", tier: .daily, confidence: confidence, detectedAt: detected, expiresAt: expires)))
    }
    let store = try await make()
    let before = store.snapshot()
    let firstChanges = store.apply(
        [
            IngestBatchItem(channel: "c1", results: [upsert("AAPL", detected: now, expires: now + 1000), .rejected(.notJSON)]),
            IngestBatchItem(channel: "c2", results: [upsert("MSFT", detected: now, expires: now + 5000), .ignored(kind: "health")]),
        ], now: now)
    // An older snapshot does not change; the new one has the batch.
    #expect(before.count == 0)
    #expect(firstChanges.upserted.map(\.symbol) == ["AAPL", "MSFT"] && firstChanges.removed.isEmpty)
    #expect(store.snapshot().count == 2)
    // Idempotent: the same identity again is an update.
    store.apply([IngestBatchItem(channel: "c1", results: [upsert("AAPL", detected: now, expires: now + 1000, confidence: 0.9)])], now: now)
    #expect(store.snapshot().count == 2)
    let statistics = store.statistics()
    #expect(statistics.received == 3)
    #expect(statistics.receivedPerChannel == ["c1": 2, "c2": 1])
    #expect(statistics.inserted == 2 && statistics.updated == 1 && statistics.applied == 3)
    #expect(statistics.rejected == [.notJSON: 1])
    #expect(statistics.ignored == ["health": 1])
    #expect(statistics.lastEventAt == now)
    // Expiry by event and by time.
    let expiry = store.apply(
        [IngestBatchItem(channel: "c1", results: [.operation(.expire(PatternSelector(symbol: "AAPL", patternType: "Doji", tier: .daily, detectedAt: nil)))])],
        now: now)
    #expect(expiry.removed.map(\.key) == [PatternKey(symbol: "AAPL", patternType: "Doji", tier: .daily, detectedAt: now)] && expiry.upserted.isEmpty)
    #expect(store.snapshot().livePatterns(now: now).map(\.symbol) == ["MSFT"])
    #expect(store.removeExpired(now: now + 5000).map(\.symbol) == ["MSFT"])
    #expect(store.snapshot().count == 0)
    #expect(store.statistics().expiredByEvent == 1 && store.statistics().expiredByTime == 1)
}
