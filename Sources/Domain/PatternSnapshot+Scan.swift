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
        let selection = UnsafeMutablePointer<UInt16>.allocate(capacity: PatternChunk.capacity)
        defer { selection.deallocate() }
        let symbolRank = symbolRanks.rank
        let typeRank = typeRanks.rank

        for (chunkIndex, chunk) in chunks.enumerated() {
            let survivors = plan.evaluate(chunk, now: now, into: selection)
            total += survivors
            for j in 0..<survivors {
                let slot = Int(selection[j])
                let primary = primaryValue(chunk, slot, query.sortBy, symbolRank)
                if let threshold {
                    if descending ? primary < threshold.primary : primary > threshold.primary {
                        if after != nil { afterCursor += 1 }
                        continue
                    }
                }
                let entry = Entry(
                    primary: primary, detected: chunk.detected[slot], symbolRank: Double(symbolRank[Int(chunk.symbol[slot])]),
                    typeRank: Double(typeRank[Int(chunk.type[slot])]), tier: chunk.tier[slot], chunk: Int32(chunkIndex),
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
    func primaryValue(_ chunk: PatternChunk, _ slot: Int, _ key: SortKey, _ symbolRank: [UInt32]) -> Double {
        switch key {
        case .confidence: chunk.confidence[slot]
        case .detectedAt: Double(chunk.detected[slot])
        case .symbol: Double(symbolRank[Int(chunk.symbol[slot])])
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
/// numeric ones, ordered so the most selective filter runs first. Nil when the query can match nothing (a filter names
/// only values the snapshot has never seen).
struct ScanPlan {
    enum Step {
        case tier([UInt8])
        case type([UInt8])
        case symbol([UInt8])
        case sector([UInt8])
        case confidence(q: UInt16, value: Double)
        case rs(q: UInt16, value: Double)
        case vol(q: UInt16, value: Double)
        case rsi(low: UInt16, high: UInt16, range: ClosedRange<Double>)
    }

    /// Filters in evaluation order, most selective (by estimate) first.
    var steps: [Step] = []

    init?(query: ScanQuery, snapshot: PatternSnapshot) {
        var weighted: [(Double, Step)] = []
        func table(_ ids: [UInt32], size: Int) -> [UInt8]? {
            guard !ids.isEmpty else { return nil }
            var table = [UInt8](repeating: 0, count: max(size, 1))
            for id in ids { table[Int(id)] = 1 }
            return table
        }
        if let tiers = query.tiers {
            var t = [UInt8](repeating: 0, count: 256)
            for tier in tiers { t[Int(tier.rawValue)] = 1 }
            weighted.append((Double(tiers.count) / Double(Tier.allCases.count), .tier(t)))
        }
        if let names = query.patternTypes {
            let ids = names.compactMap { snapshot.types.ids[$0] }
            guard let t = table(ids, size: snapshot.types.names.count) else { return nil }
            weighted.append((Double(ids.count) / Double(max(1, snapshot.types.names.count)), .type(t)))
        }
        if let names = query.symbolRestriction {
            let ids = names.compactMap { snapshot.symbols.ids[$0] }
            guard let t = table(ids, size: snapshot.symbols.names.count) else { return nil }
            weighted.append((Double(ids.count) / Double(max(1, snapshot.symbols.names.count)), .symbol(t)))
        }
        if let names = query.sectors {
            let ids = names.compactMap { snapshot.sectors.ids[$0] }
            guard let t = table(ids, size: 256) else { return nil }
            weighted.append((Double(ids.count) / Double(max(1, snapshot.sectors.names.count - 1)), .sector(t)))
        }
        if query.confidenceMin > 0 {
            weighted.append(
                (1 - query.confidenceMin, .confidence(q: PatternChunk.quantizeConfidence(query.confidenceMin), value: query.confidenceMin)))
        }
        if query.rsMin > 0 { weighted.append((0.6, .rs(q: PatternChunk.quantizeRatio(query.rsMin), value: query.rsMin))) }
        if query.volMin > 0 { weighted.append((0.6, .vol(q: PatternChunk.quantizeRatio(query.volMin), value: query.volMin))) }
        if query.rsiRange != 0...100 {
            let range = query.rsiRange
            weighted.append(
                ((range.upperBound - range.lowerBound) / 100,
                 .rsi(low: PatternChunk.quantizeRSI(range.lowerBound), high: PatternChunk.quantizeRSI(range.upperBound), range: range)))
        }
        steps = weighted.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Writes the slots of `chunk` that are alive, unexpired at `now` and pass every filter into `selection`; returns
    /// how many. The first filter runs over the whole chunk; each later one only over the survivors so far.
    func evaluate(_ chunk: PatternChunk, now: EpochMillis, into selection: UnsafeMutablePointer<UInt16>) -> Int {
        let n = chunk.used
        var count = 0
        let alive = chunk.alive
        var remaining = steps[...]
        if let first = remaining.popFirst() {
            count = Self.seed(selection, n, alive, first, chunk)
        } else {
            for i in 0..<n {
                selection[count] = UInt16(truncatingIfNeeded: i)
                count &+= Int(alive[i])
            }
        }
        for step in remaining {
            guard count > 0 else { return 0 }
            count = Self.filter(selection, count, step, chunk)
        }
        if count > 0 && chunk.minExpires <= now {
            let expires = chunk.expires
            count = Self.compact(selection, count) { expires[$0] > now ? 1 : 0 }
        }
        return count
    }

    /// The first filter fused with the alive check, branch-free over every used slot.
    @inline(__always)
    static func seed(_ sel: UnsafeMutablePointer<UInt16>, _ n: Int, _ alive: UnsafeMutablePointer<UInt8>, _ step: Step, _ chunk: PatternChunk) -> Int {
        var count = 0
        @inline(__always) func run(_ keep: (Int) -> UInt8) {
            for i in 0..<n {
                sel[count] = UInt16(truncatingIfNeeded: i)
                count &+= Int(alive[i] & keep(i))
            }
        }
        switch step {
        // Look-up tables cover every id of the snapshot, and a chunk holds only ids interned before the snapshot.
        case .tier(let t): t.withUnsafeBufferPointer { t in let c = chunk.tier; run { t[Int(c[$0])] } }
        case .type(let t): t.withUnsafeBufferPointer { t in let c = chunk.type; run { t[Int(c[$0])] } }
        case .symbol(let t): t.withUnsafeBufferPointer { t in let c = chunk.symbol; run { t[Int(c[$0])] } }
        case .sector(let t): t.withUnsafeBufferPointer { t in let c = chunk.sector; run { t[Int(c[$0])] } }
        case .confidence(let q, let value): return denseAtLeast(sel, n, alive, chunk.confidenceQ, chunk.confidence, q, value)
        case .rs(let q, let value): return denseAtLeast(sel, n, alive, chunk.rsQ, chunk.rs, q, value)
        case .vol(let q, let value): return denseAtLeast(sel, n, alive, chunk.volQ, chunk.vol, q, value)
        case .rsi:
            for i in 0..<n {
                sel[count] = UInt16(truncatingIfNeeded: i)
                count &+= Int(alive[i])
            }
            return filter(sel, count, step, chunk)
        }
        return count
    }

    /// A numeric first filter over the whole chunk: a vectorisable byte-mask pass on the quantised column, a scalar
    /// fix-up only for slots that tie with the threshold, then compaction into the selection.
    @inline(__always)
    static func denseAtLeast(
        _ sel: UnsafeMutablePointer<UInt16>, _ n: Int, _ alive: UnsafeMutablePointer<UInt8>, _ quantized: UnsafeMutablePointer<UInt16>,
        _ exact: UnsafeMutablePointer<Double>, _ q: UInt16, _ value: Double
    ) -> Int {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: PatternChunk.capacity) { mask in
            var ties: UInt8 = 0
            for i in 0..<n {
                let c = quantized[i]
                mask[i] = alive[i] & (c >= q ? 1 : 0)
                ties |= c == q ? 1 : 0
            }
            if ties != 0 {
                for i in 0..<n where mask[i] != 0 && quantized[i] == q && !(exact[i] >= value) { mask[i] = 0 }
            }
            var count = 0
            for i in 0..<n {
                sel[count] = UInt16(truncatingIfNeeded: i)
                count &+= Int(mask[i])
            }
            return count
        }
    }

    @inline(__always)
    static func filter(_ sel: UnsafeMutablePointer<UInt16>, _ count: Int, _ step: Step, _ chunk: PatternChunk) -> Int {
        switch step {
        case .tier(let t): return t.withUnsafeBufferPointer { t in let c = chunk.tier; return compact(sel, count) { t[Int(c[$0])] } }
        case .type(let t): return t.withUnsafeBufferPointer { t in let c = chunk.type; return compact(sel, count) { t[Int(c[$0])] } }
        case .symbol(let t): return t.withUnsafeBufferPointer { t in let c = chunk.symbol; return compact(sel, count) { t[Int(c[$0])] } }
        case .sector(let t): return t.withUnsafeBufferPointer { t in let c = chunk.sector; return compact(sel, count) { t[Int(c[$0])] } }
        case .confidence(let q, let value): return atLeast(sel, count, chunk.confidenceQ, chunk.confidence, q, value)
        case .rs(let q, let value): return atLeast(sel, count, chunk.rsQ, chunk.rs, q, value)
        case .vol(let q, let value): return atLeast(sel, count, chunk.volQ, chunk.vol, q, value)
        case .rsi(let low, let high, let range):
            let quantized = chunk.rsiQ
            let exact = chunk.rsi
            return compact(sel, count) { i in
                let c = quantized[i]
                if c == low || c == high { return range.contains(exact[i]) ? 1 : 0 }  // rare: a tie with a bound
                return (c > low ? 1 : 0) & (c < high ? 1 : 0)
            }
        }
    }

    /// value >= threshold, decided on the quantised column; the exact column is read only where they tie.
    @inline(__always)
    static func atLeast(
        _ sel: UnsafeMutablePointer<UInt16>, _ count: Int, _ quantized: UnsafeMutablePointer<UInt16>, _ exact: UnsafeMutablePointer<Double>,
        _ q: UInt16, _ value: Double
    ) -> Int {
        compact(sel, count) { i in
            let c = quantized[i]
            if c == q { return exact[i] >= value ? 1 : 0 }  // rare: a tie with the threshold
            return c > q ? 1 : 0
        }
    }

    /// Keeps the selected slots for which `keep` holds, in order, branch-free on the store.
    @inline(__always)
    static func compact(_ sel: UnsafeMutablePointer<UInt16>, _ count: Int, _ keep: (Int) -> UInt8) -> Int {
        var kept = 0
        for j in 0..<count {
            let slot = sel[j]
            sel[kept] = slot
            kept &+= Int(keep(Int(slot)))
        }
        return kept
    }
}
