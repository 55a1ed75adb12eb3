import Synchronization

struct DeadlineExceeded: Error {}

/// Runs `body`, throwing `DeadlineExceeded` once it has taken `limit`. At that point `body` is cancelled but not
/// waited for: PostgresNIO cannot take back a query it has sent (the query's future completes only when the server
/// answers or the connection closes), so a structured wait would let a server that stops answering, with its
/// connections still open, hang every caller for as long as it stays silent. The abandoned `body` finishes on its own
/// when the server answers or the connection dies, and then gives its connection back to the pool.
func withDeadline<Value: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
    let race = Race<Value>()
    let work = Task {
        do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
    }
    let timer = Task {
        guard (try? await Task.sleep(for: limit)) != nil else { return }
        if race.finish(.failure(DeadlineExceeded())) { work.cancel() }
    }
    defer { timer.cancel() }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { race.wait($0) }
    } onCancel: {
        race.finish(.failure(CancellationError()))
        work.cancel()
    }
}

/// The first of several outcomes, delivered to one waiting continuation whichever arrives first.
private final class Race<Value: Sendable>: Sendable {
    private struct State {
        var outcome: Result<Value, any Error>?
        var waiter: CheckedContinuation<Value, any Error>?
    }

    private let state = Mutex(State())

    /// Settles the race with `outcome` unless it is settled already; true when this call settled it.
    @discardableResult
    func finish(_ outcome: Result<Value, any Error>) -> Bool {
        let (settled, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Value, any Error>?) in
            guard state.outcome == nil else { return (false, nil) }
            state.outcome = outcome
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume(with: outcome)
        return settled
    }

    /// Resumes `waiter` with the outcome, now if the race is settled, else when it is.
    func wait(_ waiter: CheckedContinuation<Value, any Error>) {
        let outcome = state.withLock { state -> Result<Value, any Error>? in
            if state.outcome == nil { state.waiter = waiter }
            return state.outcome
        }
        if let outcome { waiter.resume(with: outcome) }
    }
}
