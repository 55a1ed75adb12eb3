/// The slots of one full ``PatternChunk`` grouped by symbol, type and tier, so a scan whose most selective filter names a
/// few symbols, types or tiers reads only their slots instead of the whole chunk.
///
/// Built once, when the chunk's last slot is handed out, and never changed: a slot's symbol, type and tier are part of
/// its identity (an update keeps them) and slots are never reused (a chunk is dropped when it empties). Removed slots
/// stay listed; a scan checks `alive`. Clones of the chunk share it.
final class ChunkPostings: Sendable {
    let symbol: SlotPostings?
    let type: SlotPostings?
    let tier: SlotPostings

    /// A column whose id space is larger than this gets no postings (its offset table would outweigh the slots).
    static let maxIDs = 16_384

    init(_ chunk: PatternChunk, symbolIDs: Int, typeIDs: Int) {
        let n = chunk.used
        let symbols = chunk.symbol
        let types = chunk.type
        let tiers = chunk.tier
        symbol = symbolIDs <= Self.maxIDs ? SlotPostings(count: n, ids: symbolIDs) { Int(symbols[$0]) } : nil
        type = typeIDs <= Self.maxIDs ? SlotPostings(count: n, ids: typeIDs) { Int(types[$0]) } : nil
        tier = SlotPostings(count: n, ids: Tier.allCases.count) { Int(tiers[$0]) }
    }

    deinit {
        symbol?.deallocate()
        type?.deallocate()
        tier.deallocate()
    }
}

/// Slots grouped by one column's id, compressed-row style: the slots with id `v` are `slots[start[v]..<start[v + 1]]`.
/// Ids at or above `ids` were interned after the chunk filled, so it holds none of them. One allocation (offsets, then
/// slots), owned by the ``ChunkPostings`` that frees it; plain pointers, so a scan does no reference counting on it.
struct SlotPostings: @unchecked Sendable {
    let ids: Int
    let start: UnsafeMutablePointer<UInt16>
    var slots: UnsafeMutablePointer<UInt16> { start + ids + 1 }

    /// A counting sort of slots `0..<count` by `id(slot)`, each id below `ids`.
    init(count: Int, ids: Int, id: (Int) -> Int) {
        self.ids = ids
        start = UnsafeMutablePointer<UInt16>.allocate(capacity: ids + 1 + count)
        start.initialize(repeating: 0, count: ids + 1 + count)
        for slot in 0..<count { start[id(slot) + 1] &+= 1 }
        for value in 0..<ids { start[value + 1] &+= start[value] }
        var next = [UInt16](UnsafeBufferPointer(start: start, count: ids))
        let slots = self.slots
        for slot in 0..<count {
            let value = id(slot)
            slots[Int(next[value])] = UInt16(truncatingIfNeeded: slot)
            next[value] &+= 1
        }
    }

    func deallocate() { start.deallocate() }

    /// Writes the live slots holding any of `ids` (distinct) into `selection`; returns how many.
    @inline(__always)
    func select(_ wanted: UnsafeBufferPointer<UInt32>, alive: UnsafeMutablePointer<UInt8>, into selection: UnsafeMutablePointer<UInt16>) -> Int {
        var count = 0
        let slots = self.slots
        for id in wanted where Int(id) < ids {
            for k in Int(start[Int(id)])..<Int(start[Int(id) + 1]) {
                let slot = slots[k]
                selection[count] = slot
                count &+= Int(alive[Int(slot)])
            }
        }
        return count
    }
}
