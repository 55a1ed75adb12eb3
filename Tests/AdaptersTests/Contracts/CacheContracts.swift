import Domain
import Ports
import Testing

/// What every `PatternCache` must do. `cache` must start empty.
func patternCacheContract(_ cache: some PatternCache) async throws {
    #expect(try await cache.loadPatterns().isEmpty)
    let now: EpochMillis = 1_725_456_789_000
    let full = Pattern(
        symbol: "BRK.B", patternType: "Weekly_Breakout", rawName: "WeeklyBO", tier: .intraday, confidence: 0.853, detectedAt: now,
        expiresAt: now + 3_600_000, price: 412.07, changePercent: -1.25, relativeStrength: 1.4, relativeVolume: 2.1, rsi: 65.5,
        extras: [("support_level", .number(180)), ("action", .text("BUY \"now\"")), ("sma_20", .number(0.1 + 0.2))],
        sector: "Financials", source: "TickStockPL")
    let bare = Pattern(symbol: "AAPL", patternType: "Doji", tier: .daily, confidence: 1, detectedAt: now + 1, expiresAt: now + 2)
    let other = Pattern(symbol: "MSFT", patternType: "Doji", tier: .daily, confidence: 0.5, detectedAt: now, expiresAt: now + 9)
    try await cache.persist(upserted: [full, bare, other], removed: [])
    // Every field round-trips exactly, absent indicators stay absent.
    #expect(try await cache.loadPatterns().sorted { $0.key < $1.key } == [bare, full, other].sorted { $0.key < $1.key })
    // The same identity replaces; removal deletes; removing an unknown identity is harmless.
    var updated = bare
    updated.confidence = 0.25
    try await cache.persist(
        upserted: [updated], removed: [other.key, PatternKey(symbol: "NONE", patternType: "Doji", tier: .daily, detectedAt: 0)])
    #expect(try await cache.loadPatterns().sorted { $0.key < $1.key } == [updated, full].sorted { $0.key < $1.key })
    try await cache.persist(upserted: [], removed: [updated.key, full.key])
    #expect(try await cache.loadPatterns().isEmpty)
}

/// What every `ProducerHeartbeatSource` must do; `set` writes the producer's heartbeat (nil deletes it).
func heartbeatContract<Source: ProducerHeartbeatSource>(_ source: Source, set: (Double?) async throws -> Void) async throws {
    try await set(nil)
    #expect(try await source.lastHeartbeat() == nil)
    try await set(1_725_456_789.25)
    #expect(try await source.lastHeartbeat() == 1_725_456_789.25)
    let status = ProducerStatus(heartbeatSeconds: try await source.lastHeartbeat(), now: 1_725_456_789_250 + 59_000)
    #expect(status.state == .online && status.lastHeartbeat == 1_725_456_789_250)
    #expect(ProducerStatus(heartbeatSeconds: 1_725_456_789.25, now: 1_725_456_789_250 + 60_000).state == .offline)
    #expect(ProducerStatus(heartbeatSeconds: nil, now: 0).state == .offline)
}
