/// The authenticated caller: the `sub` of their token (or, in development only, the `X-User-ID` header).
public struct UserID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

/// A user's named list of symbols. Scans use it as a universe (`universe=<id>`).
public struct Watchlist: Sendable, Equatable {
    public var id: Int64
    public var userID: UserID
    public var name: String
    public var symbols: [String]
    /// Free-form dashboard settings stored with the list (an object, or null).
    public var filters: JSONValue
    public var createdAt: EpochMillis
    public var updatedAt: EpochMillis

    public init(
        id: Int64, userID: UserID, name: String, symbols: [String], filters: JSONValue = .null, createdAt: EpochMillis,
        updatedAt: EpochMillis
    ) {
        self.id = id
        self.userID = userID
        self.name = name
        self.symbols = symbols
        self.filters = filters
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A user's saved scan: scan parameters that `preset=<id>` applies. At most one per user is the default.
public struct FilterPreset: Sendable, Equatable {
    public var id: Int64
    public var userID: UserID
    public var name: String
    /// An object of scan parameters, validated by the scan-query parser when saved.
    public var filters: JSONValue
    public var isDefault: Bool
    public var createdAt: EpochMillis
    public var updatedAt: EpochMillis

    public init(
        id: Int64, userID: UserID, name: String, filters: JSONValue, isDefault: Bool, createdAt: EpochMillis, updatedAt: EpochMillis
    ) {
        self.id = id
        self.userID = userID
        self.name = name
        self.filters = filters
        self.isDefault = isDefault
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The saved filters as scan parameters, in their saved order.
    public var scanParameters: [(name: String, value: String)] {
        (try? ScanQuery.parameters(fromFilters: filters, field: "filters")) ?? []
    }
}

/// What a create or a full update of a watchlist sets; each field nil in a partial update is left as it is.
public struct WatchlistChange: Sendable, Equatable {
    public var name: String?
    public var symbols: [String]?
    public var filters: JSONValue?
    public init(name: String? = nil, symbols: [String]? = nil, filters: JSONValue? = nil) {
        self.name = name
        self.symbols = symbols
        self.filters = filters
    }
}

/// What a create or an update of a filter preset sets; nil fields are left as they are.
public struct FilterPresetChange: Sendable, Equatable {
    public var name: String?
    public var filters: JSONValue?
    public var isDefault: Bool?
    public init(name: String? = nil, filters: JSONValue? = nil, isDefault: Bool? = nil) {
        self.name = name
        self.filters = filters
        self.isDefault = isDefault
    }
}
