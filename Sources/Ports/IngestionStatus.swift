public import Domain

/// Whether the producer is alive, from its heartbeat key.
public struct ProducerStatus: Sendable, Equatable {
    public enum State: String, Sendable {
        case online, offline
        /// No heartbeat source is configured, or it could not be read yet.
        case unknown
    }

    public var state: State
    public var lastHeartbeat: EpochMillis?

    public init(state: State, lastHeartbeat: EpochMillis? = nil) {
        self.state = state
        self.lastHeartbeat = lastHeartbeat
    }

    public static let unknown = ProducerStatus(state: .unknown)
    /// The producer writes its heartbeat about every 60 s; older than this means offline.
    public static let onlineWithin: EpochMillis = 60_000

    /// Online when the heartbeat (epoch seconds) is younger than `onlineWithin` at `now`; offline when older or absent.
    public init(heartbeatSeconds: Double?, now: EpochMillis) {
        guard let heartbeatSeconds, heartbeatSeconds.isFinite else {
            self.init(state: .offline)
            return
        }
        let millis = EpochMillis((heartbeatSeconds * 1000).rounded())
        self.init(state: now - millis < Self.onlineWithin ? .online : .offline, lastHeartbeat: millis)
    }
}

/// Everything about ingestion that stats, health and readiness show beside the index.
public struct IngestionStatus: Sendable, Equatable {
    public var source: EventSourceStatus
    public var producer: ProducerStatus
    /// True once the warm-start cache was loaded into the index (always true without a cache).
    public var warmStartLoaded: Bool
    public var warmStartPatterns: Int

    public init(source: EventSourceStatus, producer: ProducerStatus = .unknown, warmStartLoaded: Bool = true, warmStartPatterns: Int = 0) {
        self.source = source
        self.producer = producer
        self.warmStartLoaded = warmStartLoaded
        self.warmStartPatterns = warmStartPatterns
    }
}
