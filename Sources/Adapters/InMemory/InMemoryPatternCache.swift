public import Domain
public import Ports
import Synchronization

/// The warm-start cache kept in process: for tests and contract checks of `PatternCache`.
public final class InMemoryPatternCache: PatternCache {
    private let patterns = Mutex<[PatternKey: Pattern]>([:])

    public init() {}

    public func loadPatterns() async throws -> [Pattern] { patterns.withLock { Array($0.values) } }

    public func persist(upserted: [Pattern], removed: [PatternKey]) async throws {
        patterns.withLock { patterns in
            for pattern in upserted { patterns[pattern.key] = pattern }
            for key in removed { patterns[key] = nil }
        }
    }
}

/// A heartbeat set by hand: for tests.
public final class InMemoryProducerHeartbeat: ProducerHeartbeatSource {
    private let value = Mutex<Double?>(nil)

    public init(_ heartbeat: Double? = nil) { value.withLock { $0 = heartbeat } }

    public func set(_ heartbeat: Double?) { value.withLock { $0 = heartbeat } }

    public func lastHeartbeat() async throws -> Double? { value.withLock { $0 } }
}
