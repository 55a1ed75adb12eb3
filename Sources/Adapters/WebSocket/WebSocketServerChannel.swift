import HTTPTypes
public import HummingbirdCore
public import Logging
public import NIOCore
import NIOHTTP1
public import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// The server's child channel: HTTP/1.1 with the WebSocket upgrade, on the HTTP server's port.
///
/// HTTP requests are served as Hummingbird's own HTTP/1 channel serves them, one task per connection. An upgraded
/// WebSocket connection has no task at all: its pipeline ends in a `WebSocketConnection` handler that the event loop
/// drives, and `handle` returns as soon as the upgrade is done. hummingbird-websocket instead keeps one suspended task
/// chain per connection (the upgrade, its handler, its task group, the inbound iterator and an auto-ping child): about
/// 21 kB of task stack per idle connection measured with heaptrack, more than the 20 kB the whole connection may cost.
public struct WebSocketServerChannel: ServerChildChannel, HTTPChannelHandler {
    /// What the upgrade negotiation produced.
    public enum UpgradeResult: Sendable {
        /// Upgraded: the connection lives in its pipeline now.
        case webSocket
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, WebSocketRefusal)
    }

    public struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        public let channel: any Channel
    }

    public let responder: HTTPChannelHandler.Responder
    let endpoints: WebSocketEndpoints

    public init(responder: @escaping HTTPChannelHandler.Responder, endpoints: WebSocketEndpoints) {
        self.responder = Self.redirectingLateUpgrades(responder)
        self.endpoints = endpoints
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let endpoints = endpoints
            // The verdict of `shouldUpgrade`, for the pipeline handler or the refusal that follow it on this loop.
            let verdict = NIOLoopBoundBox<WebSocketEndpoints.Verdict?>(nil, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: endpoints.hub.settings.maxFrameSize,
                shouldUpgrade: { channel, head in
                    let request: HTTPRequest
                    do {
                        request = try HTTPRequest(head, secure: false, splitCookie: false)
                    } catch {
                        return channel.eventLoop.makeFailedFuture(error)
                    }
                    return endpoints.verdict(for: request, on: channel.eventLoop).map { answer in
                        verdict.value = answer
                        if case .accept = answer { return HTTPHeaders() }
                        return nil
                    }
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard case .accept(let acceptance) = verdict.value else { throw ChannelError.inappropriateOperationForState }
                        try endpoints.install(acceptance, on: channel, logger: logger)
                        return UpgradeResult.webSocket
                    }
                }
            )
            let upgrading = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        if case .refuse(let refusal) = verdict.value { return UpgradeResult.refused(http, refusal) }
                        return UpgradeResult.notUpgraded(http)
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: upgrading)
            configuration.enablePipelining = false  // NIOAsyncChannel reads one request at a time
            configuration.enableErrorHandling = false  // Hummingbird answers errors
            configuration.enableResponseHeaderValidation = false  // swift-http-types validated them already
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            return Value(upgradeResult: result, channel: channel)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .webSocket:
                return  // the pipeline runs the connection from here on
            case .notUpgraded(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let refusal):
                await Self.refuse(http, refusal, logger: logger)
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("connection closed before its first request")
        } catch {
            logger.debug("upgrade negotiation failed", metadata: ["error": "\(error)"])
        }
    }

    /// Answers a refused upgrade with its status and a JSON error, then closes.
    static func refuse(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, _ refusal: WebSocketRefusal, logger: Logger) async {
        do {
            try await http.executeThenClose { _, outbound in
                var body = ByteBuffer()
                body.writeString(refusal.jsonBody)
                let head = HTTPResponse(
                    status: refusal.status,
                    headerFields: [.connection: "close", .contentType: "application/json", .contentLength: String(body.readableBytes)])
                try await outbound.write(contentsOf: [.head(head), .body(body), .end(nil)])
            }
        } catch {
            logger.trace("refused upgrade: the client left first", metadata: ["error": "\(error)"])
        }
    }

    /// NIO's upgrade handler only looks at a connection's first request. A client that asks for an upgrade later on a
    /// kept-alive connection is sent to the same URI on a new connection (307 and close), as Hummingbird does.
    static func redirectingLateUpgrades(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        struct RedirectedUpgrade: Error {}
        return { request, writer, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                return try await responder(request, writer, channel)
            }
            var location = request.uri.path
            if let query = request.uri.query { location += "?\(query)" }
            try await writer.writeResponse(HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: location]))
            throw RedirectedUpgrade()
        }
    }
}
