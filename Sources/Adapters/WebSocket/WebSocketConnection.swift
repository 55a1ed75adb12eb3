import Domain
import Logging
import NIOCore
import NIOWebSocket
import Ports
import Synchronization

/// One upgraded connection, run by its channel's event loop: no task waits for its frames, and an idle connection
/// costs its pipeline, its queue and its subscriptions, nothing more.
///
/// It sits last in the pipeline, after NIO's frame decoder (which closes a frame over `maxFrameSize` with 1009) and
/// encoder. It registers the connection with the hub when added, reassembles fragmented messages (1009 over the
/// limit, 1007 for invalid UTF-8 text, 1002 for a broken sequence), answers pings, takes part in the close handshake,
/// and hands each message to the hub's protocol handling, which answers through the connection's `ConnectionWriter`.
/// A native `subscribe` that names a saved preset needs the store, which is asynchronous: the lookup runs in a short
/// task, the messages after it wait, so replies keep their order, and the connection reads nothing more meanwhile, so
/// a client cannot pile up requests behind a slow store.
///
/// Liveness: native connections get a WebSocket ping every `pingInterval` and are closed (1001) when nothing at all
/// came back by the next one; Socket.IO connections get Engine.IO pings and are closed when no pong comes within
/// `pingTimeout`. A doomed connection (slow consumer, shutdown) is sent its close frame and cut after `closeGrace`,
/// since a client that stopped reading never answers it.
final class WebSocketConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let hub: WebSocketHub
    private let kind: WebSocketHub.Kind
    private let user: UserID?
    private let users: WebSocketUsers?
    private let logger: Logger
    private var id: UInt64 = 0
    private var writer: ConnectionWriter?
    /// A fragmented message being reassembled: its first frame's opcode and the bytes so far.
    private var fragments: (opcode: WebSocketOpcode, data: ByteBuffer)?
    /// Messages that arrived while a preset lookup was running, in order.
    private var waiting: [WebSocketMessage] = []
    private var lookingUp = false
    /// Set once our close frame is out: the next close frame from the client ends the connection.
    private var closeSent = false
    private var closed = false
    /// Whether anything came from the client since the last liveness check; the first check only pings.
    private var heard = true
    private var timer: Scheduled<Void>?
    private var socketIOSession = ""
    private var lastPongMillis: Int64 = 0

    init(hub: WebSocketHub, kind: WebSocketHub.Kind, user: UserID?, users: WebSocketUsers?, logger: Logger) {
        self.hub = hub
        self.kind = kind
        self.user = user
        self.users = users
        self.logger = logger
    }

    /// This handler and its context, for a closure that comes back to the event loop.
    private func loopBound(_ context: ChannelHandlerContext) -> NIOLoopBound<ContextBox> {
        NIOLoopBound(ContextBox(self, context), eventLoop: context.eventLoop)
    }

    // MARK: - Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        guard let opened = hub.open(kind, channel: context.channel) else {
            sendClose(context: context, code: Closing(reason: .shutdown).code, reason: Closing.Reason.shutdown.rawValue)
            context.close(promise: nil)
            return
        }
        id = opened.id
        writer = opened.writer
        do {
            try context.pipeline.syncOperations.addHandler(FrameSink(opened.writer), position: .first)
        } catch {
            logger.debug("websocket pipeline refused the frame sink", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        let loop = context.eventLoop
        let bound = loopBound(context)
        opened.writer.outbox.whenDoomed { closing in
            loop.execute { bound.value.handler.doomed(closing, context: bound.value.context) }
        }
        switch kind {
        case .native:
            opened.writer.send(
                OutboundMessage(
                    body: NativeProtocol.connected(epoch: hub.epoch, seq: opened.seq, oldestSeq: opened.oldestSeq, serverTime: hub.clock.now())))
        case .socketIO:
            socketIOSession = WebSocketHub.sessionID(opened.id)
            lastPongMillis = Int64(hub.clock.now())
            opened.writer.send(OutboundMessage(body: SocketIOProtocol.open(sessionID: socketIOSession)))
        }
        scheduleLiveness(context: context, after: kind == .native ? hub.settings.pingInterval : .milliseconds(SocketIOProtocol.pingInterval))
    }

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { end() }

    private func end() {
        guard !closed else { return }
        closed = true
        timer?.cancel()
        timer = nil
        if writer != nil { hub.close(id) }
        writer = nil
        waiting = []
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("websocket connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The HTTP server's graceful shutdown asks its connections to quiesce; ours close with 1001.
        if event is ChannelShouldQuiesceEvent {
            writer?.outbox.doom(Closing(reason: .shutdown))
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: - Frames

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        heard = true
        switch frame.opcode {
        case .text, .binary:
            guard fragments == nil else { return fail(context: context, code: .protocolError, "a new message began inside a fragmented one") }
            if frame.fin {
                deliver(frame.opcode, frame.unmaskedData, context: context)
            } else {
                fragments = (frame.opcode, frame.unmaskedData)
            }
        case .continuation:
            guard let (opcode, started) = fragments else { return fail(context: context, code: .protocolError, "a continuation frame without a message") }
            var data = started
            var part = frame.unmaskedData
            guard data.readableBytes + part.readableBytes <= hub.settings.maxFrameSize else {
                fragments = nil
                return fail(context: context, code: .messageTooLarge, "message over \(hub.settings.maxFrameSize) bytes")
            }
            fragments = nil
            data.writeBuffer(&part)
            if frame.fin {
                deliver(opcode, data, context: context)
            } else {
                fragments = (opcode, data)
            }
        case .ping:
            guard frame.fin else { return fail(context: context, code: .protocolError, "a fragmented ping") }
            guard !closeSent else { return }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .pong:
            break
        case .connectionClose:
            if !closeSent {
                // Echo the client's code (RFC 6455 §5.5.1), then end the TCP connection: the server closes first.
                var data = frame.unmaskedData
                let code = data.readInteger(as: UInt16.self)
                writer?.outbox.finish()
                sendClose(context: context, code: code, reason: nil)
            }
            context.close(promise: nil)
        default:
            fail(context: context, code: .protocolError, "unknown opcode")
        }
    }

    private func deliver(_ opcode: WebSocketOpcode, _ data: ByteBuffer, context: ChannelHandlerContext) {
        let message: WebSocketMessage
        if opcode == .text {
            guard let text = String(validating: data.readableBytesView, as: UTF8.self) else {
                return fail(context: context, code: .dataInconsistentWithMessage, "text message is not valid UTF-8")
            }
            message = .text(text)
        } else {
            message = .binary
        }
        if lookingUp {
            waiting.append(message)
        } else {
            handle(message, context: context)
        }
    }

    private func handle(_ message: WebSocketMessage, context: ChannelHandlerContext) {
        guard let writer, !closeSent else { return }
        switch kind {
        case .native:
            if case .text(let text) = message, let lookup = hub.presetLookup(text, user: user, users: users) {
                lookingUp = true
                // Read no more until it is answered: what waits is at most what one read already decoded.
                try? context.channel.syncOptions?.setOption(.autoRead, value: false)
                let loop = context.eventLoop
                let bound = loopBound(context)
                Task {
                    let saved = await lookup()
                    loop.execute { bound.value.handler.lookedUp(text, saved, context: bound.value.context) }
                }
                return
            }
            hub.handleNative(message, connection: id, writer: writer)
        case .socketIO:
            guard case .text(let text) = message else { return }
            let packet: SocketIOProtocol.Inbound
            do throws(RealtimeProtocolError) {
                packet = try SocketIOProtocol.parse(Array(text.utf8))
            } catch {
                hub.counters.badRequests.add(1, ordering: .relaxed)
                hub.emit(writer, "protocol_error") { $0.object { $0.field("message", error.message) } }
                return
            }
            if case .pong = packet { lastPongMillis = Int64(hub.clock.now()) }
            if !hub.handleSocketIO(packet, connection: id, sessionID: socketIOSession, writer: writer) {
                close(context: context, code: .normalClosure, reason: nil)
            }
        }
    }

    private func lookedUp(_ text: String, _ saved: Result<JSONValue?, RealtimeProtocolError>, context: ChannelHandlerContext) {
        lookingUp = false
        guard let writer, !closed else { return }
        hub.handleNative(.text(text), connection: id, writer: writer, savedPreset: saved)
        while !lookingUp, !waiting.isEmpty {
            handle(waiting.removeFirst(), context: context)
        }
        if !lookingUp { try? context.channel.syncOptions?.setOption(.autoRead, value: true) }
    }

    // MARK: - Closing

    /// Closes for a protocol violation with its code.
    private func fail(context: ChannelHandlerContext, code: WebSocketErrorCode, _ reason: String) {
        logger.debug("websocket protocol error", metadata: ["ws.close.code": "\(code)", "ws.close.reason": "\(reason)"])
        hub.counters.badRequests.add(1, ordering: .relaxed)
        close(context: context, code: code, reason: reason)
    }

    /// Starts the close handshake; the socket goes when the client answers or after the grace period.
    private func close(context: ChannelHandlerContext, code: WebSocketErrorCode, reason: String?) {
        writer?.outbox.finish()
        guard !closeSent else { return }
        sendClose(context: context, code: UInt16(webSocketErrorCode: code), reason: reason)
        cutAfterGrace(context: context)
    }

    private func doomed(_ closing: Closing, context: ChannelHandlerContext) {
        guard !closed, !closeSent else { return }
        logger.info("closing websocket", metadata: ["ws.close.code": "\(closing.code)", "ws.close.reason": "\(closing.reason.rawValue)"])
        sendClose(context: context, code: closing.code, reason: closing.reason.rawValue)
        cutAfterGrace(context: context)
    }

    private func sendClose(context: ChannelHandlerContext, code: UInt16?, reason: String?) {
        closeSent = true
        var data = context.channel.allocator.buffer(capacity: 2 + (reason?.utf8.count ?? 0))
        if let code {
            data.writeInteger(code)
            if let reason { data.writeBytes(reason.utf8.prefix(123)) }  // a control frame carries at most 125 bytes
        }
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
    }

    private func cutAfterGrace(context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: TimeAmount(hub.settings.closeGrace)) { channel.close(promise: nil) }
    }

    // MARK: - Liveness

    private func scheduleLiveness(context: ChannelHandlerContext, after delay: Duration) {
        let bound = loopBound(context)
        timer = context.eventLoop.scheduleTask(in: TimeAmount(delay)) { bound.value.handler.livenessDue(context: bound.value.context) }
    }

    private func livenessDue(context: ChannelHandlerContext) {
        guard !closed, !closeSent, let writer else { return }
        switch kind {
        case .native:
            // Anything the client sent since the last check, a pong included, shows it is there.
            guard heard else { return close(context: context, code: .goingAway, reason: "ping timeout") }
            heard = false
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer())), promise: nil)
            scheduleLiveness(context: context, after: hub.settings.pingInterval)
        case .socketIO:
            // Engine.IO v4: the server pings; a client that does not answer within the timeout is gone.
            let sent = Int64(hub.clock.now())
            writer.send(OutboundMessage(body: SocketIOProtocol.ping))
            let bound = loopBound(context)
            timer = context.eventLoop.scheduleTask(in: .milliseconds(Int64(SocketIOProtocol.pingTimeout))) {
                let connection = bound.value.handler
                guard !connection.closed, !connection.closeSent else { return }
                guard connection.lastPongMillis >= sent else {
                    return connection.close(context: bound.value.context, code: .goingAway, reason: "ping timeout")
                }
                connection.scheduleLiveness(
                    context: bound.value.context, after: .milliseconds(SocketIOProtocol.pingInterval - SocketIOProtocol.pingTimeout))
            }
        }
    }
}

/// A complete message as the hub's protocol handling takes it.
enum WebSocketMessage: Sendable {
    case text(String)
    case binary
}

/// The handler and its context, for closures that come back to the event loop (only ever touched there).
fileprivate struct ContextBox {
    let handler: WebSocketConnection
    let context: ChannelHandlerContext
    init(_ handler: WebSocketConnection, _ context: ChannelHandlerContext) {
        self.handler = handler
        self.context = context
    }
}
