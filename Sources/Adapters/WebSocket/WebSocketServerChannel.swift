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
/// Neither kind of connection keeps a task. An upgraded WebSocket connection's pipeline ends in a `WebSocketConnection`
/// handler that the event loop drives; a plain HTTP connection's pipeline ends in the handler `serveHTTP` adds (the
/// HTTP adapter's `HTTPConnection`, given by App), and `handle` returns as soon as the upgrade is decided.
/// hummingbird-websocket instead keeps one suspended task chain per connection (the upgrade, its handler, its task
/// group, the inbound iterator and an auto-ping child): about 21 kB of task stack per idle connection measured with
/// heaptrack, more than the 20 kB the whole connection may cost. Only a refused upgrade runs a short task, to answer.
public struct WebSocketServerChannel: ServerChildChannel {
    /// What the upgrade negotiation produced.
    public enum UpgradeResult: Sendable {
        /// Upgraded, or served as HTTP: the connection lives in its pipeline now.
        case inPipeline
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, WebSocketRefusal)
    }

    public struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        public let channel: any Channel
    }

    let endpoints: WebSocketEndpoints
    let serveHTTP: @Sendable (any Channel) throws -> Void

    /// - Parameter serveHTTP: ends a connection that was not upgraded with the handler that serves its requests; on
    ///   the channel's event loop, after NIO's HTTP/1 decoder and encoder.
    public init(endpoints: WebSocketEndpoints, serveHTTP: @escaping @Sendable (any Channel) throws -> Void) {
        self.endpoints = endpoints
        self.serveHTTP = serveHTTP
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let endpoints = endpoints
            let serveHTTP = serveHTTP
            let firstRequestErrors = FirstRequestErrors()
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
                        channel.pipeline.syncOperations.removeHandler(firstRequestErrors, promise: nil)
                        try endpoints.install(acceptance, on: channel, logger: logger)
                        return UpgradeResult.inPipeline
                    }
                }
            )
            let upgrading = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        channel.pipeline.syncOperations.removeHandler(firstRequestErrors, promise: nil)
                        if case .refuse(let refusal) = verdict.value {
                            try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                            let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                                wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                            return UpgradeResult.refused(http, refusal)
                        }
                        try serveHTTP(channel)
                        return UpgradeResult.inPipeline
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: upgrading)
            configuration.enablePipelining = false  // the HTTP handler answers pipelined requests in order itself
            configuration.enableErrorHandling = false  // FirstRequestErrors, then the HTTP handler, answer parse errors
            configuration.enableResponseHeaderValidation = false  // swift-http-types validated them already
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            try channel.pipeline.syncOperations.addHandler(firstRequestErrors)
            return Value(upgradeResult: result, channel: channel)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .inPipeline:
                return  // the pipeline runs the connection from here on
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
}

/// Answers a first request NIO cannot parse with 400 and closes; removed as soon as the upgrade is decided, after which
/// the WebSocket or HTTP handler deals with what comes. Other errors pass: the upgrade handler reports a refused
/// upgrade as one, and the refusal is still to be answered.
final class FirstRequestErrors: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny
    typealias OutboundOut = HTTPServerResponsePart

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let head = HTTPResponseHead(version: .http1_1, status: .badRequest, headers: ["connection": "close", "content-length": "0"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(promise: nil)
    }
}
