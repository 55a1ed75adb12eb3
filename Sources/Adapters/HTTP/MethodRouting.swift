public import Hummingbird

/// Wraps a router so that HTTP methods get the answers RFC 9110 asks for, which the router alone does not give (it
/// answers 404 to any method it has no handler for):
/// - `HEAD` on a `GET` route runs the `GET` handler and sends its status and headers without the body;
/// - `OPTIONS` on a known path answers 204 with `Allow`;
/// - any other method on a known path answers 405 with `Allow` and the API's error body.
/// Every request goes to the router first; only its 404s are looked at again, so unknown paths keep the router's 404.
/// Every request is recorded in `metrics` with the status it finally gets here (a 405, 204 or `HEAD` answer, not the
/// router's 404).
public struct MethodRouting<Context: RequestContext>: HTTPResponderBuilder {
    let router: Router<Context>
    let metrics: HTTPRequestMetrics

    public init(_ router: Router<Context>, metrics: HTTPRequestMetrics) {
        self.router = router
        self.metrics = metrics
    }

    public func buildResponder() -> Responder {
        Responder(
            base: router.buildResponder(), table: RouteTable(router.routes.map { ($0.path.description, $0.method) }), metrics: metrics)
    }

    public struct Responder: HTTPResponder {
        let base: RouterResponder<Context>
        let table: RouteTable
        let metrics: HTTPRequestMetrics

        public func respond(to request: Request, context: Context) async throws -> Response {
            let started = ContinuousClock.now
            do {
                let response = try await answer(request, context: context)
                metrics.record(method: request.method.rawValue, status: response.status.code, since: started)
                return response
            } catch {
                metrics.record(method: request.method.rawValue, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: started)
                throw error
            }
        }

        func answer(_ request: Request, context: Context) async throws -> Response {
            // Served requests never look at the table: only a 404 can mean "no handler for this method". A 404 from a
            // handler (a missing row) is for a method the path serves, and is kept.
            let response = try await base.respond(to: request, context: context)
            guard response.status == .notFound else { return response }
            let methods = table.methods(for: request.uri.path)
            if methods.isEmpty || methods.contains(request.method) { return response }
            if request.method == .head, methods.contains(.get) {
                var head = request.head
                head.method = .get
                let get = try await base.respond(to: Request(head: head, body: request.body), context: context)
                var headers = get.headers
                if let length = get.body.contentLength { headers[.contentLength] = String(length) }
                return Response(status: get.status, headers: headers, body: ResponseBody())
            }
            let allow = RouteTable.allowHeader(methods)
            if request.method == .options {
                return Response(status: .noContent, headers: [.allow: allow])
            }
            var refusal = try APIError(
                status: .methodNotAllowed, code: "method_not_allowed",
                message: "\(request.method.rawValue) is not allowed on \(request.uri.path); allowed: \(allow)"
            ).response(from: request, context: context)
            refusal.headers[.allow] = allow
            return refusal
        }
    }
}

/// The router's paths (`/api/users/watchlists/{id}`) with their methods, matched segment by segment.
struct RouteTable: Sendable {
    struct Route: Sendable {
        /// nil for a capture (`{id}`).
        var segments: [Substring?]
        var method: HTTPRequest.Method
    }
    let routes: [Route]

    init(_ routes: [(path: String, method: HTTPRequest.Method)]) {
        self.routes = routes.map { route in
            Route(
                segments: route.path.split(separator: "/").map { $0.hasPrefix("{") && $0.hasSuffix("}") ? nil : $0 },
                method: route.method)
        }
    }

    /// The methods of every route whose path matches; empty when none does.
    func methods(for path: String) -> Set<HTTPRequest.Method> {
        let parts = path.split(separator: "/")
        var result = Set<HTTPRequest.Method>()
        for route in routes where route.segments.count == parts.count {
            if zip(route.segments, parts).allSatisfy({ pattern, part in pattern.map { $0 == part } ?? true }) {
                result.insert(route.method)
            }
        }
        return result
    }

    /// `GET, HEAD, POST, …`: the served methods, plus `HEAD` where `GET` is served, plus `OPTIONS`.
    static func allowHeader(_ methods: Set<HTTPRequest.Method>) -> String {
        var all = methods
        if all.contains(.get) { all.insert(.head) }
        all.insert(.options)
        let order: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]
        return all.sorted { (order.firstIndex(of: $0) ?? order.count, $0.rawValue) < (order.firstIndex(of: $1) ?? order.count, $1.rawValue) }
            .map(\.rawValue).joined(separator: ", ")
    }
}
