/// A tradable symbol in the catalogue.
public struct SymbolInfo: Sendable, Equatable {
    public enum Kind: String, Sendable { case stock, etf }
    public var symbol: String
    public var name: String
    public var kind: Kind
    public var exchange: String
    public var market: String
    public var sector: String?
    public var industry: String?
    public var active: Bool
    /// A recent closing price, used by the demo producer to emit realistic prices.
    public var referencePrice: Double?

    public init(
        symbol: String, name: String, kind: Kind, exchange: String = "", market: String = "stocks", sector: String? = nil,
        industry: String? = nil, active: Bool = true, referencePrice: Double? = nil
    ) {
        self.referencePrice = referencePrice
        self.symbol = symbol
        self.name = name
        self.kind = kind
        self.exchange = exchange
        self.market = market
        self.sector = sector
        self.industry = industry
        self.active = active
    }
}

/// A GICS sector and the Select Sector SPDR that tracks it.
public struct SectorInfo: Sendable, Equatable {
    public var name: String
    public var etf: String
    public init(name: String, etf: String) {
        self.name = name
        self.etf = etf
    }
}

/// A named set of symbols a scan can be restricted to (`sp500`, a sector universe, later a watchlist).
public struct Universe: Sendable, Equatable {
    public var key: String
    public var description: String
    public var category: String
    public var criteria: String
    public var symbols: [String]
    public init(key: String, description: String, category: String, criteria: String, symbols: [String]) {
        self.key = key
        self.description = description
        self.category = category
        self.criteria = criteria
        self.symbols = symbols
    }
}

/// The symbol and sector catalogue as a value: symbols, sectors and universes, with the look-ups scans need.
public struct Catalog: Sendable {
    public let symbols: [SymbolInfo]
    public let sectors: [SectorInfo]
    public let universes: [Universe]
    private let symbolIndex: [String: Int]
    private let sectorByKey: [String: String]
    private let universeIndex: [String: Int]

    public init(symbols: [SymbolInfo], sectors: [SectorInfo], universes: [Universe]) {
        self.symbols = symbols
        self.sectors = sectors
        self.universes = universes
        symbolIndex = Dictionary(symbols.enumerated().map { ($1.symbol, $0) }, uniquingKeysWith: { first, _ in first })
        var keys: [String: String] = [:]
        for sector in sectors {
            keys[sector.name.lowercased()] = sector.name
            keys[sector.etf.lowercased()] = sector.name
        }
        sectorByKey = keys
        universeIndex = Dictionary(universes.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public static let empty = Catalog(symbols: [], sectors: [], universes: [])

    /// The symbol's details; nil when unknown. Case-insensitive.
    public func symbol(_ symbol: String) -> SymbolInfo? {
        symbolIndex[symbol.uppercased()].map { symbols[$0] }
    }

    /// The GICS sector of a symbol; a sector ETF belongs to its own sector.
    public func sector(ofSymbol symbol: String) -> String? {
        if let info = symbolIndex[symbol].map({ symbols[$0] }), let sector = info.sector { return sector }
        return sectors.first { $0.etf == symbol }?.name
    }

    /// The Select Sector SPDR of a stock's sector (the benchmark of its sector relative strength); nil for ETFs and
    /// symbols without a known sector.
    public func sectorETF(ofSymbol symbol: String) -> String? {
        guard let info = self.symbol(symbol), info.kind == .stock, let sector = info.sector else { return nil }
        return sectors.first { $0.name == sector }?.etf
    }

    /// The canonical GICS sector name for a sector name or sector ETF symbol, case-insensitive; nil when unknown.
    public func sectorName(for key: String) -> String? { sectorByKey[key.lowercased()] }

    public func universe(_ key: String) -> Universe? { universeIndex[key].map { universes[$0] } }
}
