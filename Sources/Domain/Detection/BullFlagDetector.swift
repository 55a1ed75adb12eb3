/// `Bull_Flag`, the stock-pattern rule (`find_bullish_flag`, domain.md §4), judged on each bar t with what is known then:
/// - the highest High of the last 7 bars is ≥ the 30-bar and the 90-bar high (as many bars as exist, at least 50), is
///   not on bar t, and at least 5 bars (`flagBars`) run from it to t;
/// - SMA20 ≥ 1.08 × SMA50;
/// - the pole starts at P, the last pivot low confirmed by t before the high; the flag's low (the lowest Low after the
///   high) stays ≥ fib50 = P + (high − P)/2;
/// - and the optional rules, on by default: pole gain (high/P − 1) ≥ 8%, mean flag volume < mean pole volume.
///
/// One detection per flag high, on the first bar that satisfies all of it. Levels: `resistance` = the flag high (the
/// breakout level), `support` = `stop` = the flag low, `target` = high + pole height (the measured move).
/// Confidence = 0.5 + 0.25 × min((gain − 8%)/12%, 1) + 0.25 × (1 − retrace/50%), retrace = (high − flag low)/(high − P).
public struct BullFlagDetector: Detector {
    public struct Configuration: Sendable, Equatable {
        public var recentBars = 7
        public var flagBars = 5
        public var minimumBars = 50
        public var trendRatio = 1.08
        public var minimumPoleGain: Double? = 0.08
        public var flagVolumeBelowPole = true
        public var pivotBars = 5
        public init() {}
    }

    public var configuration = Configuration()
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }
    public var name: String { "bull_flag" }
    public var family: DetectorFamily { .chart }
    public var lookback: Int { configuration.minimumBars }

    public func detect(in context: DetectionContext) -> [Detection] {
        let bars = context.bars
        let c = configuration
        let lows = context.pivots(k: c.pivotBars).lows
        var found: [Detection] = []
        var lastFlagHigh = -1
        for t in bars.indices(from: max(c.minimumBars - 1, c.recentBars)) {
            // The first bar of the last `recentBars` that holds their highest High.
            var top = t - c.recentBars + 1
            for i in top...t where bars.high[i] > bars.high[top] { top = i }
            let high = bars.high[top]
            guard top != lastFlagHigh, t - top >= c.flagBars else { continue }
            guard context.sma20[t] >= c.trendRatio * context.sma50[t] else { continue }
            guard high >= bars.high[max(0, t - 29)...t].max()!, high >= bars.high[max(0, t - 89)...t].max()! else { continue }
            guard let pole = lows.last(where: { $0.confirmedAt <= t && $0.index < top }) else { continue }
            let start = pole.value
            guard start > 0, high > start else { continue }
            let gain = high / start - 1
            if let minimum = c.minimumPoleGain, gain < minimum { continue }
            let flagLow = bars.low[(top + 1)...t].min()!
            guard flagLow >= start + (high - start) / 2 else { continue }
            if c.flagVolumeBelowPole {
                let flagVolume = bars.volume[(top + 1)...t].reduce(0, +) / Double(t - top)
                let poleVolume = bars.volume[pole.index...top].reduce(0, +) / Double(top - pole.index + 1)
                guard flagVolume < poleVolume else { continue }
            }
            lastFlagHigh = top
            let retrace = (high - flagLow) / (high - start)
            let confidence = 0.5 + 0.25 * min(max(gain - 0.08, 0) / 0.12, 1) + 0.25 * (1 - retrace / 0.5)
            found.append(
                context.detection(
                    "Bull_Flag", at: t, confidence: confidence, direction: 1,
                    levels: ["resistance": high, "support": flagLow, "stop": flagLow, "target": high + (high - start)]))
        }
        return found
    }
}
