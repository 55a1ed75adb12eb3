extension PatternSnapshot {
    /// One candidate in the scan order: primary sort value, then detection time descending, then symbol, type and tier
    /// ascending. Identity is part of the order, so it is total and pages never overlap. The order is precomputed as
    /// three unsigned keys (the scan's direction folded in), so ranking compares integers.
    struct Entry {
        var major: UInt64
        var minor: UInt64
        var names: UInt64
        var primary: Double
        var chunk: Int32
        var slot: UInt16

        /// `symbolRank` and `typeRank` as ``PatternSnapshot/rankKey(_:table:ranks:)`` gives them (a name the snapshot
        /// lacks has a rank ending in .5).
        @inline(__always)
        init(primary: Double, detected: Int64, symbolRank: Double, typeRank: Double, tier: UInt8, descending: Bool, chunk: Int32, slot: UInt16) {
            let ascending = Self.orderBits(primary)
            major = descending ? ~ascending : ascending
            minor = ~(UInt64(bitPattern: detected) ^ (1 << 63))  // later first
            names = UInt64(symbolRank * 2 + 1) << 36 | UInt64(typeRank * 2 + 1) << 8 | UInt64(tier)
            self.primary = primary
            self.chunk = chunk
            self.slot = slot
        }

        /// A double's total order as an unsigned integer (-0 with +0).
        @inline(__always)
        static func orderBits(_ value: Double) -> UInt64 {
            let bits = (value == 0 ? 0.0 : value).bitPattern
            return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
        }

        @inline(__always)
        static func < (a: Entry, b: Entry) -> Bool {
            if a.major != b.major { return a.major < b.major }
            if a.minor != b.minor { return a.minor < b.minor }
            return a.names < b.names
        }

        /// Reorders `entries` so that position `k` holds what a full sort would put there, nothing before it follows
        /// it and nothing after it precedes it (quickselect, expected linear time).
        static func select(_ entries: inout [Entry], _ k: Int) {
            entries.withUnsafeMutableBufferPointer { b in
                var low = 0
                var high = b.count - 1
                while high > low {
                    let mid = low + (high - low) / 2
                    if b[mid] < b[low] { b.swapAt(mid, low) }
                    if b[high] < b[low] { b.swapAt(high, low) }
                    if b[high] < b[mid] { b.swapAt(high, mid) }
                    let pivot = b[mid]
                    var i = low
                    var j = high
                    while i <= j {
                        while b[i] < pivot { i += 1 }
                        while pivot < b[j] { j -= 1 }
                        if i <= j {
                            b.swapAt(i, j)
                            i += 1
                            j -= 1
                        }
                    }
                    if k <= j { high = j } else if k >= i { low = i } else { return }
                }
            }
        }
    }

    /// Below this many survivors left in a chunk, a tightened cut is applied slot by slot rather than in a pass.
    static let retainAtLeast = 64

    /// Runs a scan at `now`: filters, total, the requested page in order, the cursor of the next page, and how long this
    /// answer holds (see ``ScanPage/validUntil``).
    public func scan(_ query: ScanQuery, now: EpochMillis) -> ScanPage {
        let offset = query.cursor == nil ? (query.page - 1) * query.perPage : 0
        let keep = offset + query.perPage
        let pageNumber = query.cursor?.page ?? query.page
        var page = ScanPage(patterns: [], total: 0, page: pageNumber, perPage: query.perPage, nextCursor: nil)
        guard let plan = ScanPlan(query: query, snapshot: self) else { return page }

        let descending = query.sortOrder == .desc
        let after = query.cursor.map { entry(for: $0, sortBy: query.sortBy, descending: descending) }
        var best: [Entry] = []
        best.reserveCapacity(min(2 * keep, 4096))
        var threshold: Entry?
        var total = 0
        var afterCursor = 0
        let selection = UnsafeMutablePointer<UInt16>.allocate(capacity: chunkCapacity)
        defer { selection.deallocate() }
        let symbolRank = symbolRanks.rank
        let typeRank = typeRanks.rank

        // Once a threshold exists, survivors are first tested against its cut-off on a narrow column (see
        // `ScanPlan.Prune`); densely evaluated chunks apply it before their survivors are even listed.
        var prune: ScanPlan.Prune?
        let keepSymbols = query.sortBy == .symbol ? UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, symbolRank.count)) : nil
        defer { keepSymbols?.deallocate() }

        for (chunkIndex, chunk) in chunks.enumerated() {
            let (matches, selected, changes) = plan.evaluate(chunk, now: now, prune: prune, into: selection)
            page.validUntil = min(page.validUntil, changes)
            var survivors = selected
            total += matches
            if after != nil { afterCursor += matches - survivors }  // pruned: below the threshold, so after the cursor
            // The first chunk with plenty of survivors seeds the cut from their quantised sort values: at least `keep`
            // of them are at or beyond its `keep`-th best value, so anything strictly short of it cannot make the page.
            // Without it the cut starts from the first 2 × keep survivors in slot order and tightens over many rounds.
            if prune == nil, after == nil, survivors >= 2 * keep, let seeded = seedCut(selection, survivors, chunk, query.sortBy, keep, descending) {
                survivors = seeded.retain(selection, survivors, in: chunk)
                prune = seeded
            }
            var j = 0
            while j < survivors {
                let slot = Int(selection[j])
                j += 1
                if let prune, prune.rejects(chunk, slot) {
                    if after != nil { afterCursor += 1 }
                    continue
                }
                let primary = primaryValue(chunk, slot, query.sortBy, symbolRank)
                if let threshold {
                    if descending ? primary < threshold.primary : primary > threshold.primary {
                        if after != nil { afterCursor += 1 }
                        continue
                    }
                }
                let entry = Entry(
                    primary: primary, detected: chunk.detected[slot], symbolRank: Double(symbolRank[Int(chunk.symbol[slot])]),
                    typeRank: Double(typeRank[Int(chunk.type[slot])]), tier: chunk.tier[slot], descending: descending,
                    chunk: Int32(chunkIndex), slot: UInt16(slot))
                if let after {
                    guard after < entry else { continue }
                    afterCursor += 1
                }
                if let threshold, !(entry < threshold) { continue }
                best.append(entry)
                if best.count >= 2 * keep {
                    Entry.select(&best, keep - 1)
                    best.removeLast(best.count - keep)
                    threshold = best.last
                    if let threshold {
                        let newPrune = cut(at: threshold, sortBy: query.sortBy, descending: descending, keepSymbols: keepSymbols)
                        prune = newPrune
                        // The rest of this chunk's survivors meet the new cut in one pass instead of one by one.
                        if survivors - j >= Self.retainAtLeast {
                            let kept = newPrune.retain(selection + j, survivors - j, in: chunk)
                            if after != nil { afterCursor += survivors - j - kept }
                            survivors = j + kept
                        }
                    }
                }
            }
        }
        if best.count > keep {
            Entry.select(&best, keep - 1)
            best.removeLast(best.count - keep)
        }
        if offset < best.count {
            if offset > 0 { Entry.select(&best, offset) }
            best[offset...].sort(by: <)
        }
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

    /// The cut-off of `threshold` on the sort key; for a symbol sort it fills `keepSymbols` (one byte per symbol id).
    func cut(at threshold: Entry, sortBy: SortKey, descending: Bool, keepSymbols: UnsafeMutablePointer<UInt8>?) -> ScanPlan.Prune {
        let cut: ScanPlan.Prune.Cut =
            switch sortBy {
            case .confidence: .quantized(.confidence, PatternChunk.quantizeConfidence(threshold.primary))
            case .rs: .quantized(.rs, PatternChunk.quantizeRatio(threshold.primary))
            case .volume: .quantized(.vol, PatternChunk.quantizeRatio(threshold.primary))
            case .detectedAt: .detected(PatternChunk.quantizeDetected(Int64(threshold.primary)))
            case .symbol:
                {
                    let keep = keepSymbols!
                    for (id, rank) in symbolRanks.rank.enumerated() {
                        let r = Double(rank)
                        keep[id] = (descending ? r >= threshold.primary : r <= threshold.primary) ? 1 : 0
                    }
                    return .symbol(keep: keep)
                }()
            }
        return ScanPlan.Prune(cut: cut, descending: descending)
    }

    /// A cut at the `keep`-th best quantised sort value of the selected slots; nil for the symbol sort (no column).
    func seedCut(
        _ selection: UnsafeMutablePointer<UInt16>, _ count: Int, _ chunk: PatternChunk, _ sortBy: SortKey, _ keep: Int, _ descending: Bool
    ) -> ScanPlan.Prune? {
        let cut: ScanPlan.Prune.Cut
        switch sortBy {
        case .confidence: cut = .quantized(.confidence, ScanPlan.kthBest(selection, count, chunk.confidenceQ, keep, descending: descending))
        case .rs: cut = .quantized(.rs, ScanPlan.kthBest(selection, count, chunk.rsQ, keep, descending: descending))
        case .volume: cut = .quantized(.vol, ScanPlan.kthBest(selection, count, chunk.volQ, keep, descending: descending))
        case .detectedAt: cut = .detected(ScanPlan.kthBest(selection, count, chunk.detectedS, keep, descending: descending))
        case .symbol: return nil
        }
        return ScanPlan.Prune(cut: cut, descending: descending)
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
    func entry(for cursor: ScanCursor, sortBy: SortKey, descending: Bool) -> Entry {
        let symbolRank = rankKey(cursor.key.symbol, table: symbols, ranks: symbolRanks)
        return Entry(
            primary: sortBy == .symbol ? symbolRank : sortBy == .detectedAt ? Double(cursor.key.detectedAt) : cursor.primary,
            detected: cursor.key.detectedAt, symbolRank: symbolRank,
            typeRank: rankKey(cursor.key.patternType, table: types, ranks: typeRanks), tier: cursor.key.tier.rawValue,
            descending: descending, chunk: -1, slot: 0)
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
