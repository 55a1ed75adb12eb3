import CHiredis
import Foundation

/// A reply from Redis.
public enum RedisReply: Sendable, Equatable {
    case bulk([UInt8])
    case status(String)
    case integer(Int)
    case array([RedisReply])
    case null
    case error(String)

    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        case .integer(let value): String(value)
        case .error(let message): message
        default: nil
        }
    }

    public var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var integer: Int? {
        switch self {
        case .integer(let value): value
        case .bulk, .status: string.flatMap { Int($0) }
        default: nil
        }
    }

    /// The reply, or a thrown `RedisError.server` when Redis answered with an error.
    /// The message of an error reply.
    var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }

    public func checked() throws(RedisError) -> RedisReply {
        if case .error(let message) = self { throw .server(message) }
        return self
    }
}

/// Why a Redis call failed. `.connection` means the connection is gone and is opened again on the next call.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    case connection(String)
    case server(String)
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .connection(let message): "Redis connection: \(message)"
        case .server(let message): "Redis error: \(message)"
        case .protocolViolation(let message): "unexpected Redis reply: \(message)"
        }
    }

    public var isConnectionError: Bool {
        if case .connection = self { return true }
        return false
    }
}

/// One blocking hiredis connection. Not thread-safe: `RedisClient` confines each one to its own thread.
public final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>

    /// Connects, logs in and selects the database. `ioTimeout` bounds every blocking read and write, so a dead peer
    /// is noticed; it must exceed any `BLOCK` time used on this connection.
    init(endpoint: RedisEndpoint, connectTimeout: Duration, ioTimeout: Duration) throws(RedisError) {
        guard let context = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), Self.timeval(connectTimeout)) else {
            throw .connection("cannot allocate a hiredis context")
        }
        if context.pointee.err != 0 {
            let message = Self.errorString(context)
            redisFree(context)
            throw .connection("\(endpoint): \(message)")
        }
        redisSetTimeout(context, Self.timeval(ioTimeout))
        redisEnableKeepAlive(context)
        self.context = context
        if let password = endpoint.password {
            _ = try command(endpoint.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]).checked()
        }
        if endpoint.database != 0 { _ = try command(["SELECT", String(endpoint.database)]).checked() }
    }

    deinit { redisFree(context) }

    /// Sends one command and waits for its reply.
    public func command(_ arguments: [String]) throws(RedisError) -> RedisReply {
        try command(bytes: arguments.map { Array($0.utf8) })
    }

    public func command(bytes arguments: [[UInt8]]) throws(RedisError) -> RedisReply {
        try append(arguments)
        return try reply()
    }

    /// Sends one command and hands its raw hiredis reply to `parse` (hot paths that skip `RedisReply`). An error
    /// reply throws `.server`.
    func command<Result>(bytes arguments: [[UInt8]], parse: (UnsafeMutablePointer<redisReply>) -> Result) throws(RedisError) -> Result {
        try append(arguments)
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw .connection(Self.errorString(context)) }
        defer { freeReplyObject(raw) }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        if Int32(reply.pointee.type) == REDIS_REPLY_ERROR { throw .server(Self.convert(reply).string ?? "error") }
        return parse(reply)
    }

    /// Sends all commands in one write and reads their replies in order.
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        for arguments in commands { try append(arguments) }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try reply()) }
        return replies
    }

    /// Sends `count` commands already encoded as RESP (`RESPCommands`) in one buffer, reads every reply and throws the
    /// first error reply, if any, after all of them were read (so the connection stays in step). For bulk writers: no
    /// per-command argument arrays, one append, no reply values built.
    public func pipeline(encoded commands: RESPCommands) throws(RedisError) {
        try send(encoded: commands)
        try receive(count: commands.count)
    }

    /// The first half of ``pipeline(encoded:)``: writes the commands to the socket and returns without reading a reply.
    /// A streaming writer sends the next batch before collecting this one's replies with ``receive(count:)``, so the
    /// server works on one batch while the client prepares the next.
    public func send(encoded commands: RESPCommands) throws(RedisError) {
        guard commands.count > 0 else { return }
        let status = commands.bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(context, $0.baseAddress, $0.count) }
        }
        guard status == REDIS_OK else { throw .connection(Self.errorString(context)) }
        try flush()
    }

    /// Reads `count` replies to commands sent earlier and throws the first error reply, if any, after all of them were
    /// read (so the connection stays in step).
    public func receive(count: Int) throws(RedisError) {
        var firstError: String?
        for _ in 0..<count {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw .connection(Self.errorString(context)) }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            if reply.pointee.type == REDIS_REPLY_ERROR, firstError == nil { firstError = Self.convert(reply).errorMessage }
            freeReplyObject(raw)
        }
        if let firstError { throw .server(firstError) }
    }

    /// Queues a command without sending it (subscriptions: no reply is awaited here).
    public func append(_ arguments: [[UInt8]]) throws(RedisError) {
        let total = arguments.reduce(0) { $0 + $1.count }
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1), alignment: 1)
        defer { storage.deallocate() }
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(arguments.count)
        var lengths: [Int] = []
        lengths.reserveCapacity(arguments.count)
        var offset = 0
        for argument in arguments {
            argument.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { (storage + offset).copyMemory(from: base, byteCount: bytes.count) }
            }
            pointers.append(UnsafePointer((storage + offset).assumingMemoryBound(to: CChar.self)))
            lengths.append(argument.count)
            offset += argument.count
        }
        let status = pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { argvlen in
                redisAppendCommandArgv(context, Int32(arguments.count), argv.baseAddress, argvlen.baseAddress)
            }
        }
        guard status == REDIS_OK else { throw .connection(Self.errorString(context)) }
    }

    /// Sends queued commands without waiting for replies (subscriptions, whose confirmations arrive as pushed replies).
    public func flush() throws(RedisError) {
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(context, &done) == REDIS_OK else { throw .connection(Self.errorString(context)) }
        }
    }

    /// Flushes queued commands and blocks for the next reply.
    public func reply() throws(RedisError) -> RedisReply {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw .connection(Self.errorString(context)) }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Replies that arrive unasked (pub/sub messages): waits up to `waitMillis` for the first, then takes what is
    /// already readable, at most `limit`. Returns an empty array when nothing came.
    public func pushedReplies(limit: Int, waitMillis: Int32) throws(RedisError) -> [RedisReply] {
        var replies: [RedisReply] = []
        try drainReader(into: &replies, limit: limit)
        if replies.isEmpty {
            guard try waitReadable(millis: waitMillis) else { return [] }
            guard redisBufferRead(context) == REDIS_OK else { throw .connection(Self.errorString(context)) }
            try drainReader(into: &replies, limit: limit)
        }
        while replies.count < limit, try waitReadable(millis: 0) {
            guard redisBufferRead(context) == REDIS_OK else { throw .connection(Self.errorString(context)) }
            try drainReader(into: &replies, limit: limit)
        }
        return replies
    }

    private func drainReader(into replies: inout [RedisReply], limit: Int) throws(RedisError) {
        while replies.count < limit {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReplyFromReader(context, &raw) == REDIS_OK else { throw .connection(Self.errorString(context)) }
            guard let raw else { return }
            replies.append(Self.convert(raw.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
    }

    private func waitReadable(millis: Int32) throws(RedisError) -> Bool {
        var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
        let result = poll(&descriptor, 1, millis)
        if result < 0 {
            if errno == EINTR { return false }
            throw .connection("poll: \(String(cString: strerror(errno)))")
        }
        return result > 0
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch Int32(value.type) {
        case REDIS_REPLY_STRING:
            return .bulk(value.len == 0 ? [] : Array(UnsafeRawBufferPointer(start: value.str, count: value.len)))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: UnsafeRawBufferPointer(start: value.str, count: value.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: UnsafeRawBufferPointer(start: value.str, count: value.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(value.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                if let element = value.element[index] { elements.append(convert(element)) } else { elements.append(.null) }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        let message = withUnsafeBytes(of: context.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return message.isEmpty ? "connection lost" : message
    }

    private static func timeval(_ duration: Duration) -> Glibc.timeval {
        let (seconds, attoseconds) = duration.components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
