import Configuration
import Domain
import Foundation
import Logging
import Postgres
import Redis
import WebSocket

/// Everything `patterndesk serve` reads from configuration.
///
/// - Configuration keys (flag `--http-port`, environment `HTTP_PORT`, …):
///   - `http.host` (string, default `127.0.0.1`): address to bind.
///   - `http.port` (int, default `8080`): port to bind; 0 picks a free one.
///   - `http.scan-cache` (int, default `1024`): scan answers kept for reuse while exact (same query, same index version,
///     before the first of its matches expires); `0` turns the cache off.
///   - `demo.enabled` (bool, default `true`): run the demo producer.
///   - `demo.mode` (`bars` or `synthetic`, default `bars`): `bars` runs the detectors over the bundled demo bars and
///     replays their last days as a live feed; `synthetic` generates events of every producer shape.
///   - `demo.bar-seconds` (double, default `10`): wall-clock seconds per replayed trading day (bars mode).
///   - `index.chunk-capacity` (int, default `4096`, 1...32768): slots per index chunk; larger scans faster, smaller
///     publishes small batches faster (see docs/benchmarks.md).
///   - `demo.lifetime-bars` (int, default `20`): a detection lives this many replayed days (bars mode).
///   - `demo.replay-bars` (int, default `120`): the last days replayed before the replay wraps around (bars mode).
///   - `demo.rate` (double, default `20`): demo events per second (synthetic mode).
///   - `demo.initial` (int, default `400`): demo events applied at start-up, before readiness (synthetic mode).
///   - `demo.seed` (int, default `42`): seed of the demo generator (synthetic mode).
///   - `ws.queue-messages` (4096), `ws.queue-bytes` (8 MiB): a WebSocket client with more queued is closed with 1008;
///     `ws.lag-ms` (5000): one whose oldest queued message is older is closed with 1013.
///   - `ws.ping-seconds` (30): a native WebSocket client is pinged this often and closed (1001) when it sent nothing
///     back, not even a pong, by the next ping.
///   - `ws.history-count` (10000), `ws.history-seconds` (120): the replay history for `resume` keeps at least this many
///     events and everything this young (at most 250,000 events).
///   - `patterns.ttl` (int, default `3600`): seconds a pattern without `expires_at` lives.
///   - `log.level` (string, default `info`): trace, debug, info, notice, warning, error, critical.
///   - `database.url` (string, environment `DATABASE_URL`): `postgres://user:password@host:port/db[?sslmode=disable]`.
///     Unset means user data and the catalogue stay in memory; set, they live in PostgreSQL.
///   - `database.migrate` (bool, default `true`): apply pending migrations at start-up.
///   - `database.timeout-ms` (int, default `2000`): longest wait for one database operation before a 503.
///   - `database.pool-size` (int, default `16`): connections in the pool.
///   - `database.cache-users` (int, default `10000`): users whose watchlists and presets are kept in memory, kept
///     fresh by LISTEN/NOTIFY; `0` reads the database every time.
///   - `auth.jwt-secret` (secret, environment `AUTH_JWT_SECRET`): the HS256 secret bearer tokens are signed with.
///     Required with `database.url` unless `auth.dev-user-header` is on.
///   - `auth.dev-user-header` (bool; default `true` without `database.url`, else `false`): trust `X-User-ID` without a
///     token. Development only; the service prints a warning when it is on.
///   - `redis.url` (string, flag `--redis-url` or `--redis`, environment `REDIS_URL`): `redis://[:password@]host[:port][/db]`.
///     Unset means the embedded default (in memory, demo data); set, PatternDesk ingests from Redis and the demo is off.
///   - `redis.password`, `redis.db`: override the URL's.
///   - `redis.channels` (comma list; default the producer's channels, see producer-events.md; empty for none).
///   - `redis.stream` (default `tickstock:stream:patterns`; empty for none), `redis.group` (`patterndesk`),
///     `redis.consumer` (default `patterndesk-<host>-<http port>`, stable across restarts), `redis.dead-stream`
///     (default `<stream>:dead`), `redis.batch` (1000), `redis.block-ms` (1000), `redis.claim-idle-ms` (30000),
///     `redis.max-deliveries` (5), `redis.group-start` (`0`: a new group reads the stream from its start).
///   - `redis.cache-key` (default `patterndesk:patterns`; empty disables the warm-start cache).
///   - `redis.heartbeat-key` (default `tickstock:producer:heartbeat`).
struct AppConfiguration: Sendable, Equatable {
    var host = "127.0.0.1"
    var port = 8080
    var demoEnabled = true
    var demoMode = DemoMode.bars
    var demoBarSeconds = 10.0
    var indexChunkCapacity = PatternIndex.defaultChunkCapacity
    var scanCacheCapacity = 1_024
    var demoLifetimeBars = 20
    var demoReplayBars = 120
    var demoRate = 20.0
    var demoInitial = 400
    var demoSeed: UInt64 = 42
    var defaultTimeToLiveSeconds = 3600
    var logLevel = Logger.Level.info
    var redis: Redis?
    var webSocket = WebSocketHub.Settings()

    /// The Redis transport, when `redis.url` is set.
    struct Redis: Sendable, Equatable {
        /// From `redis.url`, with `redis.password` and `redis.db` applied.
        var endpoint: RedisEndpoint
        var channels = RedisEventSourceConfiguration.defaultChannels
        var stream: String? = "tickstock:stream:patterns"
        var group = "patterndesk"
        var consumer = "patterndesk"
        var deadStream: String?
        var batch = 1000
        var blockMillis = 1000
        var claimIdleMillis = 30_000
        var maxDeliveries = 5
        var groupStart = "0"
        var cacheKey: String? = "patterndesk:patterns"
        var heartbeatKey = "tickstock:producer:heartbeat"

        var source: RedisEventSourceConfiguration {
            var source = RedisEventSourceConfiguration()
            source.channels = channels
            source.stream = stream
            source.group = group
            source.consumer = consumer
            source.deadLetterStream = deadStream
            source.batchSize = batch
            source.blockMillis = blockMillis
            source.claimMinIdleMillis = claimIdleMillis
            source.claimInterval = .milliseconds(Int64(max(claimIdleMillis, 1000)))
            source.maxDeliveries = maxDeliveries
            source.groupStartID = groupStart
            return source
        }
    }

    enum DemoMode: String, Sendable, Equatable {
        case bars, synthetic
    }

    enum Invalid: Error, CustomStringConvertible {
        case value(key: String, rule: String)
        var description: String {
            switch self {
            case .value(let key, let rule): "configuration \(key) must be \(rule)"
            }
        }
    }

    /// PostgreSQL, when `database.url` is set.
    var database: Database?
    struct Database: Sendable, Equatable {
        var endpoint: PostgresEndpoint
        var migrate = true
        var timeout: Duration = .seconds(2)
        var poolSize = 16
        var cachedUsers = 10_000
    }

    /// Bearer tokens and the development header.
    var authSecret: String?
    var devUserHeader = true

    init() {}

    init(reader: ConfigReader) throws {
        host = reader.string(forKey: "http.host", default: host)
        port = reader.int(forKey: "http.port", default: port)
        guard (0...65_535).contains(port) else { throw Invalid.value(key: "http.port", rule: "0...65535") }
        scanCacheCapacity = reader.int(forKey: "http.scan-cache", default: scanCacheCapacity)
        guard scanCacheCapacity >= 0 else { throw Invalid.value(key: "http.scan-cache", rule: ">= 0 answers") }
        demoEnabled = reader.bool(forKey: "demo.enabled", default: demoEnabled)
        let mode = reader.string(forKey: "demo.mode", default: demoMode.rawValue)
        guard let parsedMode = DemoMode(rawValue: mode.lowercased()) else { throw Invalid.value(key: "demo.mode", rule: "bars or synthetic") }
        demoMode = parsedMode
        demoBarSeconds = reader.double(forKey: "demo.bar-seconds", default: demoBarSeconds)
        guard demoBarSeconds >= 0.01 else { throw Invalid.value(key: "demo.bar-seconds", rule: ">= 0.01 seconds") }
        indexChunkCapacity = reader.int(forKey: "index.chunk-capacity", default: indexChunkCapacity)
        guard (1...32_768).contains(indexChunkCapacity) else { throw Invalid.value(key: "index.chunk-capacity", rule: "1...32768 slots") }
        demoLifetimeBars = reader.int(forKey: "demo.lifetime-bars", default: demoLifetimeBars)
        guard demoLifetimeBars >= 1 else { throw Invalid.value(key: "demo.lifetime-bars", rule: ">= 1") }
        demoReplayBars = reader.int(forKey: "demo.replay-bars", default: demoReplayBars)
        guard demoReplayBars >= 1 else { throw Invalid.value(key: "demo.replay-bars", rule: ">= 1") }
        demoRate = reader.double(forKey: "demo.rate", default: demoRate)
        guard demoRate >= 0, demoRate <= 100_000 else { throw Invalid.value(key: "demo.rate", rule: "0...100000 events/s") }
        demoInitial = reader.int(forKey: "demo.initial", default: demoInitial)
        guard demoInitial >= 0 else { throw Invalid.value(key: "demo.initial", rule: ">= 0") }
        demoSeed = UInt64(truncatingIfNeeded: reader.int(forKey: "demo.seed", default: Int(demoSeed)))
        defaultTimeToLiveSeconds = reader.int(forKey: "patterns.ttl", default: defaultTimeToLiveSeconds)
        guard defaultTimeToLiveSeconds > 0 else { throw Invalid.value(key: "patterns.ttl", rule: "> 0 seconds") }
        let level = reader.string(forKey: "log.level", default: "info")
        guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
            throw Invalid.value(key: "log.level", rule: "one of trace, debug, info, notice, warning, error, critical")
        }
        logLevel = parsed
        webSocket.queueMessages = reader.int(forKey: "ws.queue-messages", default: webSocket.queueMessages)
        guard webSocket.queueMessages >= 16 else { throw Invalid.value(key: "ws.queue-messages", rule: ">= 16") }
        webSocket.queueBytes = reader.int(forKey: "ws.queue-bytes", default: webSocket.queueBytes)
        guard webSocket.queueBytes >= 65_536 else { throw Invalid.value(key: "ws.queue-bytes", rule: ">= 65536") }
        let lagMillis = reader.int(forKey: "ws.lag-ms", default: 5000)
        guard lagMillis >= 100 else { throw Invalid.value(key: "ws.lag-ms", rule: ">= 100") }
        webSocket.lagBudget = .milliseconds(lagMillis)
        let pingSeconds = reader.int(forKey: "ws.ping-seconds", default: 30)
        guard pingSeconds >= 1 else { throw Invalid.value(key: "ws.ping-seconds", rule: ">= 1") }
        webSocket.pingInterval = .seconds(pingSeconds)
        webSocket.historyCount = reader.int(forKey: "ws.history-count", default: webSocket.historyCount)
        webSocket.historyAge = EpochMillis(reader.int(forKey: "ws.history-seconds", default: Int(webSocket.historyAge / 1000))) * 1000
        webSocket.historyCapacity = max(webSocket.historyCapacity, webSocket.historyCount)
        guard webSocket.historyCount >= 1, webSocket.historyAge >= 0 else {
            throw Invalid.value(key: "ws.history-count", rule: ">= 1 (and ws.history-seconds >= 0)")
        }
        if let url = reader.string(forKey: "redis.url") ?? reader.string(forKey: "redis"), !url.isEmpty {
            redis = try Self.redis(url: url, reader: reader, httpPort: port)
        }
        try readDatabaseAndAuth(reader)
    }

    private mutating func readDatabaseAndAuth(_ reader: ConfigReader) throws {
        if let url = reader.string(forKey: "database.url", isSecret: true), !url.isEmpty {
            var database: Database
            do {
                database = Database(endpoint: try PostgresEndpoint(url: url))
            } catch {
                throw Invalid.value(key: "database.url", rule: "a postgres:// URL (\(error.reason))")
            }
            database.migrate = reader.bool(forKey: "database.migrate", default: true)
            let timeout = reader.int(forKey: "database.timeout-ms", default: 2000)
            guard (50...60_000).contains(timeout) else { throw Invalid.value(key: "database.timeout-ms", rule: "50...60000") }
            database.timeout = .milliseconds(timeout)
            database.poolSize = reader.int(forKey: "database.pool-size", default: 16)
            guard (1...200).contains(database.poolSize) else { throw Invalid.value(key: "database.pool-size", rule: "1...200") }
            database.cachedUsers = reader.int(forKey: "database.cache-users", default: 10_000)
            guard (0...10_000_000).contains(database.cachedUsers) else {
                throw Invalid.value(key: "database.cache-users", rule: "0...10000000")
            }
            self.database = database
        }
        authSecret = reader.string(forKey: "auth.jwt-secret", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        if let secret = authSecret, secret.utf8.count < 32 {
            throw Invalid.value(key: "auth.jwt-secret", rule: "at least 32 bytes long")
        }
        devUserHeader = reader.bool(forKey: "auth.dev-user-header", default: database == nil)
    }

    /// Serving user data from PostgreSQL needs a way to authenticate: a token secret, or the development header.
    func checkServable() throws {
        if database != nil && authSecret == nil && !devUserHeader {
            throw Invalid.value(key: "auth.jwt-secret", rule: "set when database.url is (or turn on auth.dev-user-header for development)")
        }
    }

    private static func redis(url: String, reader: ConfigReader, httpPort: Int) throws -> Redis {
        var endpoint: RedisEndpoint
        do {
            endpoint = try RedisEndpoint(url: url)
        } catch {
            throw Invalid.value(key: "redis.url", rule: "a redis:// URL (\(error))")
        }
        if let password = reader.string(forKey: "redis.password") { endpoint.password = password }
        if let database = reader.int(forKey: "redis.db") { endpoint.database = database }
        var redis = Redis(endpoint: endpoint)
        // A flag's comma list arrives split, an environment variable's does not.
        if let channels = reader.stringArray(forKey: "redis.channels") ?? reader.string(forKey: "redis.channels").map({ [$0] }) {
            redis.channels = channels.flatMap { $0.split(separator: ",") }.map { String($0).trimmed }.filter { !$0.isEmpty }
        }
        let stream = reader.string(forKey: "redis.stream", default: redis.stream ?? "")
        redis.stream = stream.isEmpty ? nil : stream
        redis.group = reader.string(forKey: "redis.group", default: redis.group)
        redis.consumer = reader.string(
            forKey: "redis.consumer", default: "patterndesk-\(ProcessInfo.processInfo.hostName)-\(httpPort)")
        redis.deadStream = reader.string(forKey: "redis.dead-stream")
        redis.batch = reader.int(forKey: "redis.batch", default: redis.batch)
        guard (1...100_000).contains(redis.batch) else { throw Invalid.value(key: "redis.batch", rule: "1...100000") }
        redis.blockMillis = reader.int(forKey: "redis.block-ms", default: redis.blockMillis)
        guard (1...60_000).contains(redis.blockMillis) else { throw Invalid.value(key: "redis.block-ms", rule: "1...60000") }
        redis.claimIdleMillis = reader.int(forKey: "redis.claim-idle-ms", default: redis.claimIdleMillis)
        guard redis.claimIdleMillis >= 0 else { throw Invalid.value(key: "redis.claim-idle-ms", rule: ">= 0") }
        redis.maxDeliveries = reader.int(forKey: "redis.max-deliveries", default: redis.maxDeliveries)
        guard redis.maxDeliveries >= 1 else { throw Invalid.value(key: "redis.max-deliveries", rule: ">= 1") }
        redis.groupStart = reader.string(forKey: "redis.group-start", default: redis.groupStart)
        let cacheKey = reader.string(forKey: "redis.cache-key", default: redis.cacheKey ?? "")
        redis.cacheKey = cacheKey.isEmpty ? nil : cacheKey
        redis.heartbeatKey = reader.string(forKey: "redis.heartbeat-key", default: redis.heartbeatKey)
        return redis
    }

    var normalizer: PatternEventNormalizer.Configuration {
        var configuration = PatternEventNormalizer.Configuration()
        configuration.defaultTimeToLive = EpochMillis(defaultTimeToLiveSeconds) * 1000
        return configuration
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespaces) }
}
