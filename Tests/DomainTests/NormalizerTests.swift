import Domain
import Testing

@Suite struct TheNormaliser {
    let catalog = Catalog.standard(
        symbols: [
            SymbolInfo(symbol: "AAPL", name: "Apple", kind: .stock, sector: "Information Technology"),
            SymbolInfo(symbol: "NVDA", name: "NVIDIA", kind: .stock, sector: "Information Technology"),
        ],
        sectors: [SectorInfo(name: "Information Technology", etf: "XLK")])
    let receivedAt: EpochMillis = 1_725_456_800_000

    func normalize(_ json: String, channel: String? = "tickstock.events.patterns") -> [NormalizedEvent] {
        PatternEventNormalizer(catalog: catalog).normalize(Array(json.utf8), context: .init(channel: channel, receivedAt: receivedAt))
    }

    func pattern(_ json: String, channel: String? = "tickstock.events.patterns") throws -> Pattern {
        let results = normalize(json, channel: channel)
        try #require(results.count == 1)
        guard case .operation(.upsert(let pattern)) = results[0] else {
            Issue.record("expected an upsert, got \(results[0])")
            throw CancellationError()
        }
        return pattern
    }

    @Test func `reads the canonical nested shape A with every field`() throws {
        let p = try pattern(
            #"{"event_type":"pattern_detected","source":"TickStockPL","timestamp":1725456789.123,"data":{"symbol":"AAPL","pattern":"Bull_Flag","confidence":0.85,"current_price":185.5,"price_change":2.3,"timestamp":1725456789.1,"expires_at":1725460389.1,"indicators":{"relative_strength":1.5,"relative_volume":2.1,"rsi":65.0,"support_level":180.0},"source":"daily","tier":"daily","flow_id":"f-1","volume":1000000,"description":"d","action":"BUY","stop_loss":182.0,"target_price":192.0}}"#
        )
        #expect(p.symbol == "AAPL")
        #expect(p.patternType == "Bull_Flag")
        #expect(p.rawName == "Bull_Flag")
        #expect(p.tier == .daily)
        #expect(p.confidence == 0.85)
        #expect(p.detectedAt == 1_725_456_789_100)
        #expect(p.expiresAt == 1_725_460_389_100)
        #expect(p.price == 185.5)
        #expect(p.changePercent == 2.3)
        #expect(p.relativeStrength == 1.5)
        #expect(p.relativeVolume == 2.1)
        #expect(p.rsi == 65.0)
        #expect(p.sector == "Information Technology")
        #expect(p.source == "daily")
        let extras = Dictionary(uniqueKeysWithValues: p.extras.map { ($0.name, $0.value) })
        #expect(extras["support_level"] == .number(180))
        #expect(extras["stop_loss"] == .number(182))
        #expect(extras["target_price"] == .number(192))
        #expect(extras["action"] == .text("BUY"))
        #expect(extras["volume"] == .number(1_000_000))
        #expect(extras["relative_strength"] == nil)
    }

    @Test func `unwraps the double-nested shape B`() throws {
        let p = try pattern(
            #"{"event_type":"pattern_detected","source":"TickStockPL","timestamp":1725456789,"data":{"event_type":"pattern_detected","source":"TickStockPL","timestamp":1725456789,"flow_id":"x","data":{"symbol":"NVDA","pattern":"WeeklyBO","confidence":0.9,"current_price":120.0,"timestamp":1725456789,"tier":"intraday"}},"channel":"tickstock.events.patterns"}"#
        )
        #expect(p.symbol == "NVDA")
        #expect(p.patternType == "Weekly_Breakout")
        #expect(p.rawName == "WeeklyBO")
        #expect(p.tier == .intraday)
        #expect(p.detectedAt == 1_725_456_789_000)
        #expect(p.expiresAt == p.detectedAt + 3_600_000)
    }

    @Test func `takes the tier from the middle layer and ISO timestamps in the B variant`() throws {
        let p = try pattern(
            #"{"event_type":"pattern_detected","source":"TickStockPL","timestamp":"2024-09-04T13:33:09+00:00","data":{"event_type":"pattern_detected","tier":"combo","timestamp":"2024-09-04T13:33:09.500+02:00","data":{"symbol":"AAPL","pattern":"Gap_Fill","confidence":0.7}}}"#
        )
        #expect(p.tier == .combo)
        #expect(p.detectedAt == Timestamp.millis(fromISO8601: "2024-09-04T11:33:09.500Z"))
    }

    @Test func `reads the flat shape C and its variants`() throws {
        let flat = try pattern(
            #"{"event_type":"pattern_detected","symbol":"AAPL","pattern":"Volume_Spike","confidence":0.8,"current_price":10,"price_change":-1.5,"timestamp":1725456789,"expires_at":1725457789,"indicators":{"rsi":30},"source":"daily"}"#
        )
        #expect(flat.patternType == "Volume_Spike")
        #expect(flat.changePercent == -1.5)
        #expect(flat.rsi == 30)
        #expect(flat.relativeStrength == nil)
        #expect(flat.effectiveRelativeStrength == 1.0)
        #expect(flat.expiresAt == 1_725_457_789_000)

        let variant = try pattern(
            #"{"event_type":"pattern_detected","symbol":"AAPL","pattern_type":"support_test","confidence":72,"price_at_detection":99.5,"detection_timestamp":"2024-09-04T13:33:09Z","timeframe":"5m","category":"chart","metadata":{"relative_volume":1.7,"note":"x"}}"#
        )
        #expect(variant.patternType == "Support_Test")
        #expect(variant.confidence == 0.72)
        // Percentages land on the fraction's nearest double, not one ulp off it (98.9 / 100 alone gives 0.9890000000000001).
        for (percent, fraction) in [("98.9", 0.989), ("57.3", 0.573), ("99.99", 0.9999), ("1.1", 0.011), ("64.7", 0.647)] {
            let p = try pattern(#"{"symbol":"AAPL","pattern":"Doji","confidence":\#(percent)}"#)
            #expect(p.confidence == fraction, "confidence \(percent)")
        }
        #expect(variant.price == 99.5)
        #expect(variant.tier == .intraday)
        #expect(variant.detectedAt == 1_725_456_789_000)
        #expect(variant.extras.contains { $0.name == "category" && $0.value == .text("chart") })
        #expect(variant.extras.contains { $0.name == "note" && $0.value == .text("x") })

        let timeframeTiers: [(String, Tier)] = [("1h", .hourly), ("1d", .daily), ("daily", .daily), ("1w", .weekly), ("1min", .intraday)]
        for (timeframe, tier) in timeframeTiers {
            let p = try pattern(
                #"{"symbol":"AAPL","pattern":"Doji","confidence":0.6,"timestamp":1725456789,"timeframe":"\#(timeframe)"}"#, channel: nil)
            #expect(p.tier == tier, "timeframe \(timeframe)")
        }
    }

    @Test func `reads streaming shape D and unpacks batches`() throws {
        let streaming = try pattern(
            #"{"type":"streaming_pattern","detection":{"pattern":"PriceChange","symbol":"NVDA","confidence":0.95,"timestamp":"2024-09-04T13:33:09Z","parameters":{"threshold":0.02},"timeframe":"1min"}}"#,
            channel: "tickstock:patterns:streaming")
        #expect(streaming.patternType == "Price_Change")
        #expect(streaming.rawName == "PriceChange")
        #expect(streaming.tier == .intraday)
        #expect(streaming.extras.contains { $0.name == "threshold" })

        let batch = normalize(
            #"{"type":"patterns_batch","patterns":[{"detection":{"pattern":"Hammer","symbol":"AAPL","confidence":0.7,"timestamp":"2024-09-04T13:33:09Z"}},{"detection":{"pattern":"Doji","symbol":"bad symbol","confidence":0.7}},{"pattern":"Doji","symbol":"NVDA","confidence":0.6,"timestamp":1725456789}],"count":3}"#,
            channel: "tickstock:patterns:detected")
        #expect(batch.count == 3)
        guard case .operation(.upsert(let first)) = batch[0], case .operation(.upsert(let third)) = batch[2] else {
            Issue.record("batch elements not upserts: \(batch)")
            return
        }
        #expect(first.patternType == "Hammer")
        #expect(third.symbol == "NVDA")
        #expect(batch[1] == .rejected(.invalidSymbol))
        #expect(normalize(#"{"type":"patterns_batch","patterns":[],"count":0}"#).isEmpty)
    }

    @Test func `reads the flat v1.0 shape E`() throws {
        let p = try pattern(
            #"{"event_type":"pattern_detected","event_id":"e1","published_at":"2024-09-04T13:35:00Z","source":"TickStockPL","version":"1.0","pattern_id":"p1","pattern_name":"WeeklyBO","symbol":"AAPL","timestamp":"2024-09-04T13:33:09Z","price":150.25,"volume":1200,"confidence":0.85,"timeframe":"daily","metadata":{"relative_strength":1.4}}"#
        )
        #expect(p.patternType == "Weekly_Breakout")
        #expect(p.price == 150.25)
        #expect(p.tier == .daily)
        #expect(p.source == "TickStockPL")
        #expect(p.extras.contains { $0.name == "pattern_id" && $0.value == .text("p1") })
    }

    @Test(arguments: [
        ("tickstock.events.patterns.daily", Tier.daily), ("tickstock.events.patterns.intraday", .intraday),
        ("tickstock.events.patterns.combo", .combo),
    ])
    func `takes the tier from a tier channel when the body has none`(channel: String, tier: Tier) throws {
        let body = #"{"event_type":"pattern_detected","data":{"symbol":"AAPL","pattern":"Doji","confidence":0.6,"timestamp":1725456789}}"#
        #expect(try pattern(body, channel: channel).tier == tier)
        let explicit = #"{"event_type":"pattern_detected","data":{"symbol":"AAPL","pattern":"Doji","confidence":0.6,"tier":"weekly"}}"#
        #expect(try pattern(explicit, channel: channel).tier == .weekly)
    }

    @Test func `maps aliases and spellings to one canonical name`() {
        let same = ["Bull_Flag", "BullFlag", "bull_flag", "BULL_FLAG", "bull-flag"]
        #expect(Set(same.compactMap(PatternName.canonical)) == ["Bull_Flag"])
        #expect(PatternName.canonical("WeeklyBO") == "Weekly_Breakout")
        #expect(PatternName.canonical("EngulfingBullish") == "Bullish_Engulfing")
        #expect(PatternName.canonical("ResBreak") == "Resistance_Break")
        #expect(PatternName.canonical("PriceChange") == "Price_Change")
        #expect(PatternName.canonical("MACDCrossover") == "Macd_Crossover")
        #expect(PatternName.canonical("---") == nil)
    }

    @Test func `turns pattern_expired into an expire operation`() {
        let results = normalize(
            #"{"event_type":"pattern_expired","data":{"symbol":"AAPL","pattern":"BullFlag","tier":"daily","timestamp":1725456789.1}}"#)
        #expect(
            results == [
                .operation(.expire(PatternSelector(symbol: "AAPL", patternType: "Bull_Flag", tier: .daily, detectedAt: 1_725_456_789_100)))
            ])
        let any = normalize(#"{"event_type":"pattern_expired","data":{"symbol":"AAPL","pattern":"Doji"}}"#)
        #expect(any == [.operation(.expire(PatternSelector(symbol: "AAPL", patternType: "Doji", tier: .daily, detectedAt: nil)))])
    }

    @Test func `treats pattern_updated as an upsert and defaults the detection time to the receive time`() throws {
        let p = try pattern(#"{"event_type":"pattern_updated","data":{"symbol":"AAPL","pattern":"Doji","confidence":1}}"#)
        #expect(p.detectedAt == receivedAt)
        #expect(p.confidence == 1)
    }

    @Test(arguments: [
        ("not json", RejectReason.notJSON), ("[1,2]", .notObject), ("\"text\"", .notObject),
        (#"{"pattern":"Doji","confidence":0.5}"#, .missingSymbol), (#"{"symbol":"aapl","pattern":"Doji","confidence":0.5}"#, .invalidSymbol),
        (#"{"symbol":"ABCDEFGHIJKLMNOPQ","pattern":"Doji","confidence":0.5}"#, .invalidSymbol),
        (#"{"symbol":42,"pattern":"Doji","confidence":0.5}"#, .invalidSymbol), (#"{"symbol":"AAPL","confidence":0.5}"#, .missingPattern),
        (#"{"symbol":"AAPL","pattern":"__","confidence":0.5}"#, .missingPattern), (#"{"symbol":"AAPL","pattern":"Doji"}"#, .missingConfidence),
        (#"{"symbol":"AAPL","pattern":"Doji","confidence":"NaN"}"#, .invalidConfidence),
        (#"{"symbol":"AAPL","pattern":"Doji","confidence":101}"#, .invalidConfidence),
        (#"{"symbol":"AAPL","pattern":"Doji","confidence":-0.1}"#, .invalidConfidence),
        (#"{"symbol":"AAPL","pattern":"Doji","confidence":"high"}"#, .invalidConfidence),
        (#"{"symbol":"AAPL","pattern":"Doji","confidence":0.5,"timestamp":"yesterday"}"#, .invalidTimestamp),
        (#"{"symbol":"AAPL","pattern":"Doji","confidence":0.5,"timestamp":"2024-13-01T00:00:00Z"}"#, .invalidTimestamp),
        (#"{"symbol":"AAPL","pattern":"Doji","confidence":0.5,"expires_at":true}"#, .invalidTimestamp),
        (#"{"symbol":"AAPL","pattern":"Doji","confidence":0.5,"timestamp":-5}"#, .invalidTimestamp),
        (#"{"type":"streaming_pattern"}"#, .missingPattern),
    ])
    func `rejects malformed events with a typed reason`(body: String, reason: RejectReason) {
        #expect(normalize(body) == [.rejected(reason)])
    }

    @Test func `rejects bodies over 64 KiB before parsing and survives deep nesting`() {
        let big = #"{"symbol":"AAPL","pattern":"Doji","confidence":0.5,"description":""# + String(repeating: "x", count: 65_536) + "\"}"
        #expect(normalize(big) == [.rejected(.oversize)])
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(normalize(deep) == [.rejected(.notJSON)])
    }

    @Test func `counts non-pattern messages as ignored`() {
        #expect(normalize(#"{"event_type":"backtest_progress","progress":0.5}"#) == [.ignored(kind: "backtest_progress")])
        #expect(normalize(#"{"type":"health_status","status":"ok"}"#) == [.ignored(kind: "health_status")])
    }

    @Test func `every demo event normalises, covering every shape, tier and pattern name`() {
        var generator = DemoEventGenerator(catalog: .standard(symbols: catalog.symbols, sectors: catalog.sectors), seed: 7)
        var names = Set<String>()
        var tiers = Set<Tier>()
        var channels = Set<String>()
        var expires = 0
        for step in 0..<5_000 {
            let event = generator.next(now: receivedAt + EpochMillis(step) * 1000)
            channels.insert(event.channel)
            for result in normalize(event.body, channel: event.channel) {
                switch result {
                case .operation(.upsert(let p)):
                    names.insert(p.patternType)
                    tiers.insert(p.tier)
                case .operation(.expire): expires += 1
                default: Issue.record("demo event not normalised: \(result) from \(event.body)")
                }
            }
        }
        #expect(names.isSuperset(of: PatternName.all))
        #expect(tiers == Set(Tier.allCases))
        #expect(expires > 0)
        #expect(channels.count == 6)
    }
}
