import ServiceLifecycle
import WebSocket

/// Waits for graceful shutdown, then closes every WebSocket connection with 1001 before the HTTP server stops.
struct WebSocketDrain: Service {
    let hub: WebSocketHub

    func run() async throws {
        try? await gracefulShutdown()
        await hub.shutdown(timeout: .seconds(3))
    }
}
