/// What became of one delivered event. At-least-once sources set rejected events aside (a dead-letter stream) with the
/// reason and acknowledge them, so a malformed entry never blocks the stream.
public enum EventOutcome: Sendable, Equatable {
    case accepted
    case rejected(reason: String)
}

/// Receives one batch and returns one outcome per event, in order. Throwing means "not processed": at-least-once
/// sources deliver the batch again.
public typealias EventBatchHandler = @Sendable ([IncomingEvent]) async throws -> [EventOutcome]

/// Where producer events come from (Redis pub/sub and streams, the demo producer).
public protocol PatternEventSource: Sendable {
    /// A short name for logs and stats (`memory`, `redis`).
    var name: String { get }
    /// Delivers events in batches to `handler` until the task is cancelled. A batch counts as processed only when
    /// `handler` returns: at-least-once sources acknowledge it then and redeliver it otherwise. `handler` is never
    /// called concurrently with itself. Lost connections are retried inside `run`; it throws only when `handler`
    /// throws or the source cannot go on (cancellation ends it normally).
    func run(_ handler: @escaping EventBatchHandler) async throws
    /// The transport's state and counters at this instant.
    func status() -> EventSourceStatus
}

/// A transport's health and counters, shown in `/api/patterns/stats` and readiness.
public struct EventSourceStatus: Sendable, Equatable {
    /// True while every subscription and stream consumer of the source is connected.
    public var connected: Bool
    /// Why the source is not connected (the last connection error); nil when connected.
    public var problem: String?
    /// Named counters in display order: received per channel and stream, redelivered, dead-lettered, reconnects…
    public var counters: [(name: String, value: Int)]
    /// Entries in the stream not yet delivered to this consumer group; nil for sources without a stream.
    public var streamLag: Int?
    /// Entries delivered to the group and not yet acknowledged; nil for sources without a stream.
    public var streamPending: Int?

    public init(
        connected: Bool, problem: String? = nil, counters: [(name: String, value: Int)] = [], streamLag: Int? = nil,
        streamPending: Int? = nil
    ) {
        self.connected = connected
        self.problem = problem
        self.counters = counters
        self.streamLag = streamLag
        self.streamPending = streamPending
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.connected == rhs.connected && lhs.problem == rhs.problem && lhs.streamLag == rhs.streamLag
            && lhs.streamPending == rhs.streamPending && lhs.counters.count == rhs.counters.count
            && zip(lhs.counters, rhs.counters).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
