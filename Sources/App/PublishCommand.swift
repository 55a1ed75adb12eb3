import Configuration
import Foundation
import Redis

/// `patterndesk publish`: plays the producer. Reads JSON lines from `--publish-file` (or stdin) and sends each line
/// to a pub/sub channel (`--publish-channel`) or adds it to a stream (`--publish-stream`, field `data`), pipelined.
/// `--publish-rate` limits the lines per second (0 = as fast as Redis takes them).
struct PublishCommand {
    let endpoint: RedisEndpoint
    let channel: String?
    let stream: String?
    let file: String?
    let rate: Double
    let chunk = 500

    init(reader: ConfigReader) throws {
        guard let url = reader.string(forKey: "redis.url") ?? reader.string(forKey: "redis") else {
            throw AppConfiguration.Invalid.value(key: "redis.url", rule: "set (--redis-url redis://host:port)")
        }
        endpoint = try RedisEndpoint(url: url)
        channel = reader.string(forKey: "publish.channel")
        stream = reader.string(forKey: "publish.stream")
        guard (channel == nil) != (stream == nil) else {
            throw AppConfiguration.Invalid.value(key: "publish.channel", rule: "given, or else publish.stream (exactly one)")
        }
        file = reader.string(forKey: "publish.file")
        rate = reader.double(forKey: "publish.rate", default: 0)
    }

    func run() async throws {
        let client = RedisClient(endpoint: endpoint, name: "redis-publish")
        var fileLines: IndexingIterator<[ArraySlice<UInt8>]>?
        if let file {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw AppConfiguration.Invalid.value(key: "publish.file", rule: "a readable file (\(file))")
            }
            fileLines = Array(contents).split(separator: UInt8(ascii: "\n")).makeIterator()
        }
        func nextLine() -> [UInt8]? {
            if fileLines != nil { return fileLines?.next().map(Array.init) }
            return readLine(strippingNewline: true).map { Array($0.utf8) }
        }
        let started = ContinuousClock.now
        var sent = 0
        var pending: [[[UInt8]]] = []
        let target = Array((channel ?? stream ?? "").utf8)
        let perChunk = rate > 0 ? max(1, min(chunk, Int(rate / 20))) : chunk
        func flush() async throws {
            guard !pending.isEmpty else { return }
            let commands = pending
            let replies = try await client.withConnection { connection throws(RedisError) in try connection.pipeline(commands) }
            for reply in replies { _ = try reply.checked() }
            sent += commands.count
            pending.removeAll(keepingCapacity: true)
            if rate > 0 {
                let due = started + .milliseconds(Int64(Double(sent) / rate * 1000))
                if due > .now { try await Task.sleep(until: due) }
            }
        }
        while let body = nextLine() {
            guard !body.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) else { continue }
            pending.append(
                channel != nil
                    ? [Array("PUBLISH".utf8), target, body] : [Array("XADD".utf8), target, Array("*".utf8), Array("data".utf8), body])
            if pending.count >= perChunk { try await flush() }
        }
        try await flush()
        let seconds = IndexBenchmark.seconds(ContinuousClock.now - started)
        FileHandle.standardError.write(
            Data("published \(sent) events to \(channel.map { "channel \($0)" } ?? "stream \(stream ?? "")") at \(endpoint) in \(String(format: "%.2f", seconds)) s\n".utf8))
    }
}
