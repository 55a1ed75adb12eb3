import Domain
import Testing

/// Random patterns and random queries: the index must agree with a brute-force filter-and-sort over plain values.
@Suite struct ThePatternIndex {
    static let symbols = (0..<40).map { "S\($0)" } + ["AAPL", "BRK.B", "^VIX"]
    static let types = ["Bull_Flag", "Doji", "Hammer", "Weekly_Breakout", "Gap_Fill", "Spring", "Momentum_Shift", "Harami"]
    static let sectors = ["Energy", "Financials", "Utilities", nil]
    static let now: EpochMillis = 1_725_456_789_000
    /// Values that land exactly on thresholds queries use, to exercise the quantised columns' ties.
    static let confidences = [0.5, 0.7, 0.8, 0.85, 0.9, 0.63, 0.6300000000000001, 1.0, 0.0]
    /// RSI values on the bounds queries use and just past them (closer than 1/256), and at the edges of the RSI code
    /// (below 0; 32_766 / 256 and 32_767 / 256 on).
    static let rsis = [
        0, 50, 70, 33.5, 0.33, 33.33, 50.001, 70.002, 33.501, 0.001, -0.001, -3, 100, 130,
        127.9921875, 127.995, 127.99609375, 127.998046875, 128,
    ]

    static func randomPattern(_ random: inout SplitMix64) -> Pattern {
        let symbol = symbols[Int.random(in: 0..<symbols.count, using: &random)]
        let detected = now - EpochMillis.random(in: 0..<50, using: &random) * 60_000
        let confidence =
            Bool.random(using: &random) ? confidences.randomElement(using: &random)! : Double.random(in: 0...1, using: &random)
        func maybe(_ range: ClosedRange<Double>) -> Double? {
            Int.random(in: 0..<4, using: &random) == 0 ? nil : (Double.random(in: range, using: &random) * 100).rounded() / 100
        }
        return Pattern(
            symbol: symbol, patternType: types[Int.random(in: 0..<types.count, using: &random)],
            tier: Tier.allCases.randomElement(using: &random)!, confidence: confidence, detectedAt: detected,
            expiresAt: detected + EpochMillis.random(in: 10..<200, using: &random) * 60_000, price: maybe(1...500),
            changePercent: maybe(-5...5), relativeStrength: maybe(0...4), relativeVolume: maybe(0...20),
            rsi: Int.random(in: 0..<8, using: &random) == 0 ? rsis.randomElement(using: &random)! : maybe(0...100),
            extras: Int.random(in: 0..<3, using: &random) == 0
                ? [] : [("pub_ts", .number(Double(detected) / 1000)), ("note", .text("n\(Int.random(in: 0..<99, using: &random))"))],
            sector: sectors[symbol.hashValue & 3 == 0 ? 3 : Int(symbol.utf8.last! % 3)], source: "test")
    }

    static func randomQuery(_ random: inout SplitMix64) -> ScanQuery {
        var query = ScanQuery()
        let filters = Int.random(in: 1...6, using: &random)
        for _ in 0..<filters {
            switch Int.random(in: 0..<9, using: &random) {
            case 0: query.patternTypes = Set((0..<Int.random(in: 1...3, using: &random)).map { _ in types.randomElement(using: &random)! } + ["Unknown_Type"])
            case 1: query.rsMin = [0.5, 1.0, 1.5, 2.0].randomElement(using: &random)!
            case 2: query.volMin = [1.0, 2.5, 8.0, 16.0, 19.99].randomElement(using: &random)!
            case 3:
                // Bounds on a 1/256 step are exact in the RSI code; others (0.33, below 0, past 128) make slots tie.
                let low = Double.random(in: 0...60, using: &random).rounded() + [0, 0, 0.33, 0.5, -4].randomElement(using: &random)!
                let high = low + Double.random(in: 0...50, using: &random).rounded()
                query.rsiRange = low...(Int.random(in: 0..<10, using: &random) == 0 ? [128, 127.9921875, 127.99609375, 150].randomElement(using: &random)! : min(100, high))
            case 4: query.confidenceMin = confidences.randomElement(using: &random)!
            case 5: query.tiers = [Tier.allCases.randomElement(using: &random)!]
            case 6: query.symbols = Set((0..<Int.random(in: 1...8, using: &random)).map { _ in symbols.randomElement(using: &random)! })
            case 7: query.sectors = ["Energy", "Utilities"]
            default:
                query.universe = "u"
                query.universeSymbols = Set(symbols.prefix(20))
            }
        }
        query.sortBy = SortKey.allCases.randomElement(using: &random)!
        query.sortOrder = SortOrder.allCases.randomElement(using: &random)!
        query.page = Int.random(in: 1...5, using: &random)
        query.perPage = [1, 5, 30, 100].randomElement(using: &random)!
        return query
    }

    /// An index of `count` random patterns, and the same patterns by identity.
    static func filled(_ count: Int, chunkCapacity: Int, _ random: inout SplitMix64) -> (PatternIndex, [PatternKey: Pattern]) {
        var index = PatternIndex(chunkCapacity: chunkCapacity)
        var model: [PatternKey: Pattern] = [:]
        for _ in 0..<count {
            let p = randomPattern(&random)
            index.upsert(p)
            model[p.key] = p
        }
        return (index, model)
    }

    static func reference(_ patterns: [PatternKey: Pattern], _ query: ScanQuery, now: EpochMillis) -> [Pattern] {
        patterns.values.filter { query.matches($0, now: now) }.sorted { query.orders($0, before: $1) }
    }

    /// Small chunks make most of them full, so scans take the posting-list path and cross many chunks; the default
    /// capacity keeps everything in the open tail chunk (the dense path).
    @Test(arguments: zip([1, 2, 3, 4, 5], [64, 200, 1_000, 4_096, PatternIndex.defaultChunkCapacity]))
    func `agrees with a brute-force reference on random data and queries`(seed: UInt64, chunkCapacity: Int) {
        var random = SplitMix64(seed: seed)
        var index = PatternIndex(chunkCapacity: chunkCapacity)
        var model: [PatternKey: Pattern] = [:]
        for round in 0..<6 {
            for _ in 0..<700 {
                let p = Self.randomPattern(&random)
                index.upsert(p)
                model[p.key] = p
            }
            // Expire some by event, some by time.
            for key in model.keys.shuffled(using: &random).prefix(50) {
                let removed = index.expire(PatternSelector(symbol: key.symbol, patternType: key.patternType, tier: key.tier, detectedAt: key.detectedAt))
                #expect(removed == [model[key]!])  // the pattern as it was, not just its identity
                model[key] = nil
            }
            let sweepTime = Self.now + EpochMillis(round) * 600_000
            let swept = Set(index.removeExpired(now: sweepTime).map(\.key))
            let expected = Set(model.values.filter { !$0.isLive(at: sweepTime) }.map(\.key))
            #expect(swept == expected)
            for key in expected { model[key] = nil }
            #expect(index.count == model.count)

            let snapshot = index.snapshot()
            let scanTime = sweepTime + 300_000  // later than the sweep: expiry must still be honoured per query
            for _ in 0..<150 {
                let query = Self.randomQuery(&random)
                let expectedAll = Self.reference(model, query, now: scanTime)
                let page = snapshot.scan(query, now: scanTime)
                let start = (query.page - 1) * query.perPage
                let expectedPage = Array(expectedAll.dropFirst(start).prefix(query.perPage))
                #expect(page.total == expectedAll.count, "total for \(query)")
                #expect(page.patterns.map(\.key) == expectedPage.map(\.key), "page for \(query)")
                #expect(page.patterns == expectedPage)
                #expect((page.nextCursor != nil) == (expectedAll.count > start + query.perPage))
            }
        }
    }

    /// `validUntil` licenses reusing a page (the HTTP scan cache does): it must never pass the expiry of a match, since
    /// that is when the answer changes, and it should be that very expiry whenever the chunks had to check expiry.
    @Test(arguments: [64, 1_000, PatternIndex.defaultChunkCapacity])
    func `a scan holds until the first of its matches expires, and says when that is`(chunkCapacity: Int) {
        var random = SplitMix64(seed: 31)
        let (filled, model) = Self.filled(4_000, chunkCapacity: chunkCapacity, &random)
        var index = filled
        let snapshot = index.snapshot()  // nothing swept: expired patterns stay in their chunks
        var exact = 0
        var checked = 0
        for _ in 0..<300 {
            var query = Self.randomQuery(&random)
            query.cursor = nil
            // From before the first expiry (every chunk's bound still ahead) to well into the expiries.
            let now = Self.now + EpochMillis.random(in: -3_600_000...7_200_000, using: &random)
            let page = snapshot.scan(query, now: now)
            let firstExpiry = model.values.filter { query.matches($0, now: now) }.map(\.expiresAt).min() ?? .max
            #expect(page.validUntil > now, "\(query)")
            #expect(page.validUntil <= firstExpiry, "valid past a match's expiry for \(query)")
            if page.validUntil == firstExpiry { exact += 1 }
            checked += 1
            guard page.validUntil != .max else { continue }
            let later = snapshot.scan(query, now: page.validUntil - 1)
            #expect(later.total == page.total && later.patterns == page.patterns && later.nextCursor == page.nextCursor)
        }
        #expect(exact * 2 > checked, "the bound is exact in most scans (\(exact) of \(checked)), not merely safe")
    }

    @Test func `a snapshot never changes after it is taken`() {
        var random = SplitMix64(seed: 9)
        var index = PatternIndex(chunkCapacity: 256)
        for _ in 0..<3000 { index.upsert(Self.randomPattern(&random)) }
        let snapshot = index.snapshot()
        let before = snapshot.livePatterns(now: 0)
        for _ in 0..<3000 {
            var p = Self.randomPattern(&random)
            index.upsert(p)
            p.confidence = 0.01
            p.extras = p.extras.isEmpty ? [("added", .number(1))] : []
            index.upsert(p)
        }
        _ = index.removeExpired(now: Self.now + 86_400_000)
        #expect(index.count == 0)
        #expect(snapshot.livePatterns(now: 0) == before)
    }

    @Test func `applying the same event twice updates and never duplicates`() {
        var random = SplitMix64(seed: 11)
        var index = PatternIndex()
        var p = Self.randomPattern(&random)
        #expect(index.upsert(p) == .inserted)
        p.confidence = 0.99
        p.price = 42
        #expect(index.upsert(p) == .updated)
        #expect(index.upsert(p) == .updated)
        #expect(index.count == 1)
        #expect(index.pattern(for: p.key) == p)
    }

    @Test(arguments: SortKey.allCases, [100, PatternIndex.defaultChunkCapacity])
    func `paging with the cursor visits every match exactly once while new events arrive`(sortBy: SortKey, chunkCapacity: Int) {
        var random = SplitMix64(seed: 21)
        let (filled, original) = Self.filled(2_000, chunkCapacity: chunkCapacity, &random)
        var index = filled
        var query = ScanQuery()
        query.confidenceMin = 0.3
        query.sortBy = sortBy
        query.perPage = 37
        let expected = Self.reference(original, query, now: Self.now)
        var seen: [Pattern] = []
        var pages = 0
        while true {
            let page = index.snapshot().scan(query, now: Self.now)
            seen += page.patterns
            pages += 1
            // New patterns arrive between pages, anywhere in the order. (An update that changes a pattern's sort value
            // may move it past the cursor and show it again: keyset paging follows the data, as documented.)
            var added = 0
            while added < 25 {
                let p = Self.randomPattern(&random)
                guard index.pattern(for: p.key) == nil else { continue }
                index.upsert(p)
                added += 1
            }
            guard let cursor = page.nextCursor else { break }
            #expect(cursor.page == pages + 1)
            query.cursor = ScanCursor(encoded: cursor.encoded)
            #expect(query.cursor == cursor)
        }
        let seenKeys = seen.map(\.key)
        #expect(Set(seenKeys).count == seenKeys.count, "no pattern twice")
        let missing = Set(expected.map(\.key)).subtracting(seenKeys)
        #expect(missing.isEmpty, "every original match seen; missing \(missing.count)")
        for (a, b) in zip(seen, seen.dropFirst()) { #expect(query.orders(a, before: b)) }
    }

    @Test func `summary counts every live pattern`() {
        var random = SplitMix64(seed: 5)
        var index = PatternIndex()
        var model: [PatternKey: Pattern] = [:]
        for _ in 0..<2_500 {
            let p = Self.randomPattern(&random)
            index.upsert(p)
            model[p.key] = p
        }
        let at = Self.now + 60 * 60_000
        let live = model.values.filter { $0.isLive(at: at) }
        let summary = index.snapshot().summary(now: at)
        #expect(summary.total == live.count)
        #expect(summary.highConfidence == live.filter { $0.confidence > 0.8 }.count)
        let byType = Dictionary(grouping: live, by: \.patternType).mapValues(\.count)
        #expect(Dictionary(uniqueKeysWithValues: summary.byType.map { ($0.name, $0.count) }) == byType)
        #expect(summary.bySymbol.count == Set(live.map(\.symbol)).count)
        #expect(summary.byType.map(\.count) == summary.byType.map(\.count).sorted(by: >))
    }
}
