import Foundation
import Domain
import Testing

@Suite struct DisplayFormatting {
    @Test(arguments: [
        (1.4, "1.4x"), (2.05, "2.0x"), (0.15, "0.1x"), (0.25, "0.2x"), (0.35, "0.3x"), (0.45, "0.5x"), (1.45, "1.4x"),
        (2.0, "2.0x"), (10.96, "11.0x"),
    ])
    func `multiples have one decimal and an x, rounded like Python`(value: Double, expected: String) {
        #expect(DisplayFormat.multiple(value) == expected)
    }

    @Test func `absent multiples show 1.0x`() { #expect(DisplayFormat.multiple(nil) == "1.0x") }

    @Test(arguments: [(150.25, "$150.25"), (2.675, "$2.67"), (0.125, "$0.12"), (1.005, "$1.00"), (99999.999, "$100000.00"), (0, "$0.00")])
    func `prices have a dollar sign and two decimals`(value: Double, expected: String) {
        #expect(DisplayFormat.price(value) == expected)
    }

    @Test(arguments: [(2.3, "+2.3%"), (-1.25, "-1.2%"), (0, "+0.0%"), (-0.04, "-0.0%"), (12.35, "+12.3%"), (0.05, "+0.1%")])
    func `changes carry a sign and one decimal`(value: Double, expected: String) {
        #expect(DisplayFormat.change(value) == expected)
    }

    @Test(arguments: [(0.855, 0.85), (0.845, 0.84), (0.8549, 0.85), (1.0, 1.0), (0.125, 0.12), (0.7, 0.7)])
    func `confidence rounds to two decimals`(value: Double, expected: Double) {
        #expect(DisplayFormat.confidence(value) == expected)
    }

    @Test func `time since detection is truncated to the largest unit`() {
        let now: EpochMillis = 1_000_000_000
        #expect(DisplayFormat.age(since: now, now: now) == "0s")
        #expect(DisplayFormat.age(since: now - 59_999, now: now) == "59s")
        #expect(DisplayFormat.age(since: now - 60_000, now: now) == "1m")
        #expect(DisplayFormat.age(since: now - 15 * 60_000 - 59_000, now: now) == "15m")
        #expect(DisplayFormat.age(since: now - 3_600_000, now: now) == "1h")
        #expect(DisplayFormat.age(since: now - 86_399_000, now: now) == "23h")
        #expect(DisplayFormat.age(since: now - 3 * 86_400_000, now: now) == "3d")
        #expect(DisplayFormat.age(since: now + 5000, now: now) == "0s")
    }

    @Test func `expiry shows what is left, or Expired`() {
        let now: EpochMillis = 1_000_000_000
        #expect(DisplayFormat.expiry(now, now: now) == "Expired")
        #expect(DisplayFormat.expiry(now - 1, now: now) == "Expired")
        #expect(DisplayFormat.expiry(now + 30_000, now: now) == "0m")
        #expect(DisplayFormat.expiry(now + 59 * 60_000, now: now) == "59m")
        #expect(DisplayFormat.expiry(now + 4 * 3_600_000 + 1, now: now) == "4h")
        #expect(DisplayFormat.expiry(now + 2 * 86_400_000, now: now) == "2d")
    }

    @Test func `pattern names use the TickStock abbreviations or the first eight characters`() {
        let expected = [
            "Weekly_Breakout": "WeeklyBO", "Bull_Flag": "BullFlag", "Trendline_Hold": "TrendHold", "Volume_Spike": "VolSpike",
            "Gap_Fill": "GapFill", "Momentum_Shift": "MomShift", "Support_Test": "Support", "Resistance_Break": "ResBreak",
            "Ascending_Triangle": "AscTri", "Reversal_Signal": "Reversal", "Hammer": "Hammer", "Doji": "Doji",
            "Morning_Star": "Morning_", "Shooting_Star": "Shooting",
        ]
        for (name, short) in expected { #expect(PatternName.display(name) == short, "\(name)") }
    }

    @Test func `priority follows the confidence bands`() {
        #expect([0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.69].map(DisplayFormat.priority) == [
            "CRITICAL", "CRITICAL", "HIGH", "HIGH", "MEDIUM", "MEDIUM", "LOW",
        ])
    }
}

@Suite struct Timestamps {
    @Test(arguments: [
        ("2024-09-04T13:33:09Z", 1_725_456_789_000), ("2024-09-04T13:33:09.123Z", 1_725_456_789_123),
        ("2024-09-04T15:33:09+02:00", 1_725_456_789_000), ("2024-09-04T08:33:09-0500", 1_725_456_789_000),
        ("2024-09-04 13:33:09", 1_725_456_789_000), ("2024-09-04T13:33:09.123456", 1_725_456_789_123),
        ("2024-09-04", 1_725_408_000_000), ("1970-01-01T00:00:00Z", 0), ("2024-02-29T00:00:00Z", 1_709_164_800_000),
    ] as [(String, EpochMillis)])
    func `ISO-8601 with and without offsets parses`(text: String, millis: EpochMillis) {
        #expect(Timestamp.millis(fromISO8601: text) == millis)
    }

    @Test(arguments: ["", "2024-9-4", "2023-02-29", "2024-09-04T25:00:00Z", "2024-09-04T13:33:09+5", "2024-09-04T13:33:09Zjunk", "yesterday"])
    func `malformed ISO-8601 is rejected`(text: String) {
        #expect(Timestamp.millis(fromISO8601: text) == nil)
    }

    @Test func `formatting round-trips across eras`() {
        var random = SplitMix64(seed: 3)
        for _ in 0..<2000 {
            let millis = EpochMillis.random(in: 0..<253_402_300_799_000, using: &random)
            let text = Timestamp.iso8601(millis)
            #expect(text.count == 24)
            #expect(Timestamp.millis(fromISO8601: text) == millis)
        }
        #expect(Timestamp.iso8601(1_725_456_789_123) == "2024-09-04T13:33:09.123Z")
    }

    @Test func `HTTP dates agree with Foundation's formatter`() {
        #expect(Timestamp.httpDate(epochSeconds: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")  // RFC 9110's example
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var random = SplitMix64(seed: 5)
        for _ in 0..<2000 {
            let seconds = Int64.random(in: 0..<253_402_300_799, using: &random)
            #expect(Timestamp.httpDate(epochSeconds: seconds) == formatter.string(from: Date(timeIntervalSince1970: Double(seconds))))
        }
    }
}

@Suite struct JSONParsing {
    @Test func `parses every value kind and escapes`() throws {
        let value = try JSONParser.parse(#"{"a":[1,-2.5e3,true,false,null],"b":"x\"\\\/\n\u00e9\ud83d\ude00","a":{"c":{}}}"#)
        #expect(value["b"] == .string("x\"\\/\né😀"))
        #expect(value["a"] == .object([("c", .object([]))]))
        #expect(try JSONParser.parse(" [ ] ") == .array([]))
        #expect(try JSONParser.parse("0.5") == .number(0.5))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "\"\u{01}\"", "{\"a\" 1}", "[1] x", "tru", "\"\\x\"", "NaN"])
    func `rejects invalid documents`(text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
    }
}
