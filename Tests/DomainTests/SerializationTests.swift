import Domain
import Testing

@Suite struct JSONAndRecordSerialization {
    /// A random JSON document: nested objects and arrays, escapes, control characters, non-ASCII, extreme numbers.
    static func randomValue(_ random: inout SplitMix64, depth: Int = 0) -> JSONValue {
        let pieces = ["a", "\"", "\\", "\n", "\t", "\u{01}", "\u{1F}", "é", "😀", "</script>", " ", "x y"]
        func text() -> String { (0..<Int(random.next() % 6)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined() }
        switch random.next() % (depth > 3 ? 4 : 6) {
        case 0: return .null
        case 1: return .bool(random.next() % 2 == 0)
        case 2:
            let numbers: [Double] = [0, -0.5, 1e-7, 123_456_789_012, 0.1 + 0.2, 1.7976931348623157e308, -42, 5e-324]
            return .number(numbers[Int(random.next() % UInt64(numbers.count))])
        case 3: return .string(text())
        case 4: return .array((0..<Int(random.next() % 4)).map { _ in randomValue(&random, depth: depth + 1) })
        default: return .object((0..<Int(random.next() % 4)).map { _ in (text(), randomValue(&random, depth: depth + 1)) })
        }
    }

    @Test func `serialised JSON parses back to the same value`() throws {
        var random = SplitMix64(seed: 11)
        for _ in 0..<2000 {
            let value = Self.randomValue(&random)
            #expect(try JSONParser.parse(value.serializedBytes()) == value, "\(value.serialized())")
        }
        #expect(JSONValue.number(.nan).serialized() == "null")
        #expect(JSONValue.object([("k", .string("\u{01}\"\\"))]).serialized() == #"{"k":"\u0001\"\\"}"#)
    }

    /// A scan item written from its cached fragment must be byte for byte the item written directly, at any `now`,
    /// with escapes, absent values and extras, and as the n-th element of an array.
    @Test func `a pattern fragment writes exactly what the item writes`() {
        var random = SplitMix64(seed: 23)
        let texts = ["daily", "Tick\"Stock\"", "é😀", "a\\b", "line\nbreak", "\u{01}", ""]
        func text() -> String { texts[Int(random.next() % UInt64(texts.count))] }
        func maybe(_ value: Double) -> Double? { random.next() % 4 == 0 ? nil : value }
        let base: EpochMillis = 1_725_456_789_123
        for _ in 0..<3_000 {
            let detected = base - EpochMillis(random.next() % 200_000_000)
            var extras: [(name: String, value: ExtraValue)] = []
            for _ in 0..<Int(random.next() % 3) {
                extras.append((text() + "k", random.next() % 2 == 0 ? .number(Double(random.next() % 100_000) / 100) : .text(text())))
            }
            let pattern = Pattern(
                symbol: ["AAPL", "BRK.B", "X\"Y"][Int(random.next() % 3)], patternType: ["Bull_Flag", "Weekly_Breakout", "Doji"][Int(random.next() % 3)],
                rawName: random.next() % 2 == 0 ? nil : text() + "Raw", tier: Tier.allCases[Int(random.next() % UInt64(Tier.allCases.count))],
                confidence: Double(random.next() % 1001) / 1000, detectedAt: detected,
                expiresAt: detected + EpochMillis(random.next() % 400_000_000), price: maybe(Double(random.next() % 100_000) / 100),
                changePercent: maybe(Double(Int(random.next() % 2001) - 1000) / 100), relativeStrength: maybe(Double(random.next() % 400) / 100),
                relativeVolume: maybe(Double(random.next() % 2000) / 100), rsi: maybe(Double(random.next() % 10_000) / 100), extras: extras,
                sector: random.next() % 3 == 0 ? nil : text() + "Sector", source: text())
            let now = detected + EpochMillis(random.next() % 500_000_000) - 1_000
            let fragment = PatternItemFragment(pattern)
            for position in 0..<2 {
                var direct = JSONWriter()
                var cached = JSONWriter()
                direct.array { w in
                    if position == 1 { w.integer(7) }
                    PatternItem(pattern: pattern, now: now).write(to: &w)
                    w.integer(8)
                }
                cached.array { w in
                    if position == 1 { w.integer(7) }
                    fragment.write(now: now, to: &w)
                    w.integer(8)
                }
                #expect(cached.bytes == direct.bytes, "\(String(decoding: direct.bytes, as: UTF8.self))")
            }
        }
    }

    /// `number` has a fast path for values with at most four decimals; it must write exactly what `description` does.
    @Test func `numbers are written as Swift's shortest round-trip text`() {
        var random = SplitMix64(seed: 17)
        func text(_ value: Double) -> String {
            var writer = JSONWriter()
            writer.number(value)
            return String(decoding: writer.bytes, as: UTF8.self)
        }
        for _ in 0..<100_000 {
            let decimals = Int(random.next() % 7)
            let magnitude = [1.0, 100, 10_000, 1e8, 1e11, 1e13][Int(random.next() % 6)]
            var value = (Double(random.next() % 1_000_000_000) / 1_000_000_000 * magnitude)
            value = (value * pow10(decimals)).rounded() / pow10(decimals)
            if random.next() % 2 == 0 { value = -value }
            if random.next() % 10 == 0 { value = Double(bitPattern: random.next()) }
            guard value.isFinite else { continue }
            let expected = value == value.rounded() && abs(value) < 1e15 ? "\(Int64(value)).0" : value.description
            #expect(text(value) == expected, "\(value)")
            if text(value) != expected { break }
        }
        #expect(text(-0.0) == "0.0" && text(0.0001) == "0.0001" && text(-150.25) == "-150.25" && text(0.1 + 0.2) == "0.30000000000000004")
    }

    func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { value, _ in value * 10 } }

    /// Strings are scanned for characters to escape eight bytes at a time; a special character at any position of any
    /// length must still be escaped.
    @Test func `a character to escape is found at every position of every length`() throws {
        for length in 1...40 {
            for position in 0..<length {
                for special in ["\"", "\\", "\u{01}", "\n", "\u{1F}"] {
                    var characters = [String](repeating: "é", count: length)
                    for index in stride(from: 0, to: length, by: 3) { characters[index] = "a" }
                    characters[position] = special
                    let text = characters.joined()
                    let value = JSONValue.object([(text, .string(text))])
                    #expect(try JSONParser.parse(value.serializedBytes()) == value, "\(length) \(position)")
                }
            }
        }
    }

    @Test func `a pattern record round-trips every field and rejects other versions`() throws {
        let now: EpochMillis = 1_725_456_789_123
        let pattern = Pattern(
            symbol: "BRK.B", patternType: "Bull_Flag", rawName: "BullFlag", tier: .dailyIntraday, confidence: 0.1 + 0.2,
            detectedAt: now, expiresAt: now + 1, price: 1e-9, changePercent: -0.0, relativeStrength: nil, relativeVolume: 2,
            rsi: nil, extras: [("note", .text("a \"quoted\"\nline")), ("level", .number(-3.5))], sector: nil, source: "TickStockPL")
        #expect(PatternRecord.decode(PatternRecord.encodeBytes(pattern)) == pattern)
        #expect(PatternRecord.encode(pattern) == String(decoding: PatternRecord.encodeBytes(pattern), as: UTF8.self))
        #expect(PatternRecord.decode(Array(#"{"v":2,"symbol":"A"}"#.utf8)) == nil)
        #expect(PatternRecord.decode(Array("not json".utf8)) == nil)
    }
}
