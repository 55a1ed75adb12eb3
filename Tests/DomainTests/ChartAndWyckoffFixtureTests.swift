import Domain
import Testing

typealias Row = (Double, Double, Double, Double, Double)

@Suite struct ChartPatternFixtures {
    /// 40 quiet bars at 100 with a pivot low of 98 on bar 39, a 10-bar pole to a 130.5 high (bar 49) on 2× volume,
    /// then six flag bars drifting down to 126 on light volume.
    func bullFlag(flagLow: Double = 0.5, flagVolume: Double = 600_000, poleStep: Double = 3, flagBars: Int = 6) -> [Row] {
        var rows = quiet(40)
        rows[39] = (99.5, 100.5, 98, 100, 1_000_000)
        for j in 1...10 {
            let open = 100 + poleStep * Double(j - 1)
            let close = 100 + poleStep * Double(j)
            rows.append((open, close + 0.5, open - 0.5, close, 2_000_000))
        }
        let top = rows.last!.3
        for j in 1...flagBars {
            let close = top - 1 - 0.5 * Double(j - 1)
            rows.append((close + 0.3, close + 0.6, close - flagLow, close, flagVolume))
        }
        return rows
    }

    @Test func `Bull_Flag: a 30% pole, a shallow flag on light volume, five bars after the high`() {
        let found = patterns(BullFlagDetector(), bullFlag())
        #expect(found.map(\.barIndex) == [54], "fires once, five bars after the flag high")
        let flag = found.first
        #expect(flag?.levels["resistance"] == 130.5 && flag?.levels["target"] == 130.5 + (130.5 - 98))
        #expect(patterns(BullFlagDetector(), bullFlag(flagLow: 14)).isEmpty, "the flag retraces past 50% of the pole")
        #expect(patterns(BullFlagDetector(), bullFlag(flagVolume: 3_000_000)).isEmpty, "the flag trades heavier than the pole")
        #expect(patterns(BullFlagDetector(), bullFlag(flagBars: 4)).isEmpty, "only four bars after the high")
        #expect(patterns(BullFlagDetector(), bullFlag(poleStep: 0.6)).isEmpty, "a 6% pole: no trend, no flag")
    }

    /// A line rising 0.2 a bar through pivot lows on bars 10, 30 and 50, quiet bars 10 above it, then bar 70 dipping to
    /// the line and closing above it.
    func trendline(touches: Int = 3, lastClose: Double = 110, breakAt60: Bool = false) -> [Row] {
        var rows: [Row] = (0..<70).map { i in
            let base = 100 + 0.2 * Double(i)
            let up = i % 2 == 0
            return (up ? base - 0.2 : base + 0.2, base + 1, base - 1, up ? base + 0.2 : base - 0.2, 1_000_000)
        }
        for i in [10, 30, 50].prefix(touches) {
            let line = 90 + 0.2 * Double(i)
            rows[i] = (line + 9, line + 11, line, line + 9.5, 1_000_000)
        }
        if breakAt60 { rows[60] = (102.5, 103, 100.9, 101, 1_000_000) }
        return rows + [(108, 110.5, 104.2, lastClose, 1_000_000)]
    }

    @Test func `Trendline_Hold: a bar that dips to a thrice-touched rising line and closes above it`() {
        let found = patterns(TrendlineHoldDetector(), trendline())
        #expect(found.map(\.barIndex) == [70])
        #expect(abs((found.first?.levels["support"] ?? 0) - 104) < 1e-9)
        #expect(patterns(TrendlineHoldDetector(), trendline(touches: 2)).isEmpty, "two touches make a line, not a trend line")
        #expect(patterns(TrendlineHoldDetector(), trendline(lastClose: 103.5)).isEmpty, "closes below the line: a break")
        #expect(patterns(TrendlineHoldDetector(), trendline(breakAt60: true)).isEmpty, "the line was already broken on bar 60")
    }

    /// Quiet bars at 106 (range 105–107), pivot highs A, C, E on bars 10, 30, 50 and pivot lows B (bar 20), D (bar 40),
    /// then a breakout bar 60.
    func triangle(tops: (Double, Double, Double) = (110, 110, 110), lows: (Double, Double) = (100, 104), breakout: Row = (107, 112.5, 106.5, 112, 2_000_000))
        -> [Row]
    {
        var rows = quiet(60, price: 106)
        for (index, top) in [(10, tops.0), (30, tops.1), (50, tops.2)] { rows[index] = (106, top, 105, 106.5, 1_000_000) }
        for (index, low) in [(20, lows.0), (40, lows.1)] { rows[index] = (106, 107, low, 105.5, 1_000_000) }
        return rows + [breakout]
    }

    @Test func `Ascending_Triangle: flat tops, rising lows, a close above the top on 1.5× volume`() {
        let found = patterns(AscendingTriangleDetector(), triangle())
        #expect(found.map(\.barIndex) == [60])
        #expect(found.first?.levels["resistance"] == 110 && found.first?.levels["support"] == 104)
        #expect(patterns(AscendingTriangleDetector(), triangle(lows: (104, 100))).isEmpty, "falling lows")
        #expect(patterns(AscendingTriangleDetector(), triangle(breakout: (107, 112.5, 106.5, 112, 1_200_000))).isEmpty, "no volume")
        #expect(
            patterns(AscendingTriangleDetector(), triangle(tops: (110, 114, 110), breakout: (107, 115.5, 106.5, 115, 2_000_000))).isEmpty,
            "the tops are not flat")
    }
}

@Suite struct WyckoffFixtures {
    /// A 30-bar decline from 130 with preliminary support on bar 20, a selling climax on bar 30 (low 94), an automatic
    /// rally to 103 (bar 33), a secondary test (bar 37), a quiet range at 98, a spring on bar 60 and a sign of strength
    /// on bar 70.
    func accumulation(
        climaxVolume: Double = 3_000_000, springVolume: Double = 500_000, rallyHigh: Double = 103, decline: Bool = true,
        preliminaryVolume: Double = 1_800_000, testVolume: Double = 900_000, strengthVolume: Double = 2_200_000
    ) -> [Row] {
        var rows: [Row] = (0..<30).map { i in
            let close = decline ? 130 - Double(i) : 70 + Double(i)
            return (close + 0.5, close + 1, close - 1, close, 1_000_000)
        }
        rows[20] = decline ? (111, 111, 107, 110, preliminaryVolume) : rows[20]
        rows.append((100, 100.5, 94, 97.5, climaxVolume))
        let rally = rallyHigh - 1
        rows += [(97.5, 99.5, 97, 99, 1_200_000), (99, 101.5, 98.5, 101, 1_200_000), (101, rallyHigh, 100.5, rally, 1_200_000)]
        rows += [(rally, rally + 0.5, 99.5, 100, 1_000_000), (100, 100.5, 98.5, 99, 1_000_000)]
        rows += [(99, 99.5, 97.5, 98, 1_000_000), (98, 98.5, 94.5, 96, testVolume)]
        rows += quiet(22, price: 98)
        rows.append((97, 97.5, 92.5, 95, springVolume))
        rows += quiet(9, price: 98)
        rows.append((99, 105.5, 98.5, 105, strengthVolume))
        if rallyHigh < 103 {
            // Ten bars after the climax that never get 3% above its low.
            for i in 31...40 { rows[i] = (rallyHigh - 0.8, rallyHigh, rallyHigh - 1.5, rallyHigh - 0.5, 1_000_000) }
        }
        return rows
    }

    func events(_ rows: [Row]) throws -> [String] {
        try DetectorRegistry.standard.selecting(["wyckoff"]).detect(in: DetectionContext(bars: fixture(rows))).map { "\($0.pattern)@\($0.barIndex)" }
    }

    @Test func `an accumulation range: PS, SC, AR, ST, Spring and SOS, in order and on their bars`() throws {
        let found = try DetectorRegistry.standard.selecting(["wyckoff"]).detect(in: DetectionContext(bars: fixture(accumulation())))
        #expect(
            found.map { "\($0.pattern)@\($0.barIndex)/\($0.detectedIndex)" } == [
                "Preliminary_Support@20/30", "Selling_Climax@30/30", "Automatic_Rally@33/35", "Secondary_Test@37/37", "Spring@60/60",
                "Sign_Of_Strength@70/70",
            ])
        let sos = try #require(found.last)
        #expect(sos.levels["resistance"] == 103 && sos.levels["support"] == 94 && sos.levels["tier"] == 2)
    }

    @Test func `near misses: a weak climax, no prior decline, a spring on volume, a rally under 3%`() throws {
        #expect(try events(accumulation(climaxVolume: 1_900_000)).isEmpty, "vr 1.9 is no climax, and nothing follows")
        #expect(try events(accumulation(decline: false)).isEmpty, "a climax needs a decline before it")
        let heavySpring = try events(accumulation(springVolume: 1_000_000))
        #expect(!heavySpring.contains { $0.hasPrefix("Spring") } && heavySpring.contains("Sign_Of_Strength@70"))
        let weakRally = try events(accumulation(rallyHigh: 96.5))
        #expect(weakRally == ["Preliminary_Support@20", "Selling_Climax@30"], "no AR, so no range")
        #expect(try events(accumulation(preliminaryVolume: 1_400_000)).first == "Selling_Climax@30", "1.4× the mean is no PS")
        let heavyTest = try events(accumulation(testVolume: 2_800_000))
        #expect(!heavyTest.contains("Secondary_Test@37") && !heavyTest.contains("Spring@60"), "a test on climax volume is no ST")
        let weakBreak = try events(accumulation(strengthVolume: 1_400_000))
        #expect(!weakBreak.contains { $0.hasPrefix("Sign_Of_Strength") } && weakBreak.contains("Spring@60"), "vr 1.4: rejected outright")
    }

    @Test func `an upthrust that pokes 0.7% over the Ice on volume and closes back inside`() throws {
        var rows = accumulation()
        rows[65] = (100, 103.7, 99.5, 101, 2_000_000)
        #expect(try events(rows).contains("Upthrust_After_Distribution@65"))
        rows[65] = (100, 104.5, 99.5, 101, 2_000_000)
        #expect(try !events(rows).contains { $0.hasPrefix("Upthrust") }, "1.5% over the Ice is more than an upthrust")
    }
}
