import Synchronization

/// Requests served, by method and status, and their duration as a histogram, for `GET /metrics`. One short lock per
/// request; the buckets are fixed (seconds). `MethodRouting` records each request with its final status.
public final class HTTPRequestMetrics: Sendable {
    static let buckets: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

    struct State {
        var requests: [Key: Int] = [:]
        /// Cumulative counts are computed when read; these are per bucket, the last one for `+Inf`.
        var bucketCounts = [Int](repeating: 0, count: HTTPRequestMetrics.buckets.count + 1)
        var durationSum = 0.0
        var count = 0
    }

    struct Key: Hashable {
        var method: String
        var status: Int
    }

    private let state = Mutex(State())

    public init() {}

    /// Counts one answered request that started at `started`.
    func record(method: String, status: Int, since started: ContinuousClock.Instant) {
        let seconds = milliseconds(ContinuousClock.now - started) / 1000
        let bucket = Self.buckets.firstIndex { seconds <= $0 } ?? Self.buckets.count
        state.withLock { state in
            state.requests[Key(method: method, status: status), default: 0] += 1
            state.bucketCounts[bucket] += 1
            state.durationSum += seconds
            state.count += 1
        }
    }

    func write(to text: inout PrometheusText) {
        let state = self.state.withLock { $0 }
        text.family("patterndesk_http_requests_total", .counter, "HTTP requests answered, by method and status code.")
        for (key, value) in state.requests.sorted(by: { ($0.key.method, $0.key.status) < ($1.key.method, $1.key.status) }) {
            text.sample("patterndesk_http_requests_total", ["method": key.method, "status": String(key.status)], Double(value))
        }
        text.family("patterndesk_http_request_duration_seconds", .histogram, "Time from the request's head to the response, in seconds.")
        var cumulative = 0
        for (index, bound) in Self.buckets.enumerated() {
            cumulative += state.bucketCounts[index]
            text.sample("patterndesk_http_request_duration_seconds_bucket", ["le": PrometheusText.number(bound)], Double(cumulative))
        }
        text.sample("patterndesk_http_request_duration_seconds_bucket", ["le": "+Inf"], Double(state.count))
        text.sample("patterndesk_http_request_duration_seconds_sum", [:], state.durationSum)
        text.sample("patterndesk_http_request_duration_seconds_count", [:], Double(state.count))
    }
}
