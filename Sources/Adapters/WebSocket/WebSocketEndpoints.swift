public import Domain
public import HTTPTypes
import HummingbirdCore
public import Hummingbird
import Logging
import NIOCore
import NIOWebSocket

/// Who a WebSocket connection belongs to, and what they saved. App builds it from the HTTP adapter's authenticator and
/// the user-data store; without it every connection is anonymous.
public struct WebSocketUsers: Sendable {
    /// The user of an upgrade request (`?token=<bearer token>` or `Authorization: Bearer`); nil when anonymous; throws a
    /// `WebSocketRefusal` (a 401) to refuse the upgrade when the credentials are bad.
    public var identify: @Sendable (Request) async throws -> UserID?
    /// A saved preset's filters; nil when the user has no preset with that id.
    public var presetFilters: @Sendable (UserID, Int64) async throws -> JSONValue?

    public init(
        identify: @escaping @Sendable (Request) async throws -> UserID?,
        presetFilters: @escaping @Sendable (UserID, Int64) async throws -> JSONValue?
    ) {
        self.identify = identify
        self.presetFilters = presetFilters
    }
}

/// Why an upgrade was refused: the HTTP answer, an API error body (`{"error", "message"}`).
public struct WebSocketRefusal: Error, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String

    public init(status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    var jsonBody: String {
        var writer = JSONWriter(capacity: 128)
        writer.object { w in
            w.field("error", code)
            w.field("message", message)
        }
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

/// The WebSocket front doors, on the HTTP server's port: the native protocol at `/ws` and Socket.IO at `/socket.io/`
/// (websocket transport only; a long-polling handshake gets a 400 that says so). `WebSocketServerChannel` asks them
/// whether an upgrade request is accepted and installs the accepted connection; the router answers the same paths
/// when they come without an upgrade.
public struct WebSocketEndpoints: Sendable {
    let hub: WebSocketHub
    let users: WebSocketUsers?

    public init(hub: WebSocketHub, users: WebSocketUsers? = nil) {
        self.hub = hub
        self.users = users
    }

    struct Acceptance: Sendable {
        let kind: WebSocketHub.Kind
        let user: UserID?
    }

    enum Verdict: Sendable {
        case accept(Acceptance)
        case refuse(WebSocketRefusal)
    }

    /// Whether an upgrade request is accepted, and as what.
    func verdict(for request: HTTPRequest, on eventLoop: any EventLoop) -> EventLoopFuture<Verdict> {
        let uri = URI(request.path ?? "/")
        switch uri.path {
        case "/ws", "/ws/":
            guard let users else { return eventLoop.makeSucceededFuture(.accept(Acceptance(kind: .native, user: nil))) }
            // Bad credentials are refused before the upgrade (401); none at all is an anonymous connection.
            return eventLoop.makeFutureWithTask {
                do {
                    let user = try await users.identify(Request(head: request, body: RequestBody(buffer: ByteBuffer())))
                    return .accept(Acceptance(kind: .native, user: user))
                } catch let refusal as WebSocketRefusal {
                    return .refuse(refusal)
                } catch {
                    return .refuse(WebSocketRefusal(status: .serviceUnavailable, code: "unavailable", message: "could not check the credentials: \(error)"))
                }
            }
        case "/socket.io", "/socket.io/":
            if let refusal = Self.socketIORefusal(uri) { return eventLoop.makeSucceededFuture(.refuse(refusal)) }
            return eventLoop.makeSucceededFuture(.accept(Acceptance(kind: .socketIO, user: nil)))
        default:
            return eventLoop.makeSucceededFuture(
                .refuse(WebSocketRefusal(status: .notFound, code: "not_found", message: "no WebSocket endpoint at \(uri.path): use /ws or /socket.io/")))
        }
    }

    /// Engine.IO v4 over the websocket transport, or why not.
    static func socketIORefusal(_ uri: URI) -> WebSocketRefusal? {
        let eio = uri.queryParameters.get("EIO")
        guard eio == "4" else {
            return WebSocketRefusal(status: .badRequest, code: "bad_request", message: "EIO must be 4 (Engine.IO v4, Socket.IO v5); got '\(eio ?? "")'")
        }
        guard uri.queryParameters.get("transport") == "websocket" else {
            return WebSocketRefusal(
                status: .badRequest, code: "bad_request", message: "only the websocket transport is supported: connect with transports=['websocket']")
        }
        return nil
    }

    /// Ends the upgraded pipeline with the connection's handler; on the channel's event loop.
    func install(_ acceptance: Acceptance, on channel: any Channel, logger: Logger) throws {
        let connection = WebSocketConnection(hub: hub, kind: acceptance.kind, user: acceptance.user, users: users, logger: logger)
        try channel.pipeline.syncOperations.addHandler(connection)
    }

    /// The same paths without an upgrade: a clear error instead of a 404. NIO's upgrade handler only looks at a
    /// connection's first request: a client that asks for an upgrade later on a kept-alive connection is sent to the
    /// same URI on a new connection (307 and close), as Hummingbird does.
    public static func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/socket.io") { request, _ -> Response in
            if let redirect = Self.lateUpgrade(request) { return redirect }
            let refusal = Self.socketIORefusal(request.uri)
                ?? WebSocketRefusal(status: .badRequest, code: "bad_request", message: "/socket.io/ takes a WebSocket upgrade")
            throw HTTPError(refusal.status, message: refusal.message)
        }
        router.get("/ws") { request, _ -> Response in
            if let redirect = Self.lateUpgrade(request) { return redirect }
            throw HTTPError(.badRequest, message: "/ws takes a WebSocket upgrade (Upgrade: websocket)")
        }
    }

    static func lateUpgrade(_ request: Request) -> Response? {
        guard request.headers[.upgrade]?.lowercased() == "websocket" else { return nil }
        var location = request.uri.path
        if let query = request.uri.query { location += "?\(query)" }
        return Response(status: .temporaryRedirect, headers: [.connection: "close", .location: location])
    }
}
