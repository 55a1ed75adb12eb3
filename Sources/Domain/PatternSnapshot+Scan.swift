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
            let (matches, survivors) = plan.evaluate(chunk, now: now, prune: prune, into: selection)
            total += matches
            if after != nil { afterCursor += matches - survivors }  // pruned: below the threshold, so after the cursor
            for j in 0..<survivors {
                let slot = Int(selection[j])
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
                    if let threshold {
                        prune = cut(at: threshold, sortBy: query.sortBy, descending: descending, keepSymbols: keepSymbols)
                    }
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
