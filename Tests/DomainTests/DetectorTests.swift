import Domain
import Foundation
import Testing

/// Builds a series from (open, high, low, close, volume) rows on consecutive days.
func fixture(_ rows: [(Double, Double, Double, Double, Double)], symbol: String = "FIX") -> BarSeries {
    BarSeries(
        symbol: symbol, days: rows.indices.map { Int32(19_000 + $0) }, open: rows.map(\.0), high: rows.map(\.1), low: rows.map(\.2),
        close: rows.map(\.3), volume: rows.map(\.4))
}

/// `count` quiet bars around `price`: body 0.4, range 2, volume 1,000,000, alternating colour.
func quiet(_ count: Int, price: Double = 100, drift: Double = 0) -> [(Double, Double, Double, Double, Double)] {
    (0..<count).map { index in
        let base = price + drift * Double(index)
        let up = index % 2 == 0
        return (up ? base - 0.2 : base + 0.2, base + 1, base - 1, up ? base + 0.2 : base - 0.2, 1_000_000)
    }
}

func patterns(_ detector: any Detector, _ rows: [(Double, Double, Double, Double, Double)]) -> [Detection] {
    detector.detect(in: DetectionContext(bars: fixture(rows)))
}

@Suite struct VSAFixtures {
    @Test func `No Demand: a narrow down bar on high volume in an uptrend, and its near misses`() {
        let base = quiet(30, price: 100, drift: 0.3)
        let last = base.last!.3
        let hit = base + [(last + 0.3, last + 0.5, last - 0.1, last, 2_000_000)]
        let found = patterns(VSADetector(event: .noDemand), hit)
        #expect(found.map(\.pattern) == ["No_Demand"] && found[0].barIndex == 30 && found[0].direction == -1)
        // Volume only 1.4×: not high enough.
        #expect(patterns(VSADetector(event: .noDemand), base + [(last + 0.3, last + 0.5, last - 0.1, last, 1_400_000)]).isEmpty)
        // Wide spread (3 against an average of 2).
        #expect(patterns(VSADetector(event: .noDemand), base + [(last + 0.3, last + 2, last - 1, last, 2_000_000)]).isEmpty)
        // An up bar.
        #expect(patterns(VSADetector(event: .noDemand), base + [(last, last + 0.5, last - 0.1, last + 0.3, 2_000_000)]).isEmpty)
        // No uptrend before it.
        let flat = quiet(30, price: 100, drift: -0.3)
        let flatLast = flat.last!.3
        #expect(patterns(VSADetector(event: .noDemand), flat + [(flatLast + 0.3, flatLast + 0.5, flatLast - 0.1, flatLast, 2_000_000)]).isEmpty)
    }

    @Test func `No Supply mirrors No Demand`() {
        let base = quiet(30, price: 100, drift: -0.3)
        let last = base.last!.3
        let found = patterns(VSADetector(event: .noSupply), base + [(last - 0.3, last + 0.1, last - 0.5, last, 2_000_000)])
        #expect(found.map(\.pattern) == ["No_Supply"] && found[0].direction == 1)
        #expect(patterns(VSADetector(event: .noSupply), base + [(last - 0.3, last + 0.1, last - 0.5, last, 1_000_000)]).isEmpty)
    }

    @Test func `Stopping Volume: a wide high-volume bar, then a narrower bar the other way`() {
        let base = quiet(30)
        let spike = (101.0, 101.5, 97.0, 97.5, 3_000_000.0)  // down, range 4.5 > 2, volume 3×
        let turn = (97.6, 98.8, 97.4, 98.5, 1_200_000.0)  // up, range 1.4
        let found = patterns(VSADetector(event: .stoppingVolume), base + [spike, turn])
        #expect(found.count == 1 && found[0].barIndex == 30 && found[0].detectedIndex == 31 && found[0].direction == 1)
        #expect(found[0].levels["support"] == 97.0)
        // Volume 2.4×, the same direction, or a wider second bar: no event.
        #expect(patterns(VSADetector(event: .stoppingVolume), base + [(101, 101.5, 97, 97.5, 2_400_000), turn]).isEmpty)
        #expect(patterns(VSADetector(event: .stoppingVolume), base + [spike, (97.6, 97.9, 96.8, 97.0, 1_200_000)]).isEmpty)
        #expect(patterns(VSADetector(event: .stoppingVolume), base + [spike, (97.0, 102.0, 96.0, 101.0, 1_200_000)]).isEmpty)
    }

    @Test func `the classic variant wants low volume for No Demand, the spec high volume`() {
        var classic = VSADetector.Configuration()
        classic.variant = .classic
        let base = quiet(60, price: 100, drift: 0.1)
        let last = base.last!.3
        // An up close on a narrow bar with less volume than either of the two before, closing in its lower half.
        let bar = (last, last + 0.5, last + 0.0, last + 0.1, 500_000.0)
        let rows = base + [bar]
        #expect(patterns(VSADetector(event: .noDemand, configuration: classic), rows).map(\.pattern) == ["No_Demand"])
        #expect(patterns(VSADetector(event: .noDemand), rows).isEmpty)
        // A zero-volume bar is never a low-volume event.
        #expect(patterns(VSADetector(event: .noDemand, configuration: classic), base + [(last, last + 0.5, last, last + 0.1, 0)]).isEmpty)
    }
}

@Suite struct ChartFixtures {
    @Test func `Volume_Spike over 2× the prior 20-bar mean, not at 2×`() {
        let base = quiet(25)
        #expect(patterns(VolumeSpikeDetector(), base + [(100, 102, 99, 101.5, 2_100_000)]).map(\.direction) == [1])
        #expect(patterns(VolumeSpikeDetector(), base + [(100, 102, 99, 101.5, 2_000_000)]).isEmpty)
        #expect(patterns(VolumeSpikeDetector(), base + [(100, 100.5, 97, 98, 2_500_000)]).map(\.direction) == [-1], "a down spike")
        var early = quiet(25)
        early[15] = (100, 102, 99, 101.5, 5_000_000)  // fewer than 20 bars before it: no mean to compare with
        #expect(patterns(VolumeSpikeDetector(), Array(early.prefix(16))).isEmpty)
    }

    @Test func `Gap_Fill fires when the gap up is fully closed, not before`() {
        let base = quiet(20)  // highs 101
        let gap = (103.0, 104.0, 102.5, 103.5, 1_000_000.0)  // low 102.5 > 101: 1.5% gap
        let partial = (103.0, 103.2, 101.5, 102.0, 1_000_000.0)
        let fill = (102.0, 102.2, 100.8, 101.0, 1_000_000.0)
        #expect(patterns(GapFillDetector(), base + [gap, partial]).isEmpty)
        let found = patterns(GapFillDetector(), base + [gap, partial, fill])
        #expect(found.count == 1 && found[0].barIndex == 22 && found[0].levels["support"] == 101)
        // A 0.2% gap is too small.
        #expect(patterns(GapFillDetector(), base + [(101.2, 101.8, 101.2, 101.5, 1_000_000), fill]).isEmpty)
    }

    @Test func `Momentum_Shift when RSI crosses 50, both ways`() {
        let falling = (0..<20).map { index -> (Double, Double, Double, Double, Double) in
            let price = 120 - Double(index)
            return (price + 0.5, price + 1, price - 1, price, 1_000_000)
        }
        let rising = (0..<10).map { index -> (Double, Double, Double, Double, Double) in
            let price = 101 + 2 * Double(index)
            return (price - 0.5, price + 1, price - 1, price, 1_000_000)
        }
        let found = patterns(MomentumShiftDetector(), falling + rising)
        #expect(found.map(\.direction) == [1])
        let context = DetectionContext(bars: fixture(falling + rising))
        let t = found[0].barIndex
        #expect(context.rsi14[t - 1] < 50 && context.rsi14[t] >= 50)
        let fallingAgain = (0..<10).map { index -> (Double, Double, Double, Double, Double) in
            let price = 119 - 2 * Double(index)
            return (price + 0.5, price + 1, price - 1, price, 1_000_000)
        }
        #expect(patterns(MomentumShiftDetector(), falling + rising + fallingAgain).map(\.direction) == [1, -1])
        #expect(patterns(MomentumShiftDetector(), falling + quiet(10, price: 101)).allSatisfy { $0.direction != 1 } , "a pause below 50 is no shift up")
    }

    @Test func `Weekly_Breakout: a close above the 5-bar channel on 1.5× volume, once`() {
        let base = quiet(25)
        let breakout = (101.0, 103.0, 100.8, 102.5, 1_600_000.0)
        let follow = (102.5, 104.0, 102.0, 103.5, 1_600_000.0)
        #expect(patterns(WeeklyBreakoutDetector(), base + [breakout, follow]).map(\.barIndex) == [25])
        #expect(patterns(WeeklyBreakoutDetector(), base + [(101.0, 103.0, 100.8, 102.5, 1_400_000)]).isEmpty)
        #expect(patterns(WeeklyBreakoutDetector(), base + [(100.0, 101.5, 99.5, 100.9, 2_000_000)]).isEmpty)
    }

    @Test func `Weekly_Breakout, weekly variant: a week closing above the 4 weeks before, known on the next week's first bar`() {
        var weekly = WeeklyBreakoutDetector.Configuration()
        weekly.weekly = true
        let detector = WeeklyBreakoutDetector(configuration: weekly)
        // Consecutive days from day 19,000 (a Monday-based week starts where (day + 3) % 7 == 0).
        let firstMonday = (0..<7).first { (19_000 + $0 + 3) % 7 == 0 }!
        var rows = quiet(firstMonday + 35)  // five whole weeks, highs 101
        let breakoutWeek = rows.count
        rows += (0..<7).map { i in (101, 103, 100.5, i == 6 ? 102.5 : 101, 1_000_000) }  // closes the week at 102.5 > 101
        let found = patterns(detector, rows + quiet(2))
        #expect(found.map(\.barIndex) == [breakoutWeek + 6] && found.map(\.detectedIndex) == [breakoutWeek + 7])
        #expect(found.first?.levels["resistance"] == 101)
        #expect(patterns(detector, rows).isEmpty, "the week is not known to be complete before the next one starts")
        var inside = rows
        inside[breakoutWeek + 6] = (101, 103, 100.5, 100.9, 1_000_000)  // the high pokes out, the close does not
        #expect(patterns(detector, inside + quiet(2)).isEmpty)
    }

    /// Two pivot lows at 95 (bars 10 and 25), then a bar dipping to 95.2 and closing above.
    func doubleSupport() -> [(Double, Double, Double, Double, Double)] {
        var rows = quiet(40)
        for pivot in [10, 25] { rows[pivot] = (99.0, 100.0, 95.0, 99.5, 1_000_000) }
        return rows + [(99.0, 100.0, 95.2, 99.0, 1_000_000)]
    }

    @Test func `Support_Test needs two touches of a confirmed pivot low`() {
        let found = patterns(SupportTestDetector(), doubleSupport())
        #expect(found.map(\.barIndex) == [40])
        #expect(found.first?.levels["support"] == 95)
        var single = doubleSupport()
        single[10] = quiet(11)[10]
        #expect(patterns(SupportTestDetector(), single).isEmpty)
        var broken = doubleSupport()
        broken[40] = (99.0, 100.0, 94.0, 94.5, 1_000_000)  // closes below: a break, not a test
        #expect(patterns(SupportTestDetector(), broken).isEmpty)
    }

    @Test func `Resistance_Break: a close 1% over a twice-touched pivot high on 1.5× volume`() {
        var rows = quiet(40)
        for pivot in [10, 25] { rows[pivot] = (100.5, 105.0, 100.0, 101.0, 1_000_000) }
        let found = patterns(ResistanceBreakDetector(), rows + [(101.0, 107.0, 100.5, 106.2, 1_800_000)])
        #expect(found.map(\.barIndex) == [40] && found[0].levels["resistance"] == 105)
        #expect(patterns(ResistanceBreakDetector(), rows + [(101.0, 107.0, 100.5, 106.2, 1_400_000)]).isEmpty)
        #expect(patterns(ResistanceBreakDetector(), rows + [(101.0, 106.0, 100.5, 105.8, 1_800_000)]).isEmpty)
    }

    @Test func `Reversal_Signal: a bullish engulfing after a decline, not after a rise`() {
        let decline = (0..<15).map { index -> (Double, Double, Double, Double, Double) in
            let price = 120 - Double(index)
            return (price + 0.5, price + 1, price - 1, price, 1_000_000)
        }
        let last = decline.last!.3
        let engulfing = (last - 0.8, last + 1.5, last - 1, last + 1.2, 1_000_000.0)
        #expect(patterns(ReversalSignalDetector(), decline + [engulfing]).map(\.direction) == [1])
        let rise = (0..<15).map { index -> (Double, Double, Double, Double, Double) in
            let price = 100 + Double(index)
            return (price + 0.5, price + 1, price - 1, price, 1_000_000)
        }
        let top = rise.last!.3
        #expect(patterns(ReversalSignalDetector(), rise + [(top - 0.8, top + 1.5, top - 1, top + 1.2, 1_000_000)]).allSatisfy { $0.direction != 1 })
    }
}

@Suite(.enabled(if: Golden.isPresent, "needs ../shared/data")) struct DetectorProperties {
    static let symbols = ["AAPL", "BIIB", "HUBB", "XOM", "NVDA"]

    // The heavy property tests yield between steps so that, run in parallel with timing-sensitive async tests on a
    // 2-core box, they never hold a cooperative thread for seconds.
    @Test(arguments: symbols) func `no look-ahead: appending bars never changes or removes an earlier detection`(symbol: String) async throws {
        let bars = try Golden.bars(symbol)
        let spy = try Golden.bars("SPY")
        let full = DetectorRegistry.standard.detect(in: DetectionContext(bars: bars, benchmark: spy))
        for cut in stride(from: 60, to: bars.count, by: 97) {
            await Task.yield()
            let partial = DetectorRegistry.standard.detect(in: DetectionContext(bars: bars.prefix(cut), benchmark: spy))
            let expected = full.filter { $0.detectedIndex < cut }
            #expect(partial.count == expected.count, "\(symbol) cut \(cut)")
            let key = { (d: Detection) in "\(d.pattern)@\(d.barIndex)/\(d.detectedIndex)" }
            #expect(Set(partial.map(key)) == Set(expected.map(key)), "\(symbol) cut \(cut)")
            for detection in partial {
                let same = expected.first { key($0) == key(detection) }
                #expect(same == detection, "\(symbol) cut \(cut): \(key(detection)) changed")
            }
        }
    }

    /// Sharper for the rare patterns: every detection of the pivot-based and Wyckoff detectors over every fourth symbol is
    /// already made, unchanged, by the bars that end on its detection bar, and those bars make nothing the full series
    /// does not.
    @Test func `every rare detection is made by the bars up to its detection bar, and nothing else is`() async throws {
        let registry = try DetectorRegistry.standard.selecting([
            "bull_flag", "trendline_hold", "ascending_triangle", "resistance_break", "wyckoff",
        ])
        let symbols = try Golden.symbols().enumerated().filter { $0.offset % 4 == 0 }.map(\.element)
        var checked = 0
        for symbol in symbols {
            let bars = try Golden.bars(symbol)
            let full = registry.detect(in: DetectionContext(bars: bars))
            for cut in Set(full.map { $0.detectedIndex + 1 }).sorted() {
                await Task.yield()
                let partial = registry.detect(in: DetectionContext(bars: bars.prefix(cut)))
                let expected = full.filter { $0.detectedIndex < cut }
                #expect(partial == expected, "\(symbol) up to bar \(cut - 1)")
                checked += 1
            }
        }
        #expect(checked > 500, "enough detections to mean something (\(checked) cuts)")
    }

    @Test func `the quirky bars (BIIB 2023-06-09, HUBB 2021-05-05), flat, gapped and empty series never crash`() throws {
        let registry = DetectorRegistry.standard
        for symbol in ["BIIB", "HUBB"] {
            let bars = try Golden.bars(symbol)
            for detection in registry.detect(in: DetectionContext(bars: bars)) {
                #expect((0...1).contains(detection.confidence) && detection.price.isFinite)
            }
        }
        let biib = try Golden.bars("BIIB")
        let bad = try #require(biib.days.firstIndex(of: Timestamp.day(iso: "2023-06-09")!))
        #expect(biib.volume[bad] == 0)
        let vsa = registry.detect(in: DetectionContext(bars: biib)).filter { $0.pattern.hasPrefix("No_") && $0.detectedIndex == bad }
        #expect(vsa.isEmpty, "the zero-volume bar is not a VSA event")
        let flat = fixture(Array(repeating: (10, 10, 10, 10, 0), count: 80))
        _ = registry.detect(in: DetectionContext(bars: flat))
        for length in 0..<30 { _ = registry.detect(in: DetectionContext(bars: fixture(quiet(length)))) }
        var gapped = quiet(80)
        for index in stride(from: 5, to: 80, by: 7) { gapped[index] = (150, 160, 140, 155, 0) }
        _ = registry.detect(in: DetectionContext(bars: fixture(gapped)))
    }

    @Test func `the registry finds detectors by name and family and names the unknown ones`() throws {
        let registry = DetectorRegistry.standard
        #expect(registry.detector(named: "cdlhammer")?.family == .candlestick)
        #expect(try registry.selecting(["vsa"]).names == ["vsa_no_demand", "vsa_no_supply", "vsa_stopping_volume"])
        #expect(throws: DetectorRegistry.UnknownDetectors(names: ["nope"])) { try registry.selecting(["cdldoji", "nope"]) }
        #expect(Set(registry.names).count == registry.names.count)
    }
}

@Suite(.enabled(if: Golden.isPresent, "needs ../shared/data")) struct BarReplayProperties {
    func replay(replayDays: Int) throws -> (BarReplay, [String: [Detection]]) {
        let spy = try Golden.bars("SPY")
        let xlk = try Golden.bars("XLK")
        let inputs = try ["AAPL", "NVDA", "XOM", "VLTO"].map { BarReplay.Input(bars: try Golden.bars($0), benchmark: spy, sectorBenchmark: xlk) }
        let full = Dictionary(uniqueKeysWithValues: inputs.map { input in
            (input.bars.symbol, DetectorRegistry.standard.detect(in: DetectionContext(bars: input.bars, benchmark: spy, sectorBenchmark: xlk)))
        })
        return (BarReplay(inputs: inputs, registry: .standard, calendar: spy.days, replayDays: replayDays), full)
    }

    func key(_ detection: Detection) -> String { "\(detection.symbol) \(detection.pattern)@\(detection.barDay)/\(detection.detectedDay)" }

    @Test func `each replayed day yields exactly the detections the full series makes on that day`() async throws {
        let (replay, full) = try replay(replayDays: 30)
        #expect(replay.start == 757 - 30 && replay.replayDays == 30)
        var total = 0
        for position in stride(from: replay.start, to: replay.calendar.count, by: 3) {
            await Task.yield()
            let day = replay.calendar[position]
            let made = replay.detections(at: position)
            let expected = full.values.flatMap { $0.filter { $0.detectedDay == day } }
            #expect(made.map(key).sorted() == expected.map(key).sorted(), "day \(Timestamp.isoDay(day))")
            for detection in made {
                #expect(full[detection.symbol]?.contains(detection) == true, "\(key(detection)) has the full run's values")
            }
            total += made.count
        }
        #expect(total > 20)
    }

    @Test func `the warm-up holds the detections of the days before the replay and none after`() throws {
        let (replay, full) = try replay(replayDays: 30)
        let first = replay.calendar[replay.start - 20]
        let end = replay.calendar[replay.start]
        let history = replay.history(days: 20)
        let expected = full.values.flatMap { $0.filter { $0.detectedDay >= first && $0.detectedDay < end } }
        #expect(history.map(key).sorted() == expected.map(key).sorted())
        #expect(history.count > 50)
        #expect(zip(history, history.dropFirst()).allSatisfy { $0.detectedDay <= $1.detectedDay }, "oldest first")
    }
}

@Suite struct BarFileParsing {
    @Test func `reads LF and CRLF files alike, skipping blank lines`() throws {
        let unix = "Date,Open,High,Low,Close,Volume\n2024-03-07,1,2,0.5,1.5,100\n2024-03-08,1.5,2.5,1,2,200\n"
        let windows = unix.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n"
        let a = try BarSeries.parseCSV(symbol: "X", text: unix)
        #expect(a == (try BarSeries.parseCSV(symbol: "X", text: windows)))
        #expect(a.days == [Timestamp.day(iso: "2024-03-07")!, Timestamp.day(iso: "2024-03-08")!] && a.close == [1.5, 2] && a.volume == [100, 200])
        #expect(try BarSeries.parseCSV(symbol: "X", text: "date,open,high,low,close,volume").count == 0)
    }

    @Test(arguments: [
        ("", BarSeries.ParseError.header("an empty file")),
        ("Date,Open,High,Low,Close\n", .header("Date,Open,High,Low,Close")),
        ("Date,Open,High,Low,Close,Volume\n2024-03-07,1,2,0.5,1.5\n", .row(line: 2, reason: "expected 6 fields, found 5")),
        ("Date,Open,High,Low,Close,Volume\n2024-03-07,1,2,0.5,1.5,100\n2024-02-30,1,2,0.5,1.5,100\n", .row(line: 3, reason: "bad date 2024-02-30")),
        ("Date,Open,High,Low,Close,Volume\n2024-03-07,1,2,x,1.5,100\n", .row(line: 2, reason: "bad number x")),
        ("Date,Open,High,Low,Close,Volume\n2024-03-07,1,2,0.5,-1.5,100\n", .row(line: 2, reason: "bad number -1.5")),
        ("Date,Open,High,Low,Close,Volume\n2024-03-07,1,2,0.5,1.5,nan\n", .row(line: 2, reason: "bad number nan")),
        ("Date,Open,High,Low,Close,Volume\n2024-03-08,1,2,0.5,1.5,100\n\n2024-03-08,1,2,0.5,1.5,100\n", .row(line: 4, reason: "dates must ascend (2024-03-08)")),
    ])
    func `a bad file is an error that names the line and the problem`(text: String, error: BarSeries.ParseError) {
        #expect(throws: error) { try BarSeries.parseCSV(symbol: "X", text: text) }
    }
}

@Test func `isoDay writes YYYY-MM-DD for any day, and day(iso:) reads it back`() {
    for day in stride(from: Int32(-719_162), through: 2_932_896, by: 997) {
        let text = Timestamp.isoDay(day)
        #expect(text == String(Timestamp.iso8601(EpochMillis(day) * 86_400_000).prefix(10)))
        #expect(Timestamp.day(iso: text) == day)
    }
}
