import HTTPTypes
public import HummingbirdCore
public import Logging
public import NIOCore
public import NIOHTTPTypes
import Foundation
import Synchronization

/// One HTTP/1.1 connection, run by its channel's event loop: no task waits for the next request, and each request
/// runs the router in one short task whose preferred executor is that same event loop.
///
/// Hummingbird's own HTTP/1 channel keeps a task per connection that reads parts through an `NIOAsyncChannel` and
/// writes through its async writer: two lock-protected hand-offs per part, and a suspended task (with its stack slab)
/// for every kept-alive connection. Here the pipeline delivers the parts to this handler; the request's body is
/// gathered (up to `maxBodySize`, else 413 and close) and the router runs once the request is complete; the answer's
/// head, body and end go out in one flush when the body is a single buffer, which is every answer this service gives.
///
/// The pipeline in front of it (set up by the server's child channel): NIO's HTTP/1 codec with its pipelining handler
/// (a client's next request waits until this one's response has ended, so answers keep their order) and its protocol
/// error handler (a request it cannot parse gets 400 and the connection closes), the HTTP types codec, and
/// Hummingbird's `HTTPConnectionStateHandler` (closes an idle connection on graceful shutdown, or after the response in
/// flight). This handler closes the connection after an exchange where either side said `Connection: close`, and once
/// the client has closed its side and no request is left.
public final class HTTPConnection: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias OutboundOut = HTTPResponsePart
    /// Answers one request. It does not throw: the caller's error handling (the router's middleware, a 500 for the
    /// rest) has already turned every error into a response.
    public typealias Respond = @Sendable (Request, any Channel) async -> Response

    /// The largest request body gathered before the router runs; routes refuse smaller limits themselves.
    public static let defaultMaxBodySize = 1 << 20
    /// How long a refused body is read out before the connection closes anyway.
    static let lingering = TimeAmount.seconds(2)

    private let respond: Respond
    private let maxBodySize: Int
    private let logger: Logger
    private var executor: EventLoopTaskExecutor?
    /// The request being read, and its body so far.
    private var head: HTTPRequest?
    private var body = ByteBuffer()
    /// A request whose body went over the limit: its remaining parts are dropped, the connection is closing.
    private var refused = false
    /// Requests whose answer has not ended yet. NIO's pipelining handler hands over the next request while the end of
    /// this one's answer is being written, before that write's completion is seen here, so this can briefly be 2.
    private var inFlight = 0
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
            self.head = head
            body.clear()
        case .body(var part):
            guard head != nil, !refused else { return }
            guard body.readableBytes + part.readableBytes <= maxBodySize else {
                refuseOversizeBody(context: context)
                return
            }
            if body.readableBytes == 0 { body = part } else { body.writeBuffer(&part) }
        case .end:
            if refused {
                context.close(promise: nil)  // the refused body has been read out: the client sees the 413, not a reset
                return
            }
            guard let head else { return }
            self.head = nil
            let request = Request(head: head, body: RequestBody(buffer: body))
            body = ByteBuffer()
            dispatch(request, context: context)
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            if inFlight == 0 { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIO's protocol error handler has answered a request it could not parse; anything else leaves nothing to say.
        logger.debug("HTTP connection error, closing", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Runs the router for one complete request and writes its answer.
    private func dispatch(_ request: Request, context: ChannelHandlerContext) {
        inFlight += 1
        let channel = context.channel
        let clientCloses = Self.saysClose(request.headers)
        let respond = self.respond
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let executor: (any TaskExecutor)? = self.executor
        Task(executorPreference: executor) {
            let closing = await HTTPConnection.answer(request, respond: respond, channel: channel)
            closing.whenComplete { result in
                bound.value.responded(closing: clientCloses || ((try? result.get()) ?? true), channel: channel)
            }
        }
    }

    /// Runs the router and writes its answer; the future completes once the end is out, with whether the answer said
    /// `Connection: close` (failed when the write failed).
    private static func answer(_ request: Request, respond: Respond, channel: any Channel) async -> EventLoopFuture<Bool> {
        let response = await respond(request, channel)
        let ended = channel.eventLoop.makePromise(of: Void.self)
        do {
            try await write(response, to: channel, ended: ended)
        } catch {
            ended.fail(error)
        }
        let closes = saysClose(response.headers)
        return ended.futureResult.map { closes }
    }

    /// After the answer's end was written (or failed): close when asked to, or when the client already left.
    private func responded(closing: Bool, channel: any Channel) {
        inFlight -= 1
        if closing || (inputClosed && inFlight == 0) { channel.close(promise: nil) }
    }

    /// A body over `maxBodySize`: 413 with a JSON error, and the connection closes once the rest of the body has been
    /// read and dropped, or after `lingering`, whichever comes first. Closing with unread bytes would reset the
    /// connection, and a client still sending could lose the answer.
    private func refuseOversizeBody(context: ChannelHandlerContext) {
        refused = true
        head = nil
        body = ByteBuffer()
        let message = #"{"error":"payload_too_large","message":"request body over \#(maxBodySize) bytes"}"#
        let response = HTTPResponse(
            status: .contentTooLarge,
            headerFields: [
                .connection: "close", .contentType: "application/json", .contentLength: String(message.utf8.count),
                .date: HTTPDate.now(),
            ])
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(string: message))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        let channel = context.channel
        context.eventLoop.scheduleTask(in: Self.lingering) { channel.close(promise: nil) }
    }

    /// Writes head, body and end; `ended` completes when the end is out.
    private static func write(_ response: Response, to channel: any Channel, ended: EventLoopPromise<Void>) async throws {
        var head = response.head
        if !head.headerFields.contains(.date) { head.headerFields[.date] = HTTPDate.now() }
        channel.write(HTTPResponsePart.head(head), promise: nil)
        try await response.body.write(ChannelBodyWriter(channel: channel))
        channel.writeAndFlush(HTTPResponsePart.end(nil), promise: ended)
    }

    /// `Connection: close` (any case, in a token list), from the client or in the answer.
    static func saysClose(_ fields: HTTPFields) -> Bool {
        fields[values: .connection].contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "close" }
        }
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
            channel.write(HTTPResponsePart.body(buffer), promise: nil)
            return
        }
        try await channel.writeAndFlush(HTTPResponsePart.body(buffer)).get()
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
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))

    static func now() -> String {
        let second = Int(Date().timeIntervalSince1970.rounded(.down))
        return cache.withLock { cached in
            if cached.second != second { cached = (second, format(epochSecond: second)) }
            return cached.text
        }
    }

    /// "Sun, 06 Nov 1994 08:49:37 GMT" for a Unix time.
    static func format(epochSecond: Int) -> String {
        let days = epochSecond >= 0 ? epochSecond / 86_400 : (epochSecond - 86_399) / 86_400
        let secondOfDay = epochSecond - days * 86_400
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        // Civil date from days since the epoch (H. Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shifted + 2) / 5 + 1
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let weekday = weekdays[((days % 7) + 7) % 7]
        return "\(weekday), \(two(day)) \(months[month - 1]) \(year) \(two(secondOfDay / 3_600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
    }
}
