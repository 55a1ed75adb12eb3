/// What one real-time subscription asks for. Every given criterion must hold (AND); an absent one matches anything.
public struct SubscriptionCriteria: Sendable, Equatable {
    /// Upper-cased symbols; nil = any.
    public var symbols: Set<String>?
    /// Canonical pattern types; nil = any.
    public var patternTypes: Set<String>?
    public var tiers: Set<Tier>?
    public var confidenceMin: Double?
    /// Canonical GICS sector names; nil = any.
    public var sectors: Set<String>?
    /// An "entered screen" preset: a pattern is sent the first time it satisfies these scan filters, not on every update.
    public var preset: ScanQuery?

    public init(
        symbols: Set<String>? = nil, patternTypes: Set<String>? = nil, tiers: Set<Tier>? = nil, confidenceMin: Double? = nil,
        sectors: Set<String>? = nil, preset: ScanQuery? = nil
    ) {
        self.symbols = symbols
        self.patternTypes = patternTypes
        self.tiers = tiers
        self.confidenceMin = confidenceMin
        self.sectors = sectors
        self.preset = preset
    }

    /// Whether `pattern` satisfies every criterion, whatever its expiry.
    public func matches(_ pattern: Pattern) -> Bool {
        if let symbols, !symbols.contains(pattern.symbol) { return false }
        if let patternTypes, !patternTypes.contains(pattern.patternType) { return false }
        if let tiers, !tiers.contains(pattern.tier) { return false }
        if let confidenceMin, !(pattern.confidence >= confidenceMin) { return false }
        if let sectors, !(pattern.sector.map(sectors.contains) ?? false) { return false }
        if let preset, !preset.matchesFilters(pattern) { return false }
        return true
    }
}

extension SubscriptionCriteria {
    /// Reads the criteria of a native `subscribe` message (`symbols`, `pattern_types`, `tiers`, `confidence_min`,
    /// `sectors`, and `preset` as an object of scan parameters). Lists may be JSON arrays or comma-separated strings.
    /// Names are validated exactly as the scan API validates them, so the errors name the field and what it accepts.
    /// - Parameter savedPreset: the filters of the saved preset the message names by id (`"preset": 12`), looked up
    ///   by the caller for the connection's user; nil when there is none to look up.
    public static func parse(_ message: JSONValue, catalog: Catalog, savedPreset: JSONValue? = nil) throws(ScanQueryError)
        -> SubscriptionCriteria
    {
        var parameters: [(name: String, value: String)] = []
        for name in ["symbols", "pattern_types", "sectors"] {
            for value in try strings(message[name], field: name) { parameters.append((name, value)) }
        }
        // The scan parser validates and canonicalises symbols, pattern names and sectors; its paging defaults are unused.
        let parsed = try ScanQuery.parse(parameters, catalog: catalog)
        var criteria = SubscriptionCriteria(symbols: parsed.symbols, patternTypes: parsed.patternTypes, sectors: parsed.sectors)
        var tiers = Set<Tier>()
        for name in try strings(message["tiers"], field: "tiers") {
            guard let tier = Tier(name: name) ?? Tier(timeframe: name) else {
                throw ScanQueryError(
                    parameter: "tiers", message: "tiers: '\(name)' is not a tier (\(Tier.allCases.map(\.name).joined(separator: ", ")))")
            }
            tiers.insert(tier)
        }
        if !tiers.isEmpty { criteria.tiers = tiers }
        switch message["confidence_min"] {
        case nil, .null?: break
        case let value?:
            guard let number = value.numberValue, (0...1).contains(number) else {
                throw ScanQueryError(parameter: "confidence_min", message: "confidence_min must be a number between 0 and 1")
            }
            criteria.confidenceMin = number
        }
        var preset = message["preset"]
        if let reference = presetReference(message) {
            guard let savedPreset else {
                throw ScanQueryError(
                    parameter: "preset",
                    message: "preset: '\(reference)' is not one of your saved presets (connect with ?token=<bearer token> to use them), or give the filters inline as an object")
            }
            preset = savedPreset
        }
        switch preset {
        case nil, .null?: break
        case let filters? where filters.isObject:
            let parameters = try ScanQuery.parameters(fromFilters: filters, field: "preset")
            do {
                criteria.preset = try ScanQuery.parse(parameters, catalog: catalog)
            } catch {
                throw ScanQueryError(parameter: "preset", message: "preset: \(error.message)")
            }
        default:
            throw ScanQueryError(parameter: "preset", message: "preset must be an object of scan parameters")
        }
        return criteria
    }

    /// The id of a saved preset the message names (`"preset": 12` or `"preset": "12"`); nil for an inline one.
    public static func presetReference(_ message: JSONValue) -> String? {
        switch message["preset"] {
        case .string(let text)?: text
        case .number(let number)?: ScanQuery.scalarText(.number(number))
        default: nil
        }
    }

    /// A list field: an array of strings or one comma-separated string; absent or null is empty.
    public static func strings(_ value: JSONValue?, field: String) throws(ScanQueryError) -> [String] {
        switch value {
        case nil, .null?: return []
        case .string(let text)?: return text.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
        case .array(let items)?:
            var result: [String] = []
            for item in items {
                guard case .string(let text) = item else {
                    throw ScanQueryError(parameter: field, message: "\(field) must be a list of strings")
                }
                result.append(text)
            }
            return result
        default: throw ScanQueryError(parameter: field, message: "\(field) must be a list of strings")
        }
    }
}
