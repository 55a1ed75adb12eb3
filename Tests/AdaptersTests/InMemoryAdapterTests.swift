import Domain
import InMemory
import Ports
import Testing

@Suite(.timeLimit(.minutes(2))) struct TheInMemoryAdapters {
    @Test func `the event source meets the event-source contract`() async throws {
        try await eventSourceContract(make: { InMemoryEventSource(maxBatch: 64) }) { source, body in
            source.publish(IncomingEvent(body: Array(body.utf8), channel: "test", receivedAt: 0))
        }
    }

    @Test func `the pattern store meets the store contract`() async throws {
        try await patternStoreContract { InMemoryPatternStore() }
    }

    @Test func `the user-data store meets the user-data contract`() async throws {
        try await userDataContract { InMemoryUserDataRepository() }
    }

    @Test func `the bundled catalogue meets the catalogue contract`() async throws {
        try await standardCatalogContract { try InMemorySymbolCatalog() }
    }

    @Test func `the cache and heartbeat fakes meet their contracts`() async throws {
        try await patternCacheContract(InMemoryPatternCache())
        let heartbeat = InMemoryProducerHeartbeat()
        try await heartbeatContract(heartbeat) { heartbeat.set($0) }
    }

    @Test func `the system and manual clocks meet the clock contract`() {
        wallClockContract(SystemWallClock())
        let manual = ManualWallClock()
        wallClockContract(manual)
        manual.advance(by: 1500)
        #expect(manual.now() == 1_725_456_790_500)
    }

    @Test func `readers keep scanning while the writer applies batches`() async throws {
        let store = InMemoryPatternStore()
        let now: EpochMillis = 1_725_456_789_000
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for batch in 0..<200 {
                    let results = (0..<50).map { i in
                        NormalizedEvent.operation(
                            .upsert(Pattern(symbol: "S\(i)", patternType: "Doji", tier: .daily, confidence: 0.9, detectedAt: now + EpochMillis(batch), expiresAt: now + 60_000)))
                    }
                    store.apply([IngestBatchItem(channel: "c", results: results)], now: now)
                }
            }
            group.addTask {
                var last = 0
                for _ in 0..<300 {
                    let snapshot = store.snapshot()
                    let total = snapshot.scan(ScanQuery(), now: now).total
                    // Batches are atomic and the count never goes back.
                    #expect(total % 50 == 0)
                    #expect(total >= last)
                    last = total
                }
            }
        }
        #expect(store.snapshot().count == 10_000)
    }
}
