import Domain
import Hummingbird
import Ports

/// JSON shapes of watchlists and presets (http-api.md §Symbols, universes, user data).
extension JSONWriter {
    mutating func watchlist(_ list: Watchlist) {
        object { w in
            w.field("id", list.id)
            w.field("name", list.name)
            w.field("symbols", list.symbols)
            w.field("symbol_count", list.symbols.count)
            w.key("filters")
            w.value(list.filters)
            w.field("user_id", list.userID.rawValue)
            w.field("created_at", Timestamp.iso8601(list.createdAt))
            w.field("updated_at", Timestamp.iso8601(list.updatedAt))
        }
    }

    mutating func preset(_ preset: FilterPreset) {
        object { w in
            w.field("id", preset.id)
            w.field("name", preset.name)
            w.key("filters")
            w.value(preset.filters)
            w.field("is_default", preset.isDefault)
            w.field("user_id", preset.userID.rawValue)
            w.field("created_at", Timestamp.iso8601(preset.createdAt))
            w.field("updated_at", Timestamp.iso8601(preset.updatedAt))
        }
    }

    mutating func symbolInfo(_ info: SymbolInfo, catalog: Catalog) {
        object { w in
            w.field("symbol", info.symbol)
            w.field("name", info.name)
            w.field("exchange", info.exchange)
            w.field("market", info.market)
            w.field("type", info.kind.rawValue)
            w.field("active", info.active)
            w.field("sector", info.sector)
            w.field("industry", info.industry)
            w.field("sector_etf", info.sector.flatMap { name in catalog.sectors.first { $0.name == name }?.etf })
        }
    }
}

extension APIError {
    /// A port error as the API reports it: 409 for a duplicate name, 400 for a full watchlist, 503 while the store is
    /// unreachable (the detail goes to the log, never to the client).
    static func userData(_ error: UserDataError, kind: String, name: String?) -> APIError {
        switch error {
        case .duplicateName:
            APIError(status: .conflict, code: "duplicate_name", message: "A \(kind) named \"\(name ?? "")\" already exists")
        case .tooManySymbols:
            APIError(
                status: .badRequest, code: "invalid_request",
                message: "A watchlist holds at most \(UserDataRules.maxWatchlistSymbols) symbols", parameter: "symbols")
        case .unavailable:
            APIError(
                status: .serviceUnavailable, code: "database_unavailable",
                message: "User data is temporarily unavailable because the database cannot be reached; try again shortly")
        }
    }

    static func validation(_ error: UserDataValidationError) -> APIError {
        APIError(status: .badRequest, code: "invalid_request", message: error.message, parameter: error.field)
    }
}
