public import Domain

/// Daily bars by symbol: the input of the detectors.
public protocol BarSeriesSource: Sendable {
    /// The symbols with bars, sorted.
    func symbols() throws -> [String]
    /// One symbol's bars, oldest first; throws naming the symbol when they are missing or malformed.
    func series(for symbol: String) throws -> BarSeries
}
