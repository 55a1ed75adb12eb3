import Domain
import Testing

@Suite struct ScanQueryParsing {
    let catalog = Catalog.standard(
        symbols: [SymbolInfo(symbol: "AAPL", name: "Apple", kind: .stock, sector: "Information Technology")],
        sectors: [SectorInfo(name: "Information Technology", etf: "XLK"), SectorInfo(name: "Energy", etf: "XLE")])

    func parse(_ pairs: [(String, String)]) throws(ScanQueryError) -> ScanQuery {
        try ScanQuery.parse(pairs.map { (name: $0.0, value: $0.1) }, catalog: catalog)
    }

    @Test func `defaults match the API table`() throws {
        let query = try parse([])
        #expect(query.confidenceMin == 0.5)
        #expect(query.page == 1 && query.perPage == 30)
        #expect(query.sortBy == .confidence && query.sortOrder == .desc)
        #expect(query.rsiRange == 0...100)
        #expect(query.tiers == nil && query.patternTypes == nil && query.symbols == nil)
    }

    @Test func `reads every filter, repeated or comma-separated`() throws {
        let query = try parse([
            ("pattern_types", "WeeklyBO,bull_flag"), ("pattern_types", "Doji"), ("rs_min", "1.2"), ("vol_min", "2"),
            ("rsi_range", "30, 70"), ("confidence_min", "0.75"), ("timeframe", "DailyIntraday"), ("symbols", "aapl,msft"),
            ("symbols", "NVDA"), ("sectors", "xlk"), ("sector", "Energy"), ("universe", "sp500"), ("page", "3"), ("limit", "50"),
            ("sort_by", "rs"), ("sort_order", "asc"), ("unknown", "ignored"),
        ])
        #expect(query.patternTypes == ["Weekly_Breakout", "Bull_Flag", "Doji"])
        #expect(query.rsMin == 1.2 && query.volMin == 2 && query.rsiRange == 30...70 && query.confidenceMin == 0.75)
        #expect(query.tiers == [.dailyIntraday])
        #expect(query.symbols == ["AAPL", "MSFT", "NVDA"])
        #expect(query.sectors == ["Information Technology", "Energy"])
        #expect(query.universe == "sp500" && query.universeSymbols == ["AAPL"])
        #expect(query.symbolRestriction == ["AAPL"])
        #expect(query.page == 3 && query.perPage == 50)
        #expect(query.sortBy == .rs && query.sortOrder == .asc)
        #expect(try parse([("timeframe", "All")]).tiers == nil)
    }

    @Test(arguments: [
        ("confidence_min", "1.5"), ("confidence_min", "abc"), ("rs_min", "-1"), ("vol_min", "x"), ("rsi_range", "70,30"),
        ("rsi_range", "0,101"), ("rsi_range", "50"), ("timeframe", "Yearly"), ("symbols", "AA PL"), ("sectors", "Crypto"),
        ("sector", "XLZ"), ("universe", "nasdaq9000"), ("page", "0"), ("page", "two"), ("per_page", "101"), ("per_page", "0"),
        ("limit", "500"), ("sort_by", "price"), ("sort_order", "up"), ("cursor", "garbage"), ("pattern_types", "__"),
    ])
    func `a bad value is an error naming the parameter`(name: String, value: String) {
        #expect(throws: ScanQueryError.self) { try parse([(name, value)]) }
        do {
            _ = try parse([(name, value)])
        } catch {
            #expect(error.parameter == name)
            #expect(error.message.hasPrefix(name) || error.message.hasPrefix("cursor"))
        }
    }

    @Test func `a cursor only fits the query it came from`() throws {
        var query = try parse([("sort_by", "symbol")])
        let cursor = ScanCursor(
            fingerprint: query.fingerprint, page: 2, primary: 0,
            key: PatternKey(symbol: "AAPL", patternType: "Doji", tier: .daily, detectedAt: 5))
        query = try parse([("sort_by", "symbol"), ("cursor", cursor.encoded), ("page", "9")])
        #expect(query.cursor == cursor)
        #expect(query.page == 2)
        #expect(throws: ScanQueryError.self) { try parse([("sort_by", "rs"), ("cursor", cursor.encoded)]) }
    }

    @Test func `the fingerprint tells every filter and sort apart and ignores set order and paging`() {
        let base = ScanQuery()
        let changes: [(String, (inout ScanQuery) -> Void)] = [
            ("types", { $0.patternTypes = ["Doji"] }), ("no types", { $0.patternTypes = [] }),
            ("two types", { $0.patternTypes = ["Doji", "Hammer"] }), ("joined type", { $0.patternTypes = ["DojiHammer"] }),
            ("rs", { $0.rsMin = 1.5 }), ("vol", { $0.volMin = 1.5 }), ("rsi low", { $0.rsiRange = 30...100 }),
            ("rsi high", { $0.rsiRange = 0...70 }), ("confidence", { $0.confidenceMin = 0.6 }), ("tiers", { $0.tiers = [.daily] }),
            ("symbols", { $0.symbols = ["AAPL"] }), ("sectors", { $0.sectors = ["Energy"] }), ("universe", { $0.universe = "sp500" }),
            ("sort", { $0.sortBy = .rs }), ("order", { $0.sortOrder = .asc }),
        ]
        var seen: [UInt64: String] = [base.fingerprint: "base"]
        for (name, change) in changes {
            var query = base
            change(&query)
            #expect(seen[query.fingerprint] == nil, "\(name) collides with \(seen[query.fingerprint] ?? "")")
            seen[query.fingerprint] = name
        }
        var a = base
        a.patternTypes = ["Doji", "Hammer", "Bull_Flag"]
        var b = base
        b.patternTypes = ["Bull_Flag", "Doji", "Hammer"]
        b.page = 4
        b.perPage = 50
        #expect(a.fingerprint == b.fingerprint)
    }
}
