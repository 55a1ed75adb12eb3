import Foundation
import Synchronization

/// One dedicated OS thread that runs submitted jobs in order. Blocking hiredis calls run here, never on a Swift
/// concurrency or NIO thread.
///
/// The thread is also a `TaskExecutor`. A task that prefers it (`withTaskExecutorPreference`) runs between the
/// thread's jobs, so a hiredis reply resumes it on the thread that read it: no wake-up of a pool thread, and no hop back
/// when the task sends its next command on the same thread.
final class BlockingThread: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var jobs: [() -> Void] = []
    private var stopping = false

    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// Runs `body` on the thread and returns at once; `Pending.value` waits for the result, then or later.
    func start<Value: Sendable>(_ body: @escaping @Sendable () throws(RedisError) -> Value) -> Pending<Value> {
        let pending = Pending<Value>()
        submit {
            do throws(RedisError) {
                pending.complete(.success(try body()))
            } catch {
                pending.complete(.failure(error))
            }
        }
        return pending
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        submit { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    private func submit(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread after the jobs already queued.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}

/// The result of a job started on a `BlockingThread` (`start`), awaited later. The task awaiting it is resumed by the
/// thread that finished the job, straight onto the task's own executor.
final class Pending<Value: Sendable>: Sendable {
    private enum State {
        case running
        case finished(Result<Value, RedisError>)
        case awaited(CheckedContinuation<Result<Value, RedisError>, Never>)
    }

    private let state = Mutex(State.running)

    fileprivate func complete(_ result: Result<Value, RedisError>) {
        let waiter = state.withLock { state -> CheckedContinuation<Result<Value, RedisError>, Never>? in
            if case .awaited(let continuation) = state { return continuation }
            state = .finished(result)
            return nil
        }
        waiter?.resume(returning: result)
    }

    /// Waits for the job's result. Awaited once.
    var value: Value {
        get async throws(RedisError) {
            let finished = state.withLock { state -> Result<Value, RedisError>? in
                if case .finished(let result) = state { return result }
                return nil
            }
            if let finished { return try finished.get() }
            let result = await withCheckedContinuation { continuation in
                let finished = state.withLock { state -> Result<Value, RedisError>? in
                    if case .finished(let result) = state { return result }
                    state = .awaited(continuation)
                    return nil
                }
                if let finished { continuation.resume(returning: finished) }
            }
            return try result.get()
        }
    }
}
