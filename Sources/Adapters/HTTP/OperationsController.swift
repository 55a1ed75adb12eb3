import Domain
public import Hummingbird

/// What `/health/ready` reports: each dependency's state, and whether the service should take traffic.
public struct ReadinessReport: Sendable {
    public struct Check: Sendable {
        public var name: String
        public var status: String
        public var detail: String
        public init(name: String, status: String, detail: String) {
            self.name = name
            self.status = status
            self.detail = detail
        }
    }
    public var ready: Bool
    /// Not ready but still answering from the last index (a transport is down).
    public var degraded: Bool
    public var checks: [Check]
    public init(ready: Bool, degraded: Bool = false, checks: [Check]) {
        self.ready = ready
        self.degraded = degraded
        self.checks = checks
    }
}

/// `GET /health` (liveness: the process answers), `GET /health/ready` (503 until the index is loaded, or while a
/// configured dependency is down) and `GET /openapi.yaml`.
public struct OperationsController: Sendable {
    let readiness: @Sendable () async -> ReadinessReport
    let startedAt: ContinuousClock.Instant

    public init(readiness: @escaping @Sendable () async -> ReadinessReport) {
        self.readiness = readiness
        startedAt = .now
    }

    struct Ready: Encodable {
        struct Check: Encodable {
            var status: String
            var detail: String
        }
        var status: String
        var ready: Bool
        var checks: OrderedMap<Check>
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("health") { _, _ in
            var writer = JSONWriter(capacity: 64)
            writer.object { w in
                w.field("status", "ok")
                w.field("uptime_seconds", milliseconds(ContinuousClock.now - startedAt) / 1000)
            }
            return writer.response()
        }
        router.get("health/ready") { _, _ in
            let report = await readiness()
            let body = Ready(
                status: report.ready ? "ready" : report.degraded ? "degraded" : "not_ready", ready: report.ready,
                checks: OrderedMap(report.checks.map { ($0.name, Ready.Check(status: $0.status, detail: $0.detail)) }))
            return try JSONBody.response(body, status: report.ready ? .ok : .serviceUnavailable)
        }
        OpenAPIDocument.register(on: router)
    }
}

/// Registers the error middleware; call before the controllers.
public func addAPIErrorHandling<Context: RequestContext>(to router: Router<Context>) {
    router.add(middleware: APIErrorMiddleware<Context>())
}
