public import Logging
public import PostgresNIO
public import ServiceLifecycle
import Ports

/// The shared `PostgresClient` (a connection pool) as a service, plus the one place where every query gets its time
/// limit and where driver errors become port errors. Run it in the app's `ServiceGroup` before anything queries.
public final class PostgresDatabase: Service {
    public let client: PostgresClient
    public let endpoint: PostgresEndpoint
    /// How long one operation (a query or a transaction, including waiting for a connection) may take before the
    /// caller gets `UserDataError.unavailable`.
    public let timeout: Duration
    /// Users' rows kept in memory while the change listener runs (see `UserDataCache`).
    public let userDataCache: UserDataCache
    /// The `application_name` of the change listener's connection, unique per instance (see `pg_stat_activity`).
    public let listenerName = "patterndesk-listener-\(UInt32.random(in: .min ... .max))"
    let listenerRetry: Duration
    let logger: Logger

    /// - Parameters:
    ///   - maximumConnections: the pool's size; PostgreSQL's own limit is usually 100.
    ///   - cachedUsers: how many users' watchlists and presets to keep in memory; 0 reads every time.
    ///   - listenerRetry: the first wait before the change listener reconnects (doubling to 5 s).
    public init(
        endpoint: PostgresEndpoint, timeout: Duration = .seconds(2), maximumConnections: Int = 16, cachedUsers: Int = 10_000,
        listenerRetry: Duration = .milliseconds(100), logger: Logger
    ) {
        var configuration = PostgresClient.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.username, password: endpoint.password,
            database: endpoint.database, tls: Self.tls(endpoint.tls))
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = timeout
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(30))
        configuration.options.additionalStartupParameters = [("application_name", "patterndesk")]
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.endpoint = endpoint
        self.timeout = timeout
        self.userDataCache = UserDataCache(capacity: cachedUsers)
        self.listenerRetry = listenerRetry
        self.logger = logger
    }

    /// Runs the pool and, when caching, the change listener, until cancelled.
    public func run() async {
        logger.info("postgres client starting", metadata: ["db.endpoint": "\(endpoint)", "cache.users": "\(userDataCache.capacity)"])
        let listener = UserDataListener(
            endpoint: endpoint, cache: userDataCache, applicationName: listenerName, retry: listenerRetry, logger: logger)
        await withDiscardingTaskGroup { group in
            group.addTask { await self.client.run() }
            group.addTask { await listener.run() }
        }
    }

    /// Runs `body` within `timeout`, translating what the driver throws: a unique violation becomes
    /// `UserDataError.duplicateName`, a check violation `tooManySymbols`, anything about connections or time
    /// `unavailable`. Other server errors (a bug in our SQL) become `unavailable` too, logged at `info` with the SQLSTATE.
    func perform<Result: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        let client = self.client
        do {
            return try await withDeadline(timeout) { try await body(client) }
        } catch {
            throw translate(error, operation: operation)
        }
    }

    /// The port error for what the driver threw; a transaction's own error is looked through to its cause.
    func translate(_ error: any Error, operation: String) -> any Error {
        switch error {
        case let error as UserDataError: return error
        case is CancellationError: return error
        case let error as PostgresTransactionError:
            guard let cause = error.closureError ?? error.beginError ?? error.commitError else {
                return UserDataError.unavailable(detail: "\(operation): transaction failed")
            }
            return translate(cause, operation: operation)
        case let error as PSQLError:
            let state = error.serverInfo?[.sqlState]
            switch state {
            case "23505": return UserDataError.duplicateName
            case "23514" where error.serverInfo?[.constraintName]?.contains("symbols") == true: return UserDataError.tooManySymbols
            default:
                logger.info(
                    "postgres operation failed",
                    metadata: ["db.operation": "\(operation)", "db.code": "\(error.code)", "db.sqlstate": "\(state ?? "-")"])
                return UserDataError.unavailable(detail: "\(operation): \(error.code)\(state.map { " (SQLSTATE \($0))" } ?? "")")
            }
        case is DeadlineExceeded:
            return UserDataError.unavailable(detail: "\(operation): no answer within \(timeout)")
        default:
            return UserDataError.unavailable(detail: "\(operation): \(error)")
        }
    }

    /// Answers when PostgreSQL does, within the timeout.
    public func ping() async throws {
        _ = try await perform("ping") { client in try await client.query("SELECT 1").collect() }
    }

    static func tls(_ mode: PostgresEndpoint.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }
}
