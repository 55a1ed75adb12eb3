import Configuration
import Domain
import Foundation
import InMemory

/// `patterndesk bench`: builds synthetic indexes and measures upsert rate, memory per pattern and scan latency for a
/// random query mix, single-threaded. A brute-force filter-and-sort over the same patterns is timed in the same run as
/// the baseline.
///
/// - Configuration keys: `bench.sizes` (default `10000,100000,1000000`), `bench.queries` (default 2000 per size),
///   `bench.baseline-queries` (default 50 per size), `bench.seed` (default 1), `bench.trace` (a file that gets one
///   tab-separated line per scan: size, microseconds, total, sort key, rows ranked, filters; for tuning),
///   `index.chunk-capacity` (as for `serve`).
struct IndexBenchmark {
    var sizes: [Int]
    var queries: Int
    var baselineQueries: Int
    var seed: UInt64
    var trace: String?
    var chunkCapacity: Int

    init(reader: ConfigReader) throws {
        sizes = reader.intArray(forKey: "bench.sizes", default: [10_000, 100_000, 1_000_000])
        queries = reader.int(forKey: "bench.queries", default: 2000)
        baselineQueries = reader.int(forKey: "bench.baseline-queries", default: 50)
        seed = UInt64(reader.int(forKey: "bench.seed", default: 1))
        trace = reader.string(forKey: "bench.trace")
        chunkCapacity = reader.int(forKey: "index.chunk-capacity", default: PatternIndex.defaultChunkCapacity)
    }

    func run() throws {
        let catalog = try InMemorySymbolCatalog.bundled()
        if let trace { _ = FileManager.default.createFile(atPath: trace, contents: nil) }
        let traceFile = trace.flatMap { FileHandle(forWritingAtPath: $0) }
        print("# patterndesk bench: \(queries) random scans per size, single-threaded, seed \(seed), \(chunkCapacity)-slot chunks")
        print("")
        print("| patterns | upsert events/s | upsert+publish events/s (batches of 100) | bytes/pattern | scan p50 | p90 | p99 | p99.9 | max | brute-force p50 | speed-up at p50 |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for size in sizes {
            let row = measure(size: size, catalog: catalog, trace: traceFile)
            print(row)
            fflush(nil)
        }
        print("")
        print(pageSerialisation(catalog: catalog))
    }

    /// Writing one 30-pattern scan page (the default `per_page`) as JSON with `PatternItem` and `JSONWriter`: after the
    /// index, the main server-side cost of `GET /api/patterns/scan`.
    func pageSerialisation(catalog: Catalog) -> String {
        var random = SplitMix64(seed: seed)
        let now: EpochMillis = 1_725_456_789_000
        let generator = SyntheticPatterns(catalog: catalog)
        let pages = (0..<64).map { _ in
            (0..<30).map { _ in
                var pattern = generator.pattern(&random, now: now)
                pattern.extras = [("support_level", .number(146.83)), ("sma_20", .number(149.86))]
                return pattern
            }
        }
        let fragments = pages.map { $0.map(PatternItemFragment.init) }
        func timed(_ write: (Int, inout JSONWriter) -> Void) -> (p50: Double, p99: Double, bytes: Int) {
            var latencies: [Double] = []
            var bytes = 0
            for round in 0..<max(queries, 200) {
                let start = ContinuousClock.now
                var writer = JSONWriter(capacity: 1024 + 1024 * 30)
                write(round % pages.count, &writer)
                latencies.append(Self.seconds(ContinuousClock.now - start))
                bytes += writer.bytes.count
            }
            latencies.sort()
            return (latencies[latencies.count / 2], latencies[latencies.count * 99 / 100], bytes / latencies.count)
        }
        let direct = timed { page, writer in
            writer.array { w in for pattern in pages[page] { PatternItem(pattern: pattern, now: now).write(to: &w) } }
        }
        let cached = timed { page, writer in
            writer.array { w in for fragment in fragments[page] { fragment.write(now: now, to: &w) } }
        }
        return "page serialisation (30 patterns with 2 indicators each, PatternItem + JSONWriter): p50 \(Self.format(direct.p50)), "
            + "p99 \(Self.format(direct.p99)), \(direct.bytes) bytes per page; from cached fragments (the scan's cache hit, "
            + "lookup excluded): p50 \(Self.format(cached.p50)), p99 \(Self.format(cached.p99))"
    }

    func measure(size: Int, catalog: Catalog, trace: FileHandle?) -> String {
        var random = SplitMix64(seed: seed &+ UInt64(size))
        let now: EpochMillis = 1_725_456_789_000
        let generator = SyntheticPatterns(catalog: catalog)
        let patterns = (0..<size).map { _ in generator.pattern(&random, now: now) }

        let rssBefore = Self.residentBytes()
        var index = PatternIndex(chunkCapacity: chunkCapacity)
        let upsertStart = ContinuousClock.now
        for pattern in patterns { index.upsert(pattern) }
        let upsertSeconds = Self.seconds(ContinuousClock.now - upsertStart)
        let snapshot = index.snapshot()
        let rssAfter = Self.residentBytes()
        let bytesPerPattern = Double(rssAfter - rssBefore) / Double(size)

        // Ingest-like: batches of 100 with a snapshot published after each (chunks are cloned copy-on-write).
        var published = PatternIndex(chunkCapacity: chunkCapacity)
        var keep = published.snapshot()
        let batchStart = ContinuousClock.now
        for start in stride(from: 0, to: size, by: 100) {
            for pattern in patterns[start..<min(start + 100, size)] { published.upsert(pattern) }
            keep = published.snapshot()
        }
        let batchSeconds = Self.seconds(ContinuousClock.now - batchStart)
        _ = keep.count

        var latencies: [Double] = []
        latencies.reserveCapacity(queries)
        var queryRandom = SplitMix64(seed: seed &* 7 &+ UInt64(size))
        var checksum = 0
        var sampled: [ScanQuery] = []
        for _ in 0..<queries {
            let query = generator.query(&queryRandom, catalog: catalog)
            if sampled.count < baselineQueries { sampled.append(query) }
            let start = ContinuousClock.now
            let page = snapshot.scan(query, now: now)
            latencies.append(Self.seconds(ContinuousClock.now - start))
            checksum &+= page.total &+ page.patterns.count
            if let trace {
                let line = [
                    "\(size)", "\(Int((latencies.last ?? 0) * 1e6))", "\(page.total)", query.sortBy.rawValue,
                    "\(query.page * query.perPage)", Self.describeFilters(query),
                ]
                trace.write(Data((line.joined(separator: "\t") + "\n").utf8))
            }
        }
        latencies.sort()

        var baseline: [Double] = []
        for query in sampled {
            let start = ContinuousClock.now
            let matches = patterns.filter { query.matches($0, now: now) }
            let top = matches.sorted { query.orders($0, before: $1) }.prefix(query.page * query.perPage)
            baseline.append(Self.seconds(ContinuousClock.now - start))
            checksum &+= top.count
        }
        baseline.sort()
        if checksum == 42 { print("") }  // keeps the work observable

        func pct(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)] }
        let baselineMedian = baseline.isEmpty ? 0 : baseline[baseline.count / 2]
        let median = pct(0.5)
        return "| \(size) | \(Int(Double(size) / upsertSeconds)) | \(Int(Double(size) / batchSeconds)) | \(Int(bytesPerPattern)) | "
            + "\(Self.format(median)) | \(Self.format(pct(0.9))) | \(Self.format(pct(0.99))) | \(Self.format(pct(0.999))) | "
            + "\(Self.format(latencies.last ?? 0)) | \(Self.format(baselineMedian)) | \(String(format: "%.0f", baselineMedian / median))x |"
    }

    /// The filters a query sets, e.g. `types2,rs,sym6,uni:sp500` (confidence only when not the default).
    static func describeFilters(_ query: ScanQuery) -> String {
        var kinds: [String] = []
        if let types = query.patternTypes { kinds.append("types\(types.count)") }
        if query.rsMin > 0 { kinds.append("rs") }
        if query.volMin > 0 { kinds.append("vol") }
        if query.rsiRange != 0...100 { kinds.append("rsi") }
        if query.confidenceMin != ScanQuery().confidenceMin { kinds.append("conf") }
        if query.tiers != nil { kinds.append("tier") }
        if let symbols = query.symbols { kinds.append("sym\(symbols.count)") }
        if let sectors = query.sectors { kinds.append("sec\(sectors.count)") }
        if let universe = query.universe { kinds.append("uni:\(universe)") }
        return kinds.joined(separator: ",")
    }

    static func seconds(_ duration: Duration) -> Double {
        let (s, atto) = duration.components
        return Double(s) + Double(atto) / 1e18
    }

    static func format(_ seconds: Double) -> String {
        seconds < 1e-3 ? String(format: "%.0f µs", seconds * 1e6) : String(format: "%.2f ms", seconds * 1e3)
    }

    /// Resident set size from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// Synthetic but realistic data: the catalogue's symbols, every known pattern name, all tiers, detections over the last
/// day and live for one to 24 hours; a quarter of the indicator values absent.
struct SyntheticPatterns {
    let symbols: [SymbolInfo]
    let sectors: [String]
    let universes: [Universe]

    init(catalog: Catalog) {
        symbols = catalog.symbols
        sectors = catalog.sectors.map(\.name)
        universes = catalog.universes
    }

    func pattern(_ random: inout SplitMix64, now: EpochMillis) -> Pattern {
        let info = symbols[Int.random(in: 0..<symbols.count, using: &random)]
        let detected = now - EpochMillis.random(in: 0..<86_400_000, using: &random)
        func maybe(_ range: ClosedRange<Double>) -> Double? {
            Int.random(in: 0..<4, using: &random) == 0 ? nil : (Double.random(in: range, using: &random) * 100).rounded() / 100
        }
        return Pattern(
            symbol: info.symbol, patternType: PatternName.all[Int.random(in: 0..<PatternName.all.count, using: &random)],
            tier: Tier.allCases[Int.random(in: 0..<Tier.allCases.count, using: &random)],
            confidence: (Double.random(in: 0.3...1, using: &random) * 1000).rounded() / 1000, detectedAt: detected,
            expiresAt: now + EpochMillis.random(in: 3_600_000..<86_400_000, using: &random), price: maybe(5...900),
            changePercent: maybe(-6...6), relativeStrength: maybe(0.2...3.5), relativeVolume: maybe(0.3...6), rsi: maybe(5...95),
            sector: info.sector, source: "daily")
    }

    /// 1 to 6 filters, every sort key and order, pages 1 to 5.
    func query(_ random: inout SplitMix64, catalog: Catalog) -> ScanQuery {
        var query = ScanQuery()
        let filters = Int.random(in: 1...6, using: &random)
        var kinds = Array(0..<9).shuffled(using: &random).prefix(filters)
        if kinds.contains(6) && kinds.contains(8) { kinds.removeAll { $0 == 8 } }
        for kind in kinds {
            switch kind {
            case 0:
                query.patternTypes = Set(
                    (0..<Int.random(in: 1...3, using: &random)).map { _ in PatternName.all.randomElement(using: &random)! })
            case 1: query.rsMin = [0.5, 1.0, 1.5, 2.0].randomElement(using: &random)!
            case 2: query.volMin = [1.0, 1.5, 2.0, 3.0].randomElement(using: &random)!
            case 3:
                let low = Double(Int.random(in: 0...6, using: &random) * 10)
                query.rsiRange = low...min(100, low + Double(Int.random(in: 2...6, using: &random) * 10))
            case 4: query.confidenceMin = [0.6, 0.7, 0.75, 0.8, 0.9].randomElement(using: &random)!
            case 5: query.tiers = [Tier.allCases.randomElement(using: &random)!]
            case 6:
                query.symbols = Set((0..<Int.random(in: 1...10, using: &random)).map { _ in symbols.randomElement(using: &random)!.symbol })
            case 7: query.sectors = Set((0..<Int.random(in: 1...2, using: &random)).map { _ in sectors.randomElement(using: &random)! })
            default:
                let universe = universes.randomElement(using: &random)!
                query.universe = universe.key
                query.universeSymbols = Set(universe.symbols)
            }
        }
        query.sortBy = SortKey.allCases.randomElement(using: &random)!
        query.sortOrder = SortOrder.allCases.randomElement(using: &random)!
        query.page = Int.random(in: 1...5, using: &random)
        query.perPage = [10, 30, 50, 100].randomElement(using: &random)!
        return query
    }
}
