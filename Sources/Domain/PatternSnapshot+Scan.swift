extension PatternSnapshot {
    /// One candidate in the scan order: primary sort value, then detection time descending, then symbol, type and tier
    /// ascending. Identity is part of the order, so it is total and pages never overlap.
    struct Entry {
        var primary: Double
        var detected: Int64
        var symbolRank: Double
        var typeRank: Double
        var tier: UInt8
        var chunk: Int32
        var slot: UInt16

        @inline(__always)
        static func precedes(_ a: Entry, _ b: Entry, descending: Bool) -> Bool {
            if a.primary != b.primary { return descending ? a.primary > b.primary : a.primary < b.primary }
            if a.detected != b.detected { return a.detected > b.detected }
            if a.symbolRank != b.symbolRank { return a.symbolRank < b.symbolRank }
            if a.typeRank != b.typeRank { return a.typeRank < b.typeRank }
            return a.tier < b.tier
        }
    }

    /// Runs a scan at `now`: filters, total, the requested page in order, and the cursor of the next page.
    public func scan(_ query: ScanQuery, now: EpochMillis) -> ScanPage {
        let offset = query.cursor == nil ? (query.page - 1) * query.perPage : 0
        let keep = offset + query.perPage
        let pageNumber = query.cursor?.page ?? query.page
        var page = ScanPage(patterns: [], total: 0, page: pageNumber, perPage: query.perPage, nextCursor: nil)
        guard let plan = ScanPlan(query: query, snapshot: self) else { return page }

        let descending = query.sortOrder == .desc
        let after = query.cursor.map { entry(for: $0, sortBy: query.sortBy) }
        var best: [Entry] = []
        best.reserveCapacity(min(2 * keep, 4096))
        var threshold: Entry?
        var total = 0
        var afterCursor = 0
        var mask = [UInt8](repeating: 0, count: PatternChunk.capacity)

        for (chunkIndex, chunk) in chunks.enumerated() {
            let n = chunk.used
            guard n > 0 else { continue }
            mask.withUnsafeMutableBufferPointer { m in plan.evaluate(chunk, now: now, into: m) }
            for slot in 0..<n where mask[slot] != 0 {
                total += 1
                let primary = primaryValue(chunk, slot, query.sortBy)
                if let threshold {
                    if descending ? primary < threshold.primary : primary > threshold.primary { 
                        if after != nil { afterCursor += 1 }
                        continue
                    }
                }
                let entry = Entry(
                    primary: primary, detected: chunk.detected[slot],
                    symbolRank: Double(symbolRanks.rank[Int(chunk.symbol[slot])]),
                    typeRank: Double(typeRanks.rank[Int(chunk.type[slot])]), tier: chunk.tier[slot], chunk: Int32(chunkIndex),
                    slot: UInt16(slot))
                if let after {
                    guard Entry.precedes(after, entry, descending: descending) else { continue }
                    afterCursor += 1
                }
                if let threshold, !Entry.precedes(entry, threshold, descending: descending) { continue }
                best.append(entry)
                if best.count >= 2 * keep {
                    best.sort { Entry.precedes($0, $1, descending: descending) }
                    best.removeLast(best.count - keep)
                    threshold = best.last
                }
            }
        }
        best.sort { Entry.precedes($0, $1, descending: descending) }
        if best.count > keep { best.removeLast(best.count - keep) }
        page.total = total
        if offset < best.count {
            page.patterns = best[offset...].map { materialize(chunks[Int($0.chunk)], Int($0.slot)) }
        }
        let more = query.cursor == nil ? total > offset + query.perPage : afterCursor > query.perPage
        if more, let last = page.patterns.last, let lastEntry = best.last {
            page.nextCursor = ScanCursor(
                fingerprint: query.fingerprint, page: pageNumber + 1, primary: lastEntry.primary, key: last.key)
        }
        return page
    }

    @inline(__always)
    func primaryValue(_ chunk: PatternChunk, _ slot: Int, _ key: SortKey) -> Double {
        switch key {
        case .confidence: chunk.confidence[slot]
        case .detectedAt: Double(chunk.detected[slot])
        case .symbol: Double(symbolRanks.rank[Int(chunk.symbol[slot])])
        case .rs: chunk.rs[slot]
        case .volume: chunk.vol[slot]
        }
    }

    /// The cursor as an entry of this snapshot's order. Names are ranked against this snapshot's tables; a name it has
    /// never seen sorts between its neighbours.
    func entry(for cursor: ScanCursor, sortBy: SortKey) -> Entry {
        let symbolRank = rankKey(cursor.key.symbol, table: symbols, ranks: symbolRanks)
        return Entry(
            primary: sortBy == .symbol ? symbolRank : sortBy == .detectedAt ? Double(cursor.key.detectedAt) : cursor.primary,
            detected: cursor.key.detectedAt, symbolRank: symbolRank,
            typeRank: rankKey(cursor.key.patternType, table: types, ranks: typeRanks), tier: cursor.key.tier.rawValue, chunk: -1,
            slot: 0)
    }

    func rankKey(_ name: String, table: InternTable, ranks: (rank: [UInt32], sorted: [UInt32])) -> Double {
        if let id = table.ids[name], Int(id) < ranks.rank.count { return Double(ranks.rank[Int(id)]) }
        var low = 0
        var high = ranks.sorted.count
        while low < high {
            let mid = (low + high) / 2
            if table.names[Int(ranks.sorted[mid])] < name { low = mid + 1 } else { high = mid }
        }
        return Double(low) - 0.5
    }
}

/// A scan's filters compiled against one snapshot: look-up tables for categorical filters and quantised thresholds for
/// numeric ones. Nil when the query can match nothing (a filter names only values the snapshot has never seen).
struct ScanPlan {
    var tierTable: [UInt8]?
    var typeTable: [UInt8]?
    var symbolTable: [UInt8]?
    var sectorTable: [UInt8]?
    var confidence: (q: UInt16, value: Double)
    var rs: (q: UInt16, value: Double)?
    var vol: (q: UInt16, value: Double)?
    var rsi: (low: UInt16, high: UInt16, range: ClosedRange<Double>)?

    init?(query: ScanQuery, snapshot: PatternSnapshot) {
        func table(_ ids: [UInt32], size: Int) -> [UInt8]? {
            guard !ids.isEmpty else { return nil }
            var table = [UInt8](repeating: 0, count: size)
            for id in ids { table[Int(id)] = 1 }
            return table
        }
        if let tiers = query.tiers {
            var t = [UInt8](repeating: 0, count: 256)
            for tier in tiers { t[Int(tier.rawValue)] = 1 }
            tierTable = t
        }
        if let names = query.patternTypes {
            guard let t = table(names.compactMap { snapshot.types.ids[$0] }, size: snapshot.types.names.count) else { return nil }
            typeTable = t
        }
        if let names = query.symbolRestriction {
            guard let t = table(names.compactMap { snapshot.symbols.ids[$0] }, size: snapshot.symbols.names.count) else { return nil }
            symbolTable = t
        }
        if let names = query.sectors {
            guard let t = table(names.compactMap { snapshot.sectors.ids[$0] }, size: 256) else { return nil }
            sectorTable = t
        }
        confidence = (PatternChunk.quantizeConfidence(query.confidenceMin), query.confidenceMin)
        if query.rsMin > 0 { rs = (PatternChunk.quantizeRatio(query.rsMin), query.rsMin) }
        if query.volMin > 0 { vol = (PatternChunk.quantizeRatio(query.volMin), query.volMin) }
        if query.rsiRange != 0...100 {
            rsi = (PatternChunk.quantizeRSI(query.rsiRange.lowerBound), PatternChunk.quantizeRSI(query.rsiRange.upperBound), query.rsiRange)
        }
    }

    /// Writes 1 into `mask[slot]` for every used slot of `chunk` that is alive, unexpired at `now` and passes every filter.
    func evaluate(_ chunk: PatternChunk, now: EpochMillis, into mask: UnsafeMutableBufferPointer<UInt8>) {
        let n = chunk.used
        chunk.alive.withUnsafeBufferPointer { alive in
            for i in 0..<n { mask[i] = alive[i] }
        }
        if let tierTable { Self.lookup(mask, n, chunk.tier, tierTable) }
        if let typeTable { Self.lookup(mask, n, chunk.type, typeTable) }
        if let sectorTable { Self.lookup(mask, n, chunk.sector, sectorTable) }
        if let symbolTable { Self.lookup(mask, n, chunk.symbol, symbolTable) }
        if confidence.value > 0 { Self.atLeast(mask, n, chunk.confidenceQ, chunk.confidence, confidence.q, confidence.value) }
        if let rs { Self.atLeast(mask, n, chunk.rsQ, chunk.rs, rs.q, rs.value) }
        if let vol { Self.atLeast(mask, n, chunk.volQ, chunk.vol, vol.q, vol.value) }
        if let rsi { Self.within(mask, n, chunk.rsiQ, chunk.rsi, rsi.low, rsi.high, rsi.range) }
        if chunk.minExpires <= now {
            chunk.expires.withUnsafeBufferPointer { expires in
                for i in 0..<n { mask[i] &= expires[i] > now ? 1 : 0 }
            }
        }
    }

    @inline(__always)
    static func lookup<T: FixedWidthInteger>(_ mask: UnsafeMutableBufferPointer<UInt8>, _ n: Int, _ column: [T], _ table: [UInt8]) {
        column.withUnsafeBufferPointer { column in
            table.withUnsafeBufferPointer { table in
                for i in 0..<n {
                    let id = Int(column[i])
                    mask[i] &= id < table.count ? table[id] : 0
                }
            }
        }
    }

    /// value >= threshold, decided on the quantised column; the exact column is read only where they tie.
    @inline(__always)
    static func atLeast(
        _ mask: UnsafeMutableBufferPointer<UInt8>, _ n: Int, _ quantized: [UInt16], _ exact: [Double], _ q: UInt16, _ value: Double
    ) {
        var ties: UInt8 = 0
        quantized.withUnsafeBufferPointer { column in
            for i in 0..<n {
                let c = column[i]
                mask[i] &= c >= q ? 1 : 0
                ties |= c == q ? 1 : 0
            }
        }
        guard ties != 0 else { return }
        for i in 0..<n where mask[i] != 0 && quantized[i] == q && !(exact[i] >= value) { mask[i] = 0 }
    }

    @inline(__always)
    static func within(
        _ mask: UnsafeMutableBufferPointer<UInt8>, _ n: Int, _ quantized: [UInt16], _ exact: [Double], _ low: UInt16, _ high: UInt16,
        _ range: ClosedRange<Double>
    ) {
        var ties: UInt8 = 0
        quantized.withUnsafeBufferPointer { column in
            for i in 0..<n {
                let c = column[i]
                mask[i] &= (c >= low && c <= high) ? 1 : 0
                ties |= (c == low || c == high) ? 1 : 0
            }
        }
        guard ties != 0 else { return }
        for i in 0..<n where mask[i] != 0 && (quantized[i] == low || quantized[i] == high) && !range.contains(exact[i]) { mask[i] = 0 }
    }
}
