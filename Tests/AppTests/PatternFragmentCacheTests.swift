import Domain
@testable import HTTP
import Testing

@Suite struct ThePatternFragmentCache {
    static func pattern(_ n: Int, confidence: Double = 0.8) -> Pattern {
        Pattern(
            symbol: "S\(n)", patternType: "Bull_Flag", tier: .daily, confidence: confidence, detectedAt: 1_725_456_789_000,
            expiresAt: 1_725_460_389_000, source: "daily")
    }

    static func text(_ fragments: [PatternItemFragment], now: EpochMillis) -> String {
        var writer = JSONWriter()
        writer.array { w in for fragment in fragments { fragment.write(now: now, to: &w) } }
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func expected(_ patterns: [Pattern], now: EpochMillis) -> String {
        var writer = JSONWriter()
        writer.array { w in for pattern in patterns { PatternItem(pattern: pattern, now: now).write(to: &w) } }
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test func `never holds more than its capacity and always answers right`() {
        let cache = PatternFragmentCache(capacity: 4)
        let now: EpochMillis = 1_725_457_000_000
        for round in 0..<5 {
            let patterns = (0..<3).map { Self.pattern(round * 2 + $0) }  // overlaps the previous round by one
            #expect(Self.text(cache.fragments(for: patterns), now: now) == Self.expected(patterns, now: now))
            #expect(cache.count <= 4)
        }
        let changed = [Self.pattern(8, confidence: 0.95)]  // same identity as one held, other values
        #expect(Self.text(cache.fragments(for: changed), now: now) == Self.expected(changed, now: now))
        #expect(cache.count <= 4)
    }
}
