import HTTPTypes
public import HummingbirdCore
public import Logging
public import NIOCore
public import NIOHTTP1
import NIOHTTPTypesHTTP1
import Domain
import Foundation
import Synchronization

/// One HTTP/1.1 connection, run by its channel's event loop: no task waits for the next request, and each request
/// runs the router in one short task whose preferred executor is that same event loop.
///
/// Hummingbird's own HTTP/1 channel keeps a task per connection that reads parts through an `NIOAsyncChannel` and
/// writes through its async writer: two lock-protected hand-offs per part, and a suspended task (with its stack slab)
/// for every kept-alive connection. Here NIO's HTTP/1 decoder hands the parts straight to this handler and its
/// encoder takes the answer; nothing else sits between them and the socket. The handler
/// - gathers a request's body (up to `maxBodySize`, else 413 and a lingering close) and runs the router once the
///   request is complete;
/// - answers pipelined requests one at a time, in order, and stops reading while `maxWaiting` complete requests are
///   already waiting;
/// - writes head, body and end in one flush when the body is a single buffer (every answer this service gives);
/// - answers a request it cannot parse with 400 and closes;
/// - closes after an answer when the request did not keep the connection alive (`Connection: close`, or HTTP/1.0
///   without keep-alive) or the answer said `Connection: close`, once the client has closed its side and nothing is
///   left to answer, and, on graceful shutdown (`ChannelShouldQuiesceEvent`), as soon as no answer is in flight.
public final class HTTPConnection: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPServerRequestPart
    public typealias OutboundIn = HTTPServerResponsePart
    public typealias OutboundOut = HTTPServerResponsePart
    /// Answers one request. It does not throw: the caller's error handling (the router's middleware, a 500 for the
    /// rest) has already turned every error into a response.
    public typealias Respond = @Sendable (Request, any Channel) async -> Response

    /// The largest request body gathered before the router runs; routes refuse smaller limits themselves.
    public static let defaultMaxBodySize = 1 << 20
    /// Complete requests that may wait behind the one being answered before the connection stops reading.
    static let maxWaiting = 16
    /// How long a refused body is read out before the connection closes anyway.
    static let lingering = TimeAmount.seconds(2)

    private struct Pending {
        var request: Request
        var keepAlive: Bool
    }

    private let respond: Respond
    private let maxBodySize: Int
    private let logger: Logger
    private var executor: EventLoopTaskExecutor?
    /// The request being read, and its body so far.
    private var head: (request: HTTPRequest, keepAlive: Bool)?
    private var body = ByteBuffer()
    /// Complete requests waiting for the one being answered.
    private var waiting: [Pending] = []
    private var answering = false
    /// A `read` held back while `maxWaiting` requests wait.
    private var readHeld = false
    /// Nothing more is read or answered after the answer in flight: a refused body, a parse error, shutdown.
    private var ending = false
    /// A request after the one in flight could not be parsed: its 400 follows that answer.
    private var badRequestAfterAnswer = false
    private var inputClosed = false

    public init(maxBodySize: Int = HTTPConnection.defaultMaxBodySize, logger: Logger, respond: @escaping Respond) {
        self.respond = respond
        self.maxBodySize = maxBodySize
        self.logger = logger
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        executor = EventLoopTaskExecutor(context.eventLoop)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard !ending else { return }
            do {
                self.head = (try HTTPRequest(head, secure: false, splitCookie: false), head.isKeepAlive)
            } catch {
                badRequest(context: context, error: error)
                return
            }
            body.clear()
        case .body(var part):
            guard head != nil, !ending else { return }
            guard body.readableBytes + part.readableBytes <= maxBodySize else {
                refuseOversizeBody(context: context)
                return
            }
            if body.readableBytes == 0 { body = part } else { body.writeBuffer(&part) }
        case .end:
            guard let head, !ending else {
                if ending, !answering { context.close(promise: nil) }  // a refused body has been read out
                return
            }
            self.head = nil
            waiting.append(Pending(request: Request(head: head.request, body: RequestBody(buffer: body)), keepAlive: head.keepAlive))
            body = ByteBuffer()
            if !answering { answerNext(context: context) }
        }
    }

    public func read(context: ChannelHandlerContext) {
        if waiting.count >= Self.maxWaiting {
            readHeld = true
        } else {
            context.read()
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            inputClosed = true
            if !answering { context.close(promise: nil) }
        case is ChannelShouldQuiesceEvent:
            ending = true
            waiting.removeAll()
            if !answering { context.close(promise: nil) }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            badRequest(context: context, error: error)
        } else {
            logger.debug("HTTP connection error, closing", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    /// Runs the router for the first waiting request and writes its answer.
    private func answerNext(context: ChannelHandlerContext) {
        guard !waiting.isEmpty else { return }
        let next = waiting.removeFirst()
        if readHeld, waiting.count < Self.maxWaiting {
            readHeld = false
            context.read()
        }
        answering = true
        let channel = context.channel
        let respond = self.respond
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let executor: (any TaskExecutor)? = self.executor
        Task(executorPreference: executor) {
            let closing = await HTTPConnection.answer(next.request, keepAlive: next.keepAlive, respond: respond, channel: channel)
            closing.whenComplete { result in
                let (handler, context) = bound.value
                handler.answered(closing: (try? result.get()) ?? true, context: context)
            }
        }
    }

    /// Runs the router and writes its answer; the future completes once the end is out, with whether the connection
    /// closes after it (failed when the write failed).
    private static func answer(_ request: Request, keepAlive: Bool, respond: Respond, channel: any Channel) async -> EventLoopFuture<Bool> {
        var response = await respond(request, channel)
        if !response.headers.contains(.date) { response.headers[.date] = HTTPDate.now() }
        var head = HTTPResponseHead(response.head)
        let closes = !keepAlive || !head.isKeepAlive  // the answer's own `Connection: close`, as NIO reads it
        if closes { head.headers.replaceOrAdd(name: "connection", value: "close") }
        let ended = channel.eventLoop.makePromise(of: Void.self)
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        do {
            try await response.body.write(ChannelBodyWriter(channel: channel))
            channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: ended)
        } catch {
            ended.fail(error)
        }
        return ended.futureResult.map { closes }
    }

    /// After an answer's end was written (or failed): close, or answer the next request.
    private func answered(closing: Bool, context: ChannelHandlerContext) {
        answering = false
        if badRequestAfterAnswer, !closing {
            Self.writeBadRequest(context: context)
        }
        if closing || ending || (inputClosed && waiting.isEmpty) {
            context.close(promise: nil)
        } else {
            answerNext(context: context)
        }
    }

    /// A request that is not HTTP: 400, unless an answer is already under way, and the connection closes.
    private func badRequest(context: ChannelHandlerContext, error: any Error) {
        logger.debug("unparseable HTTP request, closing", metadata: ["error": "\(error)"])
        ending = true
        head = nil
        waiting.removeAll()
        guard !answering else {
            badRequestAfterAnswer = true
            return
        }
        Self.writeBadRequest(context: context)
        context.close(promise: nil)
    }

    /// 400 with no body and `Connection: close`, flushed.
    static func writeBadRequest(context: ChannelHandlerContext) {
        let head = HTTPResponseHead(
            version: .http1_1, status: .badRequest, headers: ["connection": "close", "content-length": "0", "date": HTTPDate.now()])
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
    }

    /// A body over `maxBodySize`: 413 with a JSON error, and the connection closes once the rest of the body has been
    /// read and dropped, or after `lingering`, whichever comes first. Closing with unread bytes would reset the
    /// connection, and a client still sending could lose the answer.
    private func refuseOversizeBody(context: ChannelHandlerContext) {
        ending = true
        head = nil
        body = ByteBuffer()
        waiting.removeAll()
        guard !answering else { return }  // only a pipelining client gets here: it loses the requests after this one
        let message = #"{"error":"payload_too_large","message":"request body over \#(maxBodySize) bytes"}"#
        let head = HTTPResponseHead(
            version: .http1_1, status: .payloadTooLarge,
            headers: [
                "connection": "close", "content-type": "application/json", "content-length": String(message.utf8.count),
                "date": HTTPDate.now(),
            ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: message)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        let channel = context.channel
        context.eventLoop.scheduleTask(in: Self.lingering) { channel.close(promise: nil) }
    }
}

/// Writes a response body to the channel. The first buffer is only queued, so that head, body and end leave in the
/// flush that writes the end; later buffers are flushed one by one, each awaited, which is the body's backpressure.
struct ChannelBodyWriter: ResponseBodyWriter {
    let channel: any Channel
    private var queuedFirst = false

    init(channel: any Channel) { self.channel = channel }

    mutating func write(_ buffer: ByteBuffer) async throws {
        guard queuedFirst else {
            queuedFirst = true
            channel.write(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil)
            return
        }
        try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer))).get()
    }

    /// The end (and any trailers, which this service never sends) is written by `HTTPConnection`.
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// A task executor that runs jobs on one NIO event loop: a request's task, and whatever it awaits without an
/// executor of its own, resumes on the thread that read the request and writes to the socket in place.
public final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// The `Date` header's value (RFC 9110 IMF-fixdate), formatted once per second.
enum HTTPDate {
    private static let cache = Mutex<(second: Int64, text: String)>((-1, ""))

    static func now() -> String {
        let second = Int64(Date().timeIntervalSince1970.rounded(.down))
        return cache.withLock { cached in
            if cached.second != second { cached = (second, Timestamp.httpDate(epochSeconds: second)) }
            return cached.text
        }
    }
}
