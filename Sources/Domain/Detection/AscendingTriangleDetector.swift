/// `Ascending_Triangle`, the stock-pattern rule (`is_triangle`, domain.md §4) with its breakout confirmation. The
/// confirmed pivots known on bar t form a zigzag (alternating highs and lows; of two in a row of one kind, the more
/// extreme one stays). Its last five points A (high), B, C, D, E must satisfy |A − C| ≤ avgBar ∧ |C − E| ≤ avgBar ∧
/// B < D, where avgBar = median(H − L) from A to t. The triangle is intact on t − 1 (D < C₋₁ ≤ top, every close since E
/// ≤ top, top = max(A, C, E)), and it breaks out on t: C > top ∧ vr ≥ 1.5. A triangle gets one chance: a close above
/// the top without the volume spends it.
/// Levels: `resistance` = top, `support` = `stop` = D, `target` = top + (top − B). Confidence = 0.6 + 0.2 ×
/// min((vr − 1.5)/1.5, 1) + 0.2 × (1 − (max(A,C,E) − min(A,C,E)) / avgBar).
public struct AscendingTriangleDetector: Detector {
    public struct Configuration: Sendable, Equatable {
        public var minimumVolumeRatio = 1.5
        public var pivotBars = 5
        public init() {}
    }

    public var configuration = Configuration()
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }
    public var name: String { "ascending_triangle" }
    public var family: DetectorFamily { .chart }
    public var lookback: Int { 6 * configuration.pivotBars }

    struct Point {
        var index: Int
        var value: Double
        var isHigh: Bool
    }

    public func detect(in context: DetectionContext) -> [Detection] {
        let bars = context.bars
        let pivots = context.pivots(k: configuration.pivotBars)
        // Both kinds in the order they become known; a bar that is both (an outside bar) is ambiguous and left out.
        let lowIndices = Set(pivots.lows.map(\.index))
        let highIndices = Set(pivots.highs.map(\.index))
        let events =
            (pivots.highs.filter { !lowIndices.contains($0.index) }.map { ($0, true) }
            + pivots.lows.filter { !highIndices.contains($0.index) }.map { ($0, false) })
            .sorted { $0.0.confirmedAt < $1.0.confirmedAt }
        var zigzag: [Point] = []
        var next = 0
        var found: [Detection] = []
        var spent = -1
        for t in bars.indices(from: 1) {
            while next < events.count, events[next].0.confirmedAt <= t {
                let (pivot, isHigh) = events[next]
                next += 1
                let point = Point(index: pivot.index, value: pivot.value, isHigh: isHigh)
                if let last = zigzag.last, last.isHigh == isHigh {
                    if isHigh ? point.value > last.value : point.value < last.value { zigzag[zigzag.count - 1] = point }
                } else {
                    zigzag.append(point)
                }
            }
            guard zigzag.count >= 5, let e = zigzag.last, e.isHigh, e.index != spent else { continue }
            let (a, b, c, d) = (zigzag[zigzag.count - 5], zigzag[zigzag.count - 4], zigzag[zigzag.count - 3], zigzag[zigzag.count - 2])
            let top = max(a.value, c.value, e.value)
            guard b.value < d.value, bars.close[t] > top, bars.close[t - 1] > d.value else { continue }
            // One chance per triangle: this is the first close above the top since E.
            spent = e.index
            guard ((e.index + 1)..<t).allSatisfy({ bars.close[$0] <= top }) else { continue }
            let average = median((a.index...t).map { bars.high[$0] - bars.low[$0] })
            guard abs(a.value - c.value) <= average, abs(c.value - e.value) <= average, average > 0 else { continue }
            let vr = context.relativeVolume20[t]
            guard !vr.isNaN, vr >= configuration.minimumVolumeRatio else { continue }
            let spread = top - min(a.value, c.value, e.value)
            let confidence =
                0.6 + 0.2 * min((vr - configuration.minimumVolumeRatio) / configuration.minimumVolumeRatio, 1) + 0.2
                * max(0, 1 - spread / average)
            found.append(
                context.detection(
                    "Ascending_Triangle", at: t, confidence: confidence, direction: 1,
                    levels: ["resistance": top, "support": d.value, "stop": d.value, "target": top + (top - b.value)]))
        }
        return found
    }

    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
