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

    /// Reads `Date,Open,High,Low,Close,Volume` (ISO dates, ascending; `\n` or `\r\n` lines). A bad row is an error
    /// naming its line: bars are reference data, and silently skipping one would shift every indicator after it.
    /// Works on the UTF-8 bytes directly; blank lines are skipped.
    public static func parseCSV(symbol: String, text: String) throws(ParseError) -> BarSeries {
        var text = text
        let result = text.withUTF8 { bytes in Result { () throws(ParseError) in try parse(symbol: symbol, bytes: bytes) } }
        return try result.get()
    }

    static func parse(symbol: String, bytes: UnsafeBufferPointer<UInt8>) throws(ParseError) -> BarSeries {
        var series = BarSeries(symbol: symbol)
        series.days.reserveCapacity(bytes.count / 48)
        var line = 0
        var start = 0
        var sawHeader = false
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            let next = end + 1
            if end > start, bytes[end - 1] == 0x0D { end -= 1 }
            line += 1
            defer { start = next }
            guard end > start else { continue }
            let row = UnsafeBufferPointer(rebasing: bytes[start..<end])
            var fields: [UnsafeBufferPointer<UInt8>] = []
            fields.reserveCapacity(6)
            var fieldStart = 0
            for index in 0...row.count where index == row.count || row[index] == UInt8(ascii: ",") {
                fields.append(UnsafeBufferPointer(rebasing: row[fieldStart..<index]))
                fieldStart = index + 1
            }
            func text(_ field: UnsafeBufferPointer<UInt8>) -> String { String(decoding: field, as: UTF8.self) }
            guard sawHeader else {
                let header = fields.map { text($0).trimmingSpaces() }
                guard header.map({ $0.lowercased() }) == ["date", "open", "high", "low", "close", "volume"] else {
                    throw .header(header.joined(separator: ","))
                }
                sawHeader = true
                continue
            }
            guard fields.count == 6 else { throw .row(line: line, reason: "expected 6 fields, found \(fields.count)") }
            guard let day = Timestamp.day(iso: text(fields[0])) else { throw .row(line: line, reason: "bad date \(text(fields[0]))") }
            var values: (Double, Double, Double, Double, Double) = (0, 0, 0, 0, 0)
            for column in 1...5 {
                guard let value = Double(text(fields[column])), value.isFinite, value >= 0 else {
                    throw .row(line: line, reason: "bad number \(text(fields[column]))")
                }
                switch column {
                case 1: values.0 = value
                case 2: values.1 = value
                case 3: values.2 = value
                case 4: values.3 = value
                default: values.4 = value
                }
            }
            if let last = series.days.last, day <= last { throw .row(line: line, reason: "dates must ascend (\(text(fields[0])))") }
            series.days.append(day)
            series.open.append(values.0)
            series.high.append(values.1)
            series.low.append(values.2)
            series.close.append(values.3)
            series.volume.append(values.4)
        }
        guard sawHeader else { throw .header("an empty file") }
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
    public static func isoDay(_ day: Int32) -> String {
        let (year, month, dayOfMonth) = civilFromDays(Int(day))
        guard (0...9999).contains(year) else { return String(iso8601(EpochMillis(day) * 86_400_000).prefix(10)) }
        // Ten bytes: a small string, written in place.
        return String(unsafeUninitializedCapacity: 10) { buffer in
            func put(_ value: Int, at offset: Int, digits: Int) {
                var rest = value
                for position in stride(from: offset + digits - 1, through: offset, by: -1) {
                    buffer[position] = UInt8(0x30 + rest % 10)
                    rest /= 10
                }
            }
            put(year, at: 0, digits: 4)
            buffer[4] = UInt8(ascii: "-")
            put(month, at: 5, digits: 2)
            buffer[7] = UInt8(ascii: "-")
            put(dayOfMonth, at: 8, digits: 2)
            return 10
        }
    }
}
