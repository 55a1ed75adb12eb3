import Ports

/// `GET /api/patterns/stats` response.
struct StatsResponse: Encodable, Sendable {
    struct Stats: Encodable, Sendable {
        var cachedPatterns: Int
        var eventsProcessed: Int
        var eventsApplied: Int
        var eventsRejected: Int
        var rejectsByReason: OrderedMap<Int>
        var eventsIgnored: OrderedMap<Int>
        var inserted: Int
        var updated: Int
        var expiredByEvent: Int
        var expiredByTime: Int
        var lastEventTime: String?
        var perChannel: OrderedMap<Int>
        /// The scan answer cache's hits over look-ups (TickStock's field; 0 before the first scan).
        var cacheHitRatio: Double
        var scanCache: ScanResultCache.Figures
        var indexVersion: UInt64
        var source: String
        var stale: Bool
        var transport: Transport
        var producer: Producer
        var websocket: WebSocket?

        enum CodingKeys: String, CodingKey {
            case inserted, updated, source, stale
            case cachedPatterns = "cached_patterns", eventsProcessed = "events_processed", eventsApplied = "events_applied"
            case eventsRejected = "events_rejected", rejectsByReason = "rejects_by_reason", eventsIgnored = "events_ignored"
            case expiredByEvent = "expired_by_event", expiredByTime = "expired_by_time", lastEventTime = "last_event_time"
            case perChannel = "per_channel", cacheHitRatio = "cache_hit_ratio", scanCache = "scan_cache", indexVersion = "index_version"
            case transport, producer, websocket
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(cachedPatterns, forKey: .cachedPatterns)
            try c.encode(eventsProcessed, forKey: .eventsProcessed)
            try c.encode(eventsApplied, forKey: .eventsApplied)
            try c.encode(eventsRejected, forKey: .eventsRejected)
            try c.encode(rejectsByReason, forKey: .rejectsByReason)
            try c.encode(eventsIgnored, forKey: .eventsIgnored)
            try c.encode(inserted, forKey: .inserted)
            try c.encode(updated, forKey: .updated)
            try c.encode(expiredByEvent, forKey: .expiredByEvent)
            try c.encode(expiredByTime, forKey: .expiredByTime)
            try c.encode(lastEventTime, forKey: .lastEventTime)
            try c.encode(perChannel, forKey: .perChannel)
            try c.encode(cacheHitRatio, forKey: .cacheHitRatio)
            try c.encode(scanCache, forKey: .scanCache)
            try c.encode(indexVersion, forKey: .indexVersion)
            try c.encode(source, forKey: .source)
            try c.encode(stale, forKey: .stale)
            try c.encode(transport, forKey: .transport)
            try c.encode(producer, forKey: .producer)
            try c.encodeIfPresent(websocket, forKey: .websocket)
        }
    }

    /// The event source's connection and counters (`stale` is true while it is disconnected).
    struct Transport: Encodable, Sendable {
        var connected: Bool
        var problem: String?
        var counters: OrderedMap<Int>
        var streamLag: Int?
        var streamPending: Int?
        var warmStartLoaded: Bool
        var warmStartPatterns: Int

        enum CodingKeys: String, CodingKey {
            case connected, problem, counters
            case streamLag = "stream_lag", streamPending = "stream_pending", warmStartLoaded = "warm_start_loaded"
            case warmStartPatterns = "warm_start_patterns"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(connected, forKey: .connected)
            try c.encode(problem, forKey: .problem)
            try c.encode(counters, forKey: .counters)
            try c.encode(streamLag, forKey: .streamLag)
            try c.encode(streamPending, forKey: .streamPending)
            try c.encode(warmStartLoaded, forKey: .warmStartLoaded)
            try c.encode(warmStartPatterns, forKey: .warmStartPatterns)
        }
    }

    /// Real-time delivery: open connections, subscriptions, the sequence and its replay history, and the counters.
    struct WebSocket: Encodable, Sendable {
        var status: RealtimeStatus
        init(_ status: RealtimeStatus) { self.status = status }

        enum CodingKeys: String, CodingKey {
            case accepting, epoch, seq, connections, subscriptions, counters
            case historySize = "history_size", historyOldestSeq = "history_oldest_seq"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(status.accepting, forKey: .accepting)
            try c.encode(status.epoch, forKey: .epoch)
            try c.encode(status.seq, forKey: .seq)
            try c.encode(status.connections, forKey: .connections)
            try c.encode(status.subscriptions, forKey: .subscriptions)
            try c.encode(status.historySize, forKey: .historySize)
            try c.encode(status.historyOldestSeq, forKey: .historyOldestSeq)
            try c.encode(OrderedMap(status.counters.map { ($0.name, $0.value) }), forKey: .counters)
        }
    }

    /// The producer's heartbeat.
    struct Producer: Encodable, Sendable {
        var status: String
        var lastHeartbeat: String?

        enum CodingKeys: String, CodingKey {
            case status
            case lastHeartbeat = "last_heartbeat"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(status, forKey: .status)
            try c.encode(lastHeartbeat, forKey: .lastHeartbeat)
        }
    }
    var stats: Stats
    var status: String
}

/// `GET /api/patterns/summary` response: totals over every live pattern.
struct SummaryResponse: Encodable, Sendable {
    struct TypeCount: Encodable, Sendable {
        var pattern: String
        var count: Int
    }
    struct SymbolCount: Encodable, Sendable {
        var symbol: String
        var count: Int
    }
    struct PatternTypes: Encodable, Sendable {
        var distribution: OrderedMap<Int>
        var topPatterns: [TypeCount]
        enum CodingKeys: String, CodingKey {
            case distribution
            case topPatterns = "top_patterns"
        }
    }
    struct Symbols: Encodable, Sendable {
        var activeSymbols: Int
        var topSymbols: [SymbolCount]
        enum CodingKeys: String, CodingKey {
            case activeSymbols = "active_symbols", topSymbols = "top_symbols"
        }
    }
    var totalPatterns: Int
    var highConfidencePatterns: Int
    var patternTypes: PatternTypes
    var symbols: Symbols
    var tiers: OrderedMap<Int>
    var generatedAt: String

    enum CodingKeys: String, CodingKey {
        case symbols, tiers
        case totalPatterns = "total_patterns", highConfidencePatterns = "high_confidence_patterns"
        case patternTypes = "pattern_types", generatedAt = "generated_at"
    }
}

/// `GET /api/patterns/health` response.
struct HealthResponse: Encodable, Sendable {
    var status: String
    var healthy: Bool
    var message: String
    var metrics: OrderedMap<JSONScalar>
}
