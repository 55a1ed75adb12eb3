public import Domain

/// Keeps the live pattern set outside the process so a restart starts warm (Redis for now). Holds normalised
/// patterns by identity; expired and removed patterns are pruned.
public protocol PatternCache: Sendable {
    /// Every stored pattern, in no particular order. Called once at start, before readiness.
    func loadPatterns() async throws -> [Pattern]
    /// Stores `upserted` (replacing the same identity) and deletes `removed`. Upserts are written before removals.
    func persist(upserted: [Pattern], removed: [PatternKey]) async throws
}

/// Tells when the producer last said it was alive.
public protocol ProducerHeartbeatSource: Sendable {
    /// The last heartbeat as epoch seconds, or nil when the producer never wrote one.
    func lastHeartbeat() async throws -> Double?
}
