@testable import App
import Domain
import Foundation
import Hummingbird
import HummingbirdTesting
import InMemory
import Logging
import Ports
import Testing

/// A test service: in-memory adapters, a manual clock, no demo producer unless asked.
struct TestService {
    let dependencies: Dependencies<InMemoryPatternStore, ManualWallClock>
    var clock: ManualWallClock { dependencies.clock }
    var store: InMemoryPatternStore { dependencies.store }

    init(demo: Bool = false, demoInitial: Int = 0, configure: (inout AppConfiguration) -> Void = { _ in }) async throws {
        var configuration = AppConfiguration()
        configuration.demoEnabled = demo
        configuration.demoMode = .synthetic
        configuration.demoInitial = demoInitial
        configuration.demoRate = 0
        configuration.port = 0
        configure(&configuration)
        dependencies = try await makeDependencies(configuration: configuration, clock: ManualWallClock())
    }

    /// Ingests producer messages synchronously through the real normaliser and store.
    func ingest(_ bodies: [String], channel: String = "tickstock.events.patterns") {
        dependencies.ingestion(logger: Logger(label: "test")).apply(
            bodies.map { IncomingEvent(body: Array($0.utf8), channel: channel, receivedAt: clock.now()) })
    }

    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = buildApplication(dependencies: dependencies, logger: Logger(label: "test"))
        try await app.test(.router, body)
    }

    /// Runs the real server on 127.0.0.1 and a free port, for WebSocket clients.
    func live(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = buildApplication(dependencies: dependencies, logger: Logger(label: "test"))
        try await app.test(.live, body)
    }
}

/// A flat event at the test clock's time.
func event(
    _ symbol: String, _ pattern: String, confidence: Double, tier: String = "daily", ageSeconds: Int = 60, ttlSeconds: Int = 3600,
    extra: String = "", now: EpochMillis
) -> String {
    let detected = Double(now) / 1000 - Double(ageSeconds)
    return
        #"{"event_type":"pattern_detected","symbol":"\#(symbol)","pattern":"\#(pattern)","confidence":\#(confidence),"tier":"\#(tier)","timestamp":\#(detected),"expires_at":\#(detected + Double(ttlSeconds)),"current_price":150.25,"price_change":2.3,"indicators":{"relative_strength":1.4,"relative_volume":2.1,"rsi":65.5}\#(extra)}"#
}

extension TestClientProtocol {
    /// GETs `uri`, checks the status and returns the body as a JSON dictionary.
    func getJSON(_ uri: String, status: HTTPResponse.Status = .ok, sourceLocation: SourceLocation = #_sourceLocation) async throws
        -> [String: Any]
    {
        try await execute(uri: uri, method: .get) { response in
            #expect(response.status == status, "\(uri)", sourceLocation: sourceLocation)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
            let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
            return try #require(object as? [String: Any], sourceLocation: sourceLocation)
        }
    }
}
