@testable import App
@testable import Domain
import Foundation
@testable import HTTP
import HummingbirdTesting
import InMemory
import Testing

/// The scan answer cache may only ever change how fast a scan is answered, never what it answers.
@Suite struct TheScanAnswerCache {
    static let queries = [
        "/api/patterns/scan",
        "/api/patterns/scan?sort_by=symbol&sort_order=asc&per_page=3",
        "/api/patterns/scan?pattern_types=Doji,Hammer&page=2&per_page=2",
        "/api/patterns/scan?confidence_min=0.8&sort_by=detected_at",
        "/api/patterns/scan?symbols=AAPL,MSFT&per_page=1",
    ]
    static let symbols = ["AAPL", "MSFT", "NVDA", "XOM", "JPM"]
    static let types = ["Doji", "Hammer", "Bull_Flag"]

    /// The body without `performance` (the response time, and the index version, which the two services' expiry
    /// sweepers bump at their own moments).
    static func comparable(_ client: some TestClientProtocol, _ uri: String) async throws -> String {
        var body = try await client.getJSON(uri)
        body["performance"] = nil
        return String(decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test func `answers exactly what an uncached scan answers while events arrive, expire and time passes`() async throws {
        let cached = try await TestService()
        let uncached = try await TestService { $0.scanCacheCapacity = 0 }
        try await cached.test { a in
            try await uncached.test { b in
                var random = SplitMix64(seed: 77)
                for step in 0..<60 {
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0:  // a new or updated pattern, short-lived so that expiries fall between the scans
                        let body = event(
                            Self.symbols.randomElement(using: &random)!, Self.types.randomElement(using: &random)!,
                            confidence: Double(Int.random(in: 50...99, using: &random)) / 100,
                            ageSeconds: Int.random(in: 0...120, using: &random), ttlSeconds: Int.random(in: 121...900, using: &random),
                            now: cached.clock.now())
                        cached.ingest([body])
                        uncached.ingest([body])
                    case 1:  // time passes: some matches expire without any index change
                        let millis = EpochMillis.random(in: 1...90_000, using: &random)
                        cached.clock.advance(by: millis)
                        uncached.clock.advance(by: millis)
                    case 2:  // the sweeper removes what expired
                        _ = cached.store.removeExpired(now: cached.clock.now())
                        _ = uncached.store.removeExpired(now: uncached.clock.now())
                    default: break  // nothing changes: the cache answers
                    }
                    for uri in Self.queries {
                        let fromCache = try await Self.comparable(a, uri)
                        let fresh = try await Self.comparable(b, uri)
                        #expect(fromCache == fresh, "step \(step): \(uri)")
                    }
                }
                let stats = try #require(try await a.getJSON("/api/patterns/stats")["stats"] as? [String: Any])
                let figures = try #require(stats["scan_cache"] as? [String: Any])
                let hits = try #require(figures["hits"] as? Int)
                let misses = try #require(figures["misses"] as? Int)
                #expect(hits + misses == 60 * Self.queries.count)
                #expect(hits > 0 && misses > 0, "hits \(hits), misses \(misses)")
                #expect(stats["cache_hit_ratio"] as? Double == Double(hits) / Double(hits + misses))
                let off = try #require(try await b.getJSON("/api/patterns/stats")["stats"] as? [String: Any])
                #expect((off["scan_cache"] as? [String: Any])?["hits"] as? Int == 0)
            }
        }
    }

    static func page(_ total: Int, validUntil: EpochMillis) -> ScanPage {
        var page = ScanPage(patterns: [], total: total, page: 1, perPage: 30, nextCursor: nil)
        page.validUntil = validUntil
        return page
    }

    @Test func `serves only the same query on the same version before its answer lapses`() {
        let cache = ScanResultCache(capacity: 2)
        var query = ScanQuery()
        cache.keep(.init(page: Self.page(7, validUntil: 1_000), fragments: [], nextCursor: nil), for: query, version: 5)
        #expect(cache.answer(query, version: 5, now: 999)?.page.total == 7)
        #expect(cache.answer(query, version: 5, now: 1_000) == nil, "lapsed: a match expired")
        #expect(cache.answer(query, version: 6, now: 10) == nil, "another index version")
        var other = query
        other.page = 2
        #expect(cache.answer(other, version: 5, now: 10) == nil)
        // Same universe key, other members (an edited watchlist): full equality tells them apart.
        query.universe = "w1"
        query.universeSymbols = ["AAPL"]
        cache.keep(.init(page: Self.page(1, validUntil: .max), fragments: [], nextCursor: nil), for: query, version: 5)
        var edited = query
        edited.universeSymbols = ["MSFT"]
        #expect(cache.answer(edited, version: 5, now: 10) == nil)
        #expect(cache.answer(query, version: 5, now: 10)?.page.total == 1)
        // An older snapshot's answer never replaces a newer one's; a newer one starts afresh.
        cache.keep(.init(page: Self.page(3, validUntil: .max), fragments: [], nextCursor: nil), for: query, version: 4)
        #expect(cache.answer(query, version: 5, now: 10)?.page.total == 1)
        cache.keep(.init(page: Self.page(9, validUntil: .max), fragments: [], nextCursor: nil), for: query, version: 6)
        #expect(cache.figures.entries == 1)
        #expect(cache.answer(query, version: 6, now: 10)?.page.total == 9)
        let off = ScanResultCache(capacity: 0)
        off.keep(.init(page: Self.page(1, validUntil: .max), fragments: [], nextCursor: nil), for: query, version: 1)
        #expect(off.answer(query, version: 1, now: 0) == nil && off.figures.entries == 0)
    }
}
