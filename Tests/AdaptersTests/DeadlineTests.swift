import Dispatch
import Synchronization
@testable import Postgres
import Testing

/// `withDeadline` bounds every database call: it must answer on time even when the call ignores cancellation, as a
/// query already sent to a server that stopped answering does.
@Suite struct TheDeadline {
    /// Ignores cancellation: returns `value` after `delay` seconds, whatever happens, and then marks `done`.
    static func stubborn(_ value: Int, after delay: Double, done: Flag? = nil) async -> Int {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) {
                done?.set()
                continuation.resume(returning: value)
            }
        }
    }

    final class Flag: Sendable {
        private let state = Mutex(false)
        func set() { state.withLock { $0 = true } }
        var isSet: Bool { state.withLock { $0 } }
    }

    @Test func `gives the body's value or error when it is in time`() async throws {
        #expect(try await withDeadline(.seconds(60)) { await Self.stubborn(7, after: 0.01) } == 7)
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await withDeadline(.seconds(60)) { () async throws -> Int in throw Boom() } }
    }

    // Whether the answer came before the stubborn body ended, not a wall-clock bound: the parallel suite can keep the
    // cooperative threads busy for 10 s on this box.
    @Test func `throws on time even when the body ignores cancellation`() async throws {
        let done = Flag()
        await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(100)) { await Self.stubborn(1, after: 60, done: done) }
        }
        #expect(!done.isSet, "the deadline waited for the body")
    }

    @Test func `cancels a cooperative body at the deadline`() async throws {
        let cancelled = AsyncStream<Bool>.makeStream()
        await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(50)) {
                do { try await Task.sleep(for: .seconds(30)) } catch { cancelled.continuation.yield(error is CancellationError) }
            }
        }
        var iterator = cancelled.stream.makeAsyncIterator()
        #expect(await iterator.next() == true)
    }

    @Test func `answers its caller's cancellation at once`() async throws {
        let done = Flag()
        let call = Task { try await withDeadline(.seconds(120)) { await Self.stubborn(1, after: 60, done: done) } }
        try await Task.sleep(for: .milliseconds(50))
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        #expect(!done.isSet, "the cancelled call waited for the body")
    }
}
