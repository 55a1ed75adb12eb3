import Domain
import Ports
import Synchronization
import Testing

/// What every `PatternEventSource` must do. `publish` puts one message into the source under test (an XADD for the
/// stream, an in-process call for the fake).
func eventSourceContract<Source: PatternEventSource>(
    make: () async throws -> Source, publish: @escaping @Sendable (Source, String) async throws -> Void
) async throws {
    // 1. Every published message is delivered, in order, each once.
    do {
        let source = try await make()
        let bodies = (0..<300).map { #"{"n":\#($0)}"# }
        for body in bodies { try await publish(source, body) }
        let received = Mutex<[String]>([])
        try await deliver(from: source, until: { received.withLock { $0.count } >= bodies.count }) { batch in
            received.withLock { $0 += batch.map { String(decoding: $0.body, as: UTF8.self) } }
        }
        #expect(received.withLock { $0 } == bodies)
    }
    // 2. A batch whose handler throws is delivered again (at least once), and nothing is lost.
    do {
        let source = try await make()
        for n in 0..<5 { try await publish(source, #"{"n":\#(n)}"#) }
        let attempts = Mutex(0)
        await #expect(throws: HandlerFailure.self) {
            try await source.run { _ in
                attempts.withLock { $0 += 1 }
                throw HandlerFailure()
            }
        }
        let received = Mutex<[String]>([])
        try await deliver(from: source, until: { received.withLock { $0.count } >= 5 }) { batch in
            received.withLock { $0 += batch.map { String(decoding: $0.body, as: UTF8.self) } }
        }
        #expect(received.withLock { $0 } == (0..<5).map { #"{"n":\#($0)}"# })
        #expect(attempts.withLock { $0 } == 1)
    }
    // 3. A rejected event is set aside, not delivered again; the events after it still arrive.
    do {
        let source = try await make()
        for body in ["bad", #"{"n":1}"#, #"{"n":2}"#] { try await publish(source, body) }
        let received = Mutex<[String]>([])
        let task = Task {
            try await source.run { batch in
                received.withLock { $0 += batch.map { String(decoding: $0.body, as: UTF8.self) } }
                return batch.map { String(decoding: $0.body, as: UTF8.self) == "bad" ? .rejected(reason: "not_json") : .accepted }
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while received.withLock({ $0.count }) < 3 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        try await task.value
        #expect(received.withLock { $0 } == ["bad", #"{"n":1}"#, #"{"n":2}"#])
        #expect(source.status().connected)
    }
    // 4. Cancelling the task ends `run` without an error while it waits for events.
    do {
        let source = try await make()
        let task = Task { try await source.run { _ in [] } }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        try await task.value
    }
}

struct HandlerFailure: Error {}

/// Runs the source until `done()` holds, then cancels it.
func deliver<Source: PatternEventSource>(
    from source: Source, until done: @escaping @Sendable () -> Bool, _ handle: @escaping @Sendable ([IncomingEvent]) -> Void
) async throws {
    let task = Task {
        try await source.run { batch in
            handle(batch)
            return batch.map { _ in .accepted }
        }
    }
    let deadline = ContinuousClock.now + .seconds(30)
    while !done() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    task.cancel()
    try await task.value
}
