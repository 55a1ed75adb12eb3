/// Wyckoff accumulation events (domain.md §5, thresholds from `jthadison/bmad4_wyck_vol`), found by one forward pass
/// over the bars that only ever looks at bars up to the current one. `vr` = V / mean(V of the 20 bars before);
/// `spread ratio` = (H − L) / mean(H − L of the 20 bars before); `closePos` = (C − L)/(H − L).
///
/// The pass moves through the phases of a trading range:
/// - **SC** `Selling_Climax` (phase A), while seeking: vr ≥ 2.0 ∧ spread ratio ≥ 1.5 ∧ closePos ≥ 0.5 ∧ C < C₋₁, after a
///   decline (C₋₁ < C₋₂₁, `requireDecline`). Confidence = 0.5 + 0.25 × min((vr − 2)/2, 1) + 0.25 × min((closePos −
///   0.5)/0.2, 1).
/// - **PS** `Preliminary_Support`, reported with the SC that it preceded: the bar 5–20 bars before the SC with the
///   highest volume among those with V > 1.5 × mean(V of the 50 bars before the SC), C < C₋₁, closePos > 0.5 and the
///   next bar's low ≥ its low. Detected on the SC bar. Confidence = 0.5 + 0.5 × min((V/mean − 1.5)/1.5, 1).
/// - **AR** `Automatic_Rally`: the highest High within 5 bars after the SC (known 5 bars after it) when it is ≥ 3% above
///   the SC low, otherwise within 10 bars (the timeout, known 10 bars after); neither: the range is abandoned.
///   Confidence = 0.5 + 0.5 × min((gain − 3%)/7%, 1), 0.1 less on the timeout.
/// - **ST** `Secondary_Test` (phase B): the first bar within 40 bars after the AR with |L − SC low|/SC low ≤ 2%,
///   V ≤ 0.9 × V(SC) and L ≥ 0.99 × SC low. None: the range is abandoned. Confidence = 0.5 + 0.5 × min(1 − V/V(SC), 1).
/// - The range: Creek = the SC low, Ice = the AR high. A close below 0.95 × Creek, or `rangeBars` after the AR with no
///   SOS, ends it.
/// - **Spring** (phase C, after the ST, before any Spring): 0 < (Creek − L)/Creek ≤ 5% ∧ vr < 0.7, and a close back
///   above the Creek on that bar or within 5 bars (the detection bar). Confidence = 0.6 + 0.2 × (1 − vr/0.7) + 0.2 when
///   it closed back on the same bar (0.1 otherwise).
/// - **UTAD** `Upthrust_After_Distribution` (after the ST): Ice × 1.005 ≤ H ≤ Ice × 1.01 ∧ vr > 1.5, and a close below
///   the Ice on that bar or within 3 bars. Confidence = 0.6 + 0.2 × min((vr − 1.5)/1.5, 1) + 0.2 (same bar) or 0.1.
/// - **SOS** `Sign_Of_Strength` (after the ST): C ≥ 1.01 × Ice ∧ vr ≥ 1.5; the range ends (markup). Tiers in the
///   `tier` level: 1 for vr 1.5–2.0 (confidence 0.6), 2 for 2.0–2.5 (0.75), 3 for ≥ 2.5 (0.9).
///
/// Each event is its own registry entry (`wyckoff_sc`, …) over the same pass (run once per context and configuration),
/// so they can be selected one by one.
public struct WyckoffDetector: Detector {
    public enum Event: String, Sendable, CaseIterable {
        case preliminarySupport = "ps", sellingClimax = "sc", automaticRally = "ar", secondaryTest = "st", spring, utad, sos

        public var patternName: String {
            switch self {
            case .preliminarySupport: "Preliminary_Support"
            case .sellingClimax: "Selling_Climax"
            case .automaticRally: "Automatic_Rally"
            case .secondaryTest: "Secondary_Test"
            case .spring: "Spring"
            case .utad: "Upthrust_After_Distribution"
            case .sos: "Sign_Of_Strength"
            }
        }
    }

    public struct Configuration: Sendable, Hashable {
        public var climaxVolumeRatio = 2.0
        public var climaxSpreadRatio = 1.5
        public var climaxClosePosition = 0.5
        public var requireDecline = true
        public var preliminaryVolumeRatio = 1.5
        public var rallyGain = 0.03
        public var rallyBars = 5
        public var rallyTimeoutBars = 10
        public var testBars = 40
        public var testDistance = 0.02
        public var testVolumeCut = 0.10
        public var testPenetration = 0.01
        public var rangeBars = 120
        public var springPenetration = 0.05
        public var springVolumeRatio = 0.7
        public var springRecoveryBars = 5
        public var upthrustRange = 0.005...0.01
        public var upthrustVolumeRatio = 1.5
        public var upthrustFailBars = 3
        public var strengthBreakout = 0.01
        public var strengthVolumeRatio = 1.5
        public init() {}
    }

    public let event: Event
    public var configuration = Configuration()
    public init(event: Event, configuration: Configuration = Configuration()) {
        self.event = event
        self.configuration = configuration
    }

    public var name: String { "wyckoff_\(event.rawValue)" }
    public var family: DetectorFamily { .wyckoff }
    public var lookback: Int { 21 }

    public func detect(in context: DetectionContext) -> [Detection] {
        // One pass serves all seven events.
        context.shared(configuration) { Self.pass(context, configuration) }.filter { $0.pattern == event.patternName }
    }

    enum Phase {
        case seeking
        /// After the SC, waiting for the AR.
        case climax(sc: Int)
        /// After the AR, waiting for the ST.
        case rally(sc: Int, ar: Int)
        /// After the ST: the range is set; springs, upthrusts and the SOS can come.
        case range(sc: Int, ar: Int, sprung: Bool)
    }

    /// Every event of the pass, in detection order.
    static func pass(_ context: DetectionContext, _ c: Configuration) -> [Detection] {
        let bars = context.bars
        let vr = context.relativeVolume20
        let spread = (0..<bars.count).map { bars.high[$0] - bars.low[$0] }
        let spreadMean = Indicators.priorMean(spread, period: 20)
        func closePosition(_ i: Int) -> Double { spread[i] > 0 ? (bars.close[i] - bars.low[i]) / spread[i] : 0.5 }
        var found: [Detection] = []
        var phase = Phase.seeking
        // Spring and upthrust candidates waiting for their close back inside the range.
        var pendingSpring: Int?
        var pendingUpthrust: Int?
        for t in bars.indices(from: 21) {
            switch phase {
            case .seeking:
                let ratio = spreadMean[t] > 0 ? spread[t] / spreadMean[t] : .nan
                guard !vr[t].isNaN, vr[t] >= c.climaxVolumeRatio, ratio >= c.climaxSpreadRatio,
                    closePosition(t) >= c.climaxClosePosition, bars.close[t] < bars.close[t - 1],
                    !c.requireDecline || bars.close[t - 1] < bars.close[t - 21]
                else { continue }
                if let ps = preliminarySupport(before: t, bars, c) {
                    found.append(
                        context.detection(
                            Event.preliminarySupport.patternName, at: ps.index, detectedAt: t, confidence: 0.5 + 0.5 * min((ps.ratio - 1.5) / 1.5, 1),
                            direction: 1, levels: ["support": bars.low[ps.index]]))
                }
                let confidence = 0.5 + 0.25 * min((vr[t] - 2) / 2, 1) + 0.25 * min((closePosition(t) - 0.5) / 0.2, 1)
                found.append(context.detection(Event.sellingClimax.patternName, at: t, confidence: confidence, direction: 1, levels: ["support": bars.low[t]]))
                phase = .climax(sc: t)
            case .climax(let sc):
                let elapsed = t - sc
                guard elapsed == c.rallyBars || elapsed == c.rallyTimeoutBars else { continue }
                var ar = sc + 1
                for i in (sc + 1)...t where bars.high[i] > bars.high[ar] { ar = i }
                let gain = bars.high[ar] / bars.low[sc] - 1
                if gain >= c.rallyGain {
                    let confidence = 0.5 + 0.5 * min((gain - c.rallyGain) / 0.07, 1) - (elapsed == c.rallyBars ? 0 : 0.1)
                    found.append(
                        context.detection(
                            Event.automaticRally.patternName, at: ar, detectedAt: t, confidence: confidence, direction: 1,
                            levels: ["support": bars.low[sc], "resistance": bars.high[ar]]))
                    phase = .rally(sc: sc, ar: ar)
                } else if elapsed == c.rallyTimeoutBars {
                    phase = .seeking
                }
            case .rally(let sc, let ar):
                // Bars between the AR and its detection are already known, so the test may lie among them.
                let creek = bars.low[sc]
                var test: Int?
                for i in (ar + 1)...t {
                    guard i - ar <= c.testBars else { break }
                    if abs(bars.low[i] - creek) / creek <= c.testDistance, bars.volume[i] <= (1 - c.testVolumeCut) * bars.volume[sc],
                        bars.low[i] >= creek * (1 - c.testPenetration)
                    {
                        test = i
                        break
                    }
                }
                if let test {
                    let confidence = 0.5 + 0.5 * min(1 - bars.volume[test] / bars.volume[sc], 1)
                    found.append(
                        context.detection(
                            Event.secondaryTest.patternName, at: test, detectedAt: t, confidence: confidence, direction: 1,
                            levels: ["support": creek, "resistance": bars.high[ar]]))
                    phase = .range(sc: sc, ar: ar, sprung: false)
                } else if t - ar >= c.testBars || bars.close[t] < creek * (1 - c.springPenetration) {
                    phase = .seeking
                }
            case .range(let sc, let ar, let sprung):
                let creek = bars.low[sc]
                let ice = bars.high[ar]
                let levels = ["support": creek, "resistance": ice]
                if bars.close[t] < creek * (1 - c.springPenetration) || t - ar > c.rangeBars {
                    (phase, pendingSpring, pendingUpthrust) = (.seeking, nil, nil)
                    continue
                }
                if bars.close[t] >= ice * (1 + c.strengthBreakout), !vr[t].isNaN, vr[t] >= c.strengthVolumeRatio {
                    let tier = vr[t] >= 2.5 ? 3.0 : vr[t] >= 2.0 ? 2 : 1
                    var strength = levels
                    strength["tier"] = tier
                    strength["stop"] = ice
                    found.append(
                        context.detection(Event.sos.patternName, at: t, confidence: [0.6, 0.75, 0.9][Int(tier) - 1], direction: 1, levels: strength))
                    (phase, pendingSpring, pendingUpthrust) = (.seeking, nil, nil)
                    continue
                }
                if !sprung {
                    if pendingSpring == nil, bars.low[t] < creek, bars.low[t] >= creek * (1 - c.springPenetration), !vr[t].isNaN,
                        vr[t] < c.springVolumeRatio
                    {
                        pendingSpring = t
                    }
                    if let spring = pendingSpring {
                        if bars.close[t] > creek {
                            let confidence = 0.6 + 0.2 * (1 - vr[spring] / c.springVolumeRatio) + (spring == t ? 0.2 : 0.1)
                            var springLevels = levels
                            springLevels["stop"] = bars.low[spring]
                            found.append(
                                context.detection(Event.spring.patternName, at: spring, detectedAt: t, confidence: confidence, direction: 1, levels: springLevels))
                            pendingSpring = nil
                            phase = .range(sc: sc, ar: ar, sprung: true)
                        } else if t - spring >= c.springRecoveryBars {
                            pendingSpring = nil
                        }
                    }
                }
                let poke = bars.high[t] / ice - 1
                if pendingUpthrust == nil, c.upthrustRange.contains(poke), !vr[t].isNaN, vr[t] > c.upthrustVolumeRatio {
                    pendingUpthrust = t
                }
                if let upthrust = pendingUpthrust {
                    if bars.close[t] < ice {
                        let confidence = 0.6 + 0.2 * min((vr[upthrust] - c.upthrustVolumeRatio) / c.upthrustVolumeRatio, 1) + (upthrust == t ? 0.2 : 0.1)
                        var upthrustLevels = levels
                        upthrustLevels["stop"] = bars.high[upthrust]
                        found.append(
                            context.detection(
                                Event.utad.patternName, at: upthrust, detectedAt: t, confidence: confidence, direction: -1, levels: upthrustLevels))
                        pendingUpthrust = nil
                    } else if t - upthrust >= c.upthrustFailBars {
                        pendingUpthrust = nil
                    }
                }
            }
        }
        return found
    }

    /// The PS before an SC at `sc`, with its volume over the 50-bar mean.
    static func preliminarySupport(before sc: Int, _ bars: BarSeries, _ c: Configuration) -> (index: Int, ratio: Double)? {
        let start = max(0, sc - 50)
        guard sc - start >= 20 else { return nil }
        let mean = bars.volume[start..<sc].reduce(0, +) / Double(sc - start)
        guard mean > 0 else { return nil }
        var best: (index: Int, ratio: Double)?
        for j in max(1, sc - 20)...(sc - 5) {
            let ratio = bars.volume[j] / mean
            let range = bars.high[j] - bars.low[j]
            guard ratio > c.preliminaryVolumeRatio, bars.close[j] < bars.close[j - 1], range > 0,
                (bars.close[j] - bars.low[j]) / range > 0.5, bars.low[j + 1] >= bars.low[j]
            else { continue }
            if best == nil || ratio > best!.ratio { best = (j, ratio) }
        }
        return best
    }
}
