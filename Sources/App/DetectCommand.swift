import Configuration
import Domain
import Foundation
import InMemory
import Redis

/// `patterndesk detect --bars DIR [--symbols A,B] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--detectors names|families]
/// [--benchmark SPY] [--lifetime-days 5] [--as-of now|YYYY-MM-DD] [--redis-url URL (--publish-stream KEY | --publish-channel NAME)]`: runs the
/// detector registry over `DIR/<SYMBOL>.csv` bar files, one core, with relative strength against the benchmark and
/// against each stock's sector ETF (from the bundled catalogue) when their files are in DIR. It writes one producer
/// event (shape A) per detection: to stdout as JSON lines, or, with `--redis-url`, straight to a Redis stream (XADD,
/// field `data`) or pub/sub channel, pipelined, where a running service ingests them. Progress (a bar with symbols/s
/// and ETA on a terminal, plain lines otherwise) and the summary table (detections per pattern, bars per second per
/// detector family) go to stderr. Events are stamped with the detection day's US close (21:00 UTC); `--as-of` moves
/// the last bar day (`--to`, else the benchmark's last day, else the symbol's) to the given time and every other day with it.
struct DetectCommand {
    let files: BarFiles
    let symbols: [String]?
    let from: Int32?
    let to: Int32?
    let registry: DetectorRegistry
    let benchmarkSymbol: String
    let lifetimeDays: Int
    /// With `--as-of`: the time the last bar day is stamped with (epoch seconds); every detection keeps its distance
    /// in days from that day, so replayed history arrives live.
    let asOf: Double?
    /// With `--redis-url`: where the events go instead of stdout.
    let redis: (endpoint: RedisEndpoint, target: RedisEventWriter.Target)?

    init(reader: ConfigReader) throws {
        guard let bars = reader.string(forKey: "bars") else {
            throw AppConfiguration.Invalid.value(key: "bars", rule: "a directory of <SYMBOL>.csv bar files (--bars DIR)")
        }
        files = BarFiles(directory: URL(fileURLWithPath: bars, isDirectory: true))
        symbols = Self.list(reader.stringArray(forKey: "symbols"), reader.string(forKey: "symbols"))?.map { $0.uppercased() }
        func day(_ text: String?, _ key: String) throws -> Int32? {
            guard let text else { return nil }
            guard let day = Timestamp.day(iso: text) else { throw AppConfiguration.Invalid.value(key: key, rule: "a date YYYY-MM-DD") }
            return day
        }
        from = try day(reader.string(forKey: "from"), "from")
        to = try day(reader.string(forKey: "to"), "to")
        if let names = Self.list(reader.stringArray(forKey: "detectors"), reader.string(forKey: "detectors")) {
            do {
                registry = try DetectorRegistry.standard.selecting(names)
            } catch {
                throw AppConfiguration.Invalid.value(
                    key: "detectors", rule: "known names or families (\(error.names.joined(separator: ", ")) unknown; families: "
                        + DetectorFamily.allCases.map(\.rawValue).joined(separator: ", ") + "; names: "
                        + DetectorRegistry.standard.names.joined(separator: ", ") + ")")
            }
        } else {
            registry = .standard
        }
        benchmarkSymbol = reader.string(forKey: "benchmark", default: "SPY")
        lifetimeDays = reader.int(forKey: "lifetime-days", default: 5)
        guard lifetimeDays >= 1 else { throw AppConfiguration.Invalid.value(key: "lifetime-days", rule: ">= 1") }
        switch reader.string(forKey: "as-of") {
        case nil: asOf = nil
        case "now": asOf = Double(SystemWallClock().now()) / 1000
        case let text?:
            guard let day = Timestamp.day(iso: text) else { throw AppConfiguration.Invalid.value(key: "as-of", rule: "now or a date YYYY-MM-DD") }
            asOf = Double(day) * 86_400 + 21 * 3_600
        }
        if let url = reader.string(forKey: "redis.url") ?? reader.string(forKey: "redis") {
            let channel = reader.string(forKey: "publish.channel")
            let stream = reader.string(forKey: "publish.stream")
            guard (channel == nil) != (stream == nil) else {
                throw AppConfiguration.Invalid.value(key: "publish.stream", rule: "given with --redis-url, or else publish.channel (exactly one)")
            }
            redis = (try RedisEndpoint(url: url), channel.map { .channel($0) } ?? .stream(stream ?? ""))
        } else {
            redis = nil
        }
    }

    /// A comma list, whether the provider split it (a flag `--x a,b`) or not (an environment variable).
    static func list(_ array: [String]?, _ text: String?) -> [String]? {
        let items = array ?? text.map { $0.split(separator: ",").map(String.init) }
        return items?.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() async throws {
        let available = try files.symbols()
        let wanted = symbols ?? available
        let missing = wanted.filter { !available.contains($0) }
        guard missing.isEmpty else {
            throw AppConfiguration.Invalid.value(
                key: "symbols", rule: "symbols with a bar file in \(files.directory.path) (\(missing.joined(separator: ", ")) missing)")
        }
        var loader = try DetectionInputLoader(files: files, catalog: try InMemorySymbolCatalog.bundled(), benchmark: benchmarkSymbol)
        let sink = try await EventSink(redis: redis)
        let benchmarkLastDay = available.contains(benchmarkSymbol) ? try loader.input(for: benchmarkSymbol).bars.days.last : nil
        func event(_ detection: Detection, seriesLastDay: Int32?) -> [UInt8] {
            guard let asOf, let lastDay = to ?? benchmarkLastDay ?? seriesLastDay else { return detection.producerEvent(lifetimeDays: lifetimeDays) }
            let detectedAt = asOf - Double(lastDay - detection.detectedDay) * 86_400
            return detection.producerEvent(source: "patterndesk-detect", detectedAt: detectedAt, expiresAt: detectedAt + Double(lifetimeDays) * 86_400)
        }
        var progress = Progress(total: wanted.count)
        var perPattern: [String: Int] = [:]
        var familyTime: [DetectorFamily: Duration] = [:]
        var indicatorTime = Duration.zero
        var loadTime = Duration.zero
        var writeTime = Duration.zero
        var bars = 0
        let started = ContinuousClock.now
        var clock = ContinuousClock.now
        for symbol in wanted {
            clock = ContinuousClock.now
            let input = try loader.input(for: symbol)
            let series = input.bars.between(from: from, to: to)
            loadTime += ContinuousClock.now - clock
            bars += series.count
            clock = ContinuousClock.now
            let context = DetectionContext(bars: series, benchmark: input.benchmark, sectorBenchmark: input.sectorBenchmark)
            indicatorTime += ContinuousClock.now - clock
            var detections: [Detection] = []
            for detector in registry.detectors {
                clock = ContinuousClock.now
                detections += detector.detect(in: context)
                familyTime[detector.family, default: .zero] += ContinuousClock.now - clock
            }
            clock = ContinuousClock.now
            detections.sort { ($0.detectedIndex, $0.pattern) < ($1.detectedIndex, $1.pattern) }
            for detection in detections {
                perPattern[detection.pattern, default: 0] += 1
                try await sink.send(event(detection, seriesLastDay: series.days.last))
            }
            writeTime += ContinuousClock.now - clock
            progress.advance(symbol: symbol)
        }
        clock = ContinuousClock.now
        try await sink.finish()
        writeTime += ContinuousClock.now - clock
        let elapsed = ContinuousClock.now - started
        progress.finish()
        summary(perPattern: perPattern, familyTime: familyTime, indicatorTime: indicatorTime, loadTime: loadTime, writeTime: writeTime, bars: bars, symbols: wanted.count, elapsed: elapsed)
    }

    func summary(
        perPattern: [String: Int], familyTime: [DetectorFamily: Duration], indicatorTime: Duration, loadTime: Duration, writeTime: Duration,
        bars: Int, symbols: Int, elapsed: Duration
    ) {
        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        var lines = ["", "pattern                         detections"]
        for (pattern, count) in perPattern.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
            lines.append(pattern.padding(toLength: 32, withPad: " ", startingAt: 0) + String(count))
        }
        lines.append("total".padding(toLength: 32, withPad: " ", startingAt: 0) + String(perPattern.values.reduce(0, +)))
        lines.append("")
        lines.append("stage                           seconds    bars/s")
        let detectors = DetectorFamily.allCases.compactMap { family in familyTime[family].map { (family.rawValue, $0) } }
        let detecting = detectors.reduce(indicatorTime) { $0 + $1.1 }
        let stages =
            [("load and parse bar files", loadTime), ("indicators (shared)", indicatorTime)] + detectors + [
                ("every detector with indicators", detecting), ("encode and write events", writeTime),
            ]
        for (name, time) in stages {
            let secs = seconds(time)
            lines.append(
                name.padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: "%7.3f  %9.0f", secs, secs > 0 ? Double(bars) / secs : 0))
        }
        let total = seconds(elapsed)
        lines.append(
            "all (load, detect, write)".padding(toLength: 32, withPad: " ", startingAt: 0)
                + String(format: "%7.3f  %9.0f", total, total > 0 ? Double(bars) / total : 0))
        lines.append("\(symbols) symbols, \(bars) bars" + (redis.map { ", events sent to \($0.target.description) at \($0.endpoint)" } ?? ""))
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}

/// Where `detect` writes events: stdout in 64 KiB writes, or Redis through `RedisEventWriter`.
final class EventSink {
    let redis: RedisEventWriter?
    var buffer: [UInt8] = []

    init(redis: (endpoint: RedisEndpoint, target: RedisEventWriter.Target)?) async throws {
        if let redis {
            self.redis = try await RedisEventWriter(endpoint: redis.endpoint, target: redis.target, name: "patterndesk-detect")
        } else {
            self.redis = nil
        }
    }

    func send(_ event: [UInt8]) async throws {
        if let redis { return try await redis.send(event) }
        buffer += event
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flushOutput() }
    }

    func finish() async throws {
        if let redis { return try await redis.finish() }
        flushOutput()
    }

    private func flushOutput() {
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Progress on stderr: a redrawn bar with symbols/s and ETA on a terminal, a plain line every 10% otherwise.
struct Progress {
    let total: Int
    let started = ContinuousClock.now
    let terminal = isatty(2) == 1
    var done = 0
    var lastDecile = 0

    init(total: Int) { self.total = total }

    mutating func advance(symbol: String) {
        done += 1
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        if terminal {
            let width = 30
            let filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            FileHandle.standardError.write(Data(String(format: "\r[%@] %d/%d %@  %.0f symbols/s  ETA %.1fs   ", bar, done, total, symbol, rate, eta).utf8))
        } else {
            let decile = total > 0 ? 10 * done / total : 10
            if decile > lastDecile || done == total {
                lastDecile = decile
                FileHandle.standardError.write(Data(String(format: "detect: %d/%d symbols, %.0f symbols/s, ETA %.1fs\n", done, total, rate, eta).utf8))
            }
        }
    }

    func finish() {
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
