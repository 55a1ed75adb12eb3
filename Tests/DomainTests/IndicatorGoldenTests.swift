import Domain
import Foundation
import Testing

/// The golden files of `../shared/data` (TA-Lib 0.8.1 output, StockCharts' worked examples).
enum Golden {
    static let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/data")
        .standardized

    static func table(_ relativePath: String) throws -> (header: [String], rows: [[String]]) {
        let text = try String(contentsOf: data.appendingPathComponent(relativePath), encoding: .utf8)
        let rows = CSV.parse(text)
        return (rows[0], Array(rows.dropFirst()))
    }

    static func column(_ table: (header: [String], rows: [[String]]), _ name: String) throws -> [Double] {
        let index = try #require(table.header.firstIndex(of: name), "no column \(name)")
        return table.rows.map { Double($0[index]) ?? .nan }
    }

    /// TA-Lib's 252-bar regression series (no dates: day = index).
    static func talibReference() throws -> BarSeries {
        let table = try table("golden/talib_ref_252.csv")
        return BarSeries(
            symbol: "REF", days: table.rows.map { Int32($0[0])! }, open: try column(table, "Open"), high: try column(table, "High"),
            low: try column(table, "Low"), close: try column(table, "Close"), volume: try column(table, "Volume"))
    }

    static func bars(_ symbol: String) throws -> BarSeries {
        let text = try String(contentsOf: data.appendingPathComponent("bars/\(symbol).csv"), encoding: .utf8)
        return try BarSeries.parseCSV(symbol: symbol, text: text)
    }

    /// Every symbol with a bar file, sorted.
    static func symbols() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("bars").path)
            .filter { $0.hasSuffix(".csv") }.map { String($0.dropLast(4)) }.sorted()
    }

    static var isPresent: Bool { FileManager.default.fileExists(atPath: data.appendingPathComponent("golden").path) }
}

/// Equal within `relative` (nan only where expected is nan); returns the first differing index.
/// A published table (NaN where nothing is published) has `count` values, each equal to `values` rounded to 2 dp.
func expectPublished(_ values: [Double], _ published: [Double], count: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(published.filter { !$0.isNaN }.count == count, sourceLocation: sourceLocation)
    for index in published.indices where !published[index].isNaN {
        #expect((values[index] * 100).rounded() / 100 == published[index], "row \(index)", sourceLocation: sourceLocation)
    }
}

func firstMismatch(_ actual: [Double], _ expected: [Double], relative: Double = 1e-9) -> Int? {
    guard actual.count == expected.count else { return -1 }
    for index in expected.indices {
        let (a, e) = (actual[index], expected[index])
        if e.isNaN != a.isNaN { return index }
        if e.isNaN { continue }
        if abs(a - e) > relative * max(abs(e), 1e-12) { return index }
    }
    return nil
}

@Suite(.enabled(if: Golden.isPresent, "needs ../shared/data")) struct IndicatorsMatchTALib {
    static let inputs = ["talib_ref_252", "talib_SPY"]

    func series(_ name: String) throws -> (BarSeries, (header: [String], rows: [[String]])) {
        name == "talib_ref_252"
            ? (try Golden.talibReference(), try Golden.table("golden/talib_ref_252_indicators.csv"))
            : (try Golden.bars("SPY"), try Golden.table("golden/talib_SPY_indicators.csv"))
    }

    @Test(arguments: inputs) func `SMA, EMA, RSI, TRANGE, ATR, NATR and volume SMA within 1e-9`(name: String) throws {
        let (bars, golden) = try series(name)
        let computed: [(String, [Double])] = [
            ("SMA20", Indicators.sma(bars.close, period: 20)), ("SMA50", Indicators.sma(bars.close, period: 50)),
            ("SMA200", Indicators.sma(bars.close, period: 200)), ("EMA10", Indicators.ema(bars.close, period: 10)),
            ("EMA20", Indicators.ema(bars.close, period: 20)), ("RSI14", Indicators.rsi(bars.close, period: 14)),
            ("ATR14", Indicators.atr(bars, period: 14)), ("NATR14", Indicators.natr(bars, period: 14)),
            ("TRANGE", Indicators.trueRange(bars)), ("VOL_SMA20", Indicators.sma(bars.volume, period: 20)),
        ]
        for (column, values) in computed {
            let expected = try Golden.column(golden, column)
            let mismatch = firstMismatch(values, expected)
            #expect(mismatch == nil, "\(name) \(column) differs at \(mismatch ?? 0): \(mismatch.map { values[$0] } ?? 0) vs \(mismatch.map { expected[$0] } ?? 0)")
        }
    }

    @Test func `relative volume excludes the current bar`() throws {
        let (bars, golden) = try series("talib_SPY")
        let volumeMean = try Golden.column(golden, "VOL_SMA20")
        let relative = Indicators.relativeVolume(bars.volume, period: 20)
        #expect(relative[..<20].allSatisfy { $0.isNaN })
        for index in 20..<bars.count {
            #expect(abs(relative[index] - bars.volume[index] / volumeMean[index - 1]) < 1e-12)
        }
    }

    @Test func `StockCharts' RSI example to 2 dp, and TA-Lib's to 1e-9`() throws {
        let table = try Golden.table("golden/rsi_wilder_stockcharts_example.csv")
        let rsi = Indicators.rsi(try Golden.column(table, "Close"), period: 14)
        let published = try Golden.column(table, "RSI14_published")
        expectPublished(rsi, published, count: 19)
        #expect(firstMismatch(rsi, try Golden.column(table, "RSI14_talib")) == nil)
        let onTwoDecimals = Indicators.rsi(try Golden.column(table, "Close_2dp"), period: 14)
        #expect(firstMismatch(onTwoDecimals, try Golden.column(table, "RSI14_talib_on_2dp")) == nil)
    }

    @Test func `StockCharts' EMA(10) example to 2 dp`() throws {
        let table = try Golden.table("golden/ema_stockcharts_example.csv")
        let ema = Indicators.ema(try Golden.column(table, "Close"), period: 10)
        let published = try Golden.column(table, "EMA10_published")
        expectPublished(ema, published, count: 11)
        #expect(firstMismatch(ema, try Golden.column(table, "EMA10_talib")) == nil)
        #expect(firstMismatch(Indicators.sma(try Golden.column(table, "Close"), period: 10), try Golden.column(table, "SMA10_talib")) == nil)
    }

    @Test func `TA-Lib's own regression expectations on its reference series`() throws {
        let bars = try Golden.talibReference()
        let rsi = Indicators.rsi(bars.close, period: 14)
        #expect(abs(rsi[14] - 49.14) < 0.01 && abs(rsi[251] - 49.63) < 0.01)
        let sma30 = Indicators.sma(bars.close, period: 30)
        #expect(abs(sma30[29] - 90.42) < 0.01 && abs(sma30[251] - 108.42) < 0.01)
        let natr = Indicators.natr(bars, period: 14)
        #expect(abs(natr[14] - 3.9321) < 0.0001 && abs(natr[251] - 3.0229) < 0.0001)
    }
}

@Suite struct IndicatorProperties {
    func randomSeries(_ symbol: String, days: [Int32], seed: UInt64) -> BarSeries {
        var random = SplitMix64(seed: seed)
        var price = 100.0
        var series = BarSeries(symbol: symbol)
        for day in days {
            let open = price
            price = max(1, price * (1 + (Double(random.next() % 2001) - 1000) / 50_000))
            series.days.append(day)
            series.open.append(open)
            series.close.append(price)
            series.high.append(max(open, price) * 1.01)
            series.low.append(min(open, price) * 0.99)
            series.volume.append(Double(random.next() % 1_000_000))
        }
        return series
    }

    @Test func `relative strength is antisymmetric against its benchmark`() {
        for seed in 0..<50 as Range<UInt64> {
            let days = (0..<120).map { Int32(19_000 + $0) }
            let stock = randomSeries("A", days: days, seed: seed)
            let benchmark = randomSeries("B", days: days, seed: seed + 1000)
            for period in [1, 20, 63] {
                let forward = Indicators.relativeStrength(stock, against: benchmark, period: period)
                let backward = Indicators.relativeStrength(benchmark, against: stock, period: period)
                #expect(forward[..<period].allSatisfy { $0.isNaN })
                for index in period..<days.count { #expect(forward[index] == -backward[index], "seed \(seed) period \(period) bar \(index)") }
            }
        }
    }

    @Test func `relative strength aligns on the benchmark's dates and skips days either side lacks`() {
        let benchmark = BarSeries(
            symbol: "SPY", days: [1, 2, 3, 4], open: [100, 100, 100, 100], high: [100, 100, 100, 100], low: [100, 100, 100, 100],
            close: [100, 105, 110, 110], volume: [1, 1, 1, 1])
        // The stock misses day 2: its RS on day 3 over one benchmark bar compares with day 2, which it lacks.
        let stock = BarSeries(
            symbol: "X", days: [1, 3, 4], open: [10, 10, 10], high: [10, 10, 10], low: [10, 10, 10], close: [10, 11, 12],
            volume: [1, 1, 1])
        let oneBar = Indicators.relativeStrength(stock, against: benchmark, period: 1)
        #expect(oneBar[0].isNaN && oneBar[1].isNaN)
        #expect(abs(oneBar[2] - ((12.0 - 11) / 11 * 100 - 0)) < 1e-4)
        let twoBars = Indicators.relativeStrength(stock, against: benchmark, period: 2)
        #expect(twoBars[1] == 0)  // +10% against +10%
        #expect(twoBars[2].isNaN)  // two benchmark bars before day 4 is day 2, which the stock lacks
    }
}
