import Dispatch
@testable import Postgres
import Testing

/// `withDeadline` bounds every database call: it must answer on time even when the call ignores cancellation, as a
/// query already sent to a server that stopped answering does.
@Suite struct TheDeadline {
    /// Ignores cancellation: returns `value` after `delay`, whatever happens.
    static func stubborn(_ value: Int, after delay: Double) async -> Int {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { continuation.resume(returning: value) }
        }
    }

    @Test func `gives the body's value or error when it is in time`() async throws {
        #expect(try await withDeadline(.seconds(5)) { await Self.stubborn(7, after: 0.01) } == 7)
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await withDeadline(.seconds(5)) { () async throws -> Int in throw Boom() } }
    }

    @Test func `throws on time even when the body ignores cancellation`() async throws {
        let started = ContinuousClock.now
        await #expect(throws: DeadlineExceeded.self) { try await withDeadline(.milliseconds(100)) { await Self.stubborn(1, after: 3) } }
        // 3 s would mean it waited for the body; the bound leaves room for a busy box.
        #expect(ContinuousClock.now - started < .seconds(2))
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
        let started = ContinuousClock.now
        let call = Task { try await withDeadline(.seconds(30)) { await Self.stubborn(1, after: 3) } }
        try await Task.sleep(for: .milliseconds(50))
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        #expect(ContinuousClock.now - started < .seconds(2))
    }
}
