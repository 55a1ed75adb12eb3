/// A TA-Lib candlestick function as a detector: every non-zero bar is a detection on that bar.
///
/// Confidence = base + boost × min(max(rvol − 1, 0), 1), where base is 0.6 for a ±100 result and 0.5 for a ±80 one
/// (one body edge equal), boost 0.3, and rvol the bar's volume against the 20 before it (0 when unknown). TA-Lib's
/// functions ignore the trend; `Reversal_Signal` adds it.
public struct CandlestickDetector: Detector {
    public struct Configuration: Sendable, Equatable {
        public var settings = CandleSettings.talib
        /// Star penetration (`optInPenetration`); nil uses TA-Lib's default for the function (0.3; 0.5 dark cloud).
        public var penetration: Double?
        public var base = 0.6
        public var equalEdgeBase = 0.5
        public var volumeBoost = 0.3
        public init() {}
    }

    public let function: CandlestickFunction
    public var configuration: Configuration

    public init(function: CandlestickFunction, configuration: Configuration = Configuration()) {
        self.function = function
        self.configuration = configuration
    }

    public var name: String { function.rawValue.lowercased() }
    public var family: DetectorFamily { .candlestick }
    public var lookback: Int { Candlesticks.lookback(function, settings: configuration.settings) }

    public func detect(in context: DetectionContext) -> [Detection] {
        let values = context.candles(function, settings: configuration.settings, penetration: configuration.penetration)
        var found: [Detection] = []
        for (index, value) in values.enumerated() where value != 0 {
            let rvol = context.relativeVolume20[index].isNaN ? 0 : context.relativeVolume20[index]
            let base = abs(value) == 100 ? configuration.base : configuration.equalEdgeBase
            let confidence = base + configuration.volumeBoost * min(max(rvol - 1, 0), 1)
            found.append(context.detection(function.patternName(value: value), at: index, confidence: confidence, direction: value > 0 ? 1 : -1))
        }
        return found
    }
}
