public import Foundation
public import Domain
import HTTPTypes
public import Hummingbird
import JWTKit
import Synchronization

/// Who is calling: the `sub` of a valid HS256 bearer token, or, only when the development setting is on, the
/// `X-User-ID` header. Every `/api/users/*` route and every personalised scan (`preset=`, `universe=<watchlist id>`)
/// goes through `user(for:)`.
public struct UserAuthenticator: Sendable {
    public struct Settings: Sendable {
        /// The HS256 secret; tokens are refused when nil.
        public var secret: String?
        /// Trust `X-User-ID` without a token. Development only: anyone can claim any id.
        public var allowUserHeader = false
        /// Clock skew tolerated on `exp`.
        public var leeway: Duration = .seconds(30)
        public init(secret: String? = nil, allowUserHeader: Bool = false) {
            self.secret = secret
            self.allowUserHeader = allowUserHeader
        }
    }

    /// The claims PatternDesk issues and requires: `sub` (user id), `exp`, and `iat`.
    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    let settings: Settings
    let keys: JWTKeyCollection?
    /// Tokens already verified, with their subject and expiry: a dashboard sends the same token on every request, and
    /// the signature check (about 0.3 ms per request measured) need not run again until the token expires. Keyed by
    /// the whole token, signature included, so a cached entry can only match the exact bytes that were verified.
    let verified = VerifiedTokens(capacity: 10_000)

    public init(settings: Settings) async {
        self.settings = settings
        if let secret = settings.secret {
            keys = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        } else {
            keys = nil
        }
    }

    /// Issues a token for `user`, valid for `lifetime` from `now` (for `patterndesk token` and tests).
    public static func issue(secret: String, user: UserID, lifetime: Duration, now: Date = Date()) async throws -> String {
        let keys = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let claims = Claims(
            sub: SubjectClaim(value: user.rawValue), exp: ExpirationClaim(value: now.addingTimeInterval(milliseconds(lifetime) / 1000)),
            iat: IssuedAtClaim(value: now))
        return try await keys.sign(claims)
    }

    /// The authenticated user, or a 401 saying what is wrong.
    public func user(for request: Request) async throws(APIError) -> UserID {
        guard let user = try await optionalUser(for: request) else {
            throw Self.unauthorized(
                settings.allowUserHeader
                    ? "Authentication required: send Authorization: Bearer <token> (or X-User-ID in development)"
                    : "Authentication required: send Authorization: Bearer <token>")
        }
        return user
    }

    /// The authenticated user; nil when the request carries no credentials at all; a 401 when they are bad.
    public func optionalUser(for request: Request) async throws(APIError) -> UserID? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw Self.unauthorized("The Authorization header must be 'Bearer <token>'")
            }
            return try await verify(String(parts[1]).trimmingCharacters(in: .whitespaces))
        }
        if settings.allowUserHeader, let id = request.headers[Self.userHeader] {
            let trimmed = id.trimmingCharacters(in: .whitespaces)
            guard (1...200).contains(trimmed.count) else { throw Self.unauthorized("X-User-ID must be 1 to 200 characters") }
            return UserID(trimmed)
        }
        return nil
    }

    /// The user of a WebSocket upgrade: `?token=<bearer token>` (browsers cannot set headers on a WebSocket) or the
    /// usual headers; nil when there are no credentials.
    public func optionalUser(forUpgrade request: Request) async throws(APIError) -> UserID? {
        if let token = request.uri.queryParameters.get("token") { return try await verify(token) }
        return try await optionalUser(for: request)
    }

    func verify(_ token: String) async throws(APIError) -> UserID {
        guard let keys else { throw Self.unauthorized("Bearer tokens are not accepted: no token secret is configured") }
        let now = Date()
        if let (user, expiry) = verified.lookup(token) {
            guard expiry > now.addingTimeInterval(-milliseconds(settings.leeway) / 1000) else { throw Self.unauthorized("Token expired") }
            return user
        }
        let claims: Claims
        do {
            claims = try await keys.verify(token, as: Claims.self)
        } catch {
            throw Self.unauthorized("Invalid token")
        }
        do {
            try claims.exp.verifyNotExpired(currentDate: Date().addingTimeInterval(-milliseconds(settings.leeway) / 1000))
        } catch {
            throw Self.unauthorized("Token expired")
        }
        let subject = claims.sub.value
        guard (1...200).contains(subject.count) else { throw Self.unauthorized("Invalid token: sub must be 1 to 200 characters") }
        verified.insert(token, user: UserID(subject), expiry: claims.exp.value)
        return UserID(subject)
    }

    static let userHeader = HTTPField.Name("X-User-ID")!

    static func unauthorized(_ message: String) -> APIError {
        APIError(status: .unauthorized, code: "unauthorized", message: message)
    }
}

/// A bounded map of verified tokens; when full it starts over (tokens are re-verified, never wrongly accepted).
final class VerifiedTokens: Sendable {
    private let entries = Mutex<[String: (user: UserID, expiry: Date)]>([:])
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func lookup(_ token: String) -> (UserID, Date)? {
        entries.withLock { $0[token].map { ($0.user, $0.expiry) } }
    }

    func insert(_ token: String, user: UserID, expiry: Date) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = (user, expiry)
        }
    }
}
