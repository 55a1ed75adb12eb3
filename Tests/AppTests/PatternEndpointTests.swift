@testable import App
import Domain
import Foundation
import Hummingbird
import HummingbirdTesting
import InMemory
import Ports
import Testing

/// Every test here runs a service; a time limit turns a hang into a failure instead of a stalled CI run.
@Suite(.timeLimit(.minutes(2))) struct ThePatternEndpoints {
    @Test func `scan returns compat strings and typed fields side by side`() async throws {
        let service = try await TestService()
        let now = service.clock.now()
        service.ingest([event("AAPL", "WeeklyBO", confidence: 0.853, ageSeconds: 15 * 60, ttlSeconds: 15 * 60 + 4 * 3600 + 30, now: now)])
        try await service.test { client in
            let body = try await client.getJSON("/api/patterns/scan")
            let patterns = try #require(body["patterns"] as? [[String: Any]])
            #expect(patterns.count == 1)
            let p = patterns[0]
            #expect(p["symbol"] as? String == "AAPL")
            #expect(p["pattern"] as? String == "WeeklyBO")
            #expect(p["pattern_type"] as? String == "Weekly_Breakout")
            #expect(p["conf"] as? Double == 0.85)
            #expect(p["confidence"] as? Double == 0.853)
            #expect(p["rs"] as? String == "1.4x")
            #expect(p["vol"] as? String == "2.1x")
            #expect(p["price"] as? String == "$150.25")
            #expect(p["chg"] as? String == "+2.3%")
            #expect(p["time"] as? String == "15m")
            #expect(p["exp"] as? String == "4h")
            #expect(p["source"] as? String == "daily")
            #expect(p["relative_strength"] as? Double == 1.4)
            #expect(p["relative_volume"] as? Double == 2.1)
            #expect(p["rsi"] as? Double == 65.5)
            #expect(p["price_value"] as? Double == 150.25)
            #expect(p["change_percent"] as? Double == 2.3)
            #expect(p["sector"] as? String == "Information Technology")
            #expect(p["detected_at"] as? String == Timestamp.iso8601(now - 15 * 60_000))
            let pagination = try #require(body["pagination"] as? [String: Any])
            #expect(pagination["total"] as? Int == 1)
            #expect(pagination["pages"] as? Int == 1)
            #expect(pagination["per_page"] as? Int == 30)
            #expect(body["next_cursor"] is NSNull)
            let applied = try #require(body["applied_filters"] as? [String: Any])
            #expect(applied["confidence_min"] as? Double == 0.5)
            #expect(applied["sort_by"] as? String == "confidence")
            let performance = try #require(body["performance"] as? [String: Any])
            #expect(performance["source"] as? String == "memory_index")
        }
    }

    /// Items are served from fragments cached across requests: a cached item must still follow the clock (`time`,
    /// `exp`) and any update of its pattern, byte for byte like a fresh one.
    @Test func `cached scan items follow the clock and every update of their pattern`() async throws {
        let service = try await TestService()
        let now = service.clock.now()
        service.ingest([event("AAPL", "WeeklyBO", confidence: 0.853, ageSeconds: 15 * 60, ttlSeconds: 2 * 3600, now: now)])
        try await service.test { client in
            func item() async throws -> [String: Any] {
                let body = try await client.getJSON("/api/patterns/scan")
                return try #require((body["patterns"] as? [[String: Any]])?.first)
            }
            var p = try await item()
            #expect(p["time"] as? String == "15m" && p["exp"] as? String == "1h" && p["confidence"] as? Double == 0.853)
            p = try await item()  // from the cache
            #expect(p["time"] as? String == "15m" && p["conf"] as? Double == 0.85)
            service.clock.advance(by: 50 * 60_000)
            p = try await item()
            #expect(p["time"] as? String == "1h" && p["exp"] as? String == "55m")
            // The same identity re-sent with other values: the page shows the new ones, not the cached bytes.
            service.ingest([
                event("AAPL", "WeeklyBO", confidence: 0.91, ageSeconds: 65 * 60, ttlSeconds: 2 * 3600,
                      extra: #","source":"intraday""#, now: service.clock.now())
            ])
            p = try await item()
            #expect(p["confidence"] as? Double == 0.91 && p["conf"] as? Double == 0.91)
            #expect(p["source"] as? String == "intraday")
            let list = try await client.getJSON("/api/patterns/scan")
            #expect((list["pagination"] as? [String: Any])?["total"] as? Int == 1)
        }
    }

    @Test func `scan filters, sorts and pages, and the next_url walks the rest`() async throws {
        let service = try await TestService()
        let now = service.clock.now()
        service.ingest(
            (0..<25).map { i in event("AAPL", i % 2 == 0 ? "Bull_Flag" : "Doji", confidence: 0.5 + Double(i) / 100, ageSeconds: 60 + i, now: now) }
                + [event("XOM", "Bull_Flag", confidence: 0.99, tier: "intraday", now: now)])
        try await service.test { client in
            let filtered = try await client.getJSON(
                "/api/patterns/scan?pattern_types=BullFlag&symbols=aapl&confidence_min=0.6&per_page=3&sort_by=confidence&sort_order=asc")
            let patterns = try #require(filtered["patterns"] as? [[String: Any]])
            #expect(patterns.map { $0["confidence"] as? Double } == [0.6, 0.62, 0.64])
            #expect((filtered["pagination"] as? [String: Any])?["total"] as? Int == 8)

            let energy = try await client.getJSON("/api/patterns/scan?sectors=XLE&timeframe=Intraday")
            #expect((energy["patterns"] as? [[String: Any]])?.map { $0["symbol"] as? String } == ["XOM"])
            let universe = try await client.getJSON("/api/patterns/scan?universe=sector_energy")
            #expect((universe["pagination"] as? [String: Any])?["total"] as? Int == 1)

            var seen: [String] = []
            var next: String? = "/api/patterns/scan?per_page=4&sort_by=detected_at"
            var pages = 0
            while let uri = next {
                let page = try await client.getJSON(uri)
                seen += (page["patterns"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                next = page["next_url"] as? String
                pages += 1
            }
            #expect(pages == 7)
            #expect(seen.count == 26 && Set(seen).count == 26)
        }
    }

    @Test(arguments: [
        ("confidence_min=2", "confidence_min"), ("rs_min=-1", "rs_min"), ("rsi_range=80,20", "rsi_range"), ("per_page=0", "per_page"),
        ("limit=1000", "limit"), ("page=0", "page"), ("sort_by=price", "sort_by"), ("sort_order=sideways", "sort_order"),
        ("timeframe=Yearly", "timeframe"), ("sectors=Crypto", "sectors"), ("universe=nope", "universe"), ("cursor=abc", "cursor"),
        ("symbols=%24%24%24", "symbols"),
    ])
    func `a bad parameter is a 400 naming it`(query: String, parameter: String) async throws {
        let service = try await TestService()
        try await service.test { client in
            let body = try await client.getJSON("/api/patterns/scan?\(query)", status: .badRequest)
            #expect(body["error"] as? String == "invalid_parameter")
            #expect(body["parameter"] as? String == parameter)
            #expect((body["message"] as? String)?.contains(parameter) == true)
        }
    }

    @Test func `expired patterns never appear and health warns about an empty index`() async throws {
        let service = try await TestService()
        let now = service.clock.now()
        service.ingest([event("AAPL", "Doji", confidence: 0.9, ageSeconds: 10, ttlSeconds: 70, now: now)])
        try await service.test { client in
            let health = try await client.getJSON("/api/patterns/health")
            #expect(health["status"] as? String == "healthy")
            #expect(health["healthy"] as? Bool == true)
            #expect((try await client.getJSON("/api/patterns/scan")["patterns"] as? [Any])?.count == 1)
            service.clock.advance(by: 60_000)
            #expect((try await client.getJSON("/api/patterns/scan")["patterns"] as? [Any])?.count == 0)
            #expect((try await client.getJSON("/api/patterns/summary"))["total_patterns"] as? Int == 0)
            _ = service.store.removeExpired(now: service.clock.now())
            let after = try await client.getJSON("/api/patterns/health")
            #expect(after["status"] as? String == "warning")
            #expect(after["healthy"] as? Bool == false)
        }
    }

    @Test func `stats count events per channel and rejects by reason`() async throws {
        let service = try await TestService()
        let now = service.clock.now()
        service.ingest([event("AAPL", "Doji", confidence: 0.9, now: now), "not json", #"{"symbol":"AAPL","pattern":"Doji"}"#])
        service.ingest([event("MSFT", "Doji", confidence: 0.7, now: now)], channel: "tickstock.events.patterns.daily")
        try await service.test { client in
            let body = try await client.getJSON("/api/patterns/stats")
            #expect(body["status"] as? String == "healthy")
            let stats = try #require(body["stats"] as? [String: Any])
            #expect(stats["cached_patterns"] as? Int == 2)
            #expect(stats["events_processed"] as? Int == 4)
            #expect(stats["events_rejected"] as? Int == 2)
            let reasons = try #require(stats["rejects_by_reason"] as? [String: Int])
            #expect(reasons["not_json"] == 1 && reasons["missing_confidence"] == 1)
            let channels = try #require(stats["per_channel"] as? [String: Int])
            #expect(channels == ["tickstock.events.patterns": 3, "tickstock.events.patterns.daily": 1])
            #expect(stats["last_event_time"] as? String == Timestamp.iso8601(now))
        }
    }

    @Test func `summary totals every live pattern`() async throws {
        let service = try await TestService()
        let now = service.clock.now()
        let symbols = (0..<150).map { i in ["AAPL", "MSFT", "NVDA", "XOM"][i % 4] }
        service.ingest(symbols.enumerated().map { i, symbol in
            event(symbol, i % 3 == 0 ? "Hammer" : "Doji", confidence: i % 5 == 0 ? 0.9 : 0.6, ageSeconds: i + 1, now: now)
        })
        try await service.test { client in
            let body = try await client.getJSON("/api/patterns/summary")
            #expect(body["total_patterns"] as? Int == 150)
            #expect(body["high_confidence_patterns"] as? Int == 30)
            let types = try #require(body["pattern_types"] as? [String: Any])
            #expect(types["distribution"] as? [String: Int] == ["Doji": 100, "Hammer": 50])
            #expect((types["top_patterns"] as? [[String: Any]])?.first?["pattern"] as? String == "Doji")
            let symbolsBody = try #require(body["symbols"] as? [String: Any])
            #expect(symbolsBody["active_symbols"] as? Int == 4)
            #expect((symbolsBody["top_symbols"] as? [[String: Any]])?.count == 4)
        }
    }

    @Test func `per-tier lists carry priority and honour symbols, confidence and limit`() async throws {
        let service = try await TestService()
        let now = service.clock.now()
        service.ingest([
            event("AAPL", "Doji", confidence: 0.95, tier: "intraday", now: now), event("AAPL", "Hammer", confidence: 0.82, tier: "intraday", now: now),
            event("MSFT", "Doji", confidence: 0.75, tier: "intraday", now: now), event("AAPL", "Doji", confidence: 0.99, tier: "daily", now: now),
        ])
        try await service.test { client in
            let body = try await client.getJSON("/api/patterns/intraday?symbols=AAPL,MSFT&confidence_min=0.6&limit=2")
            let patterns = try #require(body["patterns"] as? [[String: Any]])
            #expect(patterns.map { $0["priority"] as? String } == ["CRITICAL", "HIGH"])
            #expect(patterns.allSatisfy { $0["tier"] as? String == "intraday" })
            let metadata = try #require(body["metadata"] as? [String: Any])
            #expect(metadata["count"] as? Int == 2)
            #expect(metadata["tier"] as? String == "intraday")
            #expect(metadata["confidence_min"] as? Double == 0.6)
            let daily = try await client.getJSON("/api/patterns/daily_intraday")
            #expect((daily["patterns"] as? [Any])?.isEmpty == true)
            let unknown = try await client.getJSON("/api/patterns/yearly", status: .notFound)
            #expect(unknown["error"] as? String == "not_found")
        }
    }

    @Test func `text fields survive JSON escaping verbatim`() async throws {
        let service = try await TestService()
        let tricky = #"quote \" backslash \\ newline \n tab \t control \u0001 unicode é 😀 </script>"#  // JSON source text
        service.ingest([event("AAPL", "Doji", confidence: 0.9, extra: #","description":"\#(tricky)""#, now: service.clock.now())])
        try await service.test { client in
            let body = try await client.getJSON("/api/patterns/scan")
            let item = try #require((body["patterns"] as? [[String: Any]])?.first)
            let indicators = try #require(item["indicators"] as? [String: Any])
            #expect(indicators["description"] as? String == "quote \" backslash \\ newline \n tab \t control \u{01} unicode é 😀 </script>")
        }
    }

    @Test func `liveness and readiness answer`() async throws {
        let service = try await TestService()
        try await service.test { client in
            #expect(try await client.getJSON("/health")["status"] as? String == "ok")
            let ready = try await client.getJSON("/health/ready")
            #expect(ready["ready"] as? Bool == true)
            let missing = try await client.getJSON("/nope", status: .notFound)
            #expect(missing["error"] as? String == "not_found")
        }
    }

    @Test func `the embedded default serves demo patterns that keep arriving through the event source`() async throws {
        let service = try await TestService(demo: true, demoInitial: 300)
        try await service.test { client in
            let first = try await client.getJSON("/api/patterns/stats")
            let processed = try #require((first["stats"] as? [String: Any])?["events_processed"] as? Int)
            #expect(processed == 300)
            // Events published into the source reach the index through the running ingestion service.
            try #require(service.dependencies.demoSource).publish(
                .init(body: Array(event("ZTS", "Spring", confidence: 0.97, now: service.clock.now()).utf8), channel: "tickstock.events.patterns",
                      receivedAt: service.clock.now()))
            var found = false
            for _ in 0..<200 where !found {
                let body = try await client.getJSON("/api/patterns/scan?symbols=ZTS&pattern_types=Spring")
                found = (body["patterns"] as? [Any])?.isEmpty == false
                if !found { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(found)
        }
    }

    @Test func `the embedded default detects over the bundled demo bars, then replays their last days live`() async throws {
        let service = try await TestService(demo: true) { configuration in
            configuration.demoMode = .bars
            configuration.demoBarSeconds = 0.2
            configuration.demoReplayBars = 3
        }
        try await service.test { client in
            let first = try await client.getJSON("/api/patterns/stats")
            let warmUp = try #require((first["stats"] as? [String: Any])?["events_processed"] as? Int)
            #expect(warmUp > 500, "20 days of detections over 76 symbols")
            let scan = try await client.getJSON("/api/patterns/scan?symbols=AAPL&per_page=100")
            let patterns = try #require(scan["patterns"] as? [[String: Any]])
            #expect(!patterns.isEmpty)
            #expect(patterns.allSatisfy { ($0["indicators"] as? [String: Any])?["relative_strength_sector"] != nil }, "RS against XLK")
            #expect(patterns.allSatisfy { $0["relative_strength"] != nil }, "RS against SPY")
            // The replay publishes the next day's detections into the source within a few bar periods.
            var processed = warmUp
            for _ in 0..<600 where processed == warmUp {
                try await Task.sleep(for: .milliseconds(100))
                let stats = try await client.getJSON("/api/patterns/stats")
                processed = try #require((stats["stats"] as? [String: Any])?["events_processed"] as? Int)
            }
            #expect(processed > warmUp)
        }
    }
}
