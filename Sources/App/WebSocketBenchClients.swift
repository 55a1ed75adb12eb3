import Configuration
import Foundation
import NIOCore
import NIOPosix

/// `patterndesk bench-ws-clients`: the clients of `scripts/bench_ws.py`, compiled. Python clients on this 2-core box
/// saturate a core at 25,000 frames a second, so their own queueing, not the server's, set the latency they measured.
///
/// Opens `--bench-ws-clients` native-protocol connections, each subscribed to one group of `--bench-ws-groups`
/// (`S00+S01,S10+S11`: client i takes group i mod count), then `--bench-ws-heavy` clients that subscribe to
/// everything and keep reading, then `--bench-ws-stalled` clients that subscribe to everything and then stop reading.
/// Prints `ready` once every client is subscribed, runs until a `stop` line on stdin, then prints one JSON object: per
/// client its group, the pattern ids it received in order, and for each the latency in microseconds from the event's
/// `indicators.pub_ts` (wall clock, set by the publisher) to the read that carried it.
///
/// The connections are plain NIO channel handlers (no task per connection) on `--bench-ws-threads` event loops
/// (default 1), parsing frames and scanning the JSON for the three fields they need, so one thread keeps up with
/// 25,000 frames a second.
struct WebSocketBenchClients {
    let host: String
    let port: Int
    let path: String
    let groups: [[String]]
    let clients: Int
    let heavy: Int
    let stalled: Int
    let threads: Int

    init(reader: ConfigReader) throws {
        host = reader.string(forKey: "bench.ws-host", default: "127.0.0.1")
        port = reader.int(forKey: "bench.ws-port", default: 0)
        guard port > 0 else { throw AppConfiguration.Invalid.value(key: "bench.ws-port", rule: "the server's port") }
        path = reader.string(forKey: "bench.ws-path", default: "/ws")
        groups = reader.stringArray(forKey: "bench.ws-groups", default: []).map { $0.split(separator: "+").map(String.init) }
        clients = reader.int(forKey: "bench.ws-clients", default: 250)
        guard clients == 0 || !groups.isEmpty else {
            throw AppConfiguration.Invalid.value(key: "bench.ws-groups", rule: "symbol groups, e.g. S00+S01,S10+S11")
        }
        heavy = reader.int(forKey: "bench.ws-heavy", default: 0)
        stalled = reader.int(forKey: "bench.ws-stalled", default: 0)
        threads = max(1, reader.int(forKey: "bench.ws-threads", default: 1))
    }

    func run() async throws {
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var handlers: [BenchWebSocketClient] = []
        for index in 0..<(clients + heavy + stalled) {
            let stall = index >= clients + heavy
            let group = index < clients ? index % groups.count : nil
            let handler = BenchWebSocketClient(
                host: host, port: port, path: path, symbols: group.map { groups[$0] }, stall: stall, group: group)
            handlers.append(handler)
            _ = try await ClientBootstrap(group: loops)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
                }
                .connect(host: host, port: port).get()
        }
        while true {
            var waiting = 0
            for handler in handlers where try await !handler.onLoop({ $0.subscribed || $0.closeCode != nil }) { waiting += 1 }
            if waiting == 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                while let line = readLine(), line != "stop" {}
                done.resume()
            }
        }
        var report = #"{"clients":["#
        for (index, handler) in handlers.enumerated() {
            if index > 0 { report += "," }
            report += try await handler.onLoop { $0.reportJSON() }
        }
        report += "]}\n"
        FileHandle.standardOutput.write(Data(report.utf8))
        try await loops.shutdownGracefully()
    }
}

/// One benchmark connection: the HTTP upgrade, then server frames parsed by hand (they are never masked), one
/// `subscribe`, and the pattern messages recorded. All state is touched on the channel's event loop only.
final class BenchWebSocketClient: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let host: String
    let port: Int
    let path: String
    let symbols: [String]?
    let stall: Bool
    let group: Int?

    private var eventLoop: (any EventLoop)?
    private var pending = ByteBuffer()
    private var message: [UInt8] = []
    private var upgraded = false
    private(set) var subscribed = false
    private(set) var closeCode: Int?
    private var errors = 0
    private var ids: [String] = []
    private var latencies: [Int] = []

    init(host: String, port: Int, path: String, symbols: [String]?, stall: Bool, group: Int?) {
        self.host = host
        self.port = port
        self.path = path
        self.symbols = symbols
        self.stall = stall
        self.group = group
    }

    /// Runs `body` on this connection's event loop.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (BenchWebSocketClient) -> T) async throws -> T {
        guard let eventLoop else { return body(self) }
        return try await eventLoop.submit { body(self) }.get()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        eventLoop = context.eventLoop
    }

    func channelActive(context: ChannelHandlerContext) {
        let request =
            "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if closeCode == nil { closeCode = 1006 }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = Date().timeIntervalSince1970
        var incoming = unwrapInboundIn(data)
        pending.writeBuffer(&incoming)
        if !upgraded {
            guard let end = pending.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) else { return }
            let head = pending.readString(length: end.upperBound - pending.readerIndex) ?? ""
            guard head.hasPrefix("HTTP/1.1 101") else {
                closeCode = 1002
                context.close(promise: nil)
                return
            }
            upgraded = true
            var subscribe = #"{"action":"subscribe","id":"s""#
            if let symbols { subscribe += #","symbols":[\#(symbols.map { "\"\($0)\"" }.joined(separator: ","))]"# }
            subscribe += "}"
            send(opcode: 0x1, Array(subscribe.utf8), context: context)
        }
        parseFrames(now: now, context: context)
        if pending.readableBytes == 0 { pending.clear() } else if pending.readerIndex > 65_536 { pending.discardReadBytes() }
    }

    private func parseFrames(now: Double, context: ChannelHandlerContext) {
        while pending.readableBytes >= 2 {
            let start = pending.readerIndex
            guard let first = pending.getInteger(at: start, as: UInt8.self),
                let second = pending.getInteger(at: start + 1, as: UInt8.self)
            else { return }
            var length = Int(second & 0x7f)
            var header = 2
            if length == 126 {
                guard let value = pending.getInteger(at: start + 2, as: UInt16.self) else { return }
                length = Int(value)
                header = 4
            } else if length == 127 {
                guard let value = pending.getInteger(at: start + 2, as: UInt64.self) else { return }
                length = Int(value)
                header = 10
            }
            guard pending.readableBytes >= header + length else { return }
            let payload = pending.getBytes(at: start + header, length: length) ?? []
            pending.moveReaderIndex(forwardBy: header + length)
            switch first & 0x0f {
            case 0x0, 0x1, 0x2:
                let final = first & 0x80 != 0
                if final && message.isEmpty {
                    scan(payload, now: now, context: context)  // the usual case: a whole message in one frame
                } else {
                    message += payload
                    if final {
                        scan(message, now: now, context: context)
                        message.removeAll(keepingCapacity: true)
                    }
                }
            case 0x8:
                closeCode = payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : 1005
            case 0x9:
                send(opcode: 0xA, payload, context: context)
            default:
                break
            }
        }
    }

    private func scan(_ bytes: [UInt8], now: Double, context: ChannelHandlerContext) {
        let found = Self.scan(bytes)
        for pattern in found.patterns {
            ids.append(pattern.id)
            if let published = pattern.published { latencies.append(Int((now - published) * 1_000_000)) }
        }
        errors += found.errors
        if found.subscribed, !subscribed {
            subscribed = true
            if stall { context.channel.setOption(.autoRead, value: false).whenComplete { _ in } }
        }
    }

    /// What one native frame (a JSON array of messages) says, found by scanning for `"T":"`, then a pattern's
    /// `"id":"` and `"pub_ts":` before the next message starts (so a pattern without `pub_ts` never takes the next one's).
    struct FrameScan: Equatable {
        var patterns: [Found] = []
        var subscribed = false
        var errors = 0

        struct Found: Equatable {
            var id: String
            var published: Double?
        }
    }

    static func scan(_ bytes: [UInt8]) -> FrameScan {
        var result = FrameScan()
        bytes.withUnsafeBufferPointer { text in
            var position = find(typeKey, in: text, from: 0)
            while let found = position {
                let typeStart = found + typeKey.count
                let next = find(typeKey, in: text, from: typeStart)
                let end = next ?? text.count
                if hasPrefix(patternType, in: text, at: typeStart), let idAt = find(idKey, in: text, from: typeStart, before: end) {
                    let idStart = idAt + idKey.count
                    var idEnd = idStart
                    while idEnd < end, text[idEnd] != UInt8(ascii: "\"") { idEnd += 1 }
                    var published: Double?
                    if let stampAt = find(stampKey, in: text, from: idEnd, before: end) {
                        var numberEnd = stampAt + stampKey.count
                        while numberEnd < end, text[numberEnd] != UInt8(ascii: ","), text[numberEnd] != UInt8(ascii: "}") { numberEnd += 1 }
                        published = Double(String(decoding: UnsafeBufferPointer(rebasing: text[(stampAt + stampKey.count)..<numberEnd]), as: UTF8.self))
                    }
                    result.patterns.append(.init(id: String(decoding: UnsafeBufferPointer(rebasing: text[idStart..<idEnd]), as: UTF8.self), published: published))
                } else if hasPrefix(subscribedType, in: text, at: typeStart) {
                    result.subscribed = true
                } else if hasPrefix(errorType, in: text, at: typeStart) {
                    result.errors += 1
                }
                position = next
            }
        }
        return result
    }

    /// A masked client frame (the mask key is zero, so the payload goes as it is).
    private func send(opcode: UInt8, _ payload: [UInt8], context: ChannelHandlerContext) {
        var frame = context.channel.allocator.buffer(capacity: payload.count + 8)
        frame.writeInteger(0x80 | opcode)
        if payload.count < 126 {
            frame.writeInteger(UInt8(0x80 | payload.count))
        } else {
            frame.writeInteger(UInt8(0x80 | 126))
            frame.writeInteger(UInt16(payload.count))
        }
        frame.writeInteger(UInt32(0))
        frame.writeBytes(payload)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    func reportJSON() -> String {
        let idList = ids.map { "\"\($0)\"" }.joined(separator: ",")
        let latencyList = latencies.map(String.init).joined(separator: ",")
        return #"{"group":\#(group.map(String.init) ?? "null"),"stall":\#(stall),"subscribed":\#(subscribed),"#
            + #""close_code":\#(closeCode.map(String.init) ?? "null"),"errors":\#(errors),"ids":[\#(idList)],"latencies_us":[\#(latencyList)]}"#
    }

    private static let typeKey = Array(#""T":""#.utf8)
    private static let idKey = Array(#""id":""#.utf8)
    private static let stampKey = Array(#""pub_ts":"#.utf8)
    private static let patternType = Array(#"pattern""#.utf8)
    private static let subscribedType = Array(#"subscribed""#.utf8)
    private static let errorType = Array(#"error""#.utf8)

    private static func hasPrefix(_ prefix: [UInt8], in text: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        guard start + prefix.count <= text.count else { return false }
        for index in prefix.indices where text[start + index] != prefix[index] { return false }
        return true
    }

    private static func find(_ needle: [UInt8], in text: UnsafeBufferPointer<UInt8>, from start: Int, before end: Int? = nil) -> Int? {
        let limit = (end ?? text.count) - needle.count
        guard start <= limit else { return nil }
        var index = start
        while index <= limit {
            if text[index] == needle[0], hasPrefix(needle, in: text, at: index) { return index }
            index += 1
        }
        return nil
    }
}
