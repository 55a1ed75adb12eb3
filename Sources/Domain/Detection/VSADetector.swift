/// Volume Spread Analysis events (domain.md §6).
///
/// `spec` (default, jthadison/bmad4_wyck_vol): averages over the 20 bars before bar i.
/// - No Demand: V > 1.5×avgV ∧ spread < 0.5×avgSpread ∧ C < O, in an uptrend (C₋₁ > SMA20₋₁).
/// - No Supply: the same with C > O, in a downtrend (C₋₁ < SMA20₋₁).
/// - Stopping Volume, on bar i about bar i−1: V₋₁ > 2.5×avgV₋₁ ∧ spread₋₁ > avgSpread₋₁ ∧ spread < spread₋₁, and the bar
///   direction flips.
/// `classic` (Tom Williams): narrow = spread < 0.7 × Wilder-average(spread, 30); two days' low volume = V < V₋₁ ∧ V < V₋₂.
/// - No Demand: C > C₋₁ ∧ narrow ∧ low volume ∧ close in the lower half. No Supply: C < C₋₁ ∧ narrow ∧ low volume.
/// - Stopping Volume: L is the 5-bar low ∧ close in the upper half ∧ V > 1.5×SMA(V,30) ∧ C < SMA50.
/// A bar without volume (a bad vendor bar) is never an event.
///
/// Confidence: spec = 0.5 + 0.5 × min((V/avgV − threshold)/threshold, 1); classic = 0.6 + 0.4 × (1 − spread/limit).
public struct VSADetector: Detector {
    public enum Event: String, Sendable, CaseIterable {
        case noDemand = "No_Demand"
        case noSupply = "No_Supply"
        case stoppingVolume = "Stopping_Volume"
    }

    public enum Variant: String, Sendable {
        case spec, classic
    }

    public struct Configuration: Sendable, Equatable {
        public var variant = Variant.spec
        public var averagePeriod = 20
        public var highVolume = 1.5
        public var narrowSpread = 0.5
        public var stoppingVolume = 2.5
        public var requireTrend = true
        public var classicSpreadPeriod = 30
        public var classicNarrow = 0.7
        public var classicVolume = 1.5
        public init() {}
    }

    public let event: Event
    public var configuration: Configuration

    public init(event: Event, configuration: Configuration = Configuration()) {
        self.event = event
        self.configuration = configuration
    }

    public var name: String { "vsa_" + event.rawValue.lowercased() }
    public var family: DetectorFamily { .vsa }
    public var lookback: Int { configuration.variant == .spec ? configuration.averagePeriod + 1 : max(configuration.classicSpreadPeriod, 50) }

    public func detect(in context: DetectionContext) -> [Detection] {
        configuration.variant == .spec ? detectSpec(context) : detectClassic(context)
    }

    private func detectSpec(_ context: DetectionContext) -> [Detection] {
        let bars = context.bars
        let period = configuration.averagePeriod
        let volumeMean = Indicators.priorMean(bars.volume, period: period)
        let spreadMean = Indicators.priorMean(zip(bars.high, bars.low).map { $0 - $1 }, period: period)
        func spread(_ i: Int) -> Double { bars.high[i] - bars.low[i] }
        var found: [Detection] = []
        guard bars.count > period + 1 else { return found }
        for i in (period + 1)..<bars.count where bars.volume[i] > 0 && volumeMean[i] > 0 {
            switch event {
            case .noDemand, .noSupply:
                let bearishBar = event == .noDemand
                guard bars.volume[i] > configuration.highVolume * volumeMean[i], spread(i) < configuration.narrowSpread * spreadMean[i],
                    bearishBar ? bars.close[i] < bars.open[i] : bars.close[i] > bars.open[i]
                else { continue }
                if configuration.requireTrend {
                    let trend = context.sma20[i - 1]
                    guard !trend.isNaN, bearishBar ? bars.close[i - 1] > trend : bars.close[i - 1] < trend else { continue }
                }
                let ratio = bars.volume[i] / volumeMean[i]
                let confidence = 0.5 + 0.5 * min((ratio - configuration.highVolume) / configuration.highVolume, 1)
                found.append(context.detection(event.rawValue, at: i, confidence: confidence, direction: bearishBar ? -1 : 1))
            case .stoppingVolume:
                let p = i - 1
                guard volumeMean[p] > 0, bars.volume[p] > configuration.stoppingVolume * volumeMean[p], spread(p) > spreadMean[p],
                    spread(i) < spread(p)
                else { continue }
                let before = bars.close[p] < bars.open[p] ? -1 : bars.close[p] > bars.open[p] ? 1 : 0
                let after = bars.close[i] < bars.open[i] ? -1 : bars.close[i] > bars.open[i] ? 1 : 0
                guard before != 0, after == -before else { continue }
                let ratio = bars.volume[p] / volumeMean[p]
                let confidence = 0.5 + 0.5 * min((ratio - configuration.stoppingVolume) / configuration.stoppingVolume, 1)
                found.append(
                    context.detection(
                        event.rawValue, at: p, detectedAt: i, confidence: confidence, direction: after,
                        levels: after > 0 ? ["support": bars.low[p]] : ["resistance": bars.high[p]]))
            }
        }
        return found
    }

    private func detectClassic(_ context: DetectionContext) -> [Detection] {
        let bars = context.bars
        let spreads = zip(bars.high, bars.low).map { $0 - $1 }
        let spreadAverage = Indicators.wilder(spreads, period: configuration.classicSpreadPeriod)
        let volumeAverage = Indicators.sma(bars.volume, period: configuration.classicSpreadPeriod)
        var found: [Detection] = []
        guard bars.count > lookback else { return found }
        for i in lookback..<bars.count where bars.volume[i] > 0 {
            let range = spreads[i]
            let closePosition = range > 0 ? (bars.close[i] - bars.low[i]) / range : 0.5
            switch event {
            case .noDemand, .noSupply:
                let limit = configuration.classicNarrow * spreadAverage[i - 1]
                let lowVolume = bars.volume[i] < bars.volume[i - 1] && bars.volume[i] < bars.volume[i - 2]
                guard !limit.isNaN, range < limit, lowVolume else { continue }
                let up = bars.close[i] > bars.close[i - 1]
                let down = bars.close[i] < bars.close[i - 1]
                guard event == .noDemand ? up && closePosition < 0.5 : down else { continue }
                let confidence = 0.6 + 0.4 * (1 - range / limit)
                found.append(context.detection(event.rawValue, at: i, confidence: confidence, direction: event == .noDemand ? -1 : 1))
            case .stoppingVolume:
                let lowest = bars.low[(i - 4)...i].min()!
                guard bars.low[i] == lowest, closePosition >= 0.5, volumeAverage[i] > 0,
                    bars.volume[i] > configuration.classicVolume * volumeAverage[i], !context.sma50[i].isNaN, bars.close[i] < context.sma50[i]
                else { continue }
                let confidence = 0.6 + 0.4 * min((bars.volume[i] / volumeAverage[i] - configuration.classicVolume) / configuration.classicVolume, 1)
                found.append(context.detection(event.rawValue, at: i, confidence: confidence, direction: 1, levels: ["support": bars.low[i]]))
            }
        }
        return found
    }
}
