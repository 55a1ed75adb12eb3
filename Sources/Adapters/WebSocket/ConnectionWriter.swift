import NIOCore
import NIOWebSocket
import Synchronization

/// Writes one connection's outbox to its channel, on the channel's event loop.
///
/// Messages go straight to the socket as ready-made WebSocket frames: no task wake-up, actor hop or async-writer
/// hand-off per message (what hummingbird-websocket's outbound writer cost), and no walk down the pipeline, boxed
/// frame or separate header buffer (what NIO's frame encoder costs). The fan-out of one event to many
/// connections paid that once per recipient. Here the fan-out schedules one job per event loop for all the connections
/// it woke there (`scheduleDrains`), and each job writes and flushes its connections' queues through `FrameSink`, a
/// handler next to the pipeline's head, each frame one buffer: header and payload together.
///
/// Pings, pongs and the close handshake are the `WebSocketConnection` handler's, written through NIO's frame encoder.
/// Once the outbox is doomed or finished, `drain` writes nothing more, so no data frame follows a close frame.
final class ConnectionWriter: Sendable {
    let outbox: Outbox
    let channel: any Channel
    let kind: WebSocketHub.Kind
    private let counters: HubCounters
    private let batchMessages: Int
    /// The sink's context once it is in the pipeline.
    fileprivate let sink: NIOLoopBoundBox<ChannelHandlerContext?>

    init(outbox: Outbox, channel: any Channel, kind: WebSocketHub.Kind, counters: HubCounters, batchMessages: Int) {
        self.outbox = outbox
        self.channel = channel
        self.kind = kind
        self.counters = counters
        self.batchMessages = batchMessages
        sink = .makeEmptyBox(valueType: ChannelHandlerContext.self, eventLoop: channel.eventLoop)
    }

    /// Queues a message from the connection's own handling (a reply, a ping) and schedules its writing.
    @discardableResult
    func send(_ message: OutboundMessage) -> Outbox.PushResult {
        let result = outbox.push(message)
        if result == .queued(wake: true) { Self.scheduleDrains([self]) }
        return result
    }

    /// Schedules a drain of every writer given, one job per event loop.
    static func scheduleDrains(_ writers: [ConnectionWriter]) {
        var groups: [(loop: any EventLoop, writers: [ConnectionWriter])] = []
        for writer in writers {
            let loop = writer.channel.eventLoop
            if let index = groups.firstIndex(where: { $0.loop === loop }) {
                groups[index].writers.append(writer)
            } else {
                groups.append((loop, [writer]))
            }
        }
        for group in groups {
            let writers = group.writers
            group.loop.execute {
                for writer in writers { writer.drain() }
            }
        }
    }

    /// Writes what is queued while the channel is writable, then flushes. Native messages go out as one JSON array per
    /// frame (up to `batchMessages`), Socket.IO packets one per frame. When the channel stops being writable the rest
    /// stays queued, where the outbox's limits and lag budget apply, and the sink drains again once the client has
    /// read enough. On the channel's event loop only.
    func drain() {
        guard let context = sink.value else { return }  // the sink drains when it is added
        var events = 0
        var bytes = 0
        var frames = 0
        while context.channel.isWritable, let batch = outbox.take(maximum: kind == .native ? batchMessages : 64) {
            switch kind {
            case .native:
                var size = 1 + batch.count
                for message in batch { size += message.byteCount }
                var buffer = context.channel.allocator.buffer(capacity: size + Self.maximumHeaderSize)
                Self.writeTextFrameHeader(payloadLength: size, to: &buffer)
                buffer.writeInteger(UInt8(ascii: "["))
                var first = true
                for message in batch {
                    if !first { buffer.writeInteger(UInt8(ascii: ",")) }
                    first = false
                    buffer.writeBytes(message.body)
                    buffer.writeBytes(message.tail)
                    if message.isEvent { events += 1 }
                }
                buffer.writeInteger(UInt8(ascii: "]"))
                bytes += size
                frames += 1
                context.write(NIOAny(buffer), promise: nil)
            case .socketIO:
                for message in batch {
                    var buffer = context.channel.allocator.buffer(capacity: message.byteCount + Self.maximumHeaderSize)
                    Self.writeTextFrameHeader(payloadLength: message.byteCount, to: &buffer)
                    buffer.writeBytes(message.body)
                    buffer.writeBytes(message.tail)
                    bytes += message.byteCount
                    frames += 1
                    if message.isEvent { events += 1 }
                    context.write(NIOAny(buffer), promise: nil)
                }
            }
        }
        guard frames > 0 else { return }
        context.flush()
        counters.messagesDelivered.add(events, ordering: .relaxed)
        counters.framesSent.add(frames, ordering: .relaxed)
        counters.bytesSent.add(bytes, ordering: .relaxed)
    }

    static let maximumHeaderSize = 10

    /// RFC 6455 §5.2, server to client: FIN, the text opcode, no mask, and the payload length in 7, 7+16 or 7+64 bits.
    static func writeTextFrameHeader(payloadLength: Int, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(0x81))
        switch payloadLength {
        case ..<126:
            buffer.writeInteger(UInt8(payloadLength))
        case ..<65_536:
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(payloadLength))
        default:
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(payloadLength))
        }
    }
}

/// The writer's way to the socket, next to the pipeline's head: what it writes skips the rest of the pipeline. It
/// also drains the writer when the channel becomes writable again after the client fell behind.
final class FrameSink: ChannelInboundHandler, Sendable {
    typealias InboundIn = Any
    typealias OutboundOut = ByteBuffer
    let writer: ConnectionWriter

    init(_ writer: ConnectionWriter) { self.writer = writer }

    func handlerAdded(context: ChannelHandlerContext) {
        writer.sink.value = context
        writer.drain()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        writer.sink.value = nil
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { writer.drain() }
        context.fireChannelWritabilityChanged()
    }
}
