public import Domain
import Foundation
public import Ports

/// The warm-start cache in Redis: one hash, identity → `PatternRecord`. Written in one pipelined round trip per
/// batch (HSET and HDEL are idempotent, so a write on a stale connection is retried once), read back with HSCAN
/// (never KEYS, never one huge HGETALL).
public final class RedisPatternCache: PatternCache {
    public let key: String
    private let pool: RedisCommandPool
    /// Fields per HSET / HDEL command.
    private let chunk = 1000

    public init(pool: RedisCommandPool, key: String = "patterndesk:patterns") {
        self.pool = pool
        self.key = key
    }

    public func loadPatterns() async throws -> [Pattern] {
        var patterns: [Pattern] = []
        var unreadable: [String] = []
        var cursor = "0"
        repeat {
            let reply = try await pool.command(["HSCAN", key, cursor, "COUNT", "1000"], idempotent: true)
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let flat = parts[1].array else {
                throw RedisError.protocolViolation("HSCAN: \(reply)")
            }
            cursor = next
            var index = 0
            while index + 1 < flat.count {
                if case .bulk(let record) = flat[index + 1], let pattern = PatternRecord.decode(record) {
                    patterns.append(pattern)
                } else if let field = flat[index].string {
                    unreadable.append(field)
                }
                index += 2
            }
        } while cursor != "0"
        if !unreadable.isEmpty { try await persist(upserted: [], removed: unreadable.compactMap(PatternKey.init(id:))) }
        return patterns
    }

    public func persist(upserted: [Pattern], removed: [PatternKey]) async throws {
        guard !upserted.isEmpty || !removed.isEmpty else { return }
        var commands: [[[UInt8]]] = []
        let name = Array(key.utf8)
        var start = 0
        while start < upserted.count {
            let slice = upserted[start..<min(start + chunk, upserted.count)]
            var command: [[UInt8]] = [Array("HSET".utf8), name]
            command.reserveCapacity(2 + slice.count * 2)
            for pattern in slice {
                command.append(Array(pattern.key.id.utf8))
                command.append(PatternRecord.encodeBytes(pattern))
            }
            commands.append(command)
            start += chunk
        }
        start = 0
        while start < removed.count {
            commands.append([Array("HDEL".utf8), name] + removed[start..<min(start + chunk, removed.count)].map { Array($0.id.utf8) })
            start += chunk
        }
        let replies = try await pool.client().withConnection(retryStale: true) { [commands] connection throws(RedisError) in try connection.pipeline(commands) }
        for reply in replies { _ = try reply.checked() }
    }
}

/// Reads `tickstock:producer:heartbeat` (epoch seconds, written by the producer about once a minute).
public final class RedisProducerHeartbeat: ProducerHeartbeatSource {
    public let key: String
    private let pool: RedisCommandPool

    public init(pool: RedisCommandPool, key: String = "tickstock:producer:heartbeat") {
        self.pool = pool
        self.key = key
    }

    public func lastHeartbeat() async throws -> Double? {
        let reply = try await pool.command(["GET", key], idempotent: true)
        return reply.string.flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
