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
        let writer = try await RedisEventWriter(
            endpoint: endpoint, target: channel.map { .channel($0) } ?? .stream(stream ?? ""), name: "redis-publish", rate: rate, chunk: chunk)
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
        while let body = nextLine() {
            guard !body.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) else { continue }
            try await writer.send(body)
        }
        try await writer.finish()
        let seconds = IndexBenchmark.seconds(ContinuousClock.now - started)
        FileHandle.standardError.write(
            Data("published \(writer.sent) events to \(writer.target.description) at \(endpoint) in \(String(format: "%.2f", seconds)) s\n".utf8))
    }
}
