import Domain
import Ports
import Testing

/// What every `SymbolCatalogSource` holding the standard catalogue must return.
func standardCatalogContract(_ make: () async throws -> some SymbolCatalogSource) async throws {
    let catalog = try await make().catalog()
    #expect(catalog.sectors.count == 11)
    #expect(Set(catalog.sectors.map(\.etf)) == ["XLK", "XLF", "XLE", "XLV", "XLI", "XLY", "XLP", "XLB", "XLRE", "XLU", "XLC"])
    let sp500 = try #require(catalog.universe("sp500"))
    #expect(sp500.symbols.count == 503)
    for sector in catalog.sectors {
        let universe = try #require(catalog.universe(Catalog.universeKey(forSector: sector.name)))
        #expect(!universe.symbols.isEmpty)
        #expect(universe.symbols.allSatisfy { catalog.symbol($0)?.sector == sector.name })
    }
    #expect(catalog.sector(ofSymbol: "AAPL") == "Information Technology")
    #expect(catalog.sector(ofSymbol: "XLE") == "Energy")
    #expect(catalog.sectorName(for: "xlk") == "Information Technology")
    #expect(catalog.symbol("brk.b")?.name == "Berkshire Hathaway")
    #expect(catalog.symbol("SPY")?.kind == .etf)
    #expect(catalog.universe("index_etfs")?.symbols == ["DIA", "IWM", "QQQ", "SPY"])
}

/// What every `WallClock` must do: time does not run backwards.
func wallClockContract(_ clock: some WallClock) {
    let first = clock.now()
    let second = clock.now()
    #expect(second >= first)
    #expect(first > 1_600_000_000_000)
}
