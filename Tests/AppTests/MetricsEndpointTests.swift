import Domain
import Foundation
import Hummingbird
import HummingbirdTesting
import InMemory
import Testing

@Suite struct TheMetricsEndpoint {
    /// `name{labels} value` lines of a Prometheus text page, keyed by the part before the value; every sample's family
    /// must have been declared with `# TYPE` first.
    static func samples(_ text: String) throws -> [String: Double] {
        var declared: Set<String> = []
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                declared.insert(String(line.split(separator: " ")[2]))
                continue
            }
            if line.hasPrefix("#") { continue }
            let space = try #require(line.lastIndex(of: " "))
            let key = String(line[..<space])
            let name = String(key.prefix { $0 != "{" })
            let family = ["_bucket", "_sum", "_count"].reduce(name) { name, suffix in
                declared.contains(name) ? name : name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : name
            }
            #expect(declared.contains(family), "sample \(key) before its # TYPE")
            samples[key] = try #require(Double(line[line.index(after: space)...]), "\(line)")
        }
        return samples
    }

    @Test func `metrics agree with the stats and count every request by method and status`() async throws {
        let service = try await TestService()
        let now = service.clock.now()
        service.ingest([
            event("AAPL", "Doji", confidence: 0.8, now: now), event("MSFT", "Hammer", confidence: 0.7, now: now), "not json",
        ])
        try await service.test { client in
            _ = try await client.getJSON("/api/patterns/scan")
            _ = try await client.getJSON("/api/patterns/scan?per_page=abc", status: .badRequest)
            _ = try await client.execute(uri: "/nowhere", method: .get) { #expect($0.status == .notFound) }
            let text = try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                return String(buffer: response.body)
            }
            let metrics = try Self.samples(text)
            #expect(metrics["patterndesk_patterns_live"] == 2)
            #expect(metrics["patterndesk_events_applied_total"] == 2)
            #expect(metrics[#"patterndesk_events_rejected_total{reason="not_json"}"#] == 1)
            #expect(metrics[#"patterndesk_events_rejected_total{reason="missing_symbol"}"#] == 0)
            #expect(metrics["patterndesk_patterns_inserted_total"] == 2)
            #expect(metrics["patterndesk_ready"] == 1)
            #expect(metrics[#"patterndesk_dependency_up{check="index"}"#] == 1)
            #expect(metrics[#"patterndesk_http_requests_total{method="GET",status="200"}"#] == 1)
            #expect(metrics[#"patterndesk_http_requests_total{method="GET",status="400"}"#] == 1)
            #expect(metrics[#"patterndesk_http_requests_total{method="GET",status="404"}"#] == 1)
            #expect(metrics[#"patterndesk_http_request_duration_seconds_bucket{le="+Inf"}"#] == 3)
            #expect(metrics["patterndesk_http_request_duration_seconds_count"] == 3)
            let buckets = metrics.filter { $0.key.hasPrefix("patterndesk_http_request_duration_seconds_bucket") }
            #expect(buckets.count == 13)
            let ordered = buckets.sorted { bound($0.key) < bound($1.key) }.map(\.value)
            #expect(ordered == ordered.sorted(), "buckets are cumulative")

            let stats = try #require((try await client.getJSON("/api/patterns/stats"))["stats"] as? [String: Any])
            #expect(metrics["patterndesk_events_applied_total"] == (stats["events_applied"] as? Double))
            #expect(metrics["patterndesk_index_version"] == (stats["index_version"] as? Double))
            let websocket = try #require(stats["websocket"] as? [String: Any])
            #expect(metrics["patterndesk_websocket_subscriptions"] == (websocket["subscriptions"] as? Double))
        }
    }

    func bound(_ key: String) -> Double {
        let value = key.split(separator: "\"")[1]
        return value == "+Inf" ? .infinity : Double(value)!
    }
}
