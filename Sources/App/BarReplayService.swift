import Domain
import InMemory
import Logging
import Ports
import ServiceLifecycle

/// The embedded default's producer in bars mode: the detectors run over the bundled demo bars. At start-up the
/// detections of the `lifetimeBars` days before the replay fill the index, stamped as if each day lasted `barSeconds`
/// and the last one just ended. Then every `barSeconds` one more day is detected and its detections are published into
/// the in-memory event source, from where they travel through the real normaliser and index. After the last day the
/// replay starts over from its first day, with new timestamps.
struct BarReplayService<Clock: WallClock>: Service {
    let source: InMemoryEventSource
    let clock: Clock
    let replay: BarReplay
    let barSeconds: Double
    let lifetimeBars: Int
    let logger: Logger
    static var channel: String { "tickstock.events.patterns" }

    /// The bundled demo bars, each stock with SPY and its sector ETF as benchmarks.
    static func demoReplay(catalog: Catalog, replayBars: Int, registry: DetectorRegistry = .standard) throws -> BarReplay {
        let files = try BarFiles.bundledDemo()
        var loader = try DetectionInputLoader(files: files, catalog: catalog, benchmark: "SPY")
        let inputs = try files.symbols().map { try loader.input(for: $0) }
        let calendar = inputs.first { $0.bars.symbol == "SPY" }?.bars.days ?? inputs.first?.bars.days ?? []
        return BarReplay(inputs: inputs, registry: registry, calendar: calendar, replayDays: replayBars)
    }

    /// The warm-up events: the detections of the days before the replay, ending `barSeconds` before `now`.
    func warmUp(now: EpochMillis) -> [IncomingEvent] {
        let origin = Double(now) / 1000
        return replay.history(days: lifetimeBars).map { detection in
            let daysAgo = Double(replay.start - (replay.position(of: detection.detectedDay) ?? replay.start))
            return event(detection, detectedAt: origin - daysAgo * barSeconds, receivedAt: now)
        }
    }

    func event(_ detection: Detection, detectedAt: Double, receivedAt: EpochMillis) -> IncomingEvent {
        let body = detection.producerEvent(
            source: "patterndesk-demo-bars", detectedAt: detectedAt, expiresAt: detectedAt + Double(lifetimeBars) * barSeconds)
        return IncomingEvent(body: body, channel: Self.channel, receivedAt: receivedAt)
    }

    func run() async throws {
        logger.info(
            "bar replay started",
            metadata: [
                "demo.symbols": "\(replay.inputs.count)", "demo.replay_days": "\(replay.replayDays)", "demo.bar_seconds": "\(barSeconds)",
            ])
        var step = 0
        for await _ in AsyncTimerSequence(interval: .milliseconds(Int64(barSeconds * 1000))).cancelOnGracefulShutdown() {
            let position = replay.start + step % max(1, replay.replayDays)
            let now = clock.now()
            var detections = 0
            // One symbol at a time, yielding in between: a day's detection must not hold a cooperative thread.
            for input in replay.inputs {
                for detection in replay.detections(at: position, of: input) {
                    source.publish(event(detection, detectedAt: Double(now) / 1000, receivedAt: now))
                    detections += 1
                }
                await Task.yield()
            }
            logger.debug(
                "replayed a day", metadata: ["demo.day": "\(Timestamp.isoDay(replay.calendar[position]))", "demo.detections": "\(detections)"])
            step += 1
        }
    }
}

/// Loads each symbol's bars with SPY (`benchmark`) and its sector ETF as its benchmarks, when their files are there;
/// ETFs get no sector benchmark, and the benchmark gets none at all. Benchmarks are read once.
struct DetectionInputLoader<Files: BarSeriesSource> {
    let files: Files
    let catalog: Catalog
    let benchmark: String
    let available: Set<String>
    private var cache: [String: BarSeries] = [:]

    init(files: Files, catalog: Catalog, benchmark: String) throws {
        self.files = files
        self.catalog = catalog
        self.benchmark = benchmark
        available = Set(try files.symbols())
    }

    private mutating func benchmarkSeries(_ symbol: String?) throws -> BarSeries? {
        guard let symbol, available.contains(symbol) else { return nil }
        if let series = cache[symbol] { return series }
        let series = try files.series(for: symbol)
        cache[symbol] = series
        return series
    }

    mutating func input(for symbol: String) throws -> BarReplay.Input {
        BarReplay.Input(
            bars: try cache[symbol] ?? files.series(for: symbol), benchmark: symbol == benchmark ? nil : try benchmarkSeries(benchmark),
            sectorBenchmark: try benchmarkSeries(catalog.sectorETF(ofSymbol: symbol)))
    }
}

extension BarReplayService: CustomStringConvertible {
    var description: String { "BarReplayService(symbols: \(replay.inputs.count), barSeconds: \(barSeconds))" }
}
