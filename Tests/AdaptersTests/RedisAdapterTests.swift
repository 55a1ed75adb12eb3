import Domain
import Foundation
import InMemory
import Logging
import Ports
import Redis
import Synchronization
import Testing

/// The Redis adapter against the real `redis-server` that `make test` starts (`PATTERNDESK_TEST_REDIS_URL`).
@Suite(
    .enabled(if: RedisTestServer.url != nil, "needs PATTERNDESK_TEST_REDIS_URL (make test starts a redis-server)"), .timeLimit(.minutes(2)))
struct TheRedisAdapter {
    let endpoint = try! RedisEndpoint(url: RedisTestServer.url ?? "redis://127.0.0.1:1")
    var client: RedisClient { RedisClient(endpoint: endpoint, name: "test-client") }

    func source(stream: String?, channels: [String] = [], configure: (inout RedisEventSourceConfiguration) -> Void = { _ in })
        -> RedisEventSource
    {
        var configuration = RedisEventSourceConfiguration()
        configuration.stream = stream
        configuration.channels = channels
        configuration.batchSize = 64
        configuration.blockMillis = 100
        configuration.consumer = "test-consumer"
        configuration.backoff = Backoff(base: .milliseconds(20), cap: .milliseconds(200))
        configure(&configuration)
        return RedisEventSource(endpoint: endpoint, configuration: configuration, clock: SystemWallClock(), logger: Logger(label: "test"))
    }

    @Test func `the stream source meets the event-source contract`() async throws {
        let client = self.client
        try await eventSourceContract(make: { source(stream: RedisTestServer.unique("stream")) }) { source, body in
            _ = try await client.command(["XADD", source.configuration.stream!, "*", "data", body])
        }
    }

    @Test func `the warm-start cache and the heartbeat meet their contracts`() async throws {
        let pool = RedisCommandPool(endpoint: endpoint)
        try await patternCacheContract(RedisPatternCache(pool: pool, key: RedisTestServer.unique("cache")))
        let key = RedisTestServer.unique("heartbeat")
        let client = self.client
        try await heartbeatContract(RedisProducerHeartbeat(pool: pool, key: key)) { value in
            _ = try await client.command(value.map { ["SET", key, String($0)] } ?? ["DEL", key])
        }
    }

    @Test func `pub/sub messages arrive with their channel, tier channels included`() async throws {
        let channels = [RedisTestServer.unique("events.patterns"), RedisTestServer.unique("events.patterns") + ".intraday"]
        let source = source(stream: nil, channels: channels)
        let received = Mutex<[IncomingEvent]>([])
        let task = Task {
            try await source.run { batch in
                received.withLock { $0 += batch }
                return batch.map { _ in .accepted }
            }
        }
        try await waitUntil { source.status().connected }
        for (index, channel) in channels.enumerated() { _ = try await client.command(["PUBLISH", channel, #"{"n":\#(index)}"#]) }
        try await waitUntil { received.withLock { $0.count } == 2 }
        task.cancel()
        try await task.value
        #expect(received.withLock { $0.map(\.channel) } == channels)
        #expect(received.withLock { $0.map { String(decoding: $0.body, as: UTF8.self) } } == [#"{"n":0}"#, #"{"n":1}"#])
        #expect(source.status().counters.first { $0.name == "received.\(channels[1])" }?.value == 1)
    }

    @Test func `a rejected entry is dead-lettered with its reason and acknowledged`() async throws {
        let stream = RedisTestServer.unique("stream")
        let source = source(stream: stream)
        _ = try await client.command(["XADD", stream, "*", "data", "not json"])
        _ = try await client.command(["XADD", stream, "*", "data", "{}"])
        let task = Task { try await source.run { batch in batch.map { _ in .rejected(reason: "not_json") } } }
        try await waitUntil { source.status().counters.first { $0.name == "dead_lettered" }?.value == 2 }
        task.cancel()
        try await task.value
        let dead = try await client.command(["XRANGE", "\(stream):dead", "-", "+"])
        let fields = try #require(dead.array?.first?.array?[1].array).compactMap(\.string)
        #expect(fields.starts(with: ["dead_reason", "not_json", "dead_source_id"]))
        #expect(fields.suffix(2) == ["data", "not json"])
        #expect(try await client.command(["XPENDING", stream, "patterndesk"]).array?.first?.integer == 0)
    }

    @Test func `an entry whose handler keeps failing is dead-lettered after the maximum deliveries`() async throws {
        let stream = RedisTestServer.unique("stream")
        let source = source(stream: stream) { $0.maxDeliveries = 2 }
        _ = try await client.command(["XADD", stream, "*", "data", #"{"poison":true}"#])
        let attempts = Mutex(0)
        for _ in 0..<2 {
            await #expect(throws: HandlerFailure.self) {
                try await source.run { _ in
                    attempts.withLock { $0 += 1 }
                    throw HandlerFailure()
                }
            }
        }
        let task = Task {
            try await source.run { batch in
                attempts.withLock { $0 += 1 }
                return batch.map { _ in .accepted }
            }
        }
        try await waitUntil { source.status().counters.first { $0.name == "dead_lettered" }?.value == 1 }
        task.cancel()
        try await task.value
        #expect(attempts.withLock { $0 } == 2)
        let dead = try await client.command(["XRANGE", "\(stream):dead", "-", "+"])
        let fields = try #require(dead.array?.first?.array?[1].array).compactMap(\.string)
        #expect(Array(fields.prefix(2)) == ["dead_reason", "max_deliveries_exceeded"])
        #expect(fields.contains("3"))  // dead_deliveries
        #expect(source.status().counters.first { $0.name == "redelivered" }?.value == 2)
    }

    @Test func `entries another consumer left pending are claimed at start`() async throws {
        let stream = RedisTestServer.unique("stream")
        _ = try await client.command(["XGROUP", "CREATE", stream, "patterndesk", "0", "MKSTREAM"])
        _ = try await client.command(["XADD", stream, "*", "data", #"{"n":1}"#])
        // A consumer that died after reading: the entry stays pending in its name.
        _ = try await client.command(["XREADGROUP", "GROUP", "patterndesk", "ghost", "COUNT", "10", "STREAMS", stream, ">"])
        let source = source(stream: stream) { $0.claimMinIdleMillis = 0 }
        let received = Mutex<[String]>([])
        let task = Task {
            try await source.run { batch in
                received.withLock { $0 += batch.map { String(decoding: $0.body, as: UTF8.self) } }
                return batch.map { _ in .accepted }
            }
        }
        try await waitUntil { received.withLock { $0.count } == 1 }
        task.cancel()
        try await task.value
        #expect(received.withLock { $0 } == [#"{"n":1}"#])
        let counters = source.status().counters
        #expect(counters.first { $0.name == "claimed" }?.value == 1 && counters.first { $0.name == "redelivered" }?.value == 1)
        #expect(try await client.command(["XPENDING", stream, "patterndesk"]).array?.first?.integer == 0)
    }

    @Test func `pre-encoded pipelines write every command, and an error reply is thrown after all replies are read`() async throws {
        let stream = RedisTestServer.unique("encoded")
        let wrong = RedisTestServer.unique("string")
        _ = try await client.command(["SET", wrong, "x"])
        let prefix = RESPCommands.encode([Array("XADD".utf8), Array(stream.utf8), Array("*".utf8), Array("data".utf8)])
        var commands = RESPCommands()
        for body in ["{\"a\":1}", "two words\r\n", ""] { commands.append(arguments: 5, prefix: prefix, Array(body.utf8)) }
        let written = commands
        try await client.withConnection { connection throws(RedisError) in try connection.pipeline(encoded: written) }
        let entries = try await client.command(["XRANGE", stream, "-", "+"])
        guard case .array(let items) = entries else { Issue.record("XRANGE: \(entries)"); return }
        #expect(items.count == 3)
        // The middle command hits a key of the wrong type: the others still land, the error names the problem.
        var mixed = RESPCommands()
        mixed.append(arguments: 5, prefix: prefix, Array("four".utf8))
        mixed.append(arguments: 5, prefix: RESPCommands.encode([Array("XADD".utf8), Array(wrong.utf8), Array("*".utf8), Array("data".utf8)]), Array("x".utf8))
        mixed.append(arguments: 5, prefix: prefix, Array("five".utf8))
        let batch = mixed
        await #expect(throws: RedisError.self) {
            try await client.withConnection { connection throws(RedisError) in try connection.pipeline(encoded: batch) }
        }
        #expect(try await client.command(["XLEN", stream]) == .integer(5))
    }

    @Test func `an unreachable server degrades the status and never ends the source`() async throws {
        var configuration = RedisEventSourceConfiguration()
        configuration.channels = ["c"]
        configuration.backoff = Backoff(base: .milliseconds(10), cap: .milliseconds(50))
        let source = RedisEventSource(
            endpoint: RedisEndpoint(host: "127.0.0.1", port: 1), configuration: configuration, clock: SystemWallClock(),
            logger: Logger(label: "test"))
        let task = Task { try await source.run { _ in [] } }
        try await waitUntil { (source.status().counters.first { $0.name == "connection_failures" }?.value ?? 0) >= 4 }
        let status = source.status()
        #expect(!status.connected)
        #expect(status.problem?.contains("Connection refused") == true)
        task.cancel()
        try await task.value
    }
}

@Suite struct RedisValueParsing {
    @Test func `Redis URLs give host, port, credentials and database`() throws {
        #expect(try RedisEndpoint(url: "redis://localhost") == RedisEndpoint(host: "localhost"))
        #expect(try RedisEndpoint(url: "redis://:p%40ss@10.0.0.2:6380/3") == RedisEndpoint(host: "10.0.0.2", port: 6380, password: "p@ss", database: 3))
        #expect(try RedisEndpoint(url: "redis://user:pw@h:1/") == RedisEndpoint(host: "h", port: 1, username: "user", password: "pw"))
        for bad in ["http://h", "redis://h:0", "redis://h:x", "redis://h/db", "redis://"] {
            #expect(throws: RedisEndpoint.ParseError.self) { try RedisEndpoint(url: bad) }
        }
        #expect(try RedisEndpoint(url: "redis://:secret@h").description == "h:6379/0")
    }

    @Test func `stream entries carry the event in one field or as flat fields`() throws {
        func body(_ fields: [(String, String)]) -> JSONValue? {
            try? JSONParser.parse(StreamEntry(id: "1-0", fields: fields.map { ($0.0, Array($0.1.utf8)) }).eventBody)
        }
        for field in ["data", "event", "payload"] {
            #expect(body([(field, #"{"symbol":"AAPL"}"#)]) == .object([("symbol", .string("AAPL"))]))
        }
        let flat = try #require(
            body([
                ("event_type", "pattern_detected"), ("symbol", "AAPL"), ("confidence", "0.85"), ("timestamp", "2024-09-04T13:33:09Z"),
                ("data", #"{"tier":"daily"}"#), ("indicators", #"{"rsi":65}"#),
            ]))
        #expect(flat["confidence"] == .number(0.85))
        #expect(flat["timestamp"] == .string("2024-09-04T13:33:09Z"))
        #expect(flat["data"]?["tier"] == .string("daily"))
        #expect(flat["indicators"]?["rsi"] == .number(65))
        #expect(StreamEntry(id: "1-0", fields: nil).eventBody.isEmpty)
    }
}

enum RedisTestServer {
    static let url = ProcessInfo.processInfo.environment["PATTERNDESK_TEST_REDIS_URL"]
    private static let counter = Atomic<Int>(0)

    /// A key no other test uses, in this run or an earlier one.
    static func unique(_ name: String) -> String {
        "test:\(name):\(ProcessInfo.processInfo.processIdentifier):\(counter.wrappingAdd(1, ordering: .relaxed).oldValue):\(UInt32.random(in: 0...UInt32.max))"
    }
}

/// Polls `condition` every 5 ms for up to 30 s (the whole bundle runs in parallel on two cores, and CPU-bound suites
/// can hold the cooperative threads for seconds), and ends the test when it never holds.
func waitUntil(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while !condition() {
        guard ContinuousClock.now < deadline else {
            throw TimedOut(sourceLocation: sourceLocation)
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var sourceLocation: SourceLocation
    var description: String { "condition not met within 30 s (\(sourceLocation))" }
}
