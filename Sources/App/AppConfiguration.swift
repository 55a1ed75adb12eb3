import Configuration
import Domain
import Logging

/// Everything `patterndesk serve` reads from configuration.
///
/// - Configuration keys (flag `--http-port`, environment `HTTP_PORT`, …):
///   - `http.host` (string, default `127.0.0.1`): address to bind.
///   - `http.port` (int, default `8080`): port to bind; 0 picks a free one.
///   - `demo.enabled` (bool, default `true`): run the demo producer.
///   - `demo.rate` (double, default `20`): demo events per second.
///   - `demo.initial` (int, default `400`): demo events applied at start-up, before readiness.
///   - `demo.seed` (int, default `42`): seed of the demo generator.
///   - `patterns.ttl` (int, default `3600`): seconds a pattern without `expires_at` lives.
///   - `log.level` (string, default `info`): trace, debug, info, notice, warning, error, critical.
struct AppConfiguration: Sendable, Equatable {
    var host = "127.0.0.1"
    var port = 8080
    var demoEnabled = true
    var demoRate = 20.0
    var demoInitial = 400
    var demoSeed: UInt64 = 42
    var defaultTimeToLiveSeconds = 3600
    var logLevel = Logger.Level.info

    enum Invalid: Error, CustomStringConvertible {
        case value(key: String, rule: String)
        var description: String {
            switch self {
            case .value(let key, let rule): "configuration \(key) must be \(rule)"
            }
        }
    }

    init() {}

    init(reader: ConfigReader) throws {
        host = reader.string(forKey: "http.host", default: host)
        port = reader.int(forKey: "http.port", default: port)
        guard (0...65_535).contains(port) else { throw Invalid.value(key: "http.port", rule: "0...65535") }
        demoEnabled = reader.bool(forKey: "demo.enabled", default: demoEnabled)
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
    }

    var normalizer: PatternEventNormalizer.Configuration {
        var configuration = PatternEventNormalizer.Configuration()
        configuration.defaultTimeToLive = EpochMillis(defaultTimeToLiveSeconds) * 1000
        return configuration
    }
}
