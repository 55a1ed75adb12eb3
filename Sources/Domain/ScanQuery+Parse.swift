extension ScanQuery {
    /// Timeframe words the API accepts, mapped to tiers (`All` = no filter).
    public static let timeframes: [(name: String, tier: Tier?)] = [
        ("All", nil), ("Daily", .daily), ("Hourly", .hourly), ("Intraday", .intraday), ("Weekly", .weekly),
        ("Monthly", .monthly), ("Combo", .combo), ("DailyIntraday", .dailyIntraday),
    ]

    /// Parses request parameters (repeatable names allowed, in order). Unknown parameters are ignored, as the old server
    /// did; every known one is validated and a bad value throws naming the parameter and its accepted range.
    /// - Parameter universes: extra universes (a caller's watchlists) beside the catalogue's.
    public static func parse(
        _ parameters: [(name: String, value: String)], catalog: Catalog, universes: [String: [String]] = [:]
    ) throws(ScanQueryError) -> ScanQuery {
        var query = ScanQuery()
        func values(_ name: String) -> [String]? {
            let found = parameters.filter { $0.name == name }.map(\.value)
            return found.isEmpty ? nil : found
        }
        func last(_ names: String...) -> (name: String, value: String)? {
            parameters.last { names.contains($0.name) }
        }
        func list(_ name: String) -> [String]? {
            values(name).map { $0.flatMap { $0.split(separator: ",") }.map { String($0).trimmingSpaces() }.filter { !$0.isEmpty } }
        }
        func number(_ name: String, range: ClosedRange<Double>, rule: String) throws(ScanQueryError) -> Double? {
            guard let raw = last(name)?.value else { return nil }
            guard let value = Double(raw.trimmingSpaces()), value.isFinite, range.contains(value) else {
                throw ScanQueryError(parameter: name, message: "\(name) must be \(rule); got '\(raw)'")
            }
            return value
        }
        func integer(_ names: String..., range: ClosedRange<Int>, rule: String) throws(ScanQueryError) -> Int? {
            guard let (name, raw) = parameters.last(where: { names.contains($0.name) }) else { return nil }
            guard let value = Int(raw.trimmingSpaces()), range.contains(value) else {
                throw ScanQueryError(parameter: name, message: "\(name) must be \(rule); got '\(raw)'")
            }
            return value
        }

        if let names = list("pattern_types") {
            var types = Set<String>()
            for name in names {
                guard let canonical = PatternName.canonical(name) else {
                    throw ScanQueryError(parameter: "pattern_types", message: "pattern_types: '\(name)' is not a pattern name")
                }
                types.insert(canonical)
            }
            if !types.isEmpty { query.patternTypes = types }
        }
        query.rsMin = try number("rs_min", range: 0...Double.greatestFiniteMagnitude, rule: "a number >= 0") ?? 0
        query.volMin = try number("vol_min", range: 0...Double.greatestFiniteMagnitude, rule: "a number >= 0") ?? 0
        query.confidenceMin = try number("confidence_min", range: 0...1, rule: "a number between 0 and 1") ?? 0.5
        if let raw = last("rsi_range")?.value {
            let parts = raw.split(separator: ",", omittingEmptySubsequences: false).map { Double(String($0).trimmingSpaces()) }
            guard parts.count == 2, let low = parts[0], let high = parts[1], low >= 0, high <= 100, low <= high else {
                throw ScanQueryError(
                    parameter: "rsi_range", message: "rsi_range must be 'min,max' with 0 <= min <= max <= 100; got '\(raw)'")
            }
            query.rsiRange = low...high
        }
        if let raw = last("timeframe")?.value {
            let squashed = raw.lowercased().replacingUnderscores()
            guard let match = timeframes.first(where: { $0.name.lowercased() == squashed }) else {
                throw ScanQueryError(
                    parameter: "timeframe",
                    message: "timeframe must be one of \(timeframes.map(\.name).joined(separator: ", ")); got '\(raw)'")
            }
            query.tiers = match.tier.map { [$0] }
        }
        if let names = list("symbols") {
            var symbols = Set<String>()
            for name in names {
                let symbol = name.uppercased()
                guard PatternEventNormalizer.isValidSymbol(symbol) else {
                    throw ScanQueryError(
                        parameter: "symbols", message: "symbols: '\(name)' is not a valid symbol (1-16 of A-Z 0-9 . - ^ =)")
                }
                symbols.insert(symbol)
            }
            if !symbols.isEmpty { query.symbols = symbols }
        }
        let sectorNames = (list("sectors") ?? []) + (list("sector") ?? [])
        if !sectorNames.isEmpty {
            var sectors = Set<String>()
            for name in sectorNames {
                guard let sector = catalog.sectorName(for: name) else {
                    let parameter = list("sectors")?.contains(name) == true ? "sectors" : "sector"
                    throw ScanQueryError(
                        parameter: parameter,
                        message: "\(parameter): unknown sector '\(name)'; use a GICS sector name or a sector ETF symbol such as XLK")
                }
                sectors.insert(sector)
            }
            query.sectors = sectors
        }
        if let key = last("universe")?.value.trimmingSpaces(), !key.isEmpty, key.lowercased() != "all" {
            if let members = universes[key] ?? catalog.universe(key)?.symbols {
                query.universe = key
                query.universeSymbols = Set(members)
            } else {
                let known = (catalog.universes.map(\.key) + universes.keys.sorted()).joined(separator: ", ")
                throw ScanQueryError(parameter: "universe", message: "universe: unknown universe '\(key)'; known: \(known)")
            }
        }
        query.page = try integer("page", range: 1...1_000_000, rule: "an integer >= 1") ?? 1
        query.perPage = try integer("per_page", "limit", range: 1...maxPerPage, rule: "an integer between 1 and \(maxPerPage)") ?? 30
        if let raw = last("sort_by")?.value {
            guard let key = SortKey(rawValue: raw.lowercased()) else {
                throw ScanQueryError(
                    parameter: "sort_by",
                    message: "sort_by must be one of \(SortKey.allCases.map(\.rawValue).joined(separator: ", ")); got '\(raw)'")
            }
            query.sortBy = key
        }
        if let raw = last("sort_order")?.value {
            guard let order = SortOrder(rawValue: raw.lowercased()) else {
                throw ScanQueryError(parameter: "sort_order", message: "sort_order must be asc or desc; got '\(raw)'")
            }
            query.sortOrder = order
        }
        if let raw = last("cursor")?.value, !raw.isEmpty {
            guard let cursor = ScanCursor(encoded: raw), cursor.fingerprint == query.fingerprint else {
                throw ScanQueryError(
                    parameter: "cursor", message: "cursor is invalid or belongs to a different query; start again without it")
            }
            query.cursor = cursor
            query.page = cursor.page
        }
        return query
    }
}

extension ScanQuery {
    /// A saved or inline filter object (`{"rs_min": 1.2, "pattern_types": ["Doji"]}`) as scan parameters, in order.
    /// Values may be strings, numbers, booleans or lists of strings (joined with commas).
    public static func parameters(fromFilters filters: JSONValue, field: String) throws(ScanQueryError) -> [(name: String, value: String)] {
        guard case .object(let members) = filters else {
            throw ScanQueryError(parameter: field, message: "\(field) must be an object of scan parameters")
        }
        var parameters: [(name: String, value: String)] = []
        for (name, value) in members {
            guard let text = scalarText(value) else {
                throw ScanQueryError(parameter: field, message: "\(field).\(name) must be a string, a number or a list of strings")
            }
            parameters.append((name, text))
        }
        return parameters
    }

    static func scalarText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): return text
        case .number(let number): return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .array(let items):
            let texts = items.compactMap { item -> String? in if case .string(let text) = item { text } else { nil } }
            return texts.count == items.count ? texts.joined(separator: ",") : nil
        default: return nil
        }
    }
}

extension String {
    func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}
