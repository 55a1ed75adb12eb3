/// Why a watchlist or preset request cannot be accepted; `message` is the sentence the API returns with a 400.
public struct UserDataValidationError: Error, Equatable, Sendable {
    public var field: String
    public var message: String
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// The validation rules for user data, shared by every adapter: the HTTP adapter parses request bodies with them and
/// the stores rely on what they guarantee (names 1–100 characters, at most 500 known, upper-case, distinct symbols,
/// preset filters that the scan-query parser accepts).
public enum UserDataRules {
    /// Name length in Unicode scalars, as PostgreSQL's `char_length` counts it.
    public static let nameLength = 1...100
    public static let maxWatchlistSymbols = 500
    /// Scan parameters a preset may hold. Paging state (`page`, `cursor`) belongs to a request, not to a saved scan.
    public static let presetParameters: Set<String> = [
        "pattern_types", "rs_min", "vol_min", "confidence_min", "rsi_range", "timeframe", "symbols", "sector", "sectors",
        "universe", "per_page", "limit", "sort_by", "sort_order",
    ]

    /// A watchlist body (`{"name","symbols","filters"}`). Creating requires a name; an update changes what it names.
    public static func watchlistChange(_ body: JSONValue?, creating: Bool, catalog: Catalog) throws(UserDataValidationError)
        -> WatchlistChange
    {
        let members = try object(body)
        var change = WatchlistChange()
        change.name = try name(members, creating: creating, required: "Watchlist name is required", label: "Watchlist name")
        switch value(members, "symbols") {
        case nil: if creating { change.symbols = [] }
        case .array(let items)?:
            var texts: [String] = []
            for item in items {
                guard case .string(let text) = item else {
                    throw UserDataValidationError(field: "symbols", message: "Symbols must be a list of strings")
                }
                texts.append(text)
            }
            change.symbols = try symbols(texts, catalog: catalog)
        default: throw UserDataValidationError(field: "symbols", message: "Symbols must be a list")
        }
        switch value(members, "filters") {
        case nil: if creating { change.filters = .null }
        case .null?: change.filters = .null
        case .object(let filters)? where containsNUL(.object(filters)):
            throw UserDataValidationError(field: "filters", message: "Filters must not contain NUL characters")
        case .object(let filters)?: change.filters = .object(filters)
        default: throw UserDataValidationError(field: "filters", message: "Filters must be an object")
        }
        return change
    }

    /// A preset body (`{"name","filters","is_default"}`). The filters must parse as a scan query; `universes` are the
    /// caller's watchlists, which a preset may name.
    public static func presetChange(
        _ body: JSONValue?, creating: Bool, catalog: Catalog, universes: [String: [String]] = [:]
    ) throws(UserDataValidationError) -> FilterPresetChange {
        let members = try object(body)
        var change = FilterPresetChange()
        change.name = try name(members, creating: creating, required: "Preset name is required", label: "Preset name")
        switch value(members, "filters") {
        case nil where !creating: break
        case .object(let filters)?:
            for (key, _) in filters where !presetParameters.contains(key) {
                throw UserDataValidationError(
                    field: "filters",
                    message: "Filters: '\(key)' is not a scan parameter a preset can hold (\(presetParameters.sorted().joined(separator: ", ")))")
            }
            do {
                let parameters = try ScanQuery.parameters(fromFilters: .object(filters), field: "filters")
                _ = try ScanQuery.parse(parameters, catalog: catalog, universes: universes)
            } catch {
                throw UserDataValidationError(field: "filters", message: "Filters: \(error.message)")
            }
            change.filters = .object(filters)
        default: throw UserDataValidationError(field: "filters", message: "Filters must be an object")
        }
        switch value(members, "is_default") {
        case nil: if creating { change.isDefault = false }
        case .bool(let flag)?: change.isDefault = flag
        default: throw UserDataValidationError(field: "is_default", message: "is_default must be true or false")
        }
        return change
    }

    /// Upper-cases, trims and de-duplicates (first occurrence kept), then checks every symbol against the catalogue and
    /// the size limit. Unknown symbols are listed, all of them, in the order given.
    public static func symbols(_ raw: [String], catalog: Catalog) throws(UserDataValidationError) -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        var unknown: [String] = []
        for text in raw {
            let symbol = text.trimmingSpaces().uppercased()
            guard seen.insert(symbol).inserted else { continue }
            if catalog.symbol(symbol) == nil { unknown.append(symbol.isEmpty ? "''" : symbol) } else { result.append(symbol) }
        }
        if !unknown.isEmpty {
            throw UserDataValidationError(field: "symbols", message: "Unknown symbols: \(unknown.joined(separator: ", "))")
        }
        guard result.count <= maxWatchlistSymbols else {
            throw UserDataValidationError(
                field: "symbols", message: "A watchlist holds at most \(maxWatchlistSymbols) symbols; got \(result.count)")
        }
        return result
    }

    /// One symbol for add-symbol: a body `{"symbol":"…"}`.
    public static func symbolToAdd(_ body: JSONValue?, catalog: Catalog) throws(UserDataValidationError) -> String {
        let members = try object(body)
        guard case .string(let text)? = value(members, "symbol"), !text.trimmingSpaces().isEmpty else {
            throw UserDataValidationError(field: "symbol", message: "Symbol is required")
        }
        return try symbols([text], catalog: catalog)[0]
    }

    /// PostgreSQL's text and jsonb cannot hold U+0000, so it is refused up front rather than failing in the store.
    static func containsNUL(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let text): text.unicodeScalars.contains("\u{0}")
        case .array(let items): items.contains(where: containsNUL)
        case .object(let members): members.contains { $0.key.unicodeScalars.contains("\u{0}") || containsNUL($0.value) }
        default: false
        }
    }

    private static func object(_ body: JSONValue?) throws(UserDataValidationError) -> [(key: String, value: JSONValue)] {
        guard let body else { throw UserDataValidationError(field: "body", message: "Request body is required") }
        guard case .object(let members) = body else {
            throw UserDataValidationError(field: "body", message: "Request body must be a JSON object")
        }
        return members
    }

    private static func value(_ members: [(key: String, value: JSONValue)], _ key: String) -> JSONValue? {
        members.last { $0.key == key }?.value
    }

    private static func name(
        _ members: [(key: String, value: JSONValue)], creating: Bool, required: String, label: String
    ) throws(UserDataValidationError) -> String? {
        switch value(members, "name") {
        case nil where !creating: return nil
        case .string(let text)?:
            // Stored verbatim; only a name of nothing but spaces counts as missing.
            let name = text
            guard !name.trimmingSpaces().isEmpty else { throw UserDataValidationError(field: "name", message: required) }
            guard !name.unicodeScalars.contains("\u{0}") else {
                throw UserDataValidationError(field: "name", message: "\(label) must not contain NUL characters")
            }
            guard nameLength.contains(name.unicodeScalars.count) else {
                throw UserDataValidationError(
                    field: "name",
                    message: "\(label) must be \(nameLength.lowerBound) to \(nameLength.upperBound) characters; got \(name.unicodeScalars.count)")
            }
            return name
        case nil, .null?: throw UserDataValidationError(field: "name", message: required)
        default: throw UserDataValidationError(field: "name", message: "\(label) must be a string")
        }
    }
}
