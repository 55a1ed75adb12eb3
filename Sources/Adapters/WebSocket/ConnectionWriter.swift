import NIOCore
import NIOWebSocket
import Synchronization

/// Writes one connection's outbox to its channel, on the channel's event loop.
///
/// Messages go straight into the NIO channel as WebSocket frames, not through hummingbird-websocket's outbound writer:
/// that path costs a task wake-up, an actor hop and an async-writer hand-off per message, and the fan-out of one event
/// to many connections paid it once per recipient. Here the fan-out schedules one job per event loop for all the
/// connections it woke there (`scheduleDrains`), and each job writes and flushes its connections' queues.
///
/// The framework's writer is still used for what it owns: pings, pongs and the close handshake. Once the outbox is
/// doomed or finished, `drain` writes nothing more, so no data frame follows a close frame.
final class ConnectionWriter: Sendable {
    let outbox: Outbox
    let channel: any Channel
    let kind: WebSocketHub.Kind
    private let counters: HubCounters
    private let batchMessages: Int

    init(outbox: Outbox, channel: any Channel, kind: WebSocketHub.Kind, counters: HubCounters, batchMessages: Int) {
        self.outbox = outbox
        self.channel = channel
        self.kind = kind
        self.counters = counters
        self.batchMessages = batchMessages
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
    /// stays queued, where the outbox's limits and lag budget apply, and `WritabilityWatcher` drains again once the
    /// client has read enough. On the channel's event loop only.
    func drain() {
        channel.eventLoop.assertInEventLoop()
        var events = 0
        var bytes = 0
        var frames = 0
        while channel.isWritable, let batch = outbox.take(maximum: kind == .native ? batchMessages : 64) {
            switch kind {
            case .native:
                var size = 2
                for message in batch { size += message.byteCount + 1 }
                var buffer = channel.allocator.buffer(capacity: size)
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
                bytes += buffer.readableBytes
                frames += 1
                channel.write(WebSocketFrame(fin: true, opcode: .text, data: buffer), promise: nil)
            case .socketIO:
                for message in batch {
                    var buffer = channel.allocator.buffer(capacity: message.byteCount)
                    buffer.writeBytes(message.body)
                    buffer.writeBytes(message.tail)
                    bytes += buffer.readableBytes
                    frames += 1
                    if message.isEvent { events += 1 }
                    channel.write(WebSocketFrame(fin: true, opcode: .text, data: buffer), promise: nil)
                }
            }
        }
        guard frames > 0 else { return }
        channel.flush()
        counters.messagesDelivered.add(events, ordering: .relaxed)
        counters.framesSent.add(frames, ordering: .relaxed)
        counters.bytesSent.add(bytes, ordering: .relaxed)
    }
}

/// Drains a connection's writer when its channel becomes writable again after the client fell behind.
final class WritabilityWatcher: ChannelInboundHandler, Sendable {
    typealias InboundIn = Any
    let writer: ConnectionWriter

    init(_ writer: ConnectionWriter) { self.writer = writer }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { writer.drain() }
        context.fireChannelWritabilityChanged()
    }
}
