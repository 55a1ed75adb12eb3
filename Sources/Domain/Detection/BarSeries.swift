/// One symbol's daily OHLCV bars, oldest first, held column by column (what the indicators and detectors loop over).
/// Dates are days since 1970-01-01 (UTC), so bars of different symbols align by equality.
public struct BarSeries: Sendable, Equatable {
    public var symbol: String
    public var days: [Int32]
    public var open: [Double]
    public var high: [Double]
    public var low: [Double]
    public var close: [Double]
    public var volume: [Double]

    public init(symbol: String, days: [Int32] = [], open: [Double] = [], high: [Double] = [], low: [Double] = [],
                close: [Double] = [], volume: [Double] = []) {
        precondition(
            [open.count, high.count, low.count, close.count, volume.count].allSatisfy { $0 == days.count },
            "every column of a bar series has one value per day")
        self.symbol = symbol
        self.days = days
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }

    public var count: Int { days.count }

    /// The first `count` bars: what a detector would have seen on the last of them.
    public func prefix(_ count: Int) -> BarSeries {
        BarSeries(
            symbol: symbol, days: Array(days.prefix(count)), open: Array(open.prefix(count)), high: Array(high.prefix(count)),
            low: Array(low.prefix(count)), close: Array(close.prefix(count)), volume: Array(volume.prefix(count)))
    }

    /// The bars with `from ≤ day ≤ to`.
    public func between(from: Int32?, to: Int32?) -> BarSeries {
        let lower = from.map { day in days.firstIndex { $0 >= day } ?? count } ?? 0
        let upper = to.map { day in days.lastIndex { $0 <= day }.map { $0 + 1 } ?? 0 } ?? count
        guard lower < upper else { return BarSeries(symbol: symbol) }
        return BarSeries(
            symbol: symbol, days: Array(days[lower..<upper]), open: Array(open[lower..<upper]), high: Array(high[lower..<upper]),
            low: Array(low[lower..<upper]), close: Array(close[lower..<upper]), volume: Array(volume[lower..<upper]))
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case header(String)
        case row(line: Int, reason: String)

        public var description: String {
            switch self {
            case .header(let found): "expected the header Date,Open,High,Low,Close,Volume, found \(found)"
            case .row(let line, let reason): "line \(line): \(reason)"
            }
        }
    }

    /// Reads `Date,Open,High,Low,Close,Volume` (ISO dates, ascending). A bad row is an error naming its line: bars are
    /// reference data, and silently skipping one would shift every indicator after it.
    public static func parseCSV(symbol: String, text: String) throws(ParseError) -> BarSeries {
        let rows = CSV.parse(text)
        guard let header = rows.first else { throw .header("an empty file") }
        guard header.map({ $0.lowercased() }) == ["date", "open", "high", "low", "close", "volume"] else {
            throw .header(header.joined(separator: ","))
        }
        var series = BarSeries(symbol: symbol)
        series.days.reserveCapacity(rows.count)
        for (offset, row) in rows.dropFirst().enumerated() {
            let line = offset + 2
            guard row.count == 6 else { throw .row(line: line, reason: "expected 6 fields, found \(row.count)") }
            guard let day = Timestamp.day(iso: row[0]) else { throw .row(line: line, reason: "bad date \(row[0])") }
            var values = [Double]()
            for field in row[1...] {
                guard let value = Double(field), value.isFinite, value >= 0 else {
                    throw .row(line: line, reason: "bad number \(field)")
                }
                values.append(value)
            }
            if let last = series.days.last, day <= last { throw .row(line: line, reason: "dates must ascend (\(row[0]))") }
            series.days.append(day)
            series.open.append(values[0])
            series.high.append(values[1])
            series.low.append(values[2])
            series.close.append(values[3])
            series.volume.append(values[4])
        }
        return series
    }
}

extension Timestamp {
    /// Days since 1970-01-01 for `YYYY-MM-DD`; nil when malformed or not a calendar date.
    public static func day(iso text: String) -> Int32? {
        let scalars = Array(text.utf8)
        guard scalars.count == 10, scalars[4] == 0x2D, scalars[7] == 0x2D else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in scalars[range] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), (1...12).contains(month),
            (1...daysInMonth(year: year, month: month)).contains(day)
        else { return nil }
        return Int32(daysFromCivil(year: year, month: month, day: day))
    }

    /// `YYYY-MM-DD` for days since 1970-01-01.
    public static func isoDay(_ day: Int32) -> String { String(iso8601(EpochMillis(day) * 86_400_000).prefix(10)) }
}
