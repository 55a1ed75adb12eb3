@testable import App
import Domain
import Foundation
import HTTP
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InMemory
import Ports
import Testing

/// `/api/users/*`, `/api/symbols`, `/api/dashboard/stats` and personalised scans, through the real router, with real
/// HS256 tokens and the in-memory store (the PostgreSQL store passes the same contract suite in AdaptersTests).
@Suite(.timeLimit(.minutes(2))) struct TheUserDataEndpoints {
    static let secret = "test-secret-0123456789abcdef-0123456789"

    /// A service with token authentication only (the development header off) and tokens for alice and bob.
    static func service(devHeader: Bool = false) async throws -> (TestService, alice: String, bob: String) {
        let service = try await TestService {
            $0.authSecret = secret
            $0.devUserHeader = devHeader
        }
        return (
            service, try await UserAuthenticator.issue(secret: secret, user: UserID("alice"), lifetime: .seconds(3600)),
            try await UserAuthenticator.issue(secret: secret, user: UserID("bob"), lifetime: .seconds(3600))
        )
    }

    @Test func `watchlists: create, list, get, rename, add and remove a symbol, delete`() async throws {
        let (service, alice, _) = try await Self.service()
        try await service.test { client in
            let created = try await client.call(.post, "/api/users/watchlists", token: alice, body: #"{"name":"Tech","symbols":["aapl"," msft ","AAPL"]}"#, status: .created)
            #expect(created["message"] as? String == #"Watchlist "Tech" created successfully"#)
            let list = try #require(created["watchlist"] as? [String: Any])
            let id = try #require(list["id"] as? Int)
            #expect(list["symbols"] as? [String] == ["AAPL", "MSFT"])
            #expect(list["user_id"] as? String == "alice" && list["name"] as? String == "Tech" && list["symbol_count"] as? Int == 2)
            #expect(list["created_at"] as? String == Timestamp.iso8601(service.clock.now()))
            let all = try await client.call(.get, "/api/users/watchlists", token: alice)
            #expect(all["count"] as? Int == 1 && (all["watchlists"] as? [[String: Any]])?.first?["id"] as? Int == id)
            let one = try await client.call(.get, "/api/users/watchlists/\(id)", token: alice)
            #expect((one["watchlist"] as? [String: Any])?["name"] as? String == "Tech")
            let renamed = try await client.call(.put, "/api/users/watchlists/\(id)", token: alice, body: #"{"name":"Tech Giants"}"#)
            #expect(renamed["message"] as? String == #"Watchlist "Tech Giants" updated successfully"#)
            #expect((renamed["watchlist"] as? [String: Any])?["symbols"] as? [String] == ["AAPL", "MSFT"])
            let added = try await client.call(.post, "/api/users/watchlists/\(id)/symbols", token: alice, body: #"{"symbol":"nvda"}"#)
            #expect(added["message"] as? String == #"Symbol NVDA added to watchlist "Tech Giants""#)
            #expect((added["watchlist"] as? [String: Any])?["symbols"] as? [String] == ["AAPL", "MSFT", "NVDA"])
            let removed = try await client.call(.delete, "/api/users/watchlists/\(id)/symbols/msft", token: alice)
            #expect((removed["watchlist"] as? [String: Any])?["symbols"] as? [String] == ["AAPL", "NVDA"])
            let deleted = try await client.call(.delete, "/api/users/watchlists/\(id)", token: alice)
            #expect(deleted["message"] as? String == "Watchlist \(id) deleted successfully")
            try await client.call(.get, "/api/users/watchlists/\(id)", token: alice, status: .notFound)
            try await client.call(.delete, "/api/users/watchlists/\(id)", token: alice, status: .notFound)
            try await client.call(.get, "/api/users/watchlists/abc", token: alice, status: .notFound)
        }
    }

    @Test(arguments: [
        ("", "Request body is required"),
        ("[1]", "Request body must be a JSON object"),
        (#"{"symbols":[]}"#, "Watchlist name is required"),
        (#"{"name":"   "}"#, "Watchlist name is required"),
        (#"{"name":7}"#, "Watchlist name must be a string"),
        (#"{"name":"\#(String(repeating: "é", count: 101))"}"#, "Watchlist name must be 1 to 100 characters; got 101"),
        (#"{"name":"x","symbols":"AAPL"}"#, "Symbols must be a list"),
        (#"{"name":"x","symbols":[1]}"#, "Symbols must be a list of strings"),
        (#"{"name":"x","symbols":["ZZZZ","aapl","qqqq",""]}"#, "Unknown symbols: ZZZZ, QQQQ, ''"),
        (#"{"name":"x","filters":[1]}"#, "Filters must be an object"),
        (#"{"name":"a\u0000b"}"#, "Watchlist name must not contain NUL characters"),
    ])
    func `watchlist validation answers 400 with the compatible message`(body: String, message: String) async throws {
        let (service, alice, _) = try await Self.service()
        try await service.test { client in
            let answer = try await client.call(.post, "/api/users/watchlists", token: alice, body: body, status: .badRequest)
            #expect(answer["message"] as? String == message)
            #expect(answer["error"] as? String == "invalid_request")
        }
    }

    @Test func `limits, duplicates and malformed JSON have their own answers`() async throws {
        let (service, alice, _) = try await Self.service()
        let known = service.dependencies.catalog.symbols.map(\.symbol)
        try await service.test { client in
            let many = known.prefix(501).map { "\"\($0)\"" }.joined(separator: ",")
            let tooMany = try await client.call(.post, "/api/users/watchlists", token: alice, body: #"{"name":"All","symbols":[\#(many)]}"#, status: .badRequest)
            #expect(tooMany["message"] as? String == "A watchlist holds at most 500 symbols; got 501")
            let full = known.prefix(500).map { "\"\($0)\"" }.joined(separator: ",")
            let created = try await client.call(.post, "/api/users/watchlists", token: alice, body: #"{"name":"All","symbols":[\#(full)]}"#, status: .created)
            let id = try #require((created["watchlist"] as? [String: Any])?["id"] as? Int)
            let over = try await client.call(.post, "/api/users/watchlists/\(id)/symbols", token: alice, body: #"{"symbol":"\#(known[500])"}"#, status: .badRequest)
            #expect(over["message"] as? String == "A watchlist holds at most 500 symbols")
            let unknown = try await client.call(.post, "/api/users/watchlists/\(id)/symbols", token: alice, body: #"{"symbol":"NOPE"}"#, status: .badRequest)
            #expect(unknown["message"] as? String == "Unknown symbols: NOPE")
            let missing = try await client.call(.post, "/api/users/watchlists/\(id)/symbols", token: alice, body: #"{}"#, status: .badRequest)
            #expect(missing["message"] as? String == "Symbol is required")
            let duplicate = try await client.call(.post, "/api/users/watchlists", token: alice, body: #"{"name":"All"}"#, status: .conflict)
            #expect(duplicate["message"] as? String == #"A watchlist named "All" already exists"# && duplicate["error"] as? String == "duplicate_name")
            let json = try await client.call(.post, "/api/users/watchlists", token: alice, body: #"{"name":"#, status: .badRequest)
            #expect(json["error"] as? String == "invalid_json")
        }
    }

    @Test func `user B gets 404 on user A's rows for every verb, and sees none of them`() async throws {
        let (service, alice, bob) = try await Self.service()
        try await service.test { client in
            let list = try await client.call(.post, "/api/users/watchlists", token: alice, body: #"{"name":"Mine","symbols":["AAPL"]}"#, status: .created)
            let id = try #require((list["watchlist"] as? [String: Any])?["id"] as? Int)
            let preset = try await client.call(.post, "/api/users/filter-presets", token: alice, body: #"{"name":"P","filters":{}}"#, status: .created)
            let presetID = try #require((preset["preset"] as? [String: Any])?["id"] as? Int)
            try await client.call(.get, "/api/users/watchlists/\(id)", token: bob, status: .notFound)
            try await client.call(.put, "/api/users/watchlists/\(id)", token: bob, body: #"{"name":"Stolen"}"#, status: .notFound)
            try await client.call(.delete, "/api/users/watchlists/\(id)", token: bob, status: .notFound)
            try await client.call(.post, "/api/users/watchlists/\(id)/symbols", token: bob, body: #"{"symbol":"MSFT"}"#, status: .notFound)
            try await client.call(.delete, "/api/users/watchlists/\(id)/symbols/AAPL", token: bob, status: .notFound)
            try await client.call(.get, "/api/users/filter-presets/\(presetID)", token: bob, status: .notFound)
            try await client.call(.put, "/api/users/filter-presets/\(presetID)", token: bob, body: #"{"name":"x"}"#, status: .notFound)
            try await client.call(.delete, "/api/users/filter-presets/\(presetID)", token: bob, status: .notFound)
            try await client.call(.get, "/api/users/universe/\(id)", token: bob, status: .notFound)
            #expect(try await client.call(.get, "/api/users/watchlists", token: bob)["count"] as? Int == 0)
            #expect(try await client.call(.get, "/api/users/filter-presets", token: bob)["count"] as? Int == 0)
            // Alice's rows are untouched.
            let mine = try await client.call(.get, "/api/users/watchlists/\(id)", token: alice)
            #expect((mine["watchlist"] as? [String: Any])?["name"] as? String == "Mine")
            #expect((mine["watchlist"] as? [String: Any])?["symbols"] as? [String] == ["AAPL"])
            try await client.call(.get, "/api/users/filter-presets/\(presetID)", token: alice)
        }
    }

    @Test(arguments: [
        (#"{"filters":{}}"#, "Preset name is required"),
        (#"{"name":"p"}"#, "Filters must be an object"),
        (#"{"name":"p","filters":"rs_min=1"}"#, "Filters must be an object"),
        (#"{"name":"p","filters":{"confidence_min":7}}"#, "Filters: confidence_min must be a number between 0 and 1; got '7'"),
        (#"{"name":"p","filters":{"pattern_types":["__"]}}"#, "Filters: pattern_types: '__' is not a pattern name"),
        (#"{"name":"p","filters":{"universe":"999"}}"#, "Filters: universe: unknown universe '999'; known: sp500, "),
        (#"{"name":"p","filters":{"rs_min":{"a":1}}}"#, "Filters: filters.rs_min must be a string, a number or a list of strings"),
        (#"{"name":"p","filters":{},"is_default":"yes"}"#, "is_default must be true or false"),
    ])
    func `a preset that could never run is not saved`(body: String, message: String) async throws {
        let (service, alice, _) = try await Self.service()
        try await service.test { client in
            let answer = try await client.call(.post, "/api/users/filter-presets", token: alice, body: body, status: .badRequest)
            #expect((answer["message"] as? String)?.hasPrefix(message) == true, "\(answer["message"] ?? "")")
        }
        try await service.test { client in
            let answer = try await client.call(.post, "/api/users/filter-presets", token: alice, body: #"{"name":"p","filters":{"page":2}}"#, status: .badRequest)
            #expect((answer["message"] as? String)?.hasPrefix("Filters: 'page' is not a scan parameter a preset can hold") == true)
        }
    }

    @Test func `one default preset per user, and scans apply a preset and a watchlist`() async throws {
        let (service, alice, bob) = try await Self.service()
        let now = service.clock.now()
        service.ingest([
            event("AAPL", "Doji", confidence: 0.9, now: now), event("MSFT", "Doji", confidence: 0.7, now: now),
            event("NVDA", "Hammer", confidence: 0.95, now: now), event("XOM", "Doji", confidence: 0.85, now: now),
        ])
        try await service.test { client in
            let strong = try await client.call(
                .post, "/api/users/filter-presets", token: alice, body: #"{"name":"Strong Doji","filters":{"pattern_types":["Doji"],"confidence_min":0.8},"is_default":true}"#,
                status: .created)
            let strongID = try #require((strong["preset"] as? [String: Any])?["id"] as? Int)
            #expect(strong["message"] as? String == #"Filter preset "Strong Doji" created successfully"#)
            let other = try await client.call(.post, "/api/users/filter-presets", token: alice, body: #"{"name":"All","filters":{},"is_default":true}"#, status: .created)
            let otherID = try #require((other["preset"] as? [String: Any])?["id"] as? Int)
            var presets = try #require(try await client.call(.get, "/api/users/filter-presets", token: alice)["presets"] as? [[String: Any]])
            #expect(presets.map { $0["is_default"] as? Bool } == [false, true])
            try await client.call(.put, "/api/users/filter-presets/\(strongID)", token: alice, body: #"{"is_default":true}"#)
            presets = try #require(try await client.call(.get, "/api/users/filter-presets", token: alice)["presets"] as? [[String: Any]])
            #expect(presets.map { $0["is_default"] as? Bool } == [true, false])
            #expect(presets.map { $0["id"] as? Int } == [strongID, otherID])

            let scan = try await client.call(.get, "/api/patterns/scan?preset=\(strongID)", token: alice)
            #expect(Set((scan["patterns"] as? [[String: Any]] ?? []).compactMap { $0["symbol"] as? String }) == ["AAPL", "XOM"])
            // The request's own parameters override the preset's, name by name.
            let wider = try await client.call(.get, "/api/patterns/scan?preset=\(strongID)&confidence_min=0.6", token: alice)
            #expect(Set((wider["patterns"] as? [[String: Any]] ?? []).compactMap { $0["symbol"] as? String }) == ["AAPL", "MSFT", "XOM"])
            let list = try await client.call(.post, "/api/users/watchlists", token: alice, body: #"{"name":"Two","symbols":["XOM","NVDA"]}"#, status: .created)
            let listID = try #require((list["watchlist"] as? [String: Any])?["id"] as? Int)
            // A preset may name the caller's own watchlist as its universe (and only theirs).
            let listPreset = try await client.call(
                .post, "/api/users/filter-presets", token: alice, body: #"{"name":"In list","filters":{"universe":"\#(listID)"}}"#, status: .created)
            let listPresetID = try #require((listPreset["preset"] as? [String: Any])?["id"] as? Int)
            try await client.call(.post, "/api/users/filter-presets", token: bob, body: #"{"name":"In list","filters":{"universe":\#(listID)}}"#, status: .badRequest)
            let viaPreset = try await client.call(.get, "/api/patterns/scan?preset=\(listPresetID)", token: alice)
            #expect(Set((viaPreset["patterns"] as? [[String: Any]] ?? []).compactMap { $0["symbol"] as? String }) == ["XOM", "NVDA"])
            let inList = try await client.call(.get, "/api/patterns/scan?universe=\(listID)", token: alice)
            #expect(Set((inList["patterns"] as? [[String: Any]] ?? []).compactMap { $0["symbol"] as? String }) == ["XOM", "NVDA"])
            let both = try await client.call(.get, "/api/patterns/scan?universe=\(listID)&preset=\(strongID)", token: alice)
            #expect((both["patterns"] as? [[String: Any]] ?? []).compactMap { $0["symbol"] as? String } == ["XOM"])
            // Another user's preset or watchlist is unknown to them; without credentials it is a 401.
            let foreign = try await client.call(.get, "/api/patterns/scan?preset=\(strongID)", token: bob, status: .badRequest)
            #expect(foreign["parameter"] as? String == "preset")
            let foreignList = try await client.call(.get, "/api/patterns/scan?universe=\(listID)", token: bob, status: .badRequest)
            #expect(foreignList["parameter"] as? String == "universe")
            try await client.call(.get, "/api/patterns/scan?preset=\(strongID)", token: nil, status: .unauthorized)
            try await client.call(.get, "/api/patterns/scan?preset=abc", token: alice, status: .badRequest)
            // A universe listing shows the catalogue's universes and the caller's watchlists.
            let universes = try await client.call(.get, "/api/users/universe", token: alice)
            let keys = (universes["universes"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
            #expect(keys.contains("sp500") && keys.contains(String(listID)))
            let members = try await client.call(.get, "/api/users/universe/\(listID)", token: alice)
            #expect(members["tickers"] as? [String] == ["XOM", "NVDA"] && members["count"] as? Int == 2)
            let sp500 = try await client.call(.get, "/api/users/universe/sp500", token: alice)
            #expect(sp500["count"] as? Int == 503)
            try await client.call(.get, "/api/users/universe/nasdaq9000", token: alice, status: .notFound)
            let deleted = try await client.call(.delete, "/api/users/filter-presets/\(otherID)", token: alice)
            #expect(deleted["message"] as? String == "Filter preset \(otherID) deleted successfully")
        }
    }

    @Test func `hostile and unicode names come back verbatim`() async throws {
        let (service, alice, _) = try await Self.service()
        try await service.test { client in
            for name in [#"Robert'); DROP TABLE user_watchlists;--"#, "Überwachung 📈 日本株", #"quote \" backslash \\ tab \t"#, "1 OR 1=1"] {
                let encoded = String(decoding: try JSONEncoder().encode(["name": name]), as: UTF8.self)
                let created = try await client.call(.post, "/api/users/watchlists", token: alice, body: encoded, status: .created)
                let id = try #require((created["watchlist"] as? [String: Any])?["id"] as? Int)
                let read = try await client.call(.get, "/api/users/watchlists/\(id)", token: alice)
                #expect((read["watchlist"] as? [String: Any])?["name"] as? String == name)
                let preset = try await client.call(
                    .post, "/api/users/filter-presets", token: alice,
                    body: String(decoding: try JSONEncoder().encode(["name": name]), as: UTF8.self).dropLast() + #","filters":{}}"#, status: .created)
                #expect((preset["preset"] as? [String: Any])?["name"] as? String == name)
            }
        }
    }

    @Test func `bad, expired and foreign tokens get 401 with a JSON error; X-User-ID only in development`() async throws {
        let (service, alice, _) = try await Self.service()
        let expired = try await UserAuthenticator.issue(
            secret: Self.secret, user: UserID("alice"), lifetime: .seconds(60), now: Date().addingTimeInterval(-3600))
        let foreign = try await UserAuthenticator.issue(secret: String(repeating: "x", count: 40), user: UserID("alice"), lifetime: .seconds(3600))
        let tampered = alice.dropLast(2) + (alice.hasSuffix("AA") ? "BB" : "AA")
        // The token carries sub, iat and an exp exactly its lifetime later.
        let payload = try #require(Data(base64Encoded: Self.base64(String(alice.split(separator: ".")[1]))))
        let claims = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
        #expect(claims["sub"] as? String == "alice")
        let lifetime = try #require(claims["exp"] as? Double) - (try #require(claims["iat"] as? Double))
        #expect(abs(lifetime - 3600) < 0.01, "exp - iat = \(lifetime)")
        try await service.test { client in
            for (token, message) in [
                (expired, "Token expired"), (foreign, "Invalid token"), (String(tampered), "Invalid token"), ("not.a.jwt", "Invalid token"),
            ] {
                let answer = try await client.call(.get, "/api/users/watchlists", token: token, status: .unauthorized)
                #expect(answer["message"] as? String == message && answer["error"] as? String == "unauthorized")
            }
            let none = try await client.call(.get, "/api/users/watchlists", token: nil, status: .unauthorized)
            #expect(none["message"] as? String == "Authentication required: send Authorization: Bearer <token>")
            try await client.execute(uri: "/api/users/watchlists", method: .get, headers: [.authorization: "Basic YWxpY2U6eA=="]) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/api/users/watchlists", method: .get, headers: [HTTPField.Name("X-User-ID")!: "alice"]) { response in
                #expect(response.status == .unauthorized)
            }
        }
        let (development, _, _) = try await Self.service(devHeader: true)
        try await development.test { client in
            try await client.execute(uri: "/api/users/watchlists", method: .get, headers: [HTTPField.Name("X-User-ID")!: "alice"]) { response in
                #expect(response.status == .ok)
            }
        }
    }

    /// base64url (as in a JWT) to padded base64.
    static func base64(_ url: String) -> String {
        let plain = url.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        return plain + String(repeating: "=", count: (4 - plain.count % 4) % 4)
    }

    @Test func `symbols, symbol details and dashboard stats`() async throws {
        let (service, _, _) = try await Self.service()
        service.ingest([event("AAPL", "Doji", confidence: 0.9, now: service.clock.now())])
        try await service.test { client in
            let apple = try await client.getJSON("/api/symbols?search=apple")
            #expect((apple["symbols"] as? [[String: Any]])?.first?["symbol"] as? String == "AAPL")
            #expect((apple["filters"] as? [String: Any])?["limit"] as? Int == 1000)
            let etfs = try await client.getJSON("/api/symbols?market=etf&limit=5000")
            #expect(etfs["count"] as? Int == 15)
            let limited = try await client.getJSON("/api/symbols?limit=3")
            #expect(limited["count"] as? Int == 3)
            let bad = try await client.getJSON("/api/symbols?limit=5001", status: .badRequest)
            #expect(bad["parameter"] as? String == "limit")
            let details = try await client.getJSON("/api/symbols/brk.b")
            #expect(details["name"] as? String == "Berkshire Hathaway" && details["sector_etf"] as? String == "XLF")
            let missing = try await client.getJSON("/api/symbols/NOPE", status: .notFound)
            #expect(missing["error"] as? String == "Symbol NOPE not found")
            let stats = try await client.getJSON("/api/dashboard/stats")
            #expect(stats["symbols_count"] as? Int == 518 && stats["active_symbols_count"] as? Int == 518)
            #expect((stats["symbols_by_market"] as? [String: Any])?["etf"] as? Int == 15)
            #expect(stats["events_count"] as? Int == 1 && stats["latest_event_time"] is String)
            #expect(stats["database_status"] as? String == "in_memory")
        }
    }
}

extension TestClientProtocol {
    /// Sends a request with an optional bearer token and JSON body, checks the status and returns the JSON object.
    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String?, body: String? = nil, status: HTTPResponse.Status = .ok,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [String: Any] {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            #expect(response.status == status, "\(method) \(uri): \(String(buffer: response.body))", sourceLocation: sourceLocation)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
            return try #require(
                try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any], sourceLocation: sourceLocation)
        }
    }
}
