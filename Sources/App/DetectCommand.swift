import Configuration
import Domain
import Foundation

/// `patterndesk detect --bars DIR [--symbols A,B] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--detectors names|families]
/// [--benchmark SPY] [--lifetime-days 5]`: runs the detector registry over `DIR/<SYMBOL>.csv` bar files, one core,
/// and writes one producer event (shape A) per detection to stdout as JSON lines, ready for
/// `patterndesk publish --publish-stream …`. Progress (a bar with symbols/s and ETA on a terminal, plain lines
/// otherwise) and the summary table (detections per pattern, bars per second per detector family) go to stderr.
struct DetectCommand {
    let directory: URL
    let symbols: [String]?
    let from: Int32?
    let to: Int32?
    let registry: DetectorRegistry
    let benchmarkSymbol: String
    let lifetimeDays: Int

    init(reader: ConfigReader) throws {
        guard let bars = reader.string(forKey: "bars") else {
            throw AppConfiguration.Invalid.value(key: "bars", rule: "a directory of <SYMBOL>.csv bar files (--bars DIR)")
        }
        directory = URL(fileURLWithPath: bars, isDirectory: true)
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
    }

    /// A comma list, whether the provider split it (a flag `--x a,b`) or not (an environment variable).
    static func list(_ array: [String]?, _ text: String?) -> [String]? {
        let items = array ?? text.map { $0.split(separator: ",").map(String.init) }
        return items?.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() throws {
        let available = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".csv") }.map { String($0.dropLast(4)) }.sorted()
        let wanted = symbols ?? available
        let missing = wanted.filter { !available.contains($0) }
        guard missing.isEmpty else {
            throw AppConfiguration.Invalid.value(key: "symbols", rule: "symbols with a bar file in \(directory.path) (\(missing.joined(separator: ", ")) missing)")
        }
        let benchmark = available.contains(benchmarkSymbol) ? try load(benchmarkSymbol) : nil
        var progress = Progress(total: wanted.count)
        var perPattern: [String: Int] = [:]
        var familyTime: [DetectorFamily: Duration] = [:]
        var indicatorTime = Duration.zero
        var loadTime = Duration.zero
        var writeTime = Duration.zero
        var bars = 0
        let output = FileHandle.standardOutput
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 16)
        let started = ContinuousClock.now
        for symbol in wanted {
            var clock = ContinuousClock.now
            let series = try load(symbol).between(from: from, to: to)
            loadTime += ContinuousClock.now - clock
            bars += series.count
            clock = ContinuousClock.now
            let context = DetectionContext(bars: series, benchmark: symbol == benchmarkSymbol ? nil : benchmark)
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
                buffer += detection.producerEvent(lifetimeDays: lifetimeDays)
                buffer.append(0x0A)
            }
            if buffer.count > 1 << 16 {
                output.write(Data(buffer))
                buffer.removeAll(keepingCapacity: true)
            }
            writeTime += ContinuousClock.now - clock
            progress.advance(symbol: symbol)
        }
        output.write(Data(buffer))
        let elapsed = ContinuousClock.now - started
        progress.finish()
        summary(perPattern: perPattern, familyTime: familyTime, indicatorTime: indicatorTime, loadTime: loadTime, writeTime: writeTime, bars: bars, symbols: wanted.count, elapsed: elapsed)
    }

    func load(_ symbol: String) throws -> BarSeries {
        let url = directory.appendingPathComponent("\(symbol).csv")
        let text = try String(contentsOf: url, encoding: .utf8)
        do {
            return try BarSeries.parseCSV(symbol: symbol, text: text)
        } catch {
            throw AppConfiguration.Invalid.value(key: "bars", rule: "valid bar files (\(url.lastPathComponent): \(error))")
        }
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
        lines.append("\(symbols) symbols, \(bars) bars")
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
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
