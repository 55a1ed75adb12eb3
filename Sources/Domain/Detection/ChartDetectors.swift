// Chart patterns with TickStock's names (domain.md §4). Each detector reads bars up to the one it reports on; those
// built on pivots report k bars after the pivot, when it is confirmed.

/// `Volume_Spike`: vr > 2.0 (vr = V / mean of the 20 bars before). Direction from the close against the previous close.
/// Confidence = 0.5 + 0.5 × min((vr − threshold) / (2 × threshold), 1); levels: `tier` 1 (> 1.5), 2 (> 2.5, climactic).
public struct VolumeSpikeDetector: Detector {
    public struct Configuration: Sendable, Equatable {
        public var threshold = 2.0
        public init() {}
    }

    public var configuration = Configuration()
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }
    public var name: String { "volume_spike" }
    public var family: DetectorFamily { .chart }
    public var lookback: Int { 20 }

    public func detect(in context: DetectionContext) -> [Detection] {
        let bars = context.bars
        var found: [Detection] = []
        for i in context.relativeVolume20.indices where context.relativeVolume20[i] > configuration.threshold {
            let vr = context.relativeVolume20[i]
            let direction = bars.close[i] > bars.close[i - 1] ? 1 : bars.close[i] < bars.close[i - 1] ? -1 : 0
            let confidence = 0.5 + 0.5 * min((vr - configuration.threshold) / (2 * configuration.threshold), 1)
            found.append(context.detection("Volume_Spike", at: i, confidence: confidence, direction: direction, levels: ["tier": vr > 2.5 ? 2 : 1]))
        }
        return found
    }
}

/// `Gap_Fill`: a gap up at t0 (L > H₋₁) is filled at the first later bar with L ≤ H₋₁ of t0 (the gap fully closed), or
/// with L ≤ C₋₁ in the `priorClose` variant; a gap down mirrors it. Gaps smaller than max(0.5%, 0.25 × ATR14) are
/// ignored, and so are fills after `maximumBars`. Reported on the fill bar. Confidence = 0.5 + 0.5 × min(gap / ATR14, 1).
public struct GapFillDetector: Detector {
    public struct Configuration: Sendable, Equatable {
        public var toPriorClose = false
        public var minimumPercent = 0.5
        public var minimumATR = 0.25
        public var maximumBars = 60
        public init() {}
    }

    public var configuration = Configuration()
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }
    public var name: String { "gap_fill" }
    public var family: DetectorFamily { .chart }
    public var lookback: Int { 15 }

    public func detect(in context: DetectionContext) -> [Detection] {
        let bars = context.bars
        var found: [Detection] = []
        var open: [(start: Int, level: Double, up: Bool, size: Double)] = []
        for t in bars.indices(from: 1) {
            // Fills first: a bar can close an older gap and open a new one.
            open.removeAll { gap in
                if t - gap.start > configuration.maximumBars { return true }
                let filled = gap.up ? bars.low[t] <= gap.level : bars.high[t] >= gap.level
                guard filled else { return false }
                let atr = context.atr14[gap.start]
                let confidence = 0.5 + 0.5 * (atr.isNaN || atr <= 0 ? 0 : min(gap.size / atr, 1))
                found.append(
                    context.detection(
                        "Gap_Fill", at: t, confidence: confidence, direction: gap.up ? -1 : 1,
                        levels: [gap.up ? "support" : "resistance": gap.level]))
                return true
            }
            let previousHigh = bars.high[t - 1]
            let previousLow = bars.low[t - 1]
            let atr = context.atr14[t]
            let minimum = max(bars.close[t - 1] * configuration.minimumPercent / 100, atr.isNaN ? 0 : configuration.minimumATR * atr)
            if bars.low[t] > previousHigh, bars.low[t] - previousHigh >= minimum {
                open.append((t, configuration.toPriorClose ? bars.close[t - 1] : previousHigh, true, bars.low[t] - previousHigh))
            } else if bars.high[t] < previousLow, previousLow - bars.high[t] >= minimum {
                open.append((t, configuration.toPriorClose ? bars.close[t - 1] : previousLow, false, previousLow - bars.high[t]))
            }
        }
        return found
    }
}

/// `Momentum_Shift`: RSI14 crosses 50 (RSI₋₁ < 50 ≤ RSI bullish; RSI₋₁ ≥ 50 > RSI bearish). Confidence = 0.5 +
/// min(|RSI − 50| / 20, 0.5).
public struct MomentumShiftDetector: Detector {
    public struct Configuration: Sendable, Equatable {
        public var level = 50.0
        public init() {}
    }

    public var configuration = Configuration()
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }
    public var name: String { "momentum_shift" }
    public var family: DetectorFamily { .chart }
    public var lookback: Int { 15 }

    public func detect(in context: DetectionContext) -> [Detection] {
        let rsi = context.rsi14
        var found: [Detection] = []
        for t in context.bars.indices(from: 1) where !rsi[t].isNaN && !rsi[t - 1].isNaN {
            let up = rsi[t - 1] < configuration.level && rsi[t] >= configuration.level
            let down = rsi[t - 1] >= configuration.level && rsi[t] < configuration.level
            guard up || down else { continue }
            found.append(
                context.detection("Momentum_Shift", at: t, confidence: 0.5 + min(abs(rsi[t] - configuration.level) / 20, 0.5), direction: up ? 1 : -1))
        }
        return found
    }
}

/// `Weekly_Breakout`, a Donchian-style channel break, in two variants (domain.md §4):
/// - daily (default): C > max(H of the 5 bars before) ∧ vr ≥ 1.5, on the first bar that does so. Confidence = 0.5 +
///   0.25 × min((vr − 1.5)/1.5, 1) + 0.25 × min((C / channel − 1)/2%, 1).
/// - weekly (`weekly = true`): on a completed ISO week (Monday to Sunday), C_w > max(H of the 4 weeks before), when the
///   week before had not closed above its own channel. A week is known to be complete on the first bar of the next
///   one, so that bar is the detection bar and the week's last bar the bar it describes. Confidence = 0.5 + 0.5 ×
///   min((C_w / channel − 1)/4%, 1).
public struct WeeklyBreakoutDetector: Detector {
    public struct Configuration: Sendable, Equatable {
        public var weekly = false
        public var channelBars = 5
        public var channelWeeks = 4
        public var minimumVolumeRatio = 1.5
        public init() {}
    }

    public var configuration = Configuration()
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }
    /// The weekly variant with the default thresholds.
    public static var weekly: WeeklyBreakoutDetector {
        var configuration = Configuration()
        configuration.weekly = true
        return WeeklyBreakoutDetector(configuration: configuration)
    }
    public var name: String { configuration.weekly ? "weekly_breakout_weekly" : "weekly_breakout" }
    public var family: DetectorFamily { .chart }
    public var lookback: Int { configuration.weekly ? 5 * (configuration.channelWeeks + 1) : max(configuration.channelBars, 20) }

    public func detect(in context: DetectionContext) -> [Detection] {
        configuration.weekly ? weeklyBreakouts(context) : dailyBreakouts(context)
    }

    func dailyBreakouts(_ context: DetectionContext) -> [Detection] {
        let bars = context.bars
        let n = configuration.channelBars
        var found: [Detection] = []
        guard bars.count > n + 1 else { return found }
        var wasAbove = false
        for t in (n + 1)..<bars.count {
            let channel = bars.high[(t - n)..<t].max()!
            let above = bars.close[t] > channel
            defer { wasAbove = above }
            let vr = context.relativeVolume20[t]
            guard above, !wasAbove, !vr.isNaN, vr >= configuration.minimumVolumeRatio else { continue }
            let confidence =
                0.5 + 0.25 * min((vr - configuration.minimumVolumeRatio) / configuration.minimumVolumeRatio, 1) + 0.25
                * min((bars.close[t] / channel - 1) / 0.02, 1)
            found.append(context.detection("Weekly_Breakout", at: t, confidence: confidence, direction: 1, levels: ["resistance": channel, "stop": channel]))
        }
        return found
    }

    func weeklyBreakouts(_ context: DetectionContext) -> [Detection] {
        let bars = context.bars
        let n = configuration.channelWeeks
        // 1970-01-01 was a Thursday, so (day + 3) / 7 numbers the Monday-to-Sunday weeks.
        func week(_ index: Int) -> Int32 { (bars.days[index] + 3 + 7 * 1_000_000) / 7 }
        var highs: [Double] = []
        var closes: [Double] = []
        var found: [Detection] = []
        var weekHigh = -Double.infinity
        var wasAbove = false
        for t in bars.indices(from: 0) {
            if t > 0, week(t) != week(t - 1) {
                // Week of bar t − 1 is complete.
                highs.append(weekHigh)
                closes.append(bars.close[t - 1])
                weekHigh = -Double.infinity
                let w = highs.count - 1
                if w >= n {
                    let channel = highs[(w - n)..<w].max()!
                    let above = closes[w] > channel
                    defer { wasAbove = above }
                    if above, !wasAbove {
                        found.append(
                            context.detection(
                                "Weekly_Breakout", at: t - 1, detectedAt: t, confidence: 0.5 + 0.5 * min((closes[w] / channel - 1) / 0.04, 1),
                                direction: 1, levels: ["resistance": channel, "stop": channel]))
                    }
                }
            }
            weekHigh = max(weekHigh, bars.high[t])
        }
        return found
    }
}

/// Confirmed pivots: bar p is a pivot high when H_p is the highest of H[p−k…p+k] (a pivot low likewise), known at p+k.
/// On a plateau of equal highs the first bar is the pivot (strictly above the k bars before it, at least the k after).
public struct Pivots: Sendable {
    public struct Pivot: Sendable, Equatable {
        public var index: Int
        public var value: Double
        /// The bar on which it is confirmed: index + k.
        public var confirmedAt: Int
    }

    public let highs: [Pivot]
    public let lows: [Pivot]

    public init(_ bars: BarSeries, k: Int = 5) {
        var highs: [Pivot] = []
        var lows: [Pivot] = []
        if bars.count > 2 * k {
            for p in k..<(bars.count - k) {
                let left = (p - k)..<p
                let right = (p + 1)...(p + k)
                if bars.high[left].allSatisfy({ $0 < bars.high[p] }) && bars.high[right].allSatisfy({ $0 <= bars.high[p] }) {
                    highs.append(Pivot(index: p, value: bars.high[p], confirmedAt: p + k))
                }
                if bars.low[left].allSatisfy({ $0 > bars.low[p] }) && bars.low[right].allSatisfy({ $0 >= bars.low[p] }) {
                    lows.append(Pivot(index: p, value: bars.low[p], confirmedAt: p + k))
                }
            }
        }
        self.highs = highs
        self.lows = lows
    }

    /// The most recent pivot confirmed by bar t whose level at least `touches` confirmed pivots (itself included) share
    /// within `tolerance` (a fraction), with its touch count.
    static func level(_ pivots: [Pivot], at t: Int, touches: Int, tolerance: Double) -> (pivot: Pivot, touches: Int)? {
        let known = pivots.prefix { $0.confirmedAt <= t }
        for pivot in known.reversed() {
            let count = known.filter { abs($0.value - pivot.value) <= tolerance * pivot.value }.count
            if count >= touches { return (pivot, count) }
        }
        return nil
    }
}

/// `Support_Test`: S = the most recent confirmed pivot low with ≥ 2 touches (pivot lows within tol); fires when
/// L ≤ S × (1 + tol) ∧ C > S, tol = max(0.5%, 0.25 × ATR14 / C). Once per support level and bar run.
/// Confidence = 0.5 + 0.1 × (touches − 1), at most 0.9.
public struct SupportTestDetector: Detector {
    public struct Configuration: Sendable, Equatable {
        public var pivotBars = 5
        public var touches = 2
        public var minimumTolerance = 0.005
        public init() {}
    }

    public var configuration = Configuration()
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }
    public var name: String { "support_test" }
    public var family: DetectorFamily { .chart }
    public var lookback: Int { 2 * configuration.pivotBars + 1 }

    public func detect(in context: DetectionContext) -> [Detection] {
        let bars = context.bars
        let pivots = context.pivots(k: configuration.pivotBars)
        var found: [Detection] = []
        var lastFired: (level: Double, at: Int)?
        for t in bars.indices(from: 1) {
            let atr = context.atr14[t]
            let tolerance = max(configuration.minimumTolerance, atr.isNaN || bars.close[t] <= 0 ? 0 : 0.25 * atr / bars.close[t])
            guard let (pivot, touches) = Pivots.level(pivots.lows, at: t, touches: configuration.touches, tolerance: tolerance),
                pivot.index < t
            else { continue }
            let support = pivot.value
            guard bars.low[t] <= support * (1 + tolerance), bars.close[t] > support else { continue }
            if let last = lastFired, last.level == support, last.at == t - 1 {
                lastFired = (support, t)
                continue
            }
            lastFired = (support, t)
            found.append(
                context.detection(
                    "Support_Test", at: t, confidence: min(0.5 + 0.1 * Double(touches - 1), 0.9), direction: 1,
                    levels: ["support": support, "stop": support * (1 - tolerance)]))
        }
        return found
    }
}

/// `Resistance_Break`: R = the most recent confirmed pivot high with ≥ 2 touches (within 0.5%); fires on the first
/// close with C ≥ R × 1.01 ∧ vr ≥ 1.5 (the SOS rule). Confidence = 0.5 + 0.1 × (touches − 1) + 0.2 × min((vr − 1.5)/1.5, 1).
public struct ResistanceBreakDetector: Detector {
    public struct Configuration: Sendable, Equatable {
        public var pivotBars = 5
        public var touches = 2
        public var tolerance = 0.005
        public var breakout = 0.01
        public var minimumVolumeRatio = 1.5
        public init() {}
    }

    public var configuration = Configuration()
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }
    public var name: String { "resistance_break" }
    public var family: DetectorFamily { .chart }
    public var lookback: Int { 2 * configuration.pivotBars + 1 }

    public func detect(in context: DetectionContext) -> [Detection] {
        let bars = context.bars
        let pivots = context.pivots(k: configuration.pivotBars)
        var found: [Detection] = []
        for t in bars.indices(from: 1) {
            guard let (pivot, touches) = Pivots.level(pivots.highs, at: t, touches: configuration.touches, tolerance: configuration.tolerance)
            else { continue }
            let level = pivot.value * (1 + configuration.breakout)
            let vr = context.relativeVolume20[t]
            guard bars.close[t] >= level, bars.close[t - 1] < level, !vr.isNaN, vr >= configuration.minimumVolumeRatio else { continue }
            let confidence =
                0.5 + 0.1 * Double(touches - 1) + 0.2 * min((vr - configuration.minimumVolumeRatio) / configuration.minimumVolumeRatio, 1)
            found.append(
                context.detection(
                    "Resistance_Break", at: t, confidence: confidence, direction: 1, levels: ["resistance": pivot.value, "stop": pivot.value]))
        }
        return found
    }
}

/// `Reversal_Signal`: a TA-Lib reversal candle whose context shows the move it reverses: bullish (hammer, bullish
/// engulfing, morning star, piercing, bullish harami) after a decline, C₋₁ < SMA10₋₁ ∧ C₋₁ < C₋₆; bearish (shooting
/// star, hanging man, bearish engulfing, evening star, dark cloud cover, bearish harami) after a rise, the mirror.
/// Confidence = 0.6 + 0.1 per extra reversal candle on the same bar, + 0.1 when vr ≥ 1.5, at most 1.
public struct ReversalSignalDetector: Detector {
    public struct Configuration: Sendable, Equatable {
        public var settings = CandleSettings.talib
        public init() {}
    }

    static let bullish: [CandlestickFunction] = [.hammer, .engulfing, .morningStar, .piercing, .harami]
    static let bearish: [CandlestickFunction] = [.shootingStar, .hangingMan, .engulfing, .eveningStar, .darkCloudCover, .harami]

    public var configuration = Configuration()
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }
    public var name: String { "reversal_signal" }
    public var family: DetectorFamily { .chart }
    public var lookback: Int { 12 }

    public func detect(in context: DetectionContext) -> [Detection] {
        let bars = context.bars
        var values: [CandlestickFunction: [Int32]] = [:]
        for function in Set(Self.bullish + Self.bearish) { values[function] = context.candles(function, settings: configuration.settings) }
        var found: [Detection] = []
        guard bars.count > 6 else { return found }
        for t in 6..<bars.count {
            let trend = context.sma10[t - 1]
            guard !trend.isNaN else { continue }
            let up = Self.bullish.filter { values[$0]![t] > 0 }.count
            let down = Self.bearish.filter { values[$0]![t] < 0 }.count
            let declined = bars.close[t - 1] < trend && bars.close[t - 1] < bars.close[t - 6]
            let rose = bars.close[t - 1] > trend && bars.close[t - 1] > bars.close[t - 6]
            let direction = up > 0 && declined ? 1 : down > 0 && rose ? -1 : 0
            guard direction != 0 else { continue }
            let count = direction > 0 ? up : down
            let vr = context.relativeVolume20[t]
            let confidence = 0.6 + 0.1 * Double(count - 1) + (!vr.isNaN && vr >= 1.5 ? 0.1 : 0)
            let level = direction > 0 ? ["support": bars.low[t], "stop": bars.low[t]] : ["resistance": bars.high[t], "stop": bars.high[t]]
            found.append(context.detection("Reversal_Signal", at: t, confidence: confidence, direction: direction, levels: level))
        }
        return found
    }
}

extension BarSeries {
    /// Bar indices from `start` (empty when the series is shorter).
    func indices(from start: Int) -> Range<Int> { start < count ? start..<count : count..<count }
}
