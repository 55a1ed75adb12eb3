public import Domain
public import Ports
import NIOCore
import Synchronization

/// The real-time core shared by both protocols: connections, the subscription index, the sequenced history and the
/// fan-out. `broadcast` is called by ingestion; it numbers each event, serialises it once per protocol, finds the
/// subscribers through the index and pushes the shared bytes into their bounded queues. Nothing here waits on a
/// socket: each connection's `ConnectionWriter` writes its queue on the channel's event loop.
public final class WebSocketHub: PatternBroadcaster {
    /// Tunables, with production defaults.
    public struct Settings: Sendable, Equatable {
        /// A connection's send queue: more live messages or bytes than this waiting closes it with 1008; a queued
        /// message older than `lagBudget` closes it with 1013.
        public var queueMessages = 4096
        public var queueBytes = 8 << 20
        public var lagBudget: Duration = .seconds(5)
        /// History kept for `resume`: at least this many events and everything younger than `historyAge`.
        public var historyCount = 10_000
        public var historyAge: EpochMillis = 120_000
        public var historyCapacity = 250_000
        /// Largest request frame the native protocol parses; larger ones get an error (frames over `maxFrameSize` close
        /// the connection with 1009).
        public var maxRequestBytes = 16_384
        public var maxFrameSize = 1 << 20
        /// How long a close handshake may take before the socket is dropped.
        public var closeGrace: Duration = .seconds(2)
        /// A native connection is pinged this often and closed when nothing came back by the next ping.
        public var pingInterval: Duration = .seconds(30)
        /// Messages per native frame at most.
        public var batchMessages = 256
        public init() {}
    }

    enum Kind: Sendable { case native, socketIO }

    struct Connection: Sendable {
        let writer: ConnectionWriter
        var outbox: Outbox { writer.outbox }
        var kind: Kind { writer.kind }
        /// Per-subscription message tails, built once.
        var tails: [String: [UInt8]] = [:]
    }

    /// One numbered event, serialised at most once per protocol, and only when a recipient (live or replayed) needs
    /// it: with nobody connected, ingestion pays for no JSON at all.
    final class EncodedEvent: @unchecked Sendable {
        let event: FeedEvent
        let seq: UInt64
        /// Both guarded by the hub's lock.
        private var native: [UInt8]?
        private var socketIO: [[UInt8]]?
        init(event: FeedEvent, seq: UInt64) {
            self.event = event
            self.seq = seq
        }

        func nativeBody(epoch: String) -> [UInt8] {
            if let native { return native }
            let body = NativeProtocol.eventBody(event, seq: seq, epoch: epoch)
            native = body
            return body
        }

        func socketIOFrames(epoch: String) -> [[UInt8]] {
            if let socketIO { return socketIO }
            let frames = SocketIOProtocol.eventFrames(event, seq: seq, epoch: epoch)
            socketIO = frames
            return frames
        }
    }

    struct State: ~Copyable {
        var index = SubscriptionIndex()
        var connections: [UInt64: Connection] = [:]
        var history: ReplayBuffer<EncodedEvent>
        var seq: UInt64 = 0
        var nextID: UInt64 = 1
        var accepting = true
    }

    public let epoch: String
    public let settings: Settings
    let catalog: Catalog
    let clock: any WallClock
    let counters = HubCounters()
    private let state: Mutex<State>

    /// - Parameter epoch: names this run of the sequence; a resume from another epoch gets `resync`.
    public init(catalog: Catalog, clock: any WallClock, epoch: String, settings: Settings = Settings()) {
        self.catalog = catalog
        self.clock = clock
        self.epoch = epoch
        self.settings = settings
        state = Mutex(
            State(
                history: ReplayBuffer(
                    minimumCount: settings.historyCount, minimumAge: settings.historyAge, capacity: settings.historyCapacity)))
    }

    // MARK: - PatternBroadcaster

    public func broadcast(_ changes: AppliedChanges, at now: EpochMillis) {
        let events = changes.upserted.map(FeedEvent.pattern) + changes.removed.map(FeedEvent.expired)
        guard !events.isEmpty else { return }
        let enqueuedAt = ContinuousClock.now
        var doomed = 0
        var queued = 0
        var woken: [ConnectionWriter] = []
        state.withLock { state in
            for event in events {
                state.seq += 1
                let encoded = EncodedEvent(event: event, seq: state.seq)
                state.history.append(encoded, seq: encoded.seq, at: now)
                guard !state.connections.isEmpty else { continue }
                for (owner, names) in state.index.match(event) {
                    guard let (writer, message) = Self.message(encoded, names: names, owner: owner, at: enqueuedAt, state: &state, epoch: epoch)
                    else { continue }
                    for part in message {
                        switch writer.outbox.push(part) {
                        case .queued(let wake):
                            queued += 1
                            if wake { woken.append(writer) }
                        case .doomed:
                            doomed += 1
                            state.index.removeAll(of: owner)
                        case .dropped: break
                        }
                    }
                }
            }
        }
        ConnectionWriter.scheduleDrains(woken)
        counters.eventsPublished.add(events.count, ordering: .relaxed)
        counters.messagesQueued.add(queued, ordering: .relaxed)
        if doomed > 0 { counters.slowConsumersClosed.add(doomed, ordering: .relaxed) }
    }

    public func status() -> RealtimeStatus {
        let (accepting, seq, size, oldest, connections, subscriptions, native) = state.withLock { state in
            (
                state.accepting, state.seq, state.history.count, state.history.oldestSeq, state.connections.count, state.index.count,
                state.connections.values.count { $0.kind == .native }
            )
        }
        var list = counters.snapshot()
        list.insert(("connections_native", native), at: 0)
        list.insert(("connections_socketio", connections - native), at: 1)
        return RealtimeStatus(
            accepting: accepting, epoch: epoch, seq: seq, historySize: size, historyOldestSeq: oldest, connections: connections,
            subscriptions: subscriptions, counters: list)
    }

    // MARK: - Connections

    /// Registers a connection; nil once shutdown began.
    func open(_ kind: Kind, channel: any Channel) -> (id: UInt64, writer: ConnectionWriter, seq: UInt64, oldestSeq: UInt64?)? {
        let outbox = Outbox(limits: .init(messages: settings.queueMessages, bytes: settings.queueBytes, lag: settings.lagBudget))
        let writer = ConnectionWriter(outbox: outbox, channel: channel, kind: kind, counters: counters, batchMessages: settings.batchMessages)
        let opened = state.withLock { state -> (UInt64, UInt64, UInt64?)? in
            guard state.accepting else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.connections[id] = Connection(writer: writer)
            return (id, state.seq, state.history.oldestSeq)
        }
        guard let (id, seq, oldest) = opened else { return nil }
        counters.connectionsOpened.add(1, ordering: .relaxed)
        return (id, writer, seq, oldest)
    }

    func close(_ id: UInt64) {
        let outbox = state.withLock { state -> Outbox? in
            state.index.removeAll(of: id)
            return state.connections.removeValue(forKey: id)?.outbox
        }
        outbox?.finish()
        counters.connectionsClosed.add(1, ordering: .relaxed)
    }

    /// Adds or replaces subscription `name` of connection `id`; returns the newest sequence number.
    func subscribe(_ id: UInt64, name: String, criteria: SubscriptionCriteria) -> UInt64 {
        counters.subscriptionsMade.add(1, ordering: .relaxed)
        return state.withLock { state in
            state.index.add(.init(owner: id, name: name), criteria: criteria, since: state.seq)
            return state.seq
        }
    }

    /// Removes a subscription; returns whether it existed and the newest sequence number.
    func unsubscribe(_ id: UInt64, name: String) -> (existed: Bool, seq: UInt64) {
        state.withLock { state in (state.index.remove(.init(owner: id, name: name)), state.seq) }
    }

    func subscriptions(of id: UInt64) -> [String] { state.withLock { $0.index.subscriptions(of: id) } }

    var latestSeq: UInt64 { state.withLock { $0.seq } }

    /// Queues, for a native connection, every event after `after` that its subscriptions match and did not get live,
    /// then `resumed`; or `resync` when the history no longer reaches back that far or the epoch differs.
    func resume(_ id: UInt64, after: UInt64, epoch clientEpoch: String?) {
        counters.resumes.add(1, ordering: .relaxed)
        var replayed = 0
        let enqueuedAt = ContinuousClock.now
        var writer: ConnectionWriter?
        let resynced = state.withLock { state -> Bool in
            writer = state.connections[id]?.writer
            guard let outbox = writer?.outbox else { return false }
            let latest = state.seq
            guard clientEpoch == nil || clientEpoch == epoch, case .replay(let entries) = state.history.resume(after: after, latest: latest)
            else {
                let reason = clientEpoch != nil && clientEpoch != epoch ? "epoch changed" : "history does not reach back to seq \(after)"
                _ = outbox.push(OutboundMessage(body: NativeProtocol.resync(epoch: epoch, seq: latest, reason: reason)))
                return true
            }
            for entry in entries {
                let names = state.index.replay(entry.element.event, seq: entry.seq, to: id)
                guard !names.isEmpty,
                    let (_, parts) = Self.message(entry.element, names: names, owner: id, at: enqueuedAt, state: &state, epoch: epoch)
                else { continue }
                for var part in parts {
                    part.isReplay = true
                    if case .queued = outbox.push(part) { replayed += 1 }
                }
            }
            _ = outbox.push(OutboundMessage(body: NativeProtocol.resumed(epoch: epoch, seq: latest, replayed: replayed), isReplay: true))
            return false
        }
        // The replies were pushed under the lock, where a drain cannot be scheduled; one drain after it covers them all.
        if let writer { ConnectionWriter.scheduleDrains([writer]) }
        if resynced { counters.resyncs.add(1, ordering: .relaxed) }
        counters.replayed.add(replayed, ordering: .relaxed)
    }

    /// The recipient's writer and its queue entries for one event, in its connection's protocol (one connection
    /// look-up per recipient on the fan-out's path).
    private static func message(
        _ encoded: EncodedEvent, names: [String], owner: UInt64, at enqueuedAt: ContinuousClock.Instant, state: inout State,
        epoch: String
    ) -> (ConnectionWriter, [OutboundMessage])? {
        guard let connection = state.connections[owner] else { return nil }
        let writer = connection.writer
        switch connection.kind {
        case .native:
            let tail: [UInt8]
            if names.count == 1 {
                if let cached = connection.tails[names[0]] {
                    tail = cached
                } else {
                    tail = NativeProtocol.recipientTail(names)
                    state.connections[owner]?.tails[names[0]] = tail
                }
            } else {
                tail = NativeProtocol.recipientTail(names)
            }
            return (writer, [OutboundMessage(body: encoded.nativeBody(epoch: epoch), tail: tail, isEvent: true, enqueuedAt: enqueuedAt)])
        case .socketIO:
            return (writer, encoded.socketIOFrames(epoch: epoch).map { OutboundMessage(body: $0, isEvent: true, enqueuedAt: enqueuedAt) })
        }
    }

    // MARK: - Shutdown

    /// Stops accepting connections, asks every open one to close with 1001 and waits (up to `timeout`) until they have.
    public func shutdown(timeout: Duration = .seconds(3)) async {
        let outboxes = state.withLock { state -> [Outbox] in
            state.accepting = false
            return state.connections.values.map(\.outbox)
        }
        var closed = 0
        for outbox in outboxes where outbox.doom(Closing(reason: .shutdown)) { closed += 1 }
        counters.shutdownClosed.add(closed, ordering: .relaxed)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, state.withLock({ !$0.connections.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Monotonic counters, updated without the hub's lock.
final class HubCounters: Sendable {
    let connectionsOpened = Atomic<Int>(0)
    let connectionsClosed = Atomic<Int>(0)
    let subscriptionsMade = Atomic<Int>(0)
    let eventsPublished = Atomic<Int>(0)
    let messagesQueued = Atomic<Int>(0)
    let messagesDelivered = Atomic<Int>(0)
    let framesSent = Atomic<Int>(0)
    let bytesSent = Atomic<Int>(0)
    let slowConsumersClosed = Atomic<Int>(0)
    let shutdownClosed = Atomic<Int>(0)
    let resumes = Atomic<Int>(0)
    let replayed = Atomic<Int>(0)
    let resyncs = Atomic<Int>(0)
    let badRequests = Atomic<Int>(0)
    let oversizeRequests = Atomic<Int>(0)

    func snapshot() -> [(name: String, value: Int)] {
        [
            ("connections_opened", connectionsOpened.load(ordering: .relaxed)),
            ("connections_closed", connectionsClosed.load(ordering: .relaxed)),
            ("subscriptions_made", subscriptionsMade.load(ordering: .relaxed)),
            ("events_published", eventsPublished.load(ordering: .relaxed)),
            ("messages_queued", messagesQueued.load(ordering: .relaxed)),
            ("messages_delivered", messagesDelivered.load(ordering: .relaxed)),
            ("frames_sent", framesSent.load(ordering: .relaxed)),
            ("bytes_sent", bytesSent.load(ordering: .relaxed)),
            ("slow_consumers_closed", slowConsumersClosed.load(ordering: .relaxed)),
            ("shutdown_closed", shutdownClosed.load(ordering: .relaxed)),
            ("resumes", resumes.load(ordering: .relaxed)),
            ("replayed", replayed.load(ordering: .relaxed)),
            ("resyncs", resyncs.load(ordering: .relaxed)),
            ("bad_requests", badRequests.load(ordering: .relaxed)),
            ("oversize_requests", oversizeRequests.load(ordering: .relaxed)),
        ]
    }
}
