import Synchronization

/// A Redis connection on its own thread. The connection opens on first use and again after a connection error, so
/// callers retry by calling again; they decide how long to wait between tries (`Backoff`).
public final class RedisClient: @unchecked Sendable {
    public let endpoint: RedisEndpoint
    private let connectTimeout: Duration
    private let ioTimeout: Duration
    private let thread: BlockingThread
    /// Touched only on `thread`.
    private var connection: RedisConnection?

    /// - Parameter ioTimeout: the longest a read may block; must exceed any `BLOCK` time sent on this client.
    public init(endpoint: RedisEndpoint, name: String, connectTimeout: Duration = .seconds(2), ioTimeout: Duration = .seconds(10)) {
        self.endpoint = endpoint
        self.connectTimeout = connectTimeout
        self.ioTimeout = ioTimeout
        thread = BlockingThread(name: name)
    }

    deinit { thread.stop() }

    /// Runs `body` with the connection on the client's thread. A connection error drops the connection. With
    /// `retryStale`, a connection error on a connection opened earlier (the server restarted meanwhile) is retried
    /// once on a new connection: only for idempotent commands.
    public func withConnection<Result: Sendable>(
        retryStale: Bool = false, _ body: @escaping @Sendable (RedisConnection) throws(RedisError) -> Result
    ) async throws(RedisError) -> Result {
        try await start(retryStale: retryStale, body).value
    }

    /// Like `withConnection`, but returns at once: the stream consumer reads its next batch while it applies this one.
    func start<Result: Sendable>(
        retryStale: Bool = false, _ body: @escaping @Sendable (RedisConnection) throws(RedisError) -> Result
    ) -> Pending<Result> {
        thread.start { [self] () throws(RedisError) -> Result in try onThread(retryStale: retryStale, body) }
    }

    /// The client's thread as a task executor (see `BlockingThread`).
    var executor: any TaskExecutor { thread }

    /// Runs on `thread`.
    private func onThread<Result>(retryStale: Bool, _ body: (RedisConnection) throws(RedisError) -> Result) throws(RedisError) -> Result {
        var reused = connection != nil
        while true {
            do throws(RedisError) {
                if let connection { return try body(connection) }
                let opened = try RedisConnection(endpoint: endpoint, connectTimeout: connectTimeout, ioTimeout: ioTimeout)
                connection = opened
                return try body(opened)
            } catch {
                guard error.isConnectionError else { throw error }
                connection = nil
                guard retryStale && reused else { throw error }
                reused = false
            }
        }
    }

    /// One command; `idempotent` ones are retried once when the connection turned out stale.
    public func command(_ arguments: [String], idempotent: Bool = false) async throws(RedisError) -> RedisReply {
        try await withConnection(retryStale: idempotent) { connection throws(RedisError) in try connection.command(arguments).checked() }
    }

    /// Drops the connection; the next call opens a new one.
    public func disconnect() async {
        _ = try? await thread.start { [self] () throws(RedisError) in self.connection = nil }.value
    }
}

/// A few command connections shared round-robin (cache writes, heartbeat reads, lag queries).
public final class RedisCommandPool: Sendable {
    private let clients: [RedisClient]
    private let next = Atomic<Int>(0)

    public init(endpoint: RedisEndpoint, size: Int = 2, name: String = "redis-command") {
        clients = (0..<max(1, size)).map { RedisClient(endpoint: endpoint, name: "\(name)-\($0)") }
    }

    public var endpoint: RedisEndpoint { clients[0].endpoint }

    public func client() -> RedisClient {
        clients[next.wrappingAdd(1, ordering: .relaxed).oldValue % clients.count]
    }

    public func command(_ arguments: [String], idempotent: Bool = false) async throws(RedisError) -> RedisReply {
        try await client().command(arguments, idempotent: idempotent)
    }
}

/// Capped exponential backoff with full jitter: try n waits a random time in [base·2ⁿ/2, base·2ⁿ], at most `cap`.
public struct Backoff: Sendable {
    public var base: Duration
    public var cap: Duration
    public init(base: Duration = .milliseconds(100), cap: Duration = .seconds(5)) {
        self.base = base
        self.cap = cap
    }

    public func delay(attempt: Int) -> Duration {
        min(cap, base * (1 << min(attempt, 20))) * Double.random(in: 0.5...1)
    }
}
