extension Catalog {
    /// The universe key of a GICS sector: `sector_information_technology`.
    public static func universeKey(forSector sector: String) -> String {
        "sector_" + sector.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).joined(separator: "_")
    }

    /// A catalogue with the standard universes: `sp500` (every stock), one per GICS sector, `sector_etfs` and
    /// `index_etfs`.
    public static func standard(symbols: [SymbolInfo], sectors: [SectorInfo]) -> Catalog {
        let stocks = symbols.filter { $0.kind == .stock }
        var universes = [
            Universe(
                key: "sp500", description: "S&P 500 constituents", category: "index",
                criteria: "Current S&P 500 membership", symbols: stocks.map(\.symbol).sorted())
        ]
        for sector in sectors {
            universes.append(
                Universe(
                    key: universeKey(forSector: sector.name), description: "\(sector.name) sector (S&P 500)", category: "sector",
                    criteria: "GICS sector = \(sector.name)",
                    symbols: stocks.filter { $0.sector == sector.name }.map(\.symbol).sorted()))
        }
        let sectorETFs = Set(sectors.map(\.etf))
        universes.append(
            Universe(
                key: "sector_etfs", description: "Select Sector SPDR ETFs", category: "etf", criteria: "One ETF per GICS sector",
                symbols: sectorETFs.sorted()))
        universes.append(
            Universe(
                key: "index_etfs", description: "Broad index ETFs", category: "etf", criteria: "SPY, QQQ, IWM, DIA",
                symbols: symbols.filter { $0.kind == .etf && !sectorETFs.contains($0.symbol) }.map(\.symbol).sorted()))
        return Catalog(symbols: symbols, sectors: sectors, universes: universes)
    }

    /// Builds the standard catalogue from the bundled CSV texts (`symbols.csv`, `sectors.csv`).
    public static func standard(symbolsCSV: String, sectorsCSV: String) -> Catalog {
        let symbols = CSV.records(symbolsCSV).compactMap { row -> SymbolInfo? in
            guard let symbol = row["symbol"], !symbol.isEmpty else { return nil }
            let sector = row["sector"].flatMap { $0.isEmpty ? nil : $0 }
            return SymbolInfo(
                symbol: symbol, name: row["name"] ?? symbol, kind: row["kind"] == "etf" ? .etf : .stock,
                market: row["market"] ?? "stocks", sector: sector, industry: row["industry"].flatMap { $0.isEmpty ? nil : $0 },
                referencePrice: row["reference_price"].flatMap(Double.init))
        }
        let sectors = CSV.records(sectorsCSV).compactMap { row -> SectorInfo? in
            guard let name = row["sector"], let etf = row["etf"] else { return nil }
            return SectorInfo(name: name, etf: etf)
        }
        return standard(symbols: symbols, sectors: sectors)
    }
}
