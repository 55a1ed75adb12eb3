// Twenty candlestick functions ported from TA-Lib 0.6+ (src/ta_func/ta_CDL*.c, src/ta_func/ta_utility.h,
// src/ta_common/ta_global.c): the same conditions, the same running totals, updated in the same order, so the output
// equals TA-Lib's bar for bar. TA-Lib: Copyright (c) 1999-2024, Mario Fortier. BSD-3-Clause.

/// How TA-Lib measures "long", "short", "near" and so on: a factor times the average of one kind of range over the
/// `period` bars before the bar described (0: the bar's own range).
public struct CandleSetting: Sendable, Hashable {
    public enum RangeType: Sendable, Hashable {
        case realBody, highLow, shadows
    }

    public var rangeType: RangeType
    public var period: Int
    public var factor: Double

    public init(_ rangeType: RangeType, period: Int, factor: Double) {
        self.rangeType = rangeType
        self.period = period
        self.factor = factor
    }
}

/// TA-Lib's candle settings; `.talib` holds its defaults (`TA_RestoreCandleDefaultSettings`).
public struct CandleSettings: Sendable, Hashable {
    public var bodyLong = CandleSetting(.realBody, period: 10, factor: 1.0)
    public var bodyVeryLong = CandleSetting(.realBody, period: 10, factor: 3.0)
    public var bodyShort = CandleSetting(.realBody, period: 10, factor: 1.0)
    public var bodyDoji = CandleSetting(.highLow, period: 10, factor: 0.1)
    public var shadowLong = CandleSetting(.realBody, period: 0, factor: 1.0)
    public var shadowVeryLong = CandleSetting(.realBody, period: 0, factor: 2.0)
    public var shadowShort = CandleSetting(.shadows, period: 10, factor: 1.0)
    public var shadowVeryShort = CandleSetting(.highLow, period: 10, factor: 0.1)
    public var near = CandleSetting(.highLow, period: 5, factor: 0.2)
    public var far = CandleSetting(.highLow, period: 5, factor: 0.6)
    public var equal = CandleSetting(.highLow, period: 5, factor: 0.05)

    public init() {}

    public static let talib = CandleSettings()
}

/// The candlestick functions with golden parity tests, by their TA-Lib names.
public enum CandlestickFunction: String, CaseIterable, Sendable {
    case doji = "CDLDOJI"
    case dragonflyDoji = "CDLDRAGONFLYDOJI"
    case gravestoneDoji = "CDLGRAVESTONEDOJI"
    case hammer = "CDLHAMMER"
    case invertedHammer = "CDLINVERTEDHAMMER"
    case hangingMan = "CDLHANGINGMAN"
    case shootingStar = "CDLSHOOTINGSTAR"
    case engulfing = "CDLENGULFING"
    case harami = "CDLHARAMI"
    case haramiCross = "CDLHARAMICROSS"
    case morningStar = "CDLMORNINGSTAR"
    case eveningStar = "CDLEVENINGSTAR"
    case morningDojiStar = "CDLMORNINGDOJISTAR"
    case eveningDojiStar = "CDLEVENINGDOJISTAR"
    case piercing = "CDLPIERCING"
    case darkCloudCover = "CDLDARKCLOUDCOVER"
    case threeWhiteSoldiers = "CDL3WHITESOLDIERS"
    case threeBlackCrows = "CDL3BLACKCROWS"
    case marubozu = "CDLMARUBOZU"
    case spinningTop = "CDLSPINNINGTOP"

    /// The product's pattern name (TickStock's spelling) for a bullish (+) or bearish (−) result.
    public func patternName(value: Int32) -> String {
        switch self {
        case .doji: "Doji"
        case .dragonflyDoji: "Dragonfly_Doji"
        case .gravestoneDoji: "Gravestone_Doji"
        case .hammer: "Hammer"
        case .invertedHammer: "Inverted_Hammer"
        case .hangingMan: "Hanging_Man"
        case .shootingStar: "Shooting_Star"
        case .engulfing: value > 0 ? "Bullish_Engulfing" : "Bearish_Engulfing"
        case .harami: value > 0 ? "Bullish_Harami" : "Bearish_Harami"
        case .haramiCross: value > 0 ? "Bullish_Harami_Cross" : "Bearish_Harami_Cross"
        case .morningStar: "Morning_Star"
        case .eveningStar: "Evening_Star"
        case .morningDojiStar: "Morning_Doji_Star"
        case .eveningDojiStar: "Evening_Doji_Star"
        case .piercing: "Piercing_Line"
        case .darkCloudCover: "Dark_Cloud_Cover"
        case .threeWhiteSoldiers: "Three_White_Soldiers"
        case .threeBlackCrows: "Three_Black_Crows"
        case .marubozu: value > 0 ? "Bullish_Marubozu" : "Bearish_Marubozu"
        case .spinningTop: value > 0 ? "Bullish_Spinning_Top" : "Bearish_Spinning_Top"
        }
    }
}

/// Runs a TA-Lib candlestick function over a series: one Int32 per bar, 0 inside the lookback.
public enum Candlesticks {
    public static func compute(
        _ function: CandlestickFunction, _ bars: BarSeries, settings: CandleSettings = .talib, penetration: Double? = nil
    ) -> [Int32] {
        var out = [Int32](repeating: 0, count: bars.count)
        let candles = Candles(bars)
        let s = settings
        let start = lookback(function, settings: settings)
        switch function {
        case .doji:
            run(candles, &out, [(s.bodyDoji, 0)], start: start) { c, i, a in
                c.body(i) <= a[0] ? 100 : 0
            }
        case .dragonflyDoji:
            run(candles, &out, [(s.bodyDoji, 0), (s.shadowVeryShort, 0)], start: start) { c, i, a in
                c.body(i) <= a[0] && c.upper(i) < a[1] && c.lower(i) > a[1] ? 100 : 0
            }
        case .gravestoneDoji:
            run(candles, &out, [(s.bodyDoji, 0), (s.shadowVeryShort, 0)], start: start) { c, i, a in
                c.body(i) <= a[0] && c.lower(i) < a[1] && c.upper(i) > a[1] ? 100 : 0
            }
        case .hammer:
            run(candles, &out, [(s.bodyShort, 0), (s.shadowLong, 0), (s.shadowVeryShort, 0), (s.near, 1)], start: start) { c, i, a in
                c.body(i) < a[0] && c.lower(i) > a[1] && c.upper(i) < a[2] && min(c.close[i], c.open[i]) <= c.low[i - 1] + a[3]
                    ? 100 : 0
            }
        case .hangingMan:
            run(candles, &out, [(s.bodyShort, 0), (s.shadowLong, 0), (s.shadowVeryShort, 0), (s.near, 1)], start: start) { c, i, a in
                c.body(i) < a[0] && c.lower(i) > a[1] && c.upper(i) < a[2] && min(c.close[i], c.open[i]) >= c.high[i - 1] - a[3]
                    ? -100 : 0
            }
        case .invertedHammer:
            run(candles, &out, [(s.bodyShort, 0), (s.shadowLong, 0), (s.shadowVeryShort, 0)], start: start) { c, i, a in
                c.body(i) < a[0] && c.upper(i) > a[1] && c.lower(i) < a[2] && c.realBodyGapDown(i, i - 1) ? 100 : 0
            }
        case .shootingStar:
            run(candles, &out, [(s.bodyShort, 0), (s.shadowLong, 0), (s.shadowVeryShort, 0)], start: start) { c, i, a in
                c.body(i) < a[0] && c.upper(i) > a[1] && c.lower(i) < a[2] && c.realBodyGapUp(i, i - 1) ? -100 : 0
            }
        case .engulfing:
                        run(candles, &out, [], start: start) { c, i, _ in
                let (o, cl) = (c.open, c.close)
                let bullish =
                    c.color(i) == 1 && c.color(i - 1) == -1
                    && ((cl[i] >= o[i - 1] && o[i] < cl[i - 1]) || (cl[i] > o[i - 1] && o[i] <= cl[i - 1]))
                let bearish =
                    c.color(i) == -1 && c.color(i - 1) == 1
                    && ((o[i] >= cl[i - 1] && cl[i] < o[i - 1]) || (o[i] > cl[i - 1] && cl[i] <= o[i - 1]))
                guard bullish || bearish else { return 0 }
                return c.color(i) * (o[i] != cl[i - 1] && cl[i] != o[i - 1] ? 100 : 80)
            }
        case .harami, .haramiCross:
            let second = function == .harami ? s.bodyShort : s.bodyDoji
            run(candles, &out, [(s.bodyLong, 1), (second, 0)], start: start) { c, i, a in
                guard c.body(i - 1) > a[0], c.body(i) <= a[1] else { return 0 }
                if c.bodyTop(i) < c.bodyTop(i - 1) && c.bodyBottom(i) > c.bodyBottom(i - 1) { return -c.color(i - 1) * 100 }
                if c.bodyTop(i) <= c.bodyTop(i - 1) && c.bodyBottom(i) >= c.bodyBottom(i - 1) { return -c.color(i - 1) * 80 }
                return 0
            }
        case .morningStar, .morningDojiStar:
            let p = penetration ?? 0.3
            let star = function == .morningStar ? s.bodyShort : s.bodyDoji
            run(candles, &out, [(s.bodyLong, 2), (star, 1), (s.bodyShort, 0)], start: start) { c, i, a in
                c.body(i - 2) > a[0] && c.color(i - 2) == -1 && c.body(i - 1) <= a[1] && c.realBodyGapDown(i - 1, i - 2)
                    && c.body(i) > a[2] && c.color(i) == 1 && c.close[i] > c.close[i - 2] + c.body(i - 2) * p ? 100 : 0
            }
        case .eveningStar, .eveningDojiStar:
            let p = penetration ?? 0.3
            let star = function == .eveningStar ? s.bodyShort : s.bodyDoji
            run(candles, &out, [(s.bodyLong, 2), (star, 1), (s.bodyShort, 0)], start: start) { c, i, a in
                c.body(i - 2) > a[0] && c.color(i - 2) == 1 && c.body(i - 1) <= a[1] && c.realBodyGapUp(i - 1, i - 2)
                    && c.body(i) > a[2] && c.color(i) == -1 && c.close[i] < c.close[i - 2] - c.body(i - 2) * p ? -100 : 0
            }
        case .piercing:
            run(candles, &out, [(s.bodyLong, 1), (s.bodyLong, 0)], start: start) { c, i, a in
                c.color(i - 1) == -1 && c.body(i - 1) > a[0] && c.color(i) == 1 && c.body(i) > a[1] && c.open[i] < c.low[i - 1]
                    && c.close[i] < c.open[i - 1] && c.close[i] > c.close[i - 1] + c.body(i - 1) * 0.5 ? 100 : 0
            }
        case .darkCloudCover:
            let p = penetration ?? 0.5
            run(candles, &out, [(s.bodyLong, 1)], start: start) { c, i, a in
                c.color(i - 1) == 1 && c.body(i - 1) > a[0] && c.color(i) == -1 && c.open[i] > c.high[i - 1]
                    && c.close[i] > c.open[i - 1] && c.close[i] < c.close[i - 1] - c.body(i - 1) * p ? -100 : 0
            }
        case .threeWhiteSoldiers:
            let averages: [(CandleSetting, Int)] = [
                (s.shadowVeryShort, 2), (s.shadowVeryShort, 1), (s.shadowVeryShort, 0), (s.near, 2), (s.near, 1), (s.far, 2),
                (s.far, 1), (s.bodyShort, 0),
            ]
            run(candles, &out, averages, start: start) { c, i, a in
                let (o, cl) = (c.open, c.close)
                return c.color(i - 2) == 1 && c.upper(i - 2) < a[0] && c.color(i - 1) == 1 && c.upper(i - 1) < a[1]
                    && c.color(i) == 1 && c.upper(i) < a[2] && cl[i] > cl[i - 1] && cl[i - 1] > cl[i - 2] && o[i - 1] > o[i - 2]
                    && o[i - 1] <= cl[i - 2] + a[3] && o[i] > o[i - 1] && o[i] <= cl[i - 1] + a[4]
                    && c.body(i - 1) > c.body(i - 2) - a[5] && c.body(i) > c.body(i - 1) - a[6] && c.body(i) > a[7] ? 100 : 0
            }
        case .threeBlackCrows:
            let averages: [(CandleSetting, Int)] = [(s.shadowVeryShort, 2), (s.shadowVeryShort, 1), (s.shadowVeryShort, 0)]
            run(candles, &out, averages, start: start) { c, i, a in
                let (o, cl) = (c.open, c.close)
                return c.color(i - 3) == 1 && c.color(i - 2) == -1 && c.lower(i - 2) < a[0] && c.color(i - 1) == -1
                    && c.lower(i - 1) < a[1] && c.color(i) == -1 && c.lower(i) < a[2] && o[i - 1] < o[i - 2] && o[i - 1] > cl[i - 2]
                    && o[i] < o[i - 1] && o[i] > cl[i - 1] && c.high[i - 3] > cl[i - 2] && cl[i - 2] > cl[i - 1] && cl[i - 1] > cl[i]
                    ? -100 : 0
            }
        case .marubozu:
            run(candles, &out, [(s.bodyLong, 0), (s.shadowVeryShort, 0)], start: start) { c, i, a in
                c.body(i) > a[0] && c.upper(i) < a[1] && c.lower(i) < a[1] ? c.color(i) * 100 : 0
            }
        case .spinningTop:
            run(candles, &out, [(s.bodyShort, 0)], start: start) { c, i, a in
                c.body(i) < a[0] && c.upper(i) > c.body(i) && c.lower(i) > c.body(i) ? c.color(i) * 100 : 0
            }
        }
        return out
    }

    /// TA-Lib's lookback: the longest average period plus the bars the pattern spans before the last one.
    public static func lookback(_ function: CandlestickFunction, settings: CandleSettings = .talib) -> Int {
        let lookback: Int
        let s = settings
        switch function {
        case .doji: lookback = s.bodyDoji.period
        case .dragonflyDoji, .gravestoneDoji: lookback = max(s.bodyDoji.period, s.shadowVeryShort.period)
        case .hammer, .hangingMan: lookback = max(s.bodyShort.period, s.shadowLong.period, s.shadowVeryShort.period, s.near.period) + 1
        case .invertedHammer, .shootingStar: lookback = max(s.bodyShort.period, s.shadowLong.period, s.shadowVeryShort.period) + 1
        case .engulfing: lookback = 2
        case .harami: lookback = max(s.bodyShort.period, s.bodyLong.period) + 1
        case .haramiCross: lookback = max(s.bodyDoji.period, s.bodyLong.period) + 1
        case .morningStar, .eveningStar: lookback = max(s.bodyShort.period, s.bodyLong.period) + 2
        case .morningDojiStar, .eveningDojiStar: lookback = max(s.bodyDoji.period, s.bodyLong.period, s.bodyShort.period) + 2
        case .piercing, .darkCloudCover: lookback = s.bodyLong.period + 1
        case .threeWhiteSoldiers: lookback = max(s.shadowVeryShort.period, s.bodyShort.period, s.far.period, s.near.period) + 2
        case .threeBlackCrows: lookback = s.shadowVeryShort.period + 3
        case .marubozu: lookback = max(s.bodyLong.period, s.shadowVeryShort.period)
        case .spinningTop: lookback = s.bodyShort.period
        }
        return lookback
    }

    /// The shared loop of every function: from the lookback on, evaluates `rule` at bar i with each average's value for
    /// the bar it describes (i − offset), then moves each running total on by one bar, exactly as TA-Lib does.
    private static func run(
        _ candles: Candles, _ out: inout [Int32], _ settings: [(CandleSetting, Int)], start: Int,
        _ rule: (Candles, Int, [Double]) -> Int32
    ) {
        guard candles.count > start else { return }
        var averages = settings.map { RunningAverage(setting: $0.0, offset: $0.1, start: start, candles: candles) }
        var values = [Double](repeating: 0, count: averages.count)
        for i in start..<candles.count {
            for index in averages.indices { values[index] = averages[index].value(at: i, candles) }
            out[i] = rule(candles, i, values)
            for index in averages.indices { averages[index].advance(at: i, candles) }
        }
    }
}

/// TA-Lib's per-setting running total (`…PeriodTotal`, `…TrailingIdx`) for the bar `offset` bars before the current one.
private struct RunningAverage {
    let setting: CandleSetting
    let offset: Int
    var total = 0.0
    var trailing: Int

    init(setting: CandleSetting, offset: Int, start: Int, candles: Candles) {
        self.setting = setting
        self.offset = offset
        trailing = start - setting.period
        var index = trailing
        while index < start {
            total += candles.range(setting.rangeType, index - offset)
            index += 1
        }
    }

    /// `TA_CANDLEAVERAGE`: factor × (total / period, or the bar's own range) / (2 for shadows).
    func value(at i: Int, _ candles: Candles) -> Double {
        let base = setting.period != 0 ? total / Double(setting.period) : candles.range(setting.rangeType, i - offset)
        return setting.factor * base / (setting.rangeType == .shadows ? 2.0 : 1.0)
    }

    mutating func advance(at i: Int, _ candles: Candles) {
        total += candles.range(setting.rangeType, i - offset) - candles.range(setting.rangeType, trailing - offset)
        trailing += 1
    }
}

/// TA-Lib's candle macros (`ta_utility.h`) over a series.
struct Candles {
    let open: [Double]
    let high: [Double]
    let low: [Double]
    let close: [Double]

    init(_ bars: BarSeries) {
        open = bars.open
        high = bars.high
        low = bars.low
        close = bars.close
    }

    var count: Int { close.count }
    func body(_ i: Int) -> Double { abs(close[i] - open[i]) }
    func upper(_ i: Int) -> Double { high[i] - (close[i] >= open[i] ? close[i] : open[i]) }
    func lower(_ i: Int) -> Double { (close[i] >= open[i] ? open[i] : close[i]) - low[i] }
    func color(_ i: Int) -> Int32 { close[i] >= open[i] ? 1 : -1 }
    func bodyTop(_ i: Int) -> Double { max(close[i], open[i]) }
    func bodyBottom(_ i: Int) -> Double { min(close[i], open[i]) }
    func realBodyGapUp(_ i: Int, _ j: Int) -> Bool { min(open[i], close[i]) > max(open[j], close[j]) }
    func realBodyGapDown(_ i: Int, _ j: Int) -> Bool { max(open[i], close[i]) < min(open[j], close[j]) }

    func range(_ type: CandleSetting.RangeType, _ i: Int) -> Double {
        switch type {
        case .realBody: body(i)
        case .highLow: high[i] - low[i]
        case .shadows: upper(i) + lower(i)
        }
    }
}
