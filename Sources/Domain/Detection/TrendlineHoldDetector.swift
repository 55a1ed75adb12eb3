/// `Trendline_Hold` (domain.md §4). On bar t, over the pivot lows confirmed by t within the last `windowBars`: the
/// uptrend line runs through A, the lowest of them, and B, the lowest after A (`find_uptrend_line`), y = A + m·(x − iA)
/// with m > 0. A pivot low touches the line when it lies within `touchTolerance` × A of it; the line needs ≥ 3
/// touches (A and B included), and every close from B to t − 1 must be on or above it. The line holds on t when
/// L ≤ y·(1 + ε) ∧ C ≥ y, ε = max(0.5%, 0.25 × ATR14 / C). Once per line and run of holding bars.
/// Levels: `support` = y on t, `stop` = y·(1 − ε). Confidence = 0.5 + 0.1 × (touches − 2), at most 0.9, + 0.1 when
/// the low is within ε/2 of the line.
public struct TrendlineHoldDetector: Detector {
    public struct Configuration: Sendable, Equatable {
        public var windowBars = 120
        public var touches = 3
        public var touchTolerance = 0.001
        public var minimumTolerance = 0.005
        public var pivotBars = 5
        public init() {}
    }

    public var configuration = Configuration()
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }
    public var name: String { "trendline_hold" }
    public var family: DetectorFamily { .chart }
    public var lookback: Int { 4 * configuration.pivotBars }

    public func detect(in context: DetectionContext) -> [Detection] {
        let bars = context.bars
        let c = configuration
        let lows = context.pivots(k: c.pivotBars).lows
        var found: [Detection] = []
        var lastFired: (a: Int, b: Int, at: Int)?
        var known = 0
        for t in bars.indices(from: 1) {
            while known < lows.count, lows[known].confirmedAt <= t { known += 1 }
            let window = lows[..<known].drop { $0.index < t - c.windowBars }
            guard let a = window.min(by: { $0.value < $1.value }),
                let b = window.filter({ $0.index > a.index }).min(by: { $0.value < $1.value }), b.value > a.value
            else { continue }
            let slope = (b.value - a.value) / Double(b.index - a.index)
            func line(_ x: Int) -> Double { a.value + slope * Double(x - a.index) }
            let touches = window.filter { $0.index >= a.index && abs($0.value - line($0.index)) <= c.touchTolerance * a.value }.count
            guard touches >= c.touches, b.index < t else { continue }
            guard (b.index..<t).allSatisfy({ bars.close[$0] >= line($0) }) else { continue }
            let y = line(t)
            let atr = context.atr14[t]
            let epsilon = max(c.minimumTolerance, atr.isNaN || bars.close[t] <= 0 ? 0 : 0.25 * atr / bars.close[t])
            guard bars.low[t] <= y * (1 + epsilon), bars.close[t] >= y else { continue }
            defer { lastFired = (a.index, b.index, t) }
            if let last = lastFired, last.a == a.index, last.b == b.index, last.at == t - 1 { continue }
            let close = abs(bars.low[t] - y) <= y * epsilon / 2 ? 0.1 : 0
            found.append(
                context.detection(
                    "Trendline_Hold", at: t, confidence: min(0.5 + 0.1 * Double(touches - 2), 0.9) + close, direction: 1,
                    levels: ["support": y, "stop": y * (1 - epsilon)]))
        }
        return found
    }
}
