/// A scan's filters compiled against one snapshot: id sets and look-up tables for categorical filters, quantised
/// thresholds for numeric ones, ordered so the most selective filter (by estimate) runs first. Nil when the query can
/// match nothing (a filter names only values the snapshot has never seen).
///
/// Per chunk, ``evaluate(_:now:prune:into:)`` picks one of two ways in:
/// - **postings**: the first filter names a few symbols, types or tiers and the chunk is full, so its
///   ``ChunkPostings`` list exactly the candidate slots;
/// - **dense**: byte masks over the whole chunk, one branch-free (vectorisable) pass per filter while the estimated
///   survivors stay many.
///
/// Either way the remaining filters then run over the surviving slots only, and expiry is checked last.
///
/// The plan's tables live in memory it allocates and frees itself, so the per-chunk loops copy plain values and do no
/// reference counting.
final class ScanPlan {
    enum Column { case tier, type, symbol, sector }
    enum Measure { case confidence, rs, vol }

    enum Step {
        /// The column's id is one of `ids` (distinct, ascending); `table[id]` is 1 for those ids.
        case member(Column, table: UnsafePointer<UInt8>, ids: UnsafeBufferPointer<UInt32>)
        /// measure >= value; `q` is its quantised threshold, `exact` when the quantised comparison alone decides.
        case atLeast(Measure, q: UInt16, value: Double, exact: Bool)
        /// RSI within `range`, on the RSI code (`PatternChunk.encodeRSI`); slots whose code equals a bound that is not
        /// exact need the exact value.
        case rsi(low: UInt16, high: UInt16, range: ClosedRange<Double>, lowExact: Bool, highExact: Bool)
    }

    typealias Weighted = (fraction: Double, step: Step)

    /// Filters in evaluation order with the estimated fraction of patterns each keeps.
    let steps: UnsafeMutableBufferPointer<Weighted>
    private var allocations: [UnsafeMutableRawPointer] = []

    /// A first filter keeping at most this fraction is answered from the chunk's postings. (Seeding a dense mask from
    /// the postings instead, for fractions of 2 to 30%, measured slower at 1M patterns: reading the listed slots of a
    /// large chunk one by one hits cache, while every dense pass streams whole columns.)
    static let postingsFraction = 0.3
    /// A numeric filter runs densely while at least this fraction is estimated to survive; a categorical one (a table
    /// look-up per slot, not vectorisable) only as the first filter or while half survive.
    static let denseNumericFraction = 0.05
    static let denseMemberFraction = 0.5

    init?(query: ScanQuery, snapshot: PatternSnapshot) {
        var allocations: [UnsafeMutableRawPointer] = []
        guard let weighted = Self.compile(query, snapshot, &allocations) else {
            for pointer in allocations { pointer.deallocate() }
            return nil
        }
        steps = UnsafeMutableBufferPointer<Weighted>.allocate(capacity: weighted.count)
        _ = steps.initialize(from: weighted.sorted { $0.fraction < $1.fraction })
        self.allocations = allocations
    }

    deinit {
        steps.deallocate()
        for pointer in allocations { pointer.deallocate() }
    }

    /// The query's filters with their estimated fractions, unordered; nil when it can match nothing.
    private static func compile(
        _ query: ScanQuery, _ snapshot: PatternSnapshot, _ allocations: inout [UnsafeMutableRawPointer]
    ) -> [Weighted]? {
        var weighted: [Weighted] = []
        func member(_ column: Column, _ ids: [UInt32], size: Int, of total: Int) -> Bool {
            guard !ids.isEmpty else { return false }
            let table = UnsafeMutablePointer<UInt8>.allocate(capacity: max(size, 1))
            table.initialize(repeating: 0, count: max(size, 1))
            for id in ids { table[Int(id)] = 1 }
            let sorted = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: ids.count)
            _ = sorted.initialize(from: ids.sorted())
            allocations += [UnsafeMutableRawPointer(table), UnsafeMutableRawPointer(sorted.baseAddress!)]
            weighted.append((Double(ids.count) / Double(max(1, total)), .member(column, table: table, ids: UnsafeBufferPointer(sorted))))
            return true
        }
        if let tiers = query.tiers {
            guard member(.tier, tiers.map { UInt32($0.rawValue) }, size: 256, of: Tier.allCases.count) else { return nil }
        }
        if let names = query.patternTypes {
            let ids = names.compactMap { snapshot.types.ids[$0] }
            guard member(.type, ids, size: snapshot.types.names.count, of: snapshot.types.names.count) else { return nil }
        }
        if let names = query.symbolRestriction {
            let ids = names.compactMap { snapshot.symbols.ids[$0] }
            guard member(.symbol, ids, size: snapshot.symbols.names.count, of: snapshot.symbols.names.count) else { return nil }
        }
        if let names = query.sectors {
            let ids = names.compactMap { snapshot.sectors.ids[$0] }
            guard member(.sector, ids, size: 256, of: snapshot.sectors.names.count - 1) else { return nil }
        }
        func atLeast(_ measure: Measure, _ value: Double, scale: Double, fraction: Double) {
            let (q, exact) = PatternChunk.lowerBound(value, scale: scale)
            weighted.append((fraction, .atLeast(measure, q: q, value: value, exact: exact)))
        }
        if query.confidenceMin > 0 {
            atLeast(.confidence, query.confidenceMin, scale: PatternChunk.confidenceScale, fraction: 1 - query.confidenceMin)
        }
        if query.rsMin > 0 { atLeast(.rs, query.rsMin, scale: PatternChunk.ratioScale, fraction: 0.6) }
        if query.volMin > 0 { atLeast(.vol, query.volMin, scale: PatternChunk.ratioScale, fraction: 0.6) }
        if query.rsiRange != 0...100 {
            let range = query.rsiRange
            let low = PatternChunk.rsiBound(range.lowerBound)
            let high = PatternChunk.rsiBound(range.upperBound)
            weighted.append(
                ((range.upperBound - range.lowerBound) / 100,
                 .rsi(low: low.q, high: high.q, range: range, lowExact: low.exact, highExact: high.exact)))
        }
        return weighted
    }

    /// The scan's current cut-off on its sort key, as a cheap test: a survivor it rejects is strictly worse than the
    /// threshold entry (quantisers are monotonic, so a quantised value on the wrong side of the threshold's implies the
    /// exact one is too). Survivors it keeps may still lose to the threshold on the exact comparison.
    struct Prune {
        enum Cut {
            /// The quantised column of `Measure` against the threshold's quantised value.
            case quantized(Measure, UInt16)
            /// Detection time in seconds against the threshold's.
            case detected(UInt32)
            /// `keep[symbol id]` is 1 for the symbols whose rank is not beyond the threshold's.
            case symbol(keep: UnsafePointer<UInt8>)
        }

        var cut: Cut
        var descending: Bool

        @inline(__always)
        func rejects(_ chunk: PatternChunk, _ slot: Int) -> Bool {
            switch cut {
            case .quantized(let measure, let q):
                let value = chunk.columns(measure).0[slot]
                return descending ? value < q : value > q
            case .detected(let q):
                let value = chunk.detectedS[slot]
                return descending ? value < q : value > q
            case .symbol(let keep): return keep[Int(chunk.symbol[slot])] == 0
            }
        }

        /// Drops from `selection[0..<count]` every slot ``rejects(_:_:)`` would reject, keeping the others in order;
        /// returns how many are kept. One branch-free pass: cheaper than testing the slots one by one in a scan loop.
        @inline(__always)
        func retain(_ selection: UnsafeMutablePointer<UInt16>, _ count: Int, in chunk: PatternChunk) -> Int {
            switch cut {
            case .quantized(let measure, let q): return Self.retainWithin(selection, count, chunk.columns(measure).0, q, descending)
            case .detected(let q): return Self.retainWithin(selection, count, chunk.detectedS, q, descending)
            case .symbol(let keep):
                let symbols = chunk.symbol
                return ScanPlan.compact(selection, count) { keep[Int(symbols[$0])] }
            }
        }

        @inline(__always)
        static func retainWithin<T: FixedWidthInteger>(
            _ selection: UnsafeMutablePointer<UInt16>, _ count: Int, _ column: UnsafeMutablePointer<T>, _ q: T, _ descending: Bool
        ) -> Int {
            descending
                ? ScanPlan.compact(selection, count) { column[$0] >= q ? 1 : 0 }
                : ScanPlan.compact(selection, count) { column[$0] <= q ? 1 : 0 }
        }

        /// Clears the mask of every slot ``rejects(_:_:)`` would reject; branch-free over the chunk.
        @inline(__always)
        func apply(to mask: UnsafeMutablePointer<UInt8>, _ n: Int, _ chunk: PatternChunk) {
            switch cut {
            case .quantized(let measure, let q): Self.keepWithin(mask, n, chunk.columns(measure).0, q, descending)
            case .detected(let q): Self.keepWithin(mask, n, chunk.detectedS, q, descending)
            case .symbol(let keep):
                let symbols = chunk.symbol
                for i in 0..<n { mask[i] &= keep[Int(symbols[i])] }
            }
        }

        @inline(__always)
        static func keepWithin<T: FixedWidthInteger>(
            _ mask: UnsafeMutablePointer<UInt8>, _ n: Int, _ column: UnsafeMutablePointer<T>, _ q: T, _ descending: Bool
        ) {
            if descending {
                for i in 0..<n { mask[i] &= column[i] >= q ? 1 : 0 }
            } else {
                for i in 0..<n { mask[i] &= column[i] <= q ? 1 : 0 }
            }
        }
    }

    /// Finds the slots of `chunk` that are alive, unexpired at `now` and pass every filter: `matches` counts them all;
    /// `selection` receives the first `selected` of them, in no particular order: all of them, or, when `prune` is given
    /// (and the chunk was evaluated densely or many matched), only those `prune` does not rule out. `changes` is a time
    /// before which the chunk's answer stays the same: the earliest expiry after `now` among the matches, or the chunk's
    /// earliest expiry (a lower bound of theirs) when no slot of the chunk has expired yet.
    func evaluate(
        _ chunk: PatternChunk, now: EpochMillis, prune: Prune?, into selection: UnsafeMutablePointer<UInt16>
    ) -> (matches: Int, selected: Int, changes: EpochMillis) {
        var remaining = steps[...]  // a slice of an unsafe buffer: no reference counting
        if let first = remaining.first, let (postings, ids) = Self.postings(for: first, in: chunk) {
            remaining.removeFirst()
            let count = postings.select(ids, alive: chunk.alive, into: selection)
            return Self.finish(chunk, now: now, remaining, prune: prune, selection, count)
        }
        let dense = Self.dense(chunk, now: now, &remaining, prune: prune, into: selection)
        guard let count = dense.count else { return (dense.matches, dense.selected, dense.changes) }
        return Self.finish(chunk, now: now, remaining, prune: prune, selection, count)
    }

    /// The filters not yet applied, then expiry, over the selected slots; then `prune`, when many are left, in one
    /// branch-free pass (cheaper than the scan loop's test per slot).
    @inline(__always)
    static func finish(
        _ chunk: PatternChunk, now: EpochMillis, _ remaining: Slice<UnsafeMutableBufferPointer<Weighted>>, prune: Prune?,
        _ selection: UnsafeMutablePointer<UInt16>, _ start: Int
    ) -> (matches: Int, selected: Int, changes: EpochMillis) {
        var count = start
        for (_, step) in remaining {
            guard count > 0 else { return (0, 0, .max) }
            count = filter(selection, count, step, chunk)
        }
        guard count > 0 else { return (0, 0, .max) }
        var changes = chunk.minExpires
        if chunk.minExpires <= now {
            let expires = chunk.expires
            changes = .max
            count = compact(selection, count) { slot in
                let expiry = expires[slot]
                guard expiry > now else { return 0 }
                changes = min(changes, expiry)
                return 1
            }
        }
        guard let prune, count >= PatternSnapshot.retainAtLeast else { return (count, count, changes) }
        return (count, prune.retain(selection, count, in: chunk), changes)
    }

    /// The chunk's postings for `first` when it is a selective symbol, type or tier filter and the chunk has them.
    @inline(__always)
    static func postings(for first: Weighted, in chunk: PatternChunk) -> (SlotPostings, UnsafeBufferPointer<UInt32>)? {
        guard first.fraction <= postingsFraction, let postings = chunk.postings, case .member(let column, _, let ids) = first.step
        else { return nil }
        switch column {
        case .symbol: return postings.symbol.map { ($0, ids) }
        case .type: return postings.type.map { ($0, ids) }
        case .tier: return (postings.tier, ids)
        case .sector: return nil
        }
    }

    /// Masks the whole chunk with the leading filters while many slots are estimated to survive (at least the first
    /// filter), consuming the filters it applied. When that was every filter, it also applies expiry and `prune`
    /// densely and returns the final counts (`count` nil) with `changes` as ``evaluate(_:now:prune:into:)`` gives it;
    /// otherwise it compacts the mask into `selection` and returns its size as `count` for
    /// ``finish(_:now:_:prune:_:_:)``.
    static func dense(
        _ chunk: PatternChunk, now: EpochMillis, _ remaining: inout Slice<UnsafeMutableBufferPointer<Weighted>>, prune: Prune?,
        into selection: UnsafeMutablePointer<UInt16>
    ) -> (count: Int?, matches: Int, selected: Int, changes: EpochMillis) {
        let n = chunk.used
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * chunk.capacity) { buffer in
            let mask = buffer.baseAddress!
            let ties = mask + chunk.capacity
            mask.update(from: chunk.alive, count: n)
            var surviving = 1.0
            while let (fraction, step) = remaining.first {
                if case .member = step {
                    guard surviving == 1 || surviving >= denseMemberFraction else { break }
                } else {
                    guard surviving >= denseNumericFraction else { break }
                }
                apply(step, to: mask, n, chunk, ties: ties)
                surviving *= fraction
                remaining.removeFirst()
            }
            guard remaining.isEmpty else { return (compactMask(mask, n, into: selection), 0, 0, 0) }
            var changes = chunk.minExpires
            if chunk.minExpires <= now {
                // Expiry and the earliest expiry after `now` among the matches, in one branch-free pass.
                let expires = chunk.expires
                changes = .max
                for i in 0..<n {
                    let expiry = expires[i]
                    let kept = mask[i] & (expiry > now ? 1 : 0)
                    mask[i] = kept
                    changes = min(changes, kept != 0 ? expiry : .max)
                }
            }
            guard let prune else {
                let count = compactMask(mask, n, into: selection)
                return (nil, count, count, changes)
            }
            var matches = 0  // counted before pruning: pruned slots still match
            for i in 0..<n { matches &+= Int(mask[i]) }
            if matches > 0 { prune.apply(to: mask, n, chunk) }
            return (nil, matches, compactMask(mask, n, into: selection), changes)
        }
    }

    /// The slots whose mask byte is 1, in order; eight bytes at a time, skipping words that are all zero.
    @inline(__always)
    static func compactMask(_ mask: UnsafeMutablePointer<UInt8>, _ n: Int, into selection: UnsafeMutablePointer<UInt16>) -> Int {
        var count = 0
        var i = 0
        let raw = UnsafeRawPointer(mask)
        while i + 8 <= n {
            if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) != 0 {
                for k in i..<(i + 8) {
                    selection[count] = UInt16(truncatingIfNeeded: k)
                    count &+= Int(mask[k])
                }
            }
            i += 8
        }
        for k in i..<n {
            selection[count] = UInt16(truncatingIfNeeded: k)
            count &+= Int(mask[k])
        }
        return count
    }

    /// Calls `body` with every index below `n` whose byte in `flags` is not 0, skipping all-zero words.
    @inline(__always)
    static func forEachFlagged(_ flags: UnsafeMutablePointer<UInt8>, _ n: Int, _ body: (Int) -> Void) {
        var i = 0
        let raw = UnsafeRawPointer(flags)
        while i + 8 <= n {
            if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) != 0 {
                for k in i..<(i + 8) where flags[k] != 0 { body(k) }
            }
            i += 8
        }
        for k in i..<n where flags[k] != 0 { body(k) }
    }

    /// Clears the mask of every slot that fails `step`. `ties` is scratch space for `n` bytes.
    @inline(__always)
    static func apply(_ step: Step, to mask: UnsafeMutablePointer<UInt8>, _ n: Int, _ chunk: PatternChunk, ties: UnsafeMutablePointer<UInt8>) {
        switch step {
        case .member(let column, let table, let ids):
            // Look-up tables cover every id of the snapshot, and a chunk holds only ids interned before the snapshot.
            switch column {
            case .tier: maskMember(mask, n, chunk.tier, table, ids)
            case .type: maskMember(mask, n, chunk.type, table, ids)
            case .symbol: maskMember(mask, n, chunk.symbol, table, ids)
            case .sector: maskMember(mask, n, chunk.sector, table, ids)
            }
        case .atLeast(let measure, let q, let value, let exact):
            let (quantized, values) = chunk.columns(measure)
            if exact {
                for i in 0..<n { mask[i] &= quantized[i] >= q ? 1 : 0 }
                return
            }
            // The quantised comparison decides every slot but those equal to the threshold's, which are flagged in
            // `ties` (a vectorisable pass) and then decided one by one on the exact value.
            var any: UInt8 = 0
            for i in 0..<n {
                let c = quantized[i]
                let tie: UInt8 = c == q ? 1 : 0
                mask[i] &= c >= q ? 1 : 0
                ties[i] = mask[i] & tie
                any |= tie
            }
            if any != 0 { forEachFlagged(ties, n) { if !(values[$0] >= value) { mask[$0] = 0 } } }
        case .rsi(let low, let high, let range, let lowExact, let highExact):
            let codes = chunk.rsiQ
            if lowExact && highExact {  // the usual case: whole bounds
                for i in 0..<n {
                    let c = codes[i]
                    mask[i] &= (c >= low ? 1 : 0) & (c <= high ? 1 : 0)
                }
                return
            }
            let values = chunk.rsi
            // The bounds that can tie: both, or the inexact one twice.
            let tieA = lowExact ? high : low
            let tieB = highExact ? low : high
            var any: UInt8 = 0
            for i in 0..<n {
                let c = codes[i]
                let tie: UInt8 = (c == tieA ? 1 : 0) | (c == tieB ? 1 : 0)
                mask[i] &= (c >= low ? 1 : 0) & (c <= high ? 1 : 0)
                ties[i] = mask[i] & tie
                any |= tie
            }
            if any != 0 { forEachFlagged(ties, n) { if !range.contains(values[$0]) { mask[$0] = 0 } } }
        }
    }

    /// Up to four ids: equality compares, which vectorise; more: the look-up table.
    @inline(__always)
    static func maskMember<T: FixedWidthInteger>(
        _ mask: UnsafeMutablePointer<UInt8>, _ n: Int, _ column: UnsafeMutablePointer<T>, _ table: UnsafePointer<UInt8>,
        _ ids: UnsafeBufferPointer<UInt32>
    ) {
        if ids.count <= 4 {
            let a = T(truncatingIfNeeded: ids[0])
            let b = T(truncatingIfNeeded: ids[min(1, ids.count - 1)])
            let c = T(truncatingIfNeeded: ids[min(2, ids.count - 1)])
            let d = T(truncatingIfNeeded: ids[min(3, ids.count - 1)])
            for i in 0..<n {
                let v = column[i]
                mask[i] &= (v == a ? 1 : 0) | (v == b ? 1 : 0) | (v == c ? 1 : 0) | (v == d ? 1 : 0)
            }
        } else {
            for i in 0..<n { mask[i] &= table[Int(column[i])] }
        }
    }

    /// Keeps the selected slots that pass `step`.
    @inline(__always)
    static func filter(_ sel: UnsafeMutablePointer<UInt16>, _ count: Int, _ step: Step, _ chunk: PatternChunk) -> Int {
        switch step {
        case .member(let column, let t, _):
            switch column {
            case .tier: let c = chunk.tier; return compact(sel, count) { t[Int(c[$0])] }
            case .type: let c = chunk.type; return compact(sel, count) { t[Int(c[$0])] }
            case .symbol: let c = chunk.symbol; return compact(sel, count) { t[Int(c[$0])] }
            case .sector: let c = chunk.sector; return compact(sel, count) { t[Int(c[$0])] }
            }
        case .atLeast(let measure, let q, let value, let exact):
            let (quantized, values) = chunk.columns(measure)
            if exact { return compact(sel, count) { quantized[$0] >= q ? 1 : 0 } }
            return compact(sel, count) { i in
                let c = quantized[i]
                if c == q { return values[i] >= value ? 1 : 0 }  // rare: a tie with the threshold
                return c > q ? 1 : 0
            }
        case .rsi(let low, let high, let range, let lowExact, let highExact):
            let codes = chunk.rsiQ
            if lowExact && highExact { return compact(sel, count) { (codes[$0] >= low ? 1 : 0) & (codes[$0] <= high ? 1 : 0) } }
            let exact = chunk.rsi
            return compact(sel, count) { i in
                let c = codes[i]
                if (c == low && !lowExact) || (c == high && !highExact) { return range.contains(exact[i]) ? 1 : 0 }  // rare
                return (c >= low ? 1 : 0) & (c <= high ? 1 : 0)
            }
        }
    }

    /// The `k`-th best (1-based, `k <= count`) of `column` over `selection[0..<count]`: the `k`-th largest when
    /// `descending`, else the `k`-th smallest. A radix select a byte at a time from the top, over a gathered copy: one
    /// sequential pass per byte of `T`, no comparisons to mispredict.
    static func kthBest<T: FixedWidthInteger & UnsignedInteger>(
        _ selection: UnsafeMutablePointer<UInt16>, _ count: Int, _ column: UnsafeMutablePointer<T>, _ k: Int, descending: Bool
    ) -> T {
        precondition(k >= 1 && k <= count, "k must be within the selection")
        return withUnsafeTemporaryAllocation(of: T.self, capacity: count) { values in
            for j in 0..<count { values[j] = column[Int(selection[j])] }
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { histogram in
                var prefix: T = 0
                var prefixMask: T = 0
                var rank = k  // wanted: the rank-th best of the values that share `prefix`
                for level in stride(from: T.bitWidth / 8 - 1, through: 0, by: -1) {
                    let shift = T(level * 8)
                    histogram.initialize(repeating: 0)
                    for j in 0..<count {
                        let v = values[j]
                        histogram[Int(truncatingIfNeeded: (v >> shift) & 0xFF)] &+= v & prefixMask == prefix ? 1 : 0
                    }
                    var byte = descending ? 255 : 0
                    while histogram[byte] < rank {
                        rank -= histogram[byte]
                        byte += descending ? -1 : 1
                    }
                    prefix |= T(byte) << shift
                    prefixMask |= T(0xFF) << shift
                }
                return prefix
            }
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

extension PatternChunk {
    /// The quantised and exact columns of a numeric filter.
    @inline(__always)
    func columns(_ measure: ScanPlan.Measure) -> (UnsafeMutablePointer<UInt16>, UnsafeMutablePointer<Double>) {
        switch measure {
        case .confidence: (confidenceQ, confidence)
        case .rs: (rsQ, rs)
        case .vol: (volQ, vol)
        }
    }
}
