public import Hummingbird
public import HummingbirdWebSocket

/// The WebSocket front doors, on the HTTP server's router and port: the native protocol at `/ws` and Socket.IO at
/// `/socket.io/` (websocket transport only; a long-polling handshake gets a 400 that says so).
public struct WebSocketRoutes: Sendable {
    let hub: WebSocketHub

    public init(hub: WebSocketHub) { self.hub = hub }

    public func register<Context: WebSocketRequestContext>(on router: Router<Context>) {
        let hub = hub
        router.ws("/ws") { inbound, outbound, context in
            try await hub.runNative(inbound: inbound, outbound: outbound, logger: context.logger)
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
            try await hub.runSocketIO(inbound: inbound, outbound: outbound, logger: context.logger)
        }
    }

    /// The server configuration the routes need: frames up to the hub's `maxFrameSize`; pings are the protocols' own.
    public var serverConfiguration: WebSocketServerConfiguration {
        WebSocketServerConfiguration(maxFrameSize: hub.settings.maxFrameSize, autoPing: .enabled(timePeriod: .seconds(30)), closeTimeout: hub.settings.closeGrace)
    }
}
