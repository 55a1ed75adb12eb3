@testable import App
import Foundation
import HTTP
import Hummingbird
import HummingbirdTesting
import Testing

/// `/openapi.yaml` is hand-written (style.md #20), so nothing generates it from the routes: these tests are what keeps
/// the two in step. The black-box suite (`tests/blackbox/test_openapi.py`) validates the document and fuzzes the real
/// binary against its schemas.
@Suite(.timeLimit(.minutes(2))) struct TheOpenAPIDocument {
    @Test func `is served as YAML`() async throws {
        let service = try await TestService()
        try await service.test { client in
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/yaml; charset=utf-8")
                let text = String(buffer: response.body)
                #expect(text.hasPrefix("openapi: 3.1.0\n"))
                #expect(Array(text.utf8) == OpenAPIDocument.bytes)
            }
        }
    }

    @Test func `describes exactly the routes the router serves`() async throws {
        let service = try await TestService()
        let router = buildRouter(service.dependencies)
        let served = Set(router.routes.map { "\($0.method.rawValue) \($0.path)" })
        let documented = Self.operations(in: String(decoding: try #require(OpenAPIDocument.bytes), as: UTF8.self))
        #expect(documented.count > 20)
        #expect(served.subtracting(documented).sorted() == [], "served but not documented")
        #expect(documented.subtracting(served).sorted() == [], "documented but not served")
    }

    @Test func `methods the router lacks get 405 with Allow, HEAD runs GET without a body, OPTIONS lists the methods`() async throws {
        let service = try await TestService()
        try await service.test { client in
            try await client.execute(uri: "/api/patterns/scan", method: .post) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD, OPTIONS")
                #expect(String(buffer: response.body).contains(#""error":"method_not_allowed""#))
            }
            try await client.execute(uri: "/api/users/watchlists/7", method: .post) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD, PUT, DELETE, OPTIONS")
            }
            let get = try await client.execute(uri: "/api/symbols?limit=3", method: .get) { $0 }
            try await client.execute(uri: "/api/symbols?limit=3", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[.contentLength] == String(get.body.readableBytes))
                #expect(response.headers[.contentType] == get.headers[.contentType])
            }
            try await client.execute(uri: "/api/users/filter-presets", method: .options) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.allow] == "GET, HEAD, POST, OPTIONS")
            }
            // Unknown paths keep the router's 404, whatever the method.
            try await client.execute(uri: "/api/nothing", method: .post) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    /// `METHOD /path` for every operation under `paths:` (two-space path keys, four-space method keys).
    static func operations(in yaml: String) -> Set<String> {
        var result = Set<String>()
        var inPaths = false
        var path: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty { inPaths = line == "paths:" }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     ") {
                let key = line.dropFirst(4).prefix { $0 != ":" }
                if ["get", "put", "post", "delete", "patch", "head", "options"].contains(key) {
                    result.insert("\(key.uppercased()) \(path)")
                }
            }
        }
        return result
    }
}
