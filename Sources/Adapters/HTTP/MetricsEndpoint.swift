import Domain
public import Hummingbird
public import Ports

/// `GET /metrics`: the service's figures in Prometheus text format, for scraping: the index, ingestion and its
/// transport, the producer, WebSocket delivery, readiness of each dependency, and the HTTP requests themselves.
/// Counters are the same ones `/api/patterns/stats` shows as JSON.
public struct MetricsEndpoint<Store: PatternStore, Clock: WallClock>: Sendable {
    let patterns: PatternController<Store, Clock>
    let requests: HTTPRequestMetrics
    let readiness: @Sendable () async -> ReadinessReport
    let startedAt = ContinuousClock.now

    public init(
        patterns: PatternController<Store, Clock>, requests: HTTPRequestMetrics, readiness: @escaping @Sendable () async -> ReadinessReport
    ) {
        self.patterns = patterns
        self.requests = requests
        self.readiness = readiness
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("metrics") { _, _ in
            let text = await render()
            return Response(
                status: .ok, headers: [.contentType: PrometheusText.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }

    func render() async -> String {
        var text = PrometheusText()
        let report = await readiness()
        text.single("patterndesk_ready", .gauge, "1 when /health/ready answers 200.", report.ready ? 1 : 0)
        text.family("patterndesk_dependency_up", .gauge, "1 when the readiness check of the dependency is up.")
        for check in report.checks {
            text.sample("patterndesk_dependency_up", ["check": check.name], Double(check.status == "up" ? 1 : 0))
        }
        text.family("patterndesk_uptime_seconds", .gauge, "Seconds since the HTTP routes were built.")
        text.sample("patterndesk_uptime_seconds", [:], milliseconds(ContinuousClock.now - startedAt) / 1000)
        patterns.writeMetrics(to: &text)
        requests.write(to: &text)
        return text.text
    }
}

extension PatternController {
    func writeMetrics(to text: inout PrometheusText) {
        let snapshot = store.snapshot()
        let statistics = store.statistics()
        text.single("patterndesk_patterns_live", .gauge, "Patterns in the index.", snapshot.count)
        text.family("patterndesk_index_version", .gauge, "Version of the published index snapshot (bumped by every change).")
        text.sample("patterndesk_index_version", [:], Double(snapshot.version))
        text.family("patterndesk_events_received_total", .counter, "Producer messages received, by channel or stream.")
        for (channel, count) in statistics.receivedPerChannel.sorted(by: { $0.key < $1.key }) {
            text.sample("patterndesk_events_received_total", ["channel": channel], Double(count))
        }
        text.single("patterndesk_events_applied_total", .counter, "Events applied to the index.", statistics.applied)
        text.family("patterndesk_events_rejected_total", .counter, "Malformed or invalid events set aside, by reason.")
        for reason in RejectReason.allCases.sorted(by: { $0.rawValue < $1.rawValue }) {
            text.sample("patterndesk_events_rejected_total", ["reason": reason.rawValue], Double(statistics.rejected[reason] ?? 0))
        }
        text.family("patterndesk_events_ignored_total", .counter, "Well-formed messages that carry no pattern operation, by kind.")
        for (kind, count) in statistics.ignored.sorted(by: { $0.key < $1.key }) {
            text.sample("patterndesk_events_ignored_total", ["kind": kind], Double(count))
        }
        text.single("patterndesk_patterns_inserted_total", .counter, "Upserts that added a pattern.", statistics.inserted)
        text.single("patterndesk_patterns_updated_total", .counter, "Upserts that replaced a pattern.", statistics.updated)
        text.family("patterndesk_patterns_expired_total", .counter, "Patterns removed, by an expiry event or by time.")
        text.sample("patterndesk_patterns_expired_total", ["by": "event"], Double(statistics.expiredByEvent))
        text.sample("patterndesk_patterns_expired_total", ["by": "time"], Double(statistics.expiredByTime))
        if let last = statistics.lastEventAt {
            text.family("patterndesk_last_event_timestamp_seconds", .gauge, "When the last pattern event was received (Unix time).")
            text.sample("patterndesk_last_event_timestamp_seconds", [:], Double(last) / 1000)
        }

        let ingestion = settings.ingestionStatus()
        let source = ingestion.source
        text.family("patterndesk_event_source_connected", .gauge, "1 while every subscription and stream consumer of the event source is connected.")
        text.sample("patterndesk_event_source_connected", ["source": settings.sourceName], Double(source.connected ? 1 : 0))
        if !source.counters.isEmpty {
            text.family("patterndesk_event_source_events_total", .counter, "The event source's own counters (received per channel, redelivered, reconnects, ...).")
            for counter in source.counters {
                text.sample("patterndesk_event_source_events_total", ["counter": counter.name], Double(counter.value))
            }
        }
        if let lag = source.streamLag {
            text.single("patterndesk_stream_lag", .gauge, "Stream entries not yet delivered to this consumer group.", lag)
        }
        if let pending = source.streamPending {
            text.single("patterndesk_stream_pending", .gauge, "Stream entries delivered but not yet acknowledged.", pending)
        }
        text.single("patterndesk_warm_start_loaded", .gauge, "1 once the warm-start cache is in the index.", ingestion.warmStartLoaded ? 1 : 0)
        text.family("patterndesk_producer_state", .gauge, "1 for the producer's current heartbeat state.")
        for state in ["online", "offline", "unknown"] {
            text.sample("patterndesk_producer_state", ["state": state], Double(ingestion.producer.state.rawValue == state ? 1 : 0))
        }

        guard let realtime = settings.realtimeStatus?() else { return }
        // The status lists two gauges among its counters: the open connections per protocol.
        let perProtocol = ["connections_native": "native", "connections_socketio": "socketio"]
        text.family("patterndesk_websocket_connections", .gauge, "Open WebSocket connections, by protocol.")
        for counter in realtime.counters {
            if let name = perProtocol[counter.name] { text.sample("patterndesk_websocket_connections", ["protocol": name], Double(counter.value)) }
        }
        text.single("patterndesk_websocket_subscriptions", .gauge, "Live subscriptions over all connections.", realtime.subscriptions)
        text.single("patterndesk_websocket_history_messages", .gauge, "Messages kept for resume.", realtime.historySize)
        text.family("patterndesk_websocket_sequence", .gauge, "The newest sequence number published.")
        text.sample("patterndesk_websocket_sequence", [:], Double(realtime.seq))
        for counter in realtime.counters where perProtocol[counter.name] == nil {
            let name = "patterndesk_websocket_\(PrometheusText.metricName(counter.name))_total"
            text.single(name, .counter, "WebSocket \(counter.name.replacing("_", with: " ")).", counter.value)
        }
    }
}
