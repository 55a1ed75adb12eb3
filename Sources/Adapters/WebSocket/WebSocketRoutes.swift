public import Domain
public import Hummingbird
public import HummingbirdWebSocket
public import NIOCore

/// A request context that can name its connection's channel. The hub writes a WebSocket connection's messages into the
/// channel itself, on the channel's event loop (see `ConnectionWriter`), so the routes need it.
public protocol WebSocketChannelContext: WebSocketRequestContext {
    /// Nil only once the channel is gone.
    var channel: (any Channel)? { get }
}

/// The request context of the service's router: Hummingbird's basic WebSocket context plus the connection's channel.
public struct ChannelRequestContext: RequestContext, WebSocketChannelContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    /// Weak: the channel keeps the upgrade's handler, which keeps this context, so a strong reference would be a cycle
    /// that outlives the connection (about 5 kB leaked per WebSocket connection, measured by the churn soak test).
    public weak let channel: (any Channel)?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }
}

/// Who a WebSocket connection belongs to, and what they saved. App builds it from the HTTP adapter's authenticator and
/// the user-data store; without it every connection is anonymous.
public struct WebSocketUsers: Sendable {
    /// The user of an upgrade request (`?token=<bearer token>` or `Authorization: Bearer`); nil when anonymous; throws
    /// (an `HTTPResponseError`, a 401) to refuse the upgrade when the credentials are bad.
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

/// The WebSocket front doors, on the HTTP server's router and port: the native protocol at `/ws` and Socket.IO at
/// `/socket.io/` (websocket transport only; a long-polling handshake gets a 400 that says so).
public struct WebSocketRoutes: Sendable {
    let hub: WebSocketHub
    let users: WebSocketUsers?

    public init(hub: WebSocketHub, users: WebSocketUsers? = nil) {
        self.hub = hub
        self.users = users
    }

    public func register<Context: WebSocketChannelContext>(on router: Router<Context>) {
        let hub = hub
        let users = users
        router.ws(
            "/ws",
            shouldUpgrade: { request, _ in
                // Bad credentials are refused before the upgrade (401); none at all is an anonymous connection.
                _ = try await users?.identify(request)
                return .upgrade([:])
            }
        ) { inbound, outbound, context in
            // shouldUpgrade cannot hand its answer over, so the user is identified again here; the authenticator's
            // verified-token cache makes the second time a dictionary look-up.
            let user = try await users?.identify(context.request)
            guard let channel = context.requestContext.channel else { return }
            try await hub.runNative(inbound: inbound, outbound: outbound, channel: channel, user: user, users: users, logger: context.logger)
        }
        router.ws(
            "/socket.io",
            shouldUpgrade: { request, _ in
                let eio = request.uri.queryParameters.get("EIO")
                guard eio == "4" else {
                    throw HTTPError(.badRequest, message: "EIO must be 4 (Engine.IO v4, Socket.IO v5); got '\(eio ?? "")'")
                }
                guard request.uri.queryParameters.get("transport") == "websocket" else {
                    throw HTTPError(
                        .badRequest,
                        message: "only the websocket transport is supported: connect with transports=['websocket']")
                }
                return .upgrade([:])
            }
        ) { inbound, outbound, context in
            guard let channel = context.requestContext.channel else { return }
            try await hub.runSocketIO(inbound: inbound, outbound: outbound, channel: channel, logger: context.logger)
        }
    }

    /// The server configuration the routes need: frames up to the hub's `maxFrameSize`; pings are the protocols' own.
    public var serverConfiguration: WebSocketServerConfiguration {
        WebSocketServerConfiguration(maxFrameSize: hub.settings.maxFrameSize, autoPing: .enabled(timePeriod: .seconds(30)), closeTimeout: hub.settings.closeGrace)
    }
}
