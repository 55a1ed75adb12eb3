public import Ports
import Synchronization

/// An event source fed in process: the demo producer and tests `publish` into it. Delivery is at-least-once like the
/// Redis stream: a batch whose handler throws is put back at the front and delivered again.
public final class InMemoryEventSource: PatternEventSource {
    private struct State {
        var queue: [IncomingEvent] = []
        var waiter: CheckedContinuation<Void, Never>?
        var delivered = 0
        var redelivered = 0
        /// Events at the front of the queue that were delivered before and failed.
        var failedAhead = 0
    }

    public let name = "memory"
    /// The most events handed to the handler at once.
    public let maxBatch: Int
    private let state = Mutex(State())

    public init(maxBatch: Int = 256) { self.maxBatch = maxBatch }

    /// Queues an event for delivery.
    public func publish(_ event: IncomingEvent) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.queue.append(event)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Events queued and not yet processed.
    public var pending: Int { state.withLock { $0.queue.count } }

    /// Always connected; counts what was delivered and redelivered.
    public func status() -> EventSourceStatus {
        state.withLock { state in
            EventSourceStatus(connected: true, counters: [("delivered", state.delivered), ("redelivered", state.redelivered)])
        }
    }

    public func run(_ handler: @escaping EventBatchHandler) async throws {
        while !Task.isCancelled {
            let batch = state.withLock { state -> [IncomingEvent] in
                let batch = Array(state.queue.prefix(maxBatch))
                state.queue.removeFirst(batch.count)
                state.delivered += batch.count
                state.redelivered += min(state.failedAhead, batch.count)
                state.failedAhead = max(0, state.failedAhead - batch.count)
                return batch
            }
            if batch.isEmpty {
                await waitForEvents()
                continue
            }
            do {
                _ = try await handler(batch)
            } catch {
                state.withLock { state in
                    state.queue.insert(contentsOf: batch, at: 0)
                    state.failedAhead += batch.count
                }
                throw error
            }
        }
    }

    private func waitForEvents() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.queue.isEmpty || Task.isCancelled { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
