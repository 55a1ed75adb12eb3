/// One pattern found on a bar series.
public struct Detection: Sendable, Equatable {
    public var symbol: String
    /// The product's pattern name (`Bull_Flag`, `Hammer`, `Selling_Climax`).
    public var pattern: String
    public var tier: Tier
    /// The bar the pattern describes.
    public var barIndex: Int
    public var barDay: Int32
    /// The bar on which it became known: later than `barIndex` when the pattern confirms late (pivots).
    public var detectedIndex: Int
    public var detectedDay: Int32
    /// In 0...1; each detector documents its formula.
    public var confidence: Double
    /// +1 bullish, −1 bearish, 0 neutral.
    public var direction: Int
    /// The close of the detection bar, and its change from the bar before, in percent.
    public var price: Double
    public var changePercent: Double?
    /// Against SPY over 20 bars (percentage points), when the benchmark was given.
    public var relativeStrength: Double?
    /// Against the symbol's sector ETF over 20 bars (percentage points), when that series was given.
    public var sectorRelativeStrength: Double?
    public var relativeVolume: Double?
    public var rsi: Double?
    /// Pattern-specific levels: `support`, `resistance`, `stop`, `target`.
    public var levels: [String: Double]

    public init(
        symbol: String, pattern: String, tier: Tier = .daily, barIndex: Int, barDay: Int32, detectedIndex: Int, detectedDay: Int32,
        confidence: Double, direction: Int, price: Double, changePercent: Double? = nil, relativeStrength: Double? = nil,
        sectorRelativeStrength: Double? = nil, relativeVolume: Double? = nil, rsi: Double? = nil, levels: [String: Double] = [:]
    ) {
        self.symbol = symbol
        self.pattern = pattern
        self.tier = tier
        self.barIndex = barIndex
        self.barDay = barDay
        self.detectedIndex = detectedIndex
        self.detectedDay = detectedDay
        self.confidence = confidence
        self.direction = direction
        self.price = price
        self.changePercent = changePercent
        self.relativeStrength = relativeStrength
        self.sectorRelativeStrength = sectorRelativeStrength
        self.relativeVolume = relativeVolume
        self.rsi = rsi
        self.levels = levels
    }
}

/// The families detectors belong to, for reporting (bars per second per family).
public enum DetectorFamily: String, Sendable, CaseIterable {
    case candlestick, chart, vsa, wyckoff
}

/// A detector plug-in. It reads only bars up to the one it reports on (no look-ahead), so appending bars never changes
/// or removes an earlier detection. Every threshold lives in the detector's configuration.
public protocol Detector: Sendable {
    /// The registry name (`hammer`, `bull_flag`, `vsa_no_demand`).
    var name: String { get }
    var family: DetectorFamily { get }
    /// Bars needed before the first bar that can be reported.
    var lookback: Int { get }
    func detect(in context: DetectionContext) -> [Detection]
}

/// A series with the indicators every detector shares, each computed once, from causal formulas only (a value at bar t
/// uses bars ≤ t). Detectors that need the same derived series (candlestick values, the Wyckoff pass) compute it once
/// through `shared(_:_:)`. A context belongs to one task: it is not `Sendable`.
public final class DetectionContext {
    public let bars: BarSeries
    public let benchmark: BarSeries?
    public let rsi14: [Double]
    public let atr14: [Double]
    public let relativeVolume20: [Double]
    public let relativeStrength20: [Double]
    public let sma10: [Double]
    public let sma20: [Double]
    public let sma50: [Double]
    /// Against the symbol's sector ETF (percentage points over 20 bars), when that series was given.
    public let sectorRelativeStrength20: [Double]
    /// Pivots with k = 5, shared by the pivot-based chart detectors.
    public let pivots: Pivots

    public init(bars: BarSeries, benchmark: BarSeries? = nil, sectorBenchmark: BarSeries? = nil) {
        self.bars = bars
        self.benchmark = benchmark
        rsi14 = Indicators.rsi(bars.close, period: 14)
        atr14 = Indicators.atr(bars, period: 14)
        relativeVolume20 = Indicators.relativeVolume(bars.volume, period: 20)
        relativeStrength20 =
            benchmark.map { Indicators.relativeStrength(bars, against: $0, period: 20) } ?? [Double](repeating: .nan, count: bars.count)
        sma10 = Indicators.sma(bars.close, period: 10)
        sma20 = Indicators.sma(bars.close, period: 20)
        sma50 = Indicators.sma(bars.close, period: 50)
        sectorRelativeStrength20 =
            sectorBenchmark.map { Indicators.relativeStrength(bars, against: $0, period: 20) } ?? [Double](repeating: .nan, count: bars.count)
        pivots = Pivots(bars, k: 5)
    }

    /// The shared pivots when `k` is 5, otherwise computed for the caller.
    public func pivots(k: Int) -> Pivots { k == 5 ? pivots : Pivots(bars, k: k) }

    private var memo: [AnyHashable: Any] = [:]

    /// The value for `key`, computed by the first detector that asks and reused by the others.
    public func shared<Value>(_ key: AnyHashable, _ compute: () -> Value) -> Value {
        if let value = memo[key] as? Value { return value }
        let value = compute()
        memo[key] = value
        return value
    }

    private struct CandleKey: Hashable {
        var function: CandlestickFunction
        var settings: CandleSettings
        var penetration: Double?
    }

    /// A TA-Lib candlestick function over the bars, computed once per function, settings and penetration.
    public func candles(_ function: CandlestickFunction, settings: CandleSettings = .talib, penetration: Double? = nil) -> [Int32] {
        shared(CandleKey(function: function, settings: settings, penetration: penetration)) {
            Candlesticks.compute(function, bars, settings: settings, penetration: penetration)
        }
    }

    public var count: Int { bars.count }

    /// A detection at `index` (found at `detectedIndex`, by default the same bar) with the shared indicator fields.
    public func detection(
        _ pattern: String, at index: Int, detectedAt detectedIndex: Int? = nil, confidence: Double, direction: Int,
        levels: [String: Double] = [:]
    ) -> Detection {
        let found = detectedIndex ?? index
        func value(_ series: [Double]) -> Double? { series[found].isNaN ? nil : series[found] }
        let change = found > 0 && bars.close[found - 1] > 0 ? (bars.close[found] / bars.close[found - 1] - 1) * 100 : nil
        return Detection(
            symbol: bars.symbol, pattern: pattern, barIndex: index, barDay: bars.days[index], detectedIndex: found,
            detectedDay: bars.days[found], confidence: min(max(confidence, 0), 1), direction: direction, price: bars.close[found],
            changePercent: change, relativeStrength: value(relativeStrength20), sectorRelativeStrength: value(sectorRelativeStrength20),
            relativeVolume: value(relativeVolume20), rsi: value(rsi14), levels: levels)
    }
}

/// Detectors by name. Adding one means one new file and one line in `standard`.
public struct DetectorRegistry: Sendable {
    public private(set) var detectors: [any Detector]

    public init(_ detectors: [any Detector]) { self.detectors = detectors }

    public var names: [String] { detectors.map(\.name) }

    public func detector(named name: String) -> (any Detector)? { detectors.first { $0.name == name } }

    /// The detectors with these names (or families), in registry order; throws naming the unknown ones.
    public func selecting(_ names: [String]) throws(UnknownDetectors) -> DetectorRegistry {
        let families = Set(DetectorFamily.allCases.map(\.rawValue))
        let unknown = names.filter { name in !families.contains(name) && detector(named: name) == nil }
        guard unknown.isEmpty else { throw UnknownDetectors(names: unknown) }
        return DetectorRegistry(detectors.filter { names.contains($0.name) || names.contains($0.family.rawValue) })
    }

    public struct UnknownDetectors: Error, Equatable, CustomStringConvertible {
        public let names: [String]
        public init(names: [String]) { self.names = names }
        public var description: String { "unknown detectors: \(names.joined(separator: ", "))" }
    }

    /// Runs every detector over one series; detections ordered by detection bar, then registry order.
    public func detect(in context: DetectionContext) -> [Detection] {
        detectors.flatMap { $0.detect(in: context) }.sorted { $0.detectedIndex < $1.detectedIndex }
    }

    public static let standard = DetectorRegistry(
        CandlestickFunction.allCases.map { CandlestickDetector(function: $0) as any Detector } + [
            VolumeSpikeDetector(), GapFillDetector(), MomentumShiftDetector(), WeeklyBreakoutDetector(), WeeklyBreakoutDetector.weekly,
            SupportTestDetector(), ResistanceBreakDetector(), ReversalSignalDetector(), BullFlagDetector(), TrendlineHoldDetector(),
            AscendingTriangleDetector(),
            VSADetector(event: .noDemand), VSADetector(event: .noSupply), VSADetector(event: .stoppingVolume),
        ] + WyckoffDetector.Event.allCases.map { WyckoffDetector(event: $0) as any Detector })
}

extension Detection {
    /// The detection as a producer event in the canonical nested shape (producer-events.md, shape A), so it travels
    /// the same way as TickStock's: timestamps are the detection day's US close (21:00 UTC) in epoch seconds, and the
    /// pattern expires `lifetimeDays` later. `bar_date` and `detected_date` keep the bars' own days.
    public func producerEvent(source: String = "patterndesk-detect", lifetimeDays: Int = 5) -> [UInt8] {
        let detectedAt = Double(detectedDay) * 86_400 + 21 * 3_600
        return producerEvent(source: source, detectedAt: detectedAt, expiresAt: detectedAt + Double(lifetimeDays) * 86_400)
    }

    /// The same event stamped with the given times (epoch seconds): the embedded default replays history as if it
    /// happened now.
    public func producerEvent(source: String, detectedAt: Double, expiresAt: Double) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.object { w in
            w.field("event_type", "pattern_detected")
            w.field("source", source)
            w.field("timestamp", detectedAt)
            w.key("data")
            w.object { d in
                d.field("symbol", symbol)
                d.field("pattern", pattern)
                d.field("confidence", (confidence * 10_000).rounded() / 10_000)
                d.field("current_price", price)
                d.field("price_change", changePercent.map { ($0 * 10_000).rounded() / 10_000 })
                d.field("timestamp", detectedAt)
                d.field("expires_at", expiresAt)
                d.key("indicators")
                d.object { i in
                    if let relativeStrength { i.field("relative_strength", relativeStrength) }
                    if let sectorRelativeStrength { i.field("relative_strength_sector", sectorRelativeStrength) }
                    if let relativeVolume { i.field("relative_volume", (relativeVolume * 10_000).rounded() / 10_000) }
                    if let rsi { i.field("rsi", (rsi * 100).rounded() / 100) }
                    for (name, value) in levels.sorted(by: { $0.key < $1.key }) where name != "stop" && name != "target" {
                        i.field(name == "support" || name == "resistance" ? "\(name)_level" : name, value)
                    }
                }
                d.field("source", tier.name)
                d.field("tier", tier.name)
                d.field("direction", direction > 0 ? "bullish" : direction < 0 ? "bearish" : "neutral")
                d.field("bar_date", Timestamp.isoDay(barDay))
                d.field("detected_date", Timestamp.isoDay(detectedDay))
                if let stop = levels["stop"] { d.field("stop_loss", stop) }
                if let target = levels["target"] { d.field("target_price", target) }
            }
        }
        return writer.bytes
    }
}
