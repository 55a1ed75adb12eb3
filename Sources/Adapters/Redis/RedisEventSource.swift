public import Domain
public import Logging
public import Ports
import Synchronization

/// How `RedisEventSource` reads the producer's transports.
public struct RedisEventSourceConfiguration: Sendable {
    /// The producer's pub/sub channels (producer-events.md), including the ones that carry no patterns but are counted.
    public static let defaultChannels = [
        "tickstock.events.patterns", "tickstock.events.patterns.daily", "tickstock.events.patterns.intraday",
        "tickstock.events.patterns.combo", "tickstock:patterns:streaming", "tickstock:patterns:detected",
        "tickstock.health.status", "tickstock.events.backtesting.progress", "tickstock.events.backtesting.results",
    ]

    /// Pub/sub channels; empty for none.
    public var channels = Self.defaultChannels
    /// The at-least-once stream; nil for none.
    public var stream: String? = "tickstock:stream:patterns"
    public var group = "patterndesk"
    /// Stable per instance, so a restarted instance finds its own unacknowledged entries.
    public var consumer = "patterndesk"
    /// Where rejected and too-often-delivered entries go, with the reason; nil means `<stream>:dead`.
    public var deadLetterStream: String?
    /// Entries the dead-letter stream keeps (approximately).
    public var deadLetterMaxLength = 100_000
    /// Entries per XREADGROUP, and pub/sub messages per handler call.
    public var batchSize = 1000
    /// How long one XREADGROUP waits for new entries.
    public var blockMillis = 1000
    /// Pending entries idle this long, of any consumer, are claimed (XAUTOCLAIM) at start and every `claimInterval`.
    public var claimMinIdleMillis = 30_000
    public var claimInterval: Duration = .seconds(30)
    /// An entry delivered more than this many times is dead-lettered instead of applied.
    public var maxDeliveries = 5
    /// Where a newly created consumer group starts: `0` takes every entry already in the stream, `$` only new ones.
    public var groupStartID = "0"
    /// Wait between reconnection attempts.
    public var backoff = Backoff()

    public init() {}

    var resolvedDeadLetterStream: String? { stream.map { deadLetterStream ?? "\($0):dead" } }
}

/// The producer's Redis transports as a `PatternEventSource`: pub/sub channels (at most once) and a stream read by a
/// consumer group (at least once: entries are acknowledged only after the handler returned). Each subscriber and the
/// stream consumer have their own connection on their own thread; lost connections are reopened with capped
/// exponential backoff and jitter, and the subscription or consumer resumes where it was.
public final class RedisEventSource: PatternEventSource {
    public let name = "redis"
    public let configuration: RedisEventSourceConfiguration
    public let endpoint: RedisEndpoint
    private let clock: any WallClock
    private let logger: Logger
    private let subscriber: RedisClient
    private let consumer: RedisClient
    /// Acknowledgements, dead letters and lag queries, beside the consumer's blocking reads.
    private let acker: RedisClient
    private let gate = AsyncGate()
    private let state = Mutex(State())

    private struct State {
        var pubSubConnected = false
        var streamConnected = false
        var problem: String? = "not connected yet"
        var received: [String: Int] = [:]
        var redelivered = 0
        var deadLettered = 0
        var claimed = 0
        var acknowledged = 0
        var connectionFailures = 0
        var lag: Int?
        var pending: Int?
    }

    private enum Part: String {
        case pubSub = "pub/sub"
        case stream
    }

    /// Wraps an error of the handler, which `run` rethrows instead of reconnecting.
    private struct HandlerFailure: Error {
        let underlying: any Error
    }

    public init(endpoint: RedisEndpoint, configuration: RedisEventSourceConfiguration, clock: any WallClock, logger: Logger) {
        self.endpoint = endpoint
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        subscriber = RedisClient(endpoint: endpoint, name: "redis-subscriber", ioTimeout: .seconds(30))
        consumer = RedisClient(
            endpoint: endpoint, name: "redis-stream", ioTimeout: .milliseconds(Int64(configuration.blockMillis) + 10_000))
        acker = RedisClient(endpoint: endpoint, name: "redis-stream-ack")
    }

    public func status() -> EventSourceStatus {
        state.withLock { state in
            let wantsPubSub = !configuration.channels.isEmpty
            let wantsStream = configuration.stream != nil
            let connected = (!wantsPubSub || state.pubSubConnected) && (!wantsStream || state.streamConnected)
            var counters = state.received.sorted { $0.key < $1.key }.map { (name: "received.\($0.key)", value: $0.value) }
            counters += [
                ("redelivered", state.redelivered), ("dead_lettered", state.deadLettered), ("claimed", state.claimed),
                ("acknowledged", state.acknowledged), ("connection_failures", state.connectionFailures),
            ]
            return EventSourceStatus(
                connected: connected, problem: connected ? nil : state.problem, counters: counters,
                streamLag: wantsStream ? state.lag : nil, streamPending: wantsStream ? state.pending : nil)
        }
    }

    public func run(_ handler: @escaping EventBatchHandler) async throws {
        logger.info(
            "redis event source starting",
            metadata: [
                "redis.endpoint": "\(endpoint.host):\(endpoint.port)", "redis.db": "\(endpoint.database)",
                "redis.channels": "\(configuration.channels.joined(separator: ","))",
                "redis.stream": "\(configuration.stream ?? "-")", "redis.group": "\(configuration.group)",
                "redis.consumer": "\(configuration.consumer)",
            ])
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                if !configuration.channels.isEmpty { group.addTask { try await self.runPubSub(handler) } }
                if configuration.stream != nil { group.addTask { try await self.runStream(handler) } }
                // The first part to fail (a handler error) stops the other; the group only awaits it, never cancels it.
                do {
                    while try await group.next() != nil {}
                } catch {
                    group.cancelAll()
                    throw error
                }
            }
        } catch let failure as HandlerFailure {
            throw failure.underlying
        }
    }

    // MARK: Pub/sub

    /// Runs on the subscriber's thread: a message read there is applied there, with no thread hop.
    private func runPubSub(_ handler: @escaping EventBatchHandler) async throws {
        try await withTaskExecutorPreference(subscriber.executor) { try await receivePubSub(handler) }
    }

    private func receivePubSub(_ handler: @escaping EventBatchHandler) async throws {
        var attempt = 0
        let channels = configuration.channels
        while !Task.isCancelled {
            do {
                try await subscriber.withConnection { connection throws(RedisError) in
                    try connection.append((["SUBSCRIBE"] + channels).map { Array($0.utf8) })
                    try connection.flush()
                }
                var confirmed = 0
                while !Task.isCancelled {
                    let replies = try await subscriber.withConnection { connection throws(RedisError) in
                        try connection.pushedReplies(limit: self.configuration.batchSize, waitMillis: 250)
                    }
                    var events: [IncomingEvent] = []
                    let now = clock.now()
                    for reply in replies {
                        guard let parts = reply.array, let kind = parts.first?.string else { continue }
                        switch kind {
                        case "message" where parts.count == 3:
                            guard let channel = parts[1].string, case .bulk(let body) = parts[2] else { continue }
                            events.append(IncomingEvent(body: body, channel: channel, receivedAt: now))
                        case "subscribe":
                            confirmed += 1
                            if confirmed == channels.count {
                                attempt = 0
                                markConnected(.pubSub)
                                logger.info("subscribed", metadata: ["redis.channels": "\(channels.joined(separator: ","))"])
                            }
                        default:
                            continue
                        }
                    }
                    if !events.isEmpty {
                        count(events)
                        _ = try await deliver(events, to: handler)
                    }
                }
            } catch let error as RedisError {
                attempt += 1
                await lost(.pubSub, client: subscriber, error: error, attempt: attempt)
            }
        }
    }

    // MARK: Stream

    /// The loop runs on the acker's thread (`withTaskExecutorPreference`): a batch read on the consumer's thread resumes
    /// it there directly, and its acknowledgements are jobs on the same thread, so neither costs a thread hop.
    private func runStream(_ handler: @escaping EventBatchHandler) async throws {
        guard let stream = configuration.stream else { return }
        try await withTaskExecutorPreference(acker.executor) { try await consumeStream(stream, handler) }
    }

    private func consumeStream(_ stream: String, _ handler: @escaping EventBatchHandler) async throws {
        var attempt = 0
        var lastClaim: ContinuousClock.Instant?
        var lastLag: ContinuousClock.Instant?
        // The next batch, read on the consumer connection while the current one is applied (acknowledgements and lag
        // queries use the acker connection, so they never wait behind a blocking read). Entries of a read-ahead that
        // is abandoned stay pending in this consumer's name and are re-read from `0` by the next run.
        var readAhead: Pending<[StreamEntry]>?
        while !Task.isCancelled {
            do {
                try await createGroup(stream)
                markConnected(.stream)
                while !Task.isCancelled {
                    if lastClaim.map({ ContinuousClock.now - $0 >= configuration.claimInterval }) ?? true {
                        if let early = readAhead {
                            readAhead = nil
                            let entries = try await early.value
                            if !entries.isEmpty { try await process(entries, from: stream, redeliveries: false, handler) }
                        }
                        try await claimStaleEntries(stream, handler)
                        try await drainOwnPending(stream, handler)
                        lastClaim = .now
                    }
                    let entries: [StreamEntry]
                    if let next = readAhead {
                        readAhead = nil
                        entries = try await next.value
                    } else {
                        entries = try await readNew(stream)
                    }
                    attempt = 0
                    if !entries.isEmpty {
                        readAhead = startReadNew(stream)
                        try await process(entries, from: stream, redeliveries: false, handler)
                    }
                    if lastLag.map({ ContinuousClock.now - $0 >= .milliseconds(250) }) ?? true {
                        try await refreshLag(stream)
                        lastLag = .now
                    }
                }
            } catch let error as RedisError {
                readAhead = nil  // its entries, if any, stay pending and are re-read from `0`
                attempt += 1
                await lost(.stream, client: consumer, error: error, attempt: attempt)
                await acker.disconnect()
                // Redis may have restarted; take over pending entries and re-read our own before new ones.
                lastClaim = nil
            }
        }
    }

    private func createGroup(_ stream: String) async throws(RedisError) {
        let reply = try await consumer.withConnection { [configuration] connection throws(RedisError) in
            try connection.command(["XGROUP", "CREATE", stream, configuration.group, configuration.groupStartID, "MKSTREAM"])
        }
        if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") { throw .server(message) }
    }

    /// New entries for this consumer, waiting up to `blockMillis`.
    private func readNew(_ stream: String) async throws(RedisError) -> [StreamEntry] {
        try await readGroup(stream, after: ">", block: true)
    }

    /// `readNew`, started now and awaited later.
    private func startReadNew(_ stream: String) -> Pending<[StreamEntry]> {
        let command = readGroupCommand(stream, after: ">", block: true)
        return consumer.start { connection throws(RedisError) in
            try connection.command(bytes: command, parse: StreamEntry.entries(xreadgroup:))
        }
    }

    /// XREADGROUP from `id` (`>` for new entries, an id for this consumer's pending ones).
    private func readGroup(_ stream: String, after id: String, block: Bool) async throws(RedisError) -> [StreamEntry] {
        let command = readGroupCommand(stream, after: id, block: block)
        return try await consumer.withConnection { connection throws(RedisError) in
            try connection.command(bytes: command, parse: StreamEntry.entries(xreadgroup:))
        }
    }

    private func readGroupCommand(_ stream: String, after id: String, block: Bool) -> [[UInt8]] {
        (["XREADGROUP", "GROUP", configuration.group, configuration.consumer, "COUNT", String(configuration.batchSize)]
            + (block ? ["BLOCK", String(configuration.blockMillis)] : []) + ["STREAMS", stream, id]).map { Array($0.utf8) }
    }

    /// Entries this consumer received before and never acknowledged (a crash, a failed handler).
    private func drainOwnPending(_ stream: String, _ handler: @escaping EventBatchHandler) async throws {
        var start = "0"
        while !Task.isCancelled {
            let entries = try await readGroup(stream, after: start, block: false)
            guard let last = entries.last else { return }
            try await process(entries, from: stream, redeliveries: true, handler)
            start = last.id
        }
    }

    /// Takes over entries other consumers left pending for longer than `claimMinIdleMillis`.
    private func claimStaleEntries(_ stream: String, _ handler: @escaping EventBatchHandler) async throws {
        var cursor = "0-0"
        repeat {
            let command = [
                "XAUTOCLAIM", stream, configuration.group, configuration.consumer, String(configuration.claimMinIdleMillis), cursor,
                "COUNT", String(configuration.batchSize),
            ].map { Array($0.utf8) }
            let claimed = try await consumer.withConnection { connection throws(RedisError) in
                try connection.command(bytes: command, parse: StreamEntry.entries(xautoclaim:))
            }
            guard let (next, entries) = claimed else { throw RedisError.protocolViolation("XAUTOCLAIM reply") }
            cursor = next
            if !entries.isEmpty {
                state.withLock { $0.claimed += entries.count }
                logger.info("claimed stale stream entries", metadata: ["redis.entries": "\(entries.count)"])
                try await process(entries, from: stream, redeliveries: true, handler)
            }
        } while cursor != "0-0" && !Task.isCancelled
    }

    /// Hands the entries to the handler, dead-letters rejected and too-often-delivered ones, and acknowledges all of
    /// them in one round trip after the handler returned.
    private func process(
        _ entries: [StreamEntry], from stream: String, redeliveries: Bool, _ handler: @escaping EventBatchHandler
    ) async throws {
        let deliveries = redeliveries ? try await deliveryCounts(stream, entries) : [:]
        var dead: [(entry: StreamEntry, reason: String)] = []
        var live: [StreamEntry] = []
        live.reserveCapacity(entries.count)
        var redelivered = 0
        for entry in entries {
            guard entry.fields != nil else { continue }  // deleted while pending: only acknowledge
            let count = deliveries[entry.id] ?? 1
            if count > 1 { redelivered += 1 }
            if count > configuration.maxDeliveries {
                dead.append((entry, "max_deliveries_exceeded"))
            } else {
                live.append(entry)
            }
        }
        if redelivered > 0 { state.withLock { $0.redelivered += redelivered } }
        let now = clock.now()
        let events = live.map { IncomingEvent(body: $0.eventBody, channel: stream, receivedAt: now) }
        if !events.isEmpty {
            count(events)
            let outcomes = try await deliver(events, to: handler)
            for (entry, outcome) in zip(live, outcomes) {
                if case .rejected(let reason) = outcome { dead.append((entry, reason)) }
            }
        }
        var commands: [[[UInt8]]] = []
        if let deadStream = configuration.resolvedDeadLetterStream {
            for (entry, reason) in dead {
                var command: [[UInt8]] = ["XADD", deadStream, "MAXLEN", "~", String(configuration.deadLetterMaxLength), "*"].map { Array($0.utf8) }
                let meta = [
                    ("dead_reason", reason), ("dead_source_id", entry.id), ("dead_stream", stream),
                    ("dead_deliveries", String(deliveries[entry.id] ?? 1)), ("dead_consumer", configuration.consumer),
                ]
                for (field, value) in meta { command += [Array(field.utf8), Array(value.utf8)] }
                for field in entry.fields ?? [] { command += [Array(field.name.utf8), field.value] }
                commands.append(command)
            }
        }
        commands.append((["XACK", stream, configuration.group] + entries.map(\.id)).map { Array($0.utf8) })
        let replies = try await acker.withConnection { [commands] connection throws(RedisError) in try connection.pipeline(commands) }
        for reply in replies { _ = try reply.checked() }
        state.withLock { state in
            state.deadLettered += dead.count
            state.acknowledged += replies.last?.integer ?? 0
        }
        if !dead.isEmpty {
            logger.warning(
                "stream entries dead-lettered",
                metadata: ["redis.entries": "\(dead.count)", "redis.reasons": "\(Set(dead.map(\.reason)).sorted().joined(separator: ","))"])
        }
    }

    /// How many times each pending entry was delivered (this delivery included).
    private func deliveryCounts(_ stream: String, _ entries: [StreamEntry]) async throws(RedisError) -> [String: Int] {
        guard let first = entries.first?.id, let last = entries.last?.id else { return [:] }
        let reply = try await consumer.withConnection { [configuration] connection throws(RedisError) in
            try connection.command([
                "XPENDING", stream, configuration.group, first, last, String(entries.count), configuration.consumer,
            ]).checked()
        }
        var counts: [String: Int] = [:]
        for row in reply.array ?? [] {
            guard let fields = row.array, fields.count == 4, let id = fields[0].string, let count = fields[3].integer else { continue }
            counts[id] = count
        }
        return counts
    }

    private func refreshLag(_ stream: String) async throws(RedisError) {
        let reply = try await acker.withConnection { connection throws(RedisError) in
            try connection.command(["XINFO", "GROUPS", stream]).checked()
        }
        for group in reply.array ?? [] {
            guard let flat = group.array else { continue }
            var values: [String: RedisReply] = [:]
            var index = 0
            while index + 1 < flat.count {
                if let key = flat[index].string { values[key] = flat[index + 1] }
                index += 2
            }
            guard values["name"]?.string == configuration.group else { continue }
            state.withLock { state in
                state.lag = values["lag"]?.integer
                state.pending = values["pending"]?.integer
            }
        }
    }


    // MARK: Shared

    private func deliver(_ events: [IncomingEvent], to handler: @escaping EventBatchHandler) async throws -> [EventOutcome] {
        do {
            return try await gate.withPermit { try await handler(events) }
        } catch {
            throw HandlerFailure(underlying: error)
        }
    }

    private func count(_ events: [IncomingEvent]) {
        state.withLock { state in
            for event in events { state.received[event.channel, default: 0] += 1 }
        }
    }

    private func markConnected(_ part: Part) {
        let wasDown = state.withLock { state -> Bool in
            let was = part == .pubSub ? state.pubSubConnected : state.streamConnected
            if part == .pubSub { state.pubSubConnected = true } else { state.streamConnected = true }
            return !was
        }
        if wasDown { logger.info("redis connected", metadata: ["redis.part": "\(part.rawValue)", "redis.endpoint": "\(endpoint)"]) }
    }

    private func lost(_ part: Part, client: RedisClient, error: RedisError, attempt: Int) async {
        state.withLock { state in
            if part == .pubSub { state.pubSubConnected = false } else { state.streamConnected = false }
            state.problem = "\(part.rawValue): \(error)"
            state.connectionFailures += 1
        }
        await client.disconnect()
        let delay = configuration.backoff.delay(attempt: attempt - 1)
        logger.warning(
            "redis unavailable; retrying",
            metadata: ["redis.part": "\(part.rawValue)", "error": "\(error)", "retry.in": "\(delay)"])
        try? await Task.sleep(for: delay)
    }
}
