@testable import App
import Testing

/// The frame scanner of `patterndesk bench-ws-clients`: the benchmark's latency and loss figures are only as good as it.
@Suite struct TheBenchmarkClientsFrameScanner {
    typealias Found = BenchWebSocketClient.FrameScan.Found

    static func scan(_ text: String) -> BenchWebSocketClient.FrameScan { BenchWebSocketClient.scan(Array(text.utf8)) }

    @Test func `a pattern without pub_ts never takes the next message's`() {
        let frame = #"""
            [{"T":"pattern","seq":7,"epoch":"e","data":{"id":"MSFT:Doji:daily:1","symbol":"MSFT","indicators":{}},"subscription":"s"},\#
            {"T":"pattern","seq":8,"epoch":"e","data":{"id":"AAPL:Doji:daily:2","rsi":50.0,"indicators":{"pub_ts":1795338204.7963579,"x":1}},"subscription":"s"}]
            """#
        #expect(Self.scan(frame).patterns == [Found(id: "MSFT:Doji:daily:1", published: nil), Found(id: "AAPL:Doji:daily:2", published: 1795338204.7963579)])
    }

    @Test func `pub_ts last in its object, subscriptions and errors are read; other messages are skipped`() {
        let frame = #"""
            [{"T":"connected","seq":0,"epoch":"e"},{"T":"subscribed","seq":0,"id":"s"},\#
            {"T":"error","seq":0,"code":"bad_request","message":"no \"T\" here"},\#
            {"T":"expired","seq":3,"data":{"id":"X:Doji:daily:1"}},\#
            {"T":"pattern","seq":4,"data":{"id":"NVDA:Hammer:intraday:5","indicators":{"pub_ts":12.5}}}]
            """#
        let found = Self.scan(frame)
        #expect(found.subscribed && found.errors == 1)
        #expect(found.patterns == [Found(id: "NVDA:Hammer:intraday:5", published: 12.5)])
    }

    @Test func `a frame with no messages finds nothing`() {
        #expect(Self.scan("[]") == .init())
        #expect(Self.scan("") == .init())
    }
}
