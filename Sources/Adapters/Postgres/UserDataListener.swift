import Logging
import PostgresNIO

/// Keeps one dedicated connection (outside the pool) listening to `patterndesk_user_data` and tells the cache what
/// changed. The cache is trusted only between a confirmed `LISTEN` and the connection's loss; while reconnecting
/// (after `retry`, doubling to 5 s), reads go to the database. A silent connection is found by a ping every
/// `pingInterval`.
struct UserDataListener: Sendable {
    static let channel = "patterndesk_user_data"

    let endpoint: PostgresEndpoint
    let cache: UserDataCache
    let applicationName: String
    /// The first wait before reconnecting; it doubles up to 5 s.
    let retry: Duration
    let logger: Logger
    var pingInterval = Duration.seconds(5)

    func run() async {
        guard cache.isEnabled else { return }
        var delay = retry
        while !Task.isCancelled {
            var connection: PostgresConnection?
            do {
                let opened = try await PostgresConnection.connect(configuration: try configuration(), id: 0, logger: logger)
                connection = opened
                try await opened.listen(on: Self.channel) { notifications in
                    cache.listening(true)
                    logger.info("user-data cache on: listening for changes", metadata: ["db.channel": "\(Self.channel)"])
                    delay = retry
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await notification in notifications { cache.invalidate(payload: notification.payload) }
                        }
                        // A connection that died silently (no FIN, no RST) would leave the cache trusting a listener
                        // that hears nothing: a ping every few seconds bounds how long that can last.
                        group.addTask {
                            while true {
                                try await Task.sleep(for: pingInterval)
                                try await withDeadline(.seconds(2)) { _ = try await opened.query("SELECT 1", logger: logger).collect() }
                            }
                        }
                        try await group.next()
                        group.cancelAll()
                    }
                }
            } catch {
                if !Task.isCancelled {
                    logger.warning("user-data cache off: change listener lost", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
            cache.listening(false)
            try? await connection?.close()
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
    }

    private func configuration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch endpoint.tls {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        var configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.username, password: endpoint.password,
            database: endpoint.database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }
}
