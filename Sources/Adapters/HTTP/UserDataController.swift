public import Domain
public import Hummingbird
import Logging
public import Ports

/// `/api/users/*`: universes, watchlists and filter presets. Every route needs an authenticated user, and every
/// repository call is scoped to that user, so another user's id answers 404 exactly like a missing one. Validation
/// errors (`UserDataValidationError`) become 400s in `APIErrorMiddleware`.
public struct UserDataController<Repository: UserDataRepository, Clock: WallClock>: Sendable {
    let repository: Repository
    let authenticator: UserAuthenticator
    let catalog: Catalog
    let clock: Clock

    public init(repository: Repository, authenticator: UserAuthenticator, catalog: Catalog, clock: Clock) {
        self.repository = repository
        self.authenticator = authenticator
        self.catalog = catalog
        self.clock = clock
    }

    /// Request bodies larger than this are refused with 413 (500 symbols fit in about 4 KB).
    static var maxBody: Int { 64 * 1024 }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        let users = router.group("api/users")
        users.get("universe") { request, _ in try await universes(request) }
        users.get("universe/{key}") { request, context in try await universe(request, key: context.parameters.get("key") ?? "") }

        users.get("watchlists") { request, _ in try await listWatchlists(request) }
        users.post("watchlists") { request, _ in try await createWatchlist(request) }
        users.get("watchlists/{id}") { request, context in try await getWatchlist(request, id: context.parameters.get("id")) }
        users.put("watchlists/{id}") { request, context in try await updateWatchlist(request, id: context.parameters.get("id")) }
        users.delete("watchlists/{id}") { request, context in try await deleteWatchlist(request, id: context.parameters.get("id")) }
        users.post("watchlists/{id}/symbols") { request, context in try await addSymbol(request, id: context.parameters.get("id")) }
        users.delete("watchlists/{id}/symbols/{symbol}") { request, context in
            try await removeSymbol(request, id: context.parameters.get("id"), symbol: context.parameters.get("symbol") ?? "")
        }

        users.get("filter-presets") { request, _ in try await listPresets(request) }
        users.post("filter-presets") { request, _ in try await createPreset(request) }
        users.get("filter-presets/{id}") { request, context in try await getPreset(request, id: context.parameters.get("id")) }
        users.put("filter-presets/{id}") { request, context in try await updatePreset(request, id: context.parameters.get("id")) }
        users.delete("filter-presets/{id}") { request, context in try await deletePreset(request, id: context.parameters.get("id")) }
    }

    // MARK: Universes

    func universes(_ request: Request) async throws -> Response {
        let user = try await authenticator.user(for: request)
        let lists = try await call(kind: "watchlist") { try await repository.watchlists(of: user) }
        var writer = JSONWriter(capacity: 4096)
        writer.object { w in
            w.key("universes")
            w.array { w in
                for universe in catalog.universes {
                    w.object { w in
                        w.field("key", universe.key)
                        w.field("description", universe.description)
                        w.field("criteria", universe.criteria)
                        w.field("count", universe.symbols.count)
                        w.field("category", universe.category)
                    }
                }
                for list in lists {
                    w.object { w in
                        w.field("key", String(list.id))
                        w.field("description", list.name)
                        w.field("criteria", "Your watchlist")
                        w.field("count", list.symbols.count)
                        w.field("category", "watchlist")
                    }
                }
            }
            w.field("total_universes", catalog.universes.count + lists.count)
        }
        return writer.response()
    }

    func universe(_ request: Request, key: String) async throws -> Response {
        let user = try await authenticator.user(for: request)
        var found: (tickers: [String], description: String, category: String, criteria: String)?
        if let universe = catalog.universe(key) {
            found = (universe.symbols, universe.description, universe.category, universe.criteria)
        } else if let id = Int64(key), let list = try await call(kind: "watchlist", { try await repository.watchlist(id, of: user) }) {
            found = (list.symbols, list.name, "watchlist", "Your watchlist")
        }
        guard let found else { throw APIError.notFound("Universe \(key) not found") }
        var writer = JSONWriter(capacity: 1024 + 8 * found.tickers.count)
        writer.object { w in
            w.field("universe_key", key)
            w.field("tickers", found.tickers)
            w.field("count", found.tickers.count)
            w.key("metadata")
            w.object { w in
                w.field("description", found.description)
                w.field("category", found.category)
                w.field("criteria", found.criteria)
            }
        }
        return writer.response()
    }

    // MARK: Watchlists

    func listWatchlists(_ request: Request) async throws -> Response {
        let user = try await authenticator.user(for: request)
        let lists = try await call(kind: "watchlist") { try await repository.watchlists(of: user) }
        var writer = JSONWriter(capacity: 256 + 512 * lists.count)
        writer.object { w in
            w.key("watchlists")
            w.array { w in for list in lists { w.watchlist(list) } }
            w.field("count", lists.count)
        }
        return writer.response()
    }

    func createWatchlist(_ request: Request) async throws -> Response {
        let user = try await authenticator.user(for: request)
        let change = try UserDataRules.watchlistChange(try await body(request), creating: true, catalog: catalog)
        let list = try await call(kind: "watchlist", name: change.name) {
            try await repository.createWatchlist(change, for: user, at: clock.now())
        }
        return watchlistResponse(list, message: "Watchlist \"\(list.name)\" created successfully", status: .created)
    }

    func getWatchlist(_ request: Request, id: String?) async throws -> Response {
        let user = try await authenticator.user(for: request)
        let list = try await existingWatchlist(id) { id in try await repository.watchlist(id, of: user) }
        return watchlistResponse(list, message: nil)
    }

    func updateWatchlist(_ request: Request, id: String?) async throws -> Response {
        let user = try await authenticator.user(for: request)
        let change = try UserDataRules.watchlistChange(try await body(request), creating: false, catalog: catalog)
        let list = try await existingWatchlist(id, name: change.name) { id in
            try await repository.updateWatchlist(id, change, for: user, at: clock.now())
        }
        return watchlistResponse(list, message: "Watchlist \"\(list.name)\" updated successfully")
    }

    func deleteWatchlist(_ request: Request, id: String?) async throws -> Response {
        let user = try await authenticator.user(for: request)
        guard let number = id.flatMap({ Int64($0) }), try await call(kind: "watchlist", { try await repository.deleteWatchlist(number, of: user) })
        else { throw APIError.notFound("Watchlist \(id ?? "") not found") }
        return message("Watchlist \(number) deleted successfully")
    }

    func addSymbol(_ request: Request, id: String?) async throws -> Response {
        let user = try await authenticator.user(for: request)
        let symbol = try UserDataRules.symbolToAdd(try await body(request), catalog: catalog)
        let list = try await existingWatchlist(id) { id in try await repository.addSymbol(symbol, toWatchlist: id, of: user, at: clock.now()) }
        return watchlistResponse(list, message: "Symbol \(symbol) added to watchlist \"\(list.name)\"")
    }

    func removeSymbol(_ request: Request, id: String?, symbol: String) async throws -> Response {
        let user = try await authenticator.user(for: request)
        let symbol = symbol.uppercased()
        let list = try await existingWatchlist(id) { id in
            try await repository.removeSymbol(symbol, fromWatchlist: id, of: user, at: clock.now())
        }
        return watchlistResponse(list, message: "Symbol \(symbol) removed from watchlist \"\(list.name)\"")
    }

    // MARK: Filter presets

    func listPresets(_ request: Request) async throws -> Response {
        let user = try await authenticator.user(for: request)
        let presets = try await call(kind: "filter preset") { try await repository.presets(of: user) }
        var writer = JSONWriter(capacity: 256 + 512 * presets.count)
        writer.object { w in
            w.key("presets")
            w.array { w in for preset in presets { w.preset(preset) } }
            w.field("count", presets.count)
        }
        return writer.response()
    }

    func createPreset(_ request: Request) async throws -> Response {
        let user = try await authenticator.user(for: request)
        let body = try await body(request)
        let universes = try await watchlistUniverses(of: user, for: body)
        let change = try UserDataRules.presetChange(body, creating: true, catalog: catalog, universes: universes)
        let preset = try await call(kind: "filter preset", name: change.name) {
            try await repository.createPreset(change, for: user, at: clock.now())
        }
        return presetResponse(preset, message: "Filter preset \"\(preset.name)\" created successfully", status: .created)
    }

    func getPreset(_ request: Request, id: String?) async throws -> Response {
        let user = try await authenticator.user(for: request)
        let preset = try await existingPreset(id) { id in try await repository.preset(id, of: user) }
        return presetResponse(preset, message: nil)
    }

    func updatePreset(_ request: Request, id: String?) async throws -> Response {
        let user = try await authenticator.user(for: request)
        let body = try await body(request)
        let universes = try await watchlistUniverses(of: user, for: body)
        let change = try UserDataRules.presetChange(body, creating: false, catalog: catalog, universes: universes)
        let preset = try await existingPreset(id, name: change.name) { id in
            try await repository.updatePreset(id, change, for: user, at: clock.now())
        }
        return presetResponse(preset, message: "Filter preset \"\(preset.name)\" updated successfully")
    }

    func deletePreset(_ request: Request, id: String?) async throws -> Response {
        let user = try await authenticator.user(for: request)
        guard let number = id.flatMap({ Int64($0) }), try await call(kind: "filter preset", { try await repository.deletePreset(number, of: user) })
        else { throw APIError.notFound("Filter preset \(id ?? "") not found") }
        return message("Filter preset \(number) deleted successfully")
    }

    // MARK: Helpers

    /// The caller's watchlists as scan universes keyed by id, for validating a preset whose filters name one by id;
    /// empty without a database round trip when they do not.
    func watchlistUniverses(of user: UserID, for body: JSONValue?) async throws -> [String: [String]] {
        guard let number = body?["filters"]?["universe"]?.numberValue, number == number.rounded() else { return [:] }
        let lists = try await call(kind: "watchlist") { try await repository.watchlists(of: user) }
        return Dictionary(lists.map { (String($0.id), $0.symbols) }, uniquingKeysWith: { first, _ in first })
    }

    /// The parsed JSON body; nil when empty. Malformed JSON is a 400.
    func body(_ request: Request) async throws -> JSONValue? {
        let buffer = try await request.body.collect(upTo: Self.maxBody)
        let bytes = buffer.readableBytesView
        guard bytes.contains(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else { return nil }
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw APIError(status: .badRequest, code: "invalid_json", message: "Request body is not valid JSON")
        }
    }

    /// Runs a repository call, translating its port errors.
    func call<Result>(kind: String, name: String? = nil, _ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as UserDataError {
            throw APIError.userData(error, kind: kind, name: name)
        }
    }

    func existingWatchlist(_ id: String?, name: String? = nil, _ body: (Int64) async throws -> Watchlist?) async throws -> Watchlist {
        try await existing(id, kind: "watchlist", label: "Watchlist", name: name, body)
    }

    func existingPreset(_ id: String?, name: String? = nil, _ body: (Int64) async throws -> FilterPreset?) async throws -> FilterPreset {
        try await existing(id, kind: "filter preset", label: "Filter preset", name: name, body)
    }

    /// The row the call returns for a numeric id; 404 when the id is not a number or the row is absent (or another
    /// user's, which the repository reports the same way).
    func existing<Row>(
        _ id: String?, kind: String, label: String, name: String?, _ body: (Int64) async throws -> Row?
    ) async throws -> Row {
        guard let number = id.flatMap({ Int64($0) }), let row = try await call(kind: kind, name: name, { try await body(number) })
        else { throw APIError.notFound("\(label) \(id ?? "") not found") }
        return row
    }

    func watchlistResponse(_ list: Watchlist, message: String?, status: HTTPResponse.Status = .ok) -> Response {
        var writer = JSONWriter(capacity: 1024 + 8 * list.symbols.count)
        writer.object { w in
            w.key("watchlist")
            w.watchlist(list)
            if let message { w.field("message", message) }
        }
        return writer.response(status: status)
    }

    func presetResponse(_ preset: FilterPreset, message: String?, status: HTTPResponse.Status = .ok) -> Response {
        var writer = JSONWriter(capacity: 1024)
        writer.object { w in
            w.key("preset")
            w.preset(preset)
            if let message { w.field("message", message) }
        }
        return writer.response(status: status)
    }

    func message(_ text: String) -> Response {
        var writer = JSONWriter(capacity: 128)
        writer.object { $0.field("message", text) }
        return writer.response()
    }
}
