public import Domain

/// Pushes applied changes to real-time subscribers. Called by the ingestion pump right after each batch is applied and
/// by the expiry sweeper; calls never overlap in a way that matters for order (each call is one sequenced batch).
/// Implementations must not block: slow subscribers are their problem, never the caller's.
public protocol PatternBroadcaster: Sendable {
    /// Publishes `changes` (upserts, then expiries) as applied at `now`.
    func broadcast(_ changes: AppliedChanges, at now: EpochMillis)
    /// Connection, subscription and delivery figures for stats and readiness.
    func status() -> RealtimeStatus
}

/// What the real-time layer shows in `/api/patterns/stats` and `/health/ready`.
public struct RealtimeStatus: Sendable, Equatable {
    /// Accepting connections (false once shutdown began).
    public var accepting: Bool
    public var epoch: String
    /// The newest sequence number published.
    public var seq: UInt64
    public var historySize: Int
    public var historyOldestSeq: UInt64?
    public var connections: Int
    public var subscriptions: Int
    /// Monotonic counters (`connections_opened`, `messages_delivered`, `slow_consumer_closed`, …), in a fixed order.
    public var counters: [(name: String, value: Int)]

    public init(
        accepting: Bool, epoch: String, seq: UInt64, historySize: Int, historyOldestSeq: UInt64?, connections: Int, subscriptions: Int,
        counters: [(name: String, value: Int)]
    ) {
        self.accepting = accepting
        self.epoch = epoch
        self.seq = seq
        self.historySize = historySize
        self.historyOldestSeq = historyOldestSeq
        self.connections = connections
        self.subscriptions = subscriptions
        self.counters = counters
    }

    public static func == (lhs: RealtimeStatus, rhs: RealtimeStatus) -> Bool {
        lhs.accepting == rhs.accepting && lhs.epoch == rhs.epoch && lhs.seq == rhs.seq && lhs.historySize == rhs.historySize
            && lhs.historyOldestSeq == rhs.historyOldestSeq && lhs.connections == rhs.connections
            && lhs.subscriptions == rhs.subscriptions && lhs.counters.map(\.name) == rhs.counters.map(\.name)
            && lhs.counters.map(\.value) == rhs.counters.map(\.value)
    }
}
