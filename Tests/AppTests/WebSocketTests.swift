@testable import App
import Domain
import Foundation
import HTTP
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWSTesting
import HummingbirdWebSocket
import InMemory
import Logging
import NIOWebSocket
import Ports
import Synchronization
import Testing
import WebSocket

/// The native protocol against the real server on a free port.
/// Live servers and clients: a time limit turns a lost message into a failure instead of a stalled CI run.
@Suite(.timeLimit(.minutes(2))) struct TheNativeWebSocketProtocol {
    static let client = WebSocketClientConfiguration(maxFrameSize: 1 << 22)

    @Test func `a subscription gets exactly the events matching every criterion`() async throws {
        let service = try await TestService()
        try await service.live { client in
            try await client.ws("/ws", configuration: Self.client) { inbound, outbound, _ in
                var session = NativeSession(inbound: inbound, outbound: outbound)
                let connected = try await session.until("connected")
                let epoch = try #require(connected.last?["epoch"] as? String)
                try await session.subscribe(#"{"action":"subscribe","id":"c1","symbols":["AAPL"],"pattern_types":["Bull_Flag"],"confidence_min":0.7}"#)
                let now = service.clock.now()
                service.ingest([
                    event("AAPL", "Bull_Flag", confidence: 0.8, ageSeconds: 10, now: now),
                    event("AAPL", "Doji", confidence: 0.9, ageSeconds: 10, now: now),
                    event("MSFT", "Bull_Flag", confidence: 0.9, ageSeconds: 10, now: now),
                    event("AAPL", "Bull_Flag", confidence: 0.6, ageSeconds: 20, now: now),
                    event("AAPL", "Bull_Flag", confidence: 0.95, tier: "intraday", ageSeconds: 30, now: now),
                ])
                try await session.send(#"{"action":"ping"}"#)
                let messages = try await session.until("pong")
                let patterns = messages.filter { $0["T"] as? String == "pattern" }
                #expect(patterns.count == 2)
                #expect(patterns.map { ($0["data"] as? [String: Any])?["confidence"] as? Double } == [0.8, 0.95])
                #expect(patterns.allSatisfy { $0["subscription"] as? String == "c1" && $0["epoch"] as? String == epoch })
                let seqs = patterns.compactMap { $0["seq"] as? Int }
                #expect(seqs.count == 2 && seqs[0] < seqs[1])
            }
        }
    }

    @Test func `a signed-in connection subscribes with a saved preset; bad tokens are refused`() async throws {
        let secret = "ws-test-secret-0123456789abcdef-0123456789"
        let service = try await TestService {
            $0.authSecret = secret
            $0.devUserHeader = false
        }
        let preset = try await service.dependencies.userData.createPreset(
            FilterPresetChange(name: "Strong Doji", filters: .object([("pattern_types", .array([.string("Doji")])), ("confidence_min", .number(0.8))])),
            for: UserID("alice"), at: service.clock.now())
        let alice = try await UserAuthenticator.issue(secret: secret, user: UserID("alice"), lifetime: .seconds(3600))
        let bob = try await UserAuthenticator.issue(secret: secret, user: UserID("bob"), lifetime: .seconds(3600))
        try await service.live { client in
            try await client.ws("/ws?token=\(alice)", configuration: Self.client) { inbound, outbound, _ in
                var session = NativeSession(inbound: inbound, outbound: outbound)
                _ = try await session.until("connected")
                try await session.subscribe(#"{"action":"subscribe","id":"saved","preset":\#(preset.id)}"#)
                let now = service.clock.now()
                service.ingest([
                    event("AAPL", "Doji", confidence: 0.9, now: now), event("MSFT", "Doji", confidence: 0.7, now: now),
                    event("NVDA", "Hammer", confidence: 0.95, now: now),
                ])
                try await session.send(#"{"action":"ping"}"#)
                let patterns = try await session.until("pong").filter { $0["T"] as? String == "pattern" }
                #expect(patterns.compactMap { ($0["data"] as? [String: Any])?["symbol"] as? String } == ["AAPL"])
            }
            // Another user's preset id, and an anonymous connection, get a clear error and keep the connection.
            for path in ["/ws?token=\(bob)", "/ws"] {
                try await client.ws(path, configuration: Self.client) { inbound, outbound, _ in
                    var session = NativeSession(inbound: inbound, outbound: outbound)
                    _ = try await session.until("connected")
                    try await session.send(#"{"action":"subscribe","id":"saved","preset":\#(preset.id)}"#)
                    let error = try #require(try await session.until("error").last)
                    #expect((error["message"] as? String)?.contains("not one of your saved presets") == true, "\(error)")
                    try await session.send(#"{"action":"ping"}"#)
                    _ = try await session.until("pong")
                }
            }
            // A forged token is refused before the upgrade.
            await #expect(throws: (any Error).self) {
                try await client.ws("/ws?token=forged.token.value", configuration: Self.client) { _, _, _ in
                    Issue.record("upgraded with a forged token")
                }
            }
        }
    }

    @Test func `unsubscribing stops delivery and an unknown id is an error`() async throws {
        let service = try await TestService()
        try await service.live { client in
            try await client.ws("/ws", configuration: Self.client) { inbound, outbound, _ in
                var session = NativeSession(inbound: inbound, outbound: outbound)
                _ = try await session.until("connected")
                try await session.subscribe(#"{"action":"subscribe","id":"all"}"#)
                try await session.send(#"{"action":"unsubscribe","id":"all"}"#)
                _ = try await session.until("unsubscribed")
                service.ingest([event("AAPL", "Doji", confidence: 0.9, now: service.clock.now())])
                try await session.send(#"{"action":"unsubscribe","id":"nope"}"#)
                let messages = try await session.until("error")
                #expect(!messages.contains { $0["T"] as? String == "pattern" })
                #expect(messages.last?["code"] as? String == "not_found")
            }
        }
    }

    @Test func `expiry reaches subscribers as an expired message`() async throws {
        let service = try await TestService()
        try await service.live { client in
            try await client.ws("/ws", configuration: Self.client) { inbound, outbound, _ in
                var session = NativeSession(inbound: inbound, outbound: outbound)
                _ = try await session.until("connected")
                try await session.subscribe(#"{"action":"subscribe","id":"doji","pattern_types":["Doji"]}"#)
                service.ingest([event("AAPL", "Doji", confidence: 0.9, ageSeconds: 10, ttlSeconds: 20, now: service.clock.now())])
                _ = try await session.until("pattern")
                service.clock.advance(by: 30_000)
                let removed = service.store.removeExpired(now: service.clock.now())
                service.dependencies.hub.broadcast(AppliedChanges(removed: removed), at: service.clock.now())
                let expired = try await session.until("expired")
                #expect(expired.last?["symbol"] as? String == "AAPL" && expired.last?["subscription"] as? String == "doji")
            }
        }
    }

    @Test func `resume replays what was missed, and answers resync when the gap is too old`() async throws {
        let service = try await TestService { $0.webSocket.historyCount = 5; $0.webSocket.historyAge = 0 }
        try await service.live { client in
            let lastSeen = try await Self.connectedSeq(client)
            let now = service.clock.now()
            service.ingest((0..<3).map { event("S\($0)", "Doji", confidence: 0.9, ageSeconds: $0 + 1, now: now) })
            try await client.ws("/ws", configuration: Self.client) { inbound, outbound, _ in
                var session = NativeSession(inbound: inbound, outbound: outbound)
                _ = try await session.until("connected")
                try await session.subscribe(#"{"action":"subscribe","id":"all"}"#)
                try await session.send(#"{"action":"resume","after":\#(lastSeen)}"#)
                let replay = try await session.until("resumed")
                let patterns = replay.filter { $0["T"] as? String == "pattern" }
                #expect(patterns.compactMap { $0["seq"] as? Int } == [lastSeen + 1, lastSeen + 2, lastSeen + 3])
                #expect(replay.last?["replayed"] as? Int == 3)
                // Resuming at the newest seq replays nothing; a different epoch must reload.
                try await session.send(#"{"action":"resume","after":\#(lastSeen + 3)}"#)
                #expect(try await session.until("resumed").last?["replayed"] as? Int == 0)
                try await session.send(#"{"action":"resume","after":\#(lastSeen),"epoch":"other"}"#)
                #expect(try await session.until("resync").last?["reason"] as? String == "epoch changed")
            }
            service.clock.advance(by: 1000)
            service.ingest((0..<10).map { event("T\($0)", "Doji", confidence: 0.9, ageSeconds: $0 + 1, now: now) })
            try await client.ws("/ws", configuration: Self.client) { inbound, outbound, _ in
                var session = NativeSession(inbound: inbound, outbound: outbound)
                _ = try await session.until("connected")
                try await session.subscribe(#"{"action":"subscribe","id":"all"}"#)
                try await session.send(#"{"action":"resume","after":\#(lastSeen)}"#)
                let answer = try await session.until("resync")
                #expect(!answer.contains { $0["T"] as? String == "pattern" })
            }
        }
    }

    @Test func `malformed requests get a clear error and the connection survives`() async throws {
        let service = try await TestService()
        try await service.live { client in
            try await client.ws("/ws", configuration: Self.client) { inbound, outbound, _ in
                var session = NativeSession(inbound: inbound, outbound: outbound)
                _ = try await session.until("connected")
                let bad = [
                    ("not json", "not valid JSON"), (#"{"action":"dance"}"#, "unknown action"), (#"{"action":"subscribe"}"#, "id is required"),
                    (#"{"action":"subscribe","id":"x","confidence_min":3}"#, "confidence_min"),
                    (#"{"action":"subscribe","id":"x","sectors":["Moon"]}"#, "unknown sector"),
                ]
                for (frame, expected) in bad {
                    try await session.send(frame)
                    let error = try #require(try await session.until("error").last)
                    #expect(error["code"] as? String == "bad_request")
                    #expect((error["message"] as? String)?.contains(expected) == true, "\(frame)")
                }
                try await outbound.write(.binary(ByteBuffer(string: "{}")))
                #expect((try await session.until("error").last?["message"] as? String)?.contains("binary") == true)
                // Too large to parse, small enough to read: an error, not a close.
                try await session.send(#"{"action":"ping","pad":""# + String(repeating: "x", count: 20_000) + #""}"#)
                #expect(try await session.until("error").last?["code"] as? String == "too_large")
                try await session.send(#"{"action":"ping"}"#)
                _ = try await session.until("pong")
            }
            let stats = try await client.getJSON("/api/patterns/stats")
            let counters = try #require(((stats["stats"] as? [String: Any])?["websocket"] as? [String: Any])?["counters"] as? [String: Any])
            #expect(counters["bad_requests"] as? Int == 7 && counters["oversize_requests"] as? Int == 1)
        }
    }

    @Test func `a message over the frame limit closes the connection with 1009`() async throws {
        let service = try await TestService()
        try await service.live { client in
            let close = try await client.ws("/ws", configuration: Self.client) { inbound, outbound, _ in
                var session = NativeSession(inbound: inbound, outbound: outbound)
                _ = try await session.until("connected")
                try await outbound.writeTextMessage(String(repeating: "x", count: 2 << 20))
                do {
                    while true { _ = try await session.next() }
                } catch {}
            }
            #expect(close?.closeCode == .messageTooLarge)
        }
    }

    @Test func `a client that stops reading is closed and the others get everything`() async throws {
        // Only the queue bound may close a client here: a generous lag budget keeps a starved CI box (everything else
        // runs in parallel) from closing the reading client for lag.
        let service = try await TestService {
            $0.webSocket.queueMessages = 64
            $0.webSocket.queueBytes = 1 << 20
            $0.webSocket.lagBudget = .seconds(60)
        }
        let hub = service.dependencies.hub
        let sent = AtomicCount()
        let received = AtomicCount()
        @Sendable func slowClosed() -> Int { Self.counter(hub, "slow_consumers_closed") }
        try await service.live { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // The stalled client: subscribes, then never reads again until the server gave up on it.
                    try await Self.subscribedToAll(client) { _ in
                        while slowClosed() == 0 { try await Task.sleep(for: .milliseconds(20)) }
                    }
                }
                group.addTask {
                    // The reading client counts every pattern until the test is over and cancels it.
                    try await Self.subscribedToAll(client) { session in
                        while true { received.add(try await session.next().filter { $0["T"] as? String == "pattern" }.count) }
                    }
                }
                while hub.status().subscriptions < 2 { try await Task.sleep(for: .milliseconds(10)) }
                // Big events (about 4 KB each) until the stalled client's socket buffers (several MB on loopback, more
                // or less depending on the kernel) are full and its queue overflows, then 50 batches more. The
                // producer is paced by the reading client, so only the stalled one can fall behind, however slow the box.
                let now = service.clock.now()
                var batchesAfterClose = 0
                while batchesAfterClose < 50 {
                    guard sent.load() < 100_000 else {
                        Issue.record("the stalled client was not closed after \(sent.load()) events")
                        break
                    }
                    let start = sent.load()
                    let batch = Self.bigEvents(start..<start + 10, now: now)
                    hub.broadcast(AppliedChanges(upserted: batch), at: now)
                    sent.add(batch.count)
                    let deadline = ContinuousClock.now + .seconds(30)
                    while received.load() < sent.load() {
                        guard ContinuousClock.now < deadline else {
                            Issue.record("the reading client got \(received.load()) of \(sent.load()) events")
                            break
                        }
                        try await Task.sleep(for: .milliseconds(1))
                    }
                    if slowClosed() > 0 { batchesAfterClose += 1 }
                }
                group.cancelAll()
            }
            #expect(received.load() == sent.load())
            #expect(slowClosed() == 1)
        }
    }

    @Test func `a client that pauses reading until its socket is full gets everything once it reads again`() async throws {
        // Limits far beyond this test's volume: the client falls behind but is never closed.
        let service = try await TestService {
            $0.webSocket.queueMessages = 1_000_000
            $0.webSocket.queueBytes = 1 << 30
            $0.webSocket.lagBudget = .seconds(600)
        }
        let hub = service.dependencies.hub
        let resume = AtomicCount()
        let received = AtomicCount()
        @Sendable func counter(_ name: String) -> Int { Self.counter(hub, name) }
        try await service.live { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await Self.subscribedToAll(client) { session in
                        while resume.load() == 0 { try await Task.sleep(for: .milliseconds(10)) }
                        while true { received.add(try await session.next().filter { $0["T"] as? String == "pattern" }.count) }
                    }
                }
                while hub.status().subscriptions < 1 { try await Task.sleep(for: .milliseconds(10)) }
                // Big events (about 4 KB each) until the socket's buffers are full and the channel stops taking writes:
                // then messages stay queued in the hub, not yet handed to the channel.
                let now = service.clock.now()
                var sent = 0
                @Sendable func held() -> Int { counter("messages_queued") - counter("messages_delivered") }
                while held() < 200 {
                    guard sent < 200_000 else {
                        Issue.record("the channel kept taking writes for \(sent) events")
                        break
                    }
                    let batch = Self.bigEvents(sent..<sent + 20, now: now)
                    hub.broadcast(AppliedChanges(upserted: batch), at: now)
                    sent += batch.count
                    try await Task.sleep(for: .milliseconds(2))
                }
                // Nothing more is published: only the channel becoming writable again can move the held messages.
                resume.add(1)
                let deadline = ContinuousClock.now + .seconds(30)
                while received.load() < sent, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
                group.cancelAll()
                #expect(received.load() == sent)
                #expect(held() == 0)
                #expect(counter("slow_consumers_closed") == 0)
            }
        }
    }

    /// AAPL Doji patterns of about 4 KB each (150 extra indicators), one per index, for filling socket buffers.
    static func bigEvents(_ indices: Range<Int>, now: EpochMillis) -> [Pattern] {
        let extras = (0..<150).map { (name: "level_\($0)", value: ExtraValue.number(Double($0) * 1.5)) }
        return indices.map {
            Pattern(
                symbol: "AAPL", patternType: "Doji", tier: .daily, confidence: 0.9, detectedAt: now - EpochMillis($0),
                expiresAt: now + 3_600_000, extras: extras)
        }
    }

    /// Connects, waits for `connected`, subscribes to everything, then runs `body` with the session.
    static func subscribedToAll(
        _ client: some TestClientProtocol, _ body: @escaping @Sendable (inout NativeSession) async throws -> Void
    ) async throws {
        try await client.ws("/ws", configuration: Self.client) { inbound, outbound, _ in
            var session = NativeSession(inbound: inbound, outbound: outbound)
            _ = try await session.until("connected")
            try await session.subscribe(#"{"action":"subscribe","id":"all"}"#)
            try await body(&session)
        }
    }

    static func counter(_ hub: WebSocketHub, _ name: String) -> Int {
        hub.status().counters.first { $0.name == name }?.value ?? 0
    }

    /// Connects, reads the `connected` message and returns its seq.
    static func connectedSeq(_ client: some TestClientProtocol) async throws -> Int {
        let seq = SeqBox()
        try await client.ws("/ws", configuration: Self.client) { inbound, outbound, _ in
            var session = NativeSession(inbound: inbound, outbound: outbound)
            seq.value = try #require(try await session.until("connected").last?["seq"] as? Int)
        }
        return seq.value
    }
}

final class SeqBox: @unchecked Sendable {
    var value = 0
}

/// A counter one task bumps while another reads it.
final class AtomicCount: Sendable {
    private let value = Atomic(0)
    func load() -> Int { value.load(ordering: .acquiring) }
    func add(_ amount: Int) { value.add(amount, ordering: .releasing) }
}

/// A native-protocol test client: sends requests, reads frames as arrays of messages. The server packs several messages
/// into one frame, so what `until` reads past the message it waits for is kept for the next read, never dropped.
struct NativeSession {
    var iterator: WebSocketInboundMessageStream.AsyncIterator
    let outbound: WebSocketOutboundWriter
    /// Messages of a frame already read that nobody has consumed yet.
    var pending: [[String: Any]] = []

    init(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) {
        iterator = inbound.messages(maxSize: 1 << 24).makeAsyncIterator()
        self.outbound = outbound
    }

    func send(_ text: String) async throws { try await outbound.writeTextMessage(text) }

    /// Sends a subscribe request and waits for its confirmation.
    mutating func subscribe(_ request: String) async throws {
        try await send(request)
        _ = try await until("subscribed")
    }

    /// The messages not yet consumed: what is left of the last frame, else the next frame's.
    mutating func next() async throws -> [[String: Any]] {
        if !pending.isEmpty {
            defer { pending = [] }
            return pending
        }
        guard let message = try await iterator.next() else { throw CancellationError() }
        guard case .text(let text) = message else { Issue.record("binary frame from the server"); return [] }
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], "\(text.prefix(200))")
    }

    /// Every message up to and including the first of `type`; the rest of its frame stays pending.
    mutating func until(_ type: String) async throws -> [[String: Any]] {
        var collected: [[String: Any]] = []
        while true {
            let messages = try await next()
            if let index = messages.firstIndex(where: { $0["T"] as? String == type }) {
                collected += messages[...index]
                pending = Array(messages[(index + 1)...])
                return collected
            }
            collected += messages
        }
    }
}
