import Foundation

/// Where PostgreSQL is: parsed from `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`
/// (`postgresql://` too), the form of `DATABASE_URL`.
public struct PostgresEndpoint: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable { case disable, prefer, require }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public init(
        host: String = "127.0.0.1", port: Int = 5432, username: String = "postgres", password: String? = nil,
        database: String = "patterndesk", tls: TLSMode = .disable
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { "invalid PostgreSQL URL: \(reason)" }
    }

    public init(url: String) throws(ParseError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme)
        else { throw ParseError(reason: "must look like postgres://user:password@host:port/database") }
        guard let host = components.host, !host.isEmpty else { throw ParseError(reason: "no host") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw ParseError(reason: "no database name after the host") }
        var tls = TLSMode.prefer
        if let mode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value {
            switch mode {
            case "disable": tls = .disable
            case "allow", "prefer": tls = .prefer
            case "require", "verify-ca", "verify-full": tls = .require
            default: throw ParseError(reason: "sslmode must be disable, prefer or require; got '\(mode)'")
            }
        }
        if let port = components.port, !(1...65_535).contains(port) { throw ParseError(reason: "the port must be 1...65535") }
        self.init(
            host: host, port: components.port ?? 5432, username: components.percentEncodedUser?.removingPercentEncoding ?? "postgres",
            password: components.percentEncodedPassword?.removingPercentEncoding,
            database: database.removingPercentEncoding ?? database, tls: tls)
    }

    /// `user@host:port/database`, never the password.
    public var description: String { "\(username)@\(host):\(port)/\(database)" }
}
