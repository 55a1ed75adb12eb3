import Synchronization

/// One message waiting for a connection's writer: a shared, pre-serialised body and a per-recipient tail.
struct OutboundMessage: Sendable {
    var body: [UInt8]
    var tail: [UInt8] = []
    /// A pattern or expiry (counted as delivered), not a control reply.
    var isEvent = false
    /// Replayed on `resume`: exempt from the live queue limit, since the subscriber asked for it.
    var isReplay = false
    var enqueuedAt: ContinuousClock.Instant = .now

    var byteCount: Int { body.count + tail.count }
}

/// Why the server is closing a connection.
struct Closing: Sendable, Equatable {
    enum Reason: String, Sendable {
        /// Send queue over its message or byte limit: 1008.
        case queueFull = "slow consumer: send queue full"
        /// The oldest queued message is older than the lag budget: 1013.
        case lagging = "slow consumer: lag budget exceeded"
        /// Graceful shutdown: 1001.
        case shutdown = "server shutting down"
    }
    var reason: Reason
    var code: UInt16 {
        switch reason {
        case .queueFull: 1008
        case .lagging: 1013
        case .shutdown: 1001
        }
    }
}

/// A connection's bounded send queue. Producers (the fan-out, the connection's own request handling) push without
/// ever waiting; the connection's `ConnectionWriter` drains it on the channel's event loop. A push that would take the
/// queue over its limits, or that finds the oldest message older than the lag budget, dooms the connection instead:
/// nothing more is written and the doom closes the connection (see `WebSocketConnection`), so one stalled client never
/// holds anyone else up.
///
/// The queue also remembers whether a drain is due: the first push after the queue ran empty answers `wake: true`,
/// and the pusher schedules one drain; later pushes ride on it until `take` finds the queue empty again.
final class Outbox: Sendable {
    struct Limits: Sendable {
        var messages = 4096
        var bytes = 8 << 20
        var lag: Duration = .seconds(5)
    }

    enum PushResult: Equatable {
        /// Queued; `wake` when the pusher must schedule a drain (none is pending).
        case queued(wake: Bool)
        /// This push doomed the connection (count it once).
        case doomed(Closing)
        /// Already doomed or finished; the message was dropped.
        case dropped
    }

    private struct State {
        var queue: [OutboundMessage] = []
        var head = 0
        var liveCount = 0
        var bytes = 0
        /// A drain is scheduled or waiting for the channel to become writable.
        var drainPending = false
        var onDoom: (@Sendable (Closing) -> Void)?
        var closing: Closing?
        var finished = false
    }

    private let state = Mutex(State())
    let limits: Limits

    init(limits: Limits) { self.limits = limits }

    func push(_ message: OutboundMessage) -> PushResult {
        let (result, onDoom) = state.withLock { state -> (PushResult, (@Sendable (Closing) -> Void)?) in
            guard state.closing == nil, !state.finished else { return (.dropped, nil) }
            if !message.isReplay {
                var verdict: Closing?
                if state.liveCount + 1 > limits.messages || state.bytes + message.byteCount > limits.bytes {
                    verdict = Closing(reason: .queueFull)
                } else if state.head < state.queue.count, !state.queue[state.head].isReplay,
                    message.enqueuedAt - state.queue[state.head].enqueuedAt > limits.lag
                {
                    verdict = Closing(reason: .lagging)
                }
                if let verdict {
                    state.closing = verdict
                    let onDoom = state.onDoom
                    state.onDoom = nil
                    return (.doomed(verdict), onDoom)
                }
                state.liveCount += 1
            }
            state.queue.append(message)
            state.bytes += message.byteCount
            let wake = !state.drainPending
            state.drainPending = true
            return (.queued(wake: wake), nil)
        }
        if case .doomed(let closing) = result { onDoom?(closing) }
        return result
    }

    /// Up to `maximum` queued messages, oldest first. Nil once doomed or finished, and when the queue is empty, which
    /// also ends the pending drain (the next push wakes a new one).
    func take(maximum: Int) -> ArraySlice<OutboundMessage>? {
        state.withLock { state in
            if state.closing != nil || state.finished { return nil }
            guard state.head < state.queue.count else {
                state.drainPending = false
                return nil
            }
            let end = min(state.queue.count, state.head + maximum)
            let batch = state.queue[state.head..<end]
            for message in batch {
                state.bytes -= message.byteCount
                if !message.isReplay { state.liveCount -= 1 }
            }
            state.head = end
            if state.head == state.queue.count {
                state.queue.removeAll(keepingCapacity: state.queue.count <= 1024)
                state.head = 0
            }
            return batch
        }
    }

    /// Calls `handler` once when the connection is doomed, at once if it already is; never once it finished.
    func whenDoomed(_ handler: @escaping @Sendable (Closing) -> Void) {
        let now = state.withLock { state -> Closing? in
            if state.finished { return nil }
            if let closing = state.closing { return closing }
            state.onDoom = handler
            return nil
        }
        if let now { handler(now) }
    }

    /// Dooms the connection from outside (shutdown); false when it already was doomed or finished.
    @discardableResult
    func doom(_ closing: Closing) -> Bool {
        let (changed, onDoom) = state.withLock { state -> (Bool, (@Sendable (Closing) -> Void)?) in
            guard state.closing == nil, !state.finished else { return (false, nil) }
            state.closing = closing
            defer { state.onDoom = nil }
            return (true, state.onDoom)
        }
        onDoom?(closing)
        return changed
    }

    /// The connection ended: nothing more is written, and a doom no longer calls anyone.
    func finish() {
        state.withLock { state in
            state.finished = true
            state.onDoom = nil
        }
    }
}
