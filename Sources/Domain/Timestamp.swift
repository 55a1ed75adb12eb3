/// Milliseconds since 1970-01-01T00:00:00Z. The Domain never reads a clock: every "now" is a parameter.
public typealias EpochMillis = Int64

/// Parsing and formatting of instants without `DateFormatter`, so hot paths allocate nothing but the result.
public enum Timestamp {
    /// Epoch seconds (possibly fractional) to milliseconds, rounded to the nearest millisecond; nil when not finite or
    /// outside the years 1970...9999.
    public static func millis(fromEpochSeconds seconds: Double) -> EpochMillis? {
        guard seconds.isFinite, seconds >= 0, seconds < 253_402_300_800 else { return nil }
        return EpochMillis((seconds * 1000).rounded())
    }

    /// Parses ISO-8601 / RFC 3339: `2024-09-04`, `2024-09-04T13:33:09`, with optional fraction and `Z` or `±hh:mm` /
    /// `±hhmm` offset (a space may stand for `T`). A string without offset is read as UTC. Nil when unparsable.
    public static func millis(fromISO8601 text: String) -> EpochMillis? {
        var bytes = Array(text.utf8)
        while let last = bytes.last, last == 0x20 { bytes.removeLast() }
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<digits {
                let byte = bytes[index + offset]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += digits
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(0x2D), let month = number(2), expect(0x2D), let day = number(2) else { return nil }
        guard (1...12).contains(month), (1...daysInMonth(year: year, month: month)).contains(day) else { return nil }
        var hour = 0, minute = 0, second = 0, millis = 0, offsetMinutes = 0
        if index < bytes.count {
            guard bytes[index] == 0x54 || bytes[index] == 0x74 || bytes[index] == 0x20 else { return nil }
            index += 1
            guard let h = number(2), expect(0x3A), let m = number(2) else { return nil }
            hour = h
            minute = m
            if expect(0x3A) {
                guard let s = number(2) else { return nil }
                second = s
                if index < bytes.count, bytes[index] == 0x2E || bytes[index] == 0x2C {
                    index += 1
                    var scale = 100
                    var digits = 0
                    while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                        millis += Int(bytes[index] - 0x30) * scale
                        scale /= 10
                        digits += 1
                        index += 1
                    }
                    guard digits > 0 else { return nil }
                }
            }
            guard hour < 24, minute < 60, second < 61 else { return nil }
            if index < bytes.count {
                let sign = bytes[index]
                if sign == 0x5A || sign == 0x7A {
                    index += 1
                } else if sign == 0x2B || sign == 0x2D {
                    index += 1
                    guard let oh = number(2) else { return nil }
                    _ = expect(0x3A)
                    guard let om = number(2), oh < 24, om < 60 else { return nil }
                    offsetMinutes = (oh * 60 + om) * (sign == 0x2D ? -1 : 1)
                } else {
                    return nil
                }
            }
        }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        return seconds * 1000 + Int64(millis)
    }

    /// Formats as `2024-09-04T13:33:09.123Z` (always UTC, always milliseconds).
    public static func iso8601(_ millis: EpochMillis) -> String {
        var writer = JSONWriter(capacity: 24)
        writeISO8601(millis, to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Formats as the HTTP `Date` header's IMF-fixdate (RFC 9110 §5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`.
    public static func httpDate(epochSeconds seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civilFromDays(Int(days))
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        var writer = JSONWriter(capacity: 29)
        func put(_ value: some BinaryInteger, _ width: Int) { writer.appendDigits(UInt64(clamping: value), width: width) }
        func text(_ word: String) { for byte in word.utf8 { writer.appendByte(byte) } }
        text(weekdays[Int(((days % 7) + 7) % 7)]); text(", "); put(day, 2); text(" "); text(months[month - 1]); text(" ")
        put(year, 4); text(" "); put(secondOfDay / 3600, 2); text(":"); put(secondOfDay / 60 % 60, 2); text(":")
        put(secondOfDay % 60, 2); text(" GMT")
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// The text of ``iso8601(_:)``, appended to `writer` as raw bytes (no quotes).
    static func writeISO8601(_ millis: EpochMillis, to writer: inout JSONWriter) {
        let totalSeconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let ms = millis - totalSeconds * 1000
        let days = totalSeconds >= 0 ? totalSeconds / 86_400 : (totalSeconds - 86_399) / 86_400
        let secondOfDay = totalSeconds - days * 86_400
        let (year, month, day) = civilFromDays(Int(days))
        func put(_ value: some BinaryInteger, _ width: Int) { writer.appendDigits(UInt64(clamping: value), width: width) }
        put(year, 4); writer.appendByte(0x2D); put(month, 2); writer.appendByte(0x2D); put(day, 2); writer.appendByte(0x54)
        put(secondOfDay / 3600, 2); writer.appendByte(0x3A); put(secondOfDay / 60 % 60, 2); writer.appendByte(0x3A)
        put(secondOfDay % 60, 2); writer.appendByte(0x2E); put(ms, 3); writer.appendByte(0x5A)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
