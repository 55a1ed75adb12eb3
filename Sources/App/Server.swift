import HTTP
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import WebSocket

/// The server: HTTP/1.1 and the WebSocket upgrade on one port, every connection driven by its own event loop with no
/// task of its own. A plain HTTP connection ends in the HTTP adapter's `HTTPConnection`, which runs `responder` for
/// each request in a short task on that event loop; an upgraded one ends in the WebSocket adapter's connection handler.
///
/// Hummingbird's `Application` still runs the server (binding, graceful shutdown, services) and builds its own
/// responder, which `HTTPServerBuilder` hands to this builder; that one is left unused, as it can only write through an
/// `NIOAsyncChannel`. `responder` is the same router, built once more. What the `Application`'s responder added to
/// every answer is added here too: `Server: patterndesk`, and a 500 for an error no middleware turned into a response.
func patternDeskServer<Responder: HTTPResponder>(
    _ responder: Responder, endpoints: WebSocketEndpoints, logger: Logger
) -> HTTPServerBuilder where Responder.Context == BasicRequestContext {
    let respond: HTTPConnection.Respond = { request, channel in
        let context = BasicRequestContext(source: .init(channel: channel, logger: logger))
        var response: Response
        do {
            response = try await responder.respond(to: request, context: context)
        } catch {
            logger.debug("unhandled error", metadata: ["error": "\(error)"])
            response = Response(status: .internalServerError)
        }
        response.headers[.server] = "patterndesk"
        return response
    }
    return HTTPServerBuilder { _ in
        WebSocketServerChannel(endpoints: endpoints) { channel in
            try channel.pipeline.syncOperations.addHandler(HTTPConnection(logger: logger, respond: respond))
        }
    }
}
