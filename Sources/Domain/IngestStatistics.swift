/// Counters of everything the ingestion path saw: received per channel, applied, rejected by reason, ignored by kind.
public struct IngestStatistics: Sendable, Equatable {
    /// Messages received (a batch message counts once).
    public var received = 0
    public var receivedPerChannel: [String: Int] = [:]
    /// Pattern operations taken by the index.
    public var applied = 0
    public var inserted = 0
    public var updated = 0
    /// Patterns removed by `pattern_expired` events.
    public var expiredByEvent = 0
    /// Patterns removed because their `expires_at` passed.
    public var expiredByTime = 0
    public var rejected: [RejectReason: Int] = [:]
    public var ignored: [String: Int] = [:]
    /// When the last pattern operation was applied.
    public var lastEventAt: EpochMillis?

    public init() {}

    public var rejectedTotal: Int { rejected.values.reduce(0, +) }

    /// Records one received message.
    public mutating func recordReceived(channel: String) {
        received += 1
        receivedPerChannel[channel, default: 0] += 1
    }

    public mutating func recordRejected(_ reason: RejectReason) { rejected[reason, default: 0] += 1 }
    public mutating func recordIgnored(_ kind: String) { ignored[String(kind.prefix(64)), default: 0] += 1 }
}
