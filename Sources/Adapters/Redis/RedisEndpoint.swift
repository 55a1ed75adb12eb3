import Foundation

/// Where a Redis server is and how to log in: parsed from `redis://[user:password@]host[:port][/db]`.
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int

    public init(host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case invalid(String, reason: String)
        public var description: String {
            switch self {
            case .invalid(let url, let reason): "invalid Redis URL '\(url)': \(reason)"
            }
        }
    }

    /// Parses `redis://` URLs; the password is percent-decoded.
    public init(url: String) throws(ParseError) {
        guard url.hasPrefix("redis://") else { throw .invalid(url, reason: "must start with redis://") }
        var rest = Substring(url.dropFirst("redis://".count))
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            if !path.isEmpty {
                guard let db = Int(path), db >= 0 else { throw .invalid(url, reason: "the database after / must be a number") }
                database = db
            }
            rest = rest[..<slash]
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : Self.percentDecoded(user)
                password = Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else if !credentials.isEmpty {
                password = Self.percentDecoded(credentials)
            }
        }
        var host = String(rest)
        var port = 6379
        if let colon = rest.lastIndex(of: ":") {
            guard let parsed = Int(rest[rest.index(after: colon)...]), (1...65_535).contains(parsed) else {
                throw .invalid(url, reason: "the port must be 1...65535")
            }
            port = parsed
            host = String(rest[..<colon])
        }
        guard !host.isEmpty else { throw .invalid(url, reason: "no host") }
        self.init(host: host, port: port, username: username, password: password, database: database)
    }

    /// `host:port/db`, never the password.
    public var description: String { "\(host):\(port)/\(database)" }

    private static func percentDecoded(_ text: Substring) -> String {
        String(text).removingPercentEncoding ?? String(text)
    }
}
