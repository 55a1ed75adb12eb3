/// Strings stored once and referred to by a dense integer id. Ids never change and are never reused, so ids held by an
/// older snapshot stay valid in a newer one.
struct InternTable: Sendable {
    private(set) var names: [String] = []
    private(set) var ids: [String: UInt32] = [:]

    mutating func intern(_ name: String) -> UInt32 {
        if let id = ids[name] { return id }
        let id = UInt32(names.count)
        names.append(name)
        ids[name] = id
        return id
    }

    /// Rank of each id in ascending name order, and the ids in that order.
    func ranks() -> (rank: [UInt32], sorted: [UInt32]) {
        let sorted = names.indices.sorted { names[$0] < names[$1] }.map { UInt32($0) }
        var rank = [UInt32](repeating: 0, count: names.count)
        for (position, id) in sorted.enumerated() { rank[Int(id)] = UInt32(position) }
        return (rank, sorted)
    }
}
