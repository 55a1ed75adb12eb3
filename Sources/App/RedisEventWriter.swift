import Redis

/// Sends event bodies to a Redis stream (`XADD key * data body`) or pub/sub channel (`PUBLISH key body`) for
/// `patterndesk publish` and `patterndesk detect`: pre-encoded RESP in pipelined chunks, every reply checked. Each
/// flush sends the new chunk and only then reads the previous chunk's replies, so Redis works through a chunk while
/// the next one fills and a flush rarely waits for a round trip (it matters when `detect` runs on one core). With
/// `rate` > 0 the events are paced to that many per second.
final class RedisEventWriter {
    enum Target: Sendable {
        case stream(String), channel(String)

        var description: String {
            switch self {
            case .stream(let key): "stream \(key)"
            case .channel(let name): "channel \(name)"
            }
        }
    }

    let client: RedisClient
    let target: Target
    let rate: Double
    let chunk: Int
    /// The command and key (and `*`, `data` for XADD), encoded once; the body is the last argument.
    private let prefix: [UInt8]
    private let arguments: Int
    private var pending = RESPCommands()
    private var inFlight: Task<Void, any Error>?
    /// Commands sent whose replies are not read yet.
    private var unanswered = 0
    private let started = ContinuousClock.now
    private(set) var sent = 0

    init(endpoint: RedisEndpoint, target: Target, name: String, rate: Double = 0, chunk: Int = 1_000) async throws {
        client = RedisClient(endpoint: endpoint, name: name)
        self.target = target
        self.rate = rate
        self.chunk = rate > 0 ? max(1, min(chunk, Int(rate / 20))) : chunk
        let head =
            switch target {
            case .stream(let key): [Array("XADD".utf8), Array(key.utf8), Array("*".utf8), Array("data".utf8)]
            case .channel(let name): [Array("PUBLISH".utf8), Array(name.utf8)]
            }
        prefix = RESPCommands.encode(head)
        arguments = head.count + 1
        // Fail early, with the connection error, when Redis is not there.
        _ = try await client.withConnection { connection throws(RedisError) in try connection.pipeline([[Array("PING".utf8)]]) }
    }

    func send(_ body: [UInt8]) async throws {
        pending.append(arguments: arguments, prefix: prefix, body)
        if pending.count >= chunk { try await flush() }
    }

    /// Sends what is left and waits for every reply.
    func finish() async throws {
        try await flush()
        try await inFlight?.value
        let unanswered = self.unanswered
        self.unanswered = 0
        try await client.withConnection { connection throws(RedisError) in try connection.receive(count: unanswered) }
        inFlight = nil
    }

    private func flush() async throws {
        guard pending.count > 0 else { return }
        try await inFlight?.value
        let commands = pending
        let previous = unanswered
        pending.removeAll()
        sent += commands.count
        unanswered = commands.count
        let client = self.client
        inFlight = Task {
            try await client.withConnection { connection throws(RedisError) in
                try connection.send(encoded: commands)
                try connection.receive(count: previous)
            }
        }
        if rate > 0 {
            let due = started + .milliseconds(Int64(Double(sent) / rate * 1000))
            if due > .now { try await Task.sleep(until: due) }
        }
    }
}
