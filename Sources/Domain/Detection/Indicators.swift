// The moving averages, RSI and ATR follow TA-Lib's C implementation (ta_SMA.c, ta_EMA.c, ta_RSI.c, ta_TRANGE.c,
// ta_ATR.c, ta_NATR.c) step by step, including the order in which running sums are accumulated, so results agree
// with TA-Lib to the last bits. TA-Lib: Copyright (c) 1999-2024, Mario Fortier. BSD-3-Clause.

/// Indicator series, one value per bar, `nan` where TA-Lib has no value yet (its lookback).
public enum Indicators {
    /// TA-Lib's `TA_IS_ZERO`.
    static func isZero(_ value: Double) -> Bool { -0.00000000000001 < value && value < 0.00000000000001 }

    /// Simple moving average of the last `period` values, the current one included; first value at `period − 1`.
    public static func sma(_ values: [Double], period: Int) -> [Double] {
        var out = [Double](repeating: .nan, count: values.count)
        guard period >= 1, values.count >= period else { return out }
        var total = 0.0
        for index in 0..<(period - 1) { total += values[index] }
        var trailing = 0
        for index in (period - 1)..<values.count {
            total += values[index]
            let current = total
            total -= values[trailing]
            trailing += 1
            out[index] = current / Double(period)
        }
        return out
    }

    /// Exponential moving average, `k = 2/(period+1)`, seeded with the SMA of the first `period` values.
    public static func ema(_ values: [Double], period: Int) -> [Double] {
        var out = [Double](repeating: .nan, count: values.count)
        guard period >= 1, values.count >= period else { return out }
        let k = 2.0 / Double(period + 1)
        var seed = 0.0
        for index in 0..<period { seed += values[index] }
        var previous = seed / Double(period)
        out[period - 1] = previous
        for index in period..<values.count {
            previous = ((values[index] - previous) * k) + previous
            out[index] = previous
        }
        return out
    }

    /// Wilder's RSI: simple means of the gains and losses over the first `period` changes, then Wilder smoothing. First
    /// value at `period`. A window with neither gains nor losses gives 0, as TA-Lib does.
    public static func rsi(_ values: [Double], period: Int = 14) -> [Double] {
        var out = [Double](repeating: .nan, count: values.count)
        guard period >= 2, values.count > period else { return out }
        let n = Double(period)
        var gain = 0.0
        var loss = 0.0
        var previous = values[0]
        for index in 1...period {
            let change = values[index] - previous
            previous = values[index]
            if change < 0 { loss -= change } else { gain += change }
        }
        loss /= n
        gain /= n
        func write(_ index: Int) {
            let sum = gain + loss
            out[index] = isZero(sum) ? 0 : 100.0 * (gain / sum)
        }
        write(period)
        guard values.count > period + 1 else { return out }
        for index in (period + 1)..<values.count {
            let change = values[index] - previous
            previous = values[index]
            loss *= n - 1
            gain *= n - 1
            if change < 0 { loss -= change } else { gain += change }
            loss /= n
            gain /= n
            write(index)
        }
        return out
    }

    /// Wilder's smoothing: the mean of the first `period` values, then `(previous × (period − 1) + value) / period`.
    public static func wilder(_ values: [Double], period: Int) -> [Double] {
        var out = [Double](repeating: .nan, count: values.count)
        guard period >= 1, values.count >= period else { return out }
        var total = 0.0
        for index in 0..<period { total += values[index] }
        var previous = total / Double(period)
        out[period - 1] = previous
        let n = Double(period)
        for index in period..<values.count {
            previous = (previous * (n - 1) + values[index]) / n
            out[index] = previous
        }
        return out
    }

    /// True range from the second bar on: the largest of H−L, |C₋₁−H| and |L−C₋₁|.
    public static func trueRange(_ bars: BarSeries) -> [Double] {
        var out = [Double](repeating: .nan, count: bars.count)
        guard bars.count >= 2 else { return out }
        for index in 1..<bars.count { out[index] = trueRange(bars, at: index) }
        return out
    }

    static func trueRange(_ bars: BarSeries, at index: Int) -> Double {
        let high = bars.high[index]
        let low = bars.low[index]
        let previousClose = bars.close[index - 1]
        var greatest = high - low
        let toHigh = abs(previousClose - high)
        if toHigh > greatest { greatest = toHigh }
        let toLow = abs(low - previousClose)
        if toLow > greatest { greatest = toLow }
        return greatest
    }

    /// Wilder's average true range: the mean of the first `period` true ranges (bars 1…period), then Wilder smoothing.
    public static func atr(_ bars: BarSeries, period: Int = 14) -> [Double] {
        var out = [Double](repeating: .nan, count: bars.count)
        guard period >= 1, bars.count > period else { return out }
        let ranges = trueRange(bars)
        var total = 0.0
        for index in 1...period { total += ranges[index] }
        var previous = total / Double(period)
        out[period] = previous
        let n = Double(period)
        guard bars.count > period + 1 else { return out }
        for index in (period + 1)..<bars.count {
            previous *= n - 1
            previous += ranges[index]
            previous /= n
            out[index] = previous
        }
        return out
    }

    /// ATR as a percentage of the close (0 where the close is 0).
    public static func natr(_ bars: BarSeries, period: Int = 14) -> [Double] {
        var out = atr(bars, period: period)
        for index in out.indices where !out[index].isNaN {
            let close = bars.close[index]
            out[index] = isZero(close) ? 0 : (out[index] / close) * 100.0
        }
        return out
    }

    /// The mean of the `period` values before each index (the current one excluded), nan before there are that many.
    public static func priorMean(_ values: [Double], period: Int) -> [Double] {
        let means = sma(values, period: period)
        var out = [Double](repeating: .nan, count: values.count)
        for index in values.indices.dropFirst() { out[index] = means[index - 1] }
        return out
    }

    /// Volume against the mean of the `period` bars before it (the current bar excluded); nan where that mean is 0 or
    /// not yet defined.
    public static func relativeVolume(_ volume: [Double], period: Int = 20) -> [Double] {
        let means = priorMean(volume, period: period)
        var out = [Double](repeating: .nan, count: volume.count)
        for index in volume.indices where means[index] > 0 { out[index] = volume[index] / means[index] }
        return out
    }

    /// Relative strength in percentage points over `period` trading bars of the benchmark, aligned on the benchmark's
    /// dates: the stock's return minus the benchmark's, rounded to 4 dp (half away from zero, so RS(a, b) = −RS(b, a)).
    /// One value per bar of `stock`; nan where either series lacks the day or the day `period` bars earlier.
    public static func relativeStrength(_ stock: BarSeries, against benchmark: BarSeries, period: Int) -> [Double] {
        var benchmarkIndex: [Int32: Int] = [:]
        benchmarkIndex.reserveCapacity(benchmark.count)
        for (index, day) in benchmark.days.enumerated() { benchmarkIndex[day] = index }
        var stockIndex: [Int32: Int] = [:]
        stockIndex.reserveCapacity(stock.count)
        for (index, day) in stock.days.enumerated() { stockIndex[day] = index }
        var out = [Double](repeating: .nan, count: stock.count)
        for (index, day) in stock.days.enumerated() {
            guard let end = benchmarkIndex[day], end >= period, let start = stockIndex[benchmark.days[end - period]] else { continue }
            let startPrice = stock.close[start]
            let benchmarkStart = benchmark.close[end - period]
            guard startPrice > 0, benchmarkStart > 0 else { continue }
            let stockReturn = (stock.close[index] - startPrice) / startPrice * 100
            let benchmarkReturn = (benchmark.close[end] - benchmarkStart) / benchmarkStart * 100
            out[index] = ((stockReturn - benchmarkReturn) * 10_000).rounded(.toNearestOrAwayFromZero) / 10_000
        }
        return out
    }
}
