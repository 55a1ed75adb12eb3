@testable import App
import Hummingbird
import HummingbirdTesting
import Domain
import InMemory
import Logging
import NIOPosix
import Testing
import WebSocket

/// The server built by `patternDeskServer` runs handlers on NIO event loop threads (no hop to the cooperative pool),
/// and so does everything a handler awaits and every child task it starts.
@Suite(.timeLimit(.minutes(1))) struct EventLoopAffinity {
    /// Whether the calling thread is a NIO event loop's.
    static func onEventLoop() -> Bool { MultiThreadedEventLoopGroup.currentEventLoop != nil }

    @Test func `a handler, its continuations after a suspension and its child tasks run on an event loop thread`() async throws {
        let router = Router(context: BasicRequestContext.self)
        router.get("where") { _, _ -> String in
            let first = Self.onEventLoop()
            try await Task.sleep(for: .milliseconds(2))
            let resumed = Self.onEventLoop()
            let child = await withTaskGroup(of: Bool.self) { group in
                group.addTask { Self.onEventLoop() }
                return await group.next() ?? false
            }
            return "\(first) \(resumed) \(child)"
        }
        let hub = WebSocketHub(catalog: Catalog(symbols: [], sectors: [], universes: []), clock: SystemWallClock(), epoch: "test")
        let server = patternDeskServer(router.buildResponder(), endpoints: WebSocketEndpoints(hub: hub), logger: Logger(label: "test"))
        let app = Application(router: router, server: server)
        try await app.test(.live) { client in
            for _ in 0..<3 {  // several connections and requests
                try await client.execute(uri: "/where", method: .get) { response in
                    #expect(String(buffer: response.body) == "true true true")
                }
            }
        }
    }
}
