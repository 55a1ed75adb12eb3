import Configuration
import Domain
import Foundation
import InMemory
import Ports

/// `patterndesk bench-apply`: the internal apply path of ingestion (JSON decode, normalise, index update and snapshot
/// publish) for demo events of every producer shape, timed per event (one-event batches: the worst case, each event
/// publishes a snapshot) and per event in batches as the Redis consumer applies them.
///
/// - Configuration keys: `bench.events` (default 200000), `bench.batch` (default 500), `bench.seed` (default 7).
struct ApplyBenchmark {
    var events: Int
    var batch: Int
    var seed: UInt64

    init(reader: ConfigReader) {
        events = reader.int(forKey: "bench.events", default: 200_000)
        batch = reader.int(forKey: "bench.batch", default: 500)
        seed = UInt64(reader.int(forKey: "bench.seed", default: 7))
    }

    func run() throws {
        let catalog = try InMemorySymbolCatalog.bundled()
        let normalizer = PatternEventNormalizer(catalog: catalog)
        let now: EpochMillis = 1_725_456_789_000
        var generator = DemoEventGenerator(catalog: catalog, seed: seed)
        let incoming = (0..<events).map { index in
            let event = generator.next(now: now + EpochMillis(index))
            return IncomingEvent(body: Array(event.body.utf8), channel: event.channel, receivedAt: now)
        }
        let bytes = incoming.reduce(0) { $0 + $1.body.count }
        print("# patterndesk bench-apply: \(events) demo events (mean \(bytes / max(events, 1)) bytes), seed \(seed)")
        print("")
        print("| mode | events/s | per event mean | p50 | p90 | p99 | p99.9 | max |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")

        // One event per apply: decode + normalise + upsert + snapshot publish, timed one by one.
        let single = InMemoryPatternStore()
        var latencies: [Double] = []
        latencies.reserveCapacity(events)
        let singleStart = ContinuousClock.now
        for event in incoming {
            let started = ContinuousClock.now
            let results = normalizer.normalize(event.body, context: .init(channel: event.channel, receivedAt: event.receivedAt))
            single.apply([IngestBatchItem(channel: event.channel, results: results)], now: now)
            latencies.append(IndexBenchmark.seconds(ContinuousClock.now - started))
        }
        let singleSeconds = IndexBenchmark.seconds(ContinuousClock.now - singleStart)
        print(row("1 event per apply", seconds: singleSeconds, latencies: latencies))

        // Batches as the stream consumer applies them; latency is per batch divided by its size.
        let batched = InMemoryPatternStore()
        var perEvent: [Double] = []
        let batchStart = ContinuousClock.now
        for start in stride(from: 0, to: events, by: batch) {
            let slice = incoming[start..<min(start + batch, events)]
            let started = ContinuousClock.now
            let items = slice.map { event in
                IngestBatchItem(
                    channel: event.channel,
                    results: normalizer.normalize(event.body, context: .init(channel: event.channel, receivedAt: event.receivedAt)))
            }
            batched.apply(items, now: now)
            perEvent.append(IndexBenchmark.seconds(ContinuousClock.now - started) / Double(slice.count))
        }
        let batchSeconds = IndexBenchmark.seconds(ContinuousClock.now - batchStart)
        print(row("batches of \(batch) (per-event share of each batch)", seconds: batchSeconds, latencies: perEvent))
        print("")
        print("live patterns after the run: \(single.snapshot().count); rejected: \(single.statistics().rejectedTotal)")
    }

    func row(_ mode: String, seconds: Double, latencies: [Double]) -> String {
        let sorted = latencies.sorted()
        func pct(_ p: Double) -> String {
            IndexBenchmark.format(sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))])
        }
        return "| \(mode) | \(Int(Double(events) / seconds)) | \(IndexBenchmark.format(seconds / Double(events))) | \(pct(0.5)) | \(pct(0.9)) | \(pct(0.99)) | \(pct(0.999)) | \(IndexBenchmark.format(sorted.last ?? 0)) |"
    }
}
