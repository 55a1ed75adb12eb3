/// Plays daily bars as a live feed for the embedded default: the detections of the days before the replay starts fill
/// the index, and each replayed day then yields the detections made on it, found by running the registry over the
/// bars up to that day and nothing later (so a replayed day's detections equal what a live detector would have
/// reported that evening). Days are the positions of a calendar, normally the benchmark's trading days.
public struct BarReplay: Sendable {
    /// One symbol's bars with the series it is compared with.
    public struct Input: Sendable {
        public var bars: BarSeries
        public var benchmark: BarSeries?
        public var sectorBenchmark: BarSeries?
        public init(bars: BarSeries, benchmark: BarSeries? = nil, sectorBenchmark: BarSeries? = nil) {
            self.bars = bars
            self.benchmark = benchmark
            self.sectorBenchmark = sectorBenchmark
        }
    }

    public let inputs: [Input]
    public let registry: DetectorRegistry
    public let calendar: [Int32]
    /// The calendar position of the first replayed day; the replay runs to the calendar's end.
    public let start: Int
    private let positions: [Int32: Int]

    /// Replays the last `replayDays` days of `calendar` (at least one day is left before them).
    public init(inputs: [Input], registry: DetectorRegistry, calendar: [Int32], replayDays: Int) {
        self.inputs = inputs
        self.registry = registry
        self.calendar = calendar
        start = max(1, calendar.count - max(1, replayDays))
        var positions: [Int32: Int] = [:]
        for (position, day) in calendar.enumerated() { positions[day] = position }
        self.positions = positions
    }

    /// Days replayed before the replay wraps around.
    public var replayDays: Int { max(0, calendar.count - start) }

    /// The calendar position of a day, when it is on the calendar.
    public func position(of day: Int32) -> Int? { positions[day] }

    /// The detections made on the `days` calendar days before the replay starts, oldest first: the warm-up.
    public func history(days: Int) -> [Detection] {
        guard start < calendar.count else { return [] }
        let first = calendar[max(0, start - days)]
        let end = calendar[start]
        return inputs.flatMap { input -> [Detection] in
            let count = input.bars.days.firstIndex { $0 >= end } ?? input.bars.count
            let context = DetectionContext(bars: input.bars.prefix(count), benchmark: input.benchmark, sectorBenchmark: input.sectorBenchmark)
            return registry.detect(in: context).filter { $0.detectedDay >= first }
        }.sorted { ($0.detectedDay, $0.symbol, $0.pattern) < ($1.detectedDay, $1.symbol, $1.pattern) }
    }

    /// The detections made on calendar position `position`, by symbol: each symbol trading that day is detected over
    /// its bars up to and including it.
    public func detections(at position: Int) -> [Detection] {
        inputs.flatMap { detections(at: position, of: $0) }
    }

    /// One symbol's detections made on calendar position `position` (none when it did not trade that day), so a
    /// caller can spread a day's work out.
    public func detections(at position: Int, of input: Input) -> [Detection] {
        guard calendar.indices.contains(position), let index = input.bars.days.lastIndex(of: calendar[position]) else { return [] }
        let context = DetectionContext(bars: input.bars.prefix(index + 1), benchmark: input.benchmark, sectorBenchmark: input.sectorBenchmark)
        return registry.detect(in: context).filter { $0.detectedIndex == index }
    }
}
