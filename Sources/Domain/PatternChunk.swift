/// A block of `capacity` pattern slots stored column by column. Filters read one narrow column at a time, so a scan of a
/// million patterns touches a few megabytes instead of the whole rows.
///
/// Numeric filter columns are duplicated as 16-bit quantised values (monotonic in the value): a filter decides on the
/// quantised column and reads the exact `Double` only when the quantised value equals the threshold's.
///
/// Sharing: a published ``PatternSnapshot`` holds chunks; the writer (``PatternIndex``) mutates a chunk only while it is
/// uniquely referenced and clones it otherwise, so a reader's chunk never changes under it.
final class PatternChunk: @unchecked Sendable {
    static let capacity = 1024

    let serial: UInt32
    /// Slots handed out so far (a high-water mark; removed slots stay as holes until the chunk empties).
    var used = 0
    var live = 0
    var alive: [UInt8]
    var symbol: [UInt32]
    var sector: [UInt8]
    var type: [UInt16]
    var tier: [UInt8]
    var confidenceQ: [UInt16]
    var confidence: [Double]
    /// Effective values (defaults when absent); `presence` says which were sent.
    var rsQ: [UInt16]
    var rs: [Double]
    var volQ: [UInt16]
    var vol: [Double]
    var rsiQ: [UInt16]
    var rsi: [Double]
    var detected: [Int64]
    var expires: [Int64]
    /// NaN when absent.
    var price: [Double]
    var change: [Double]
    var presence: [UInt8]
    var rawName: [UInt32]
    var source: [UInt16]
    var extras: [UInt16: [(name: String, value: ExtraValue)]] = [:]
    /// A lower bound of the live slots' expiry: a scan checks expiry per slot only when `now` reaches it.
    var minExpires = Int64.max
    var maxDetected = Int64.min

    static let rsPresent: UInt8 = 1
    static let volPresent: UInt8 = 2
    static let rsiPresent: UInt8 = 4

    init(serial: UInt32) {
        let n = Self.capacity
        self.serial = serial
        alive = Array(repeating: 0, count: n)
        symbol = Array(repeating: 0, count: n)
        sector = Array(repeating: 0, count: n)
        type = Array(repeating: 0, count: n)
        tier = Array(repeating: 0, count: n)
        confidenceQ = Array(repeating: 0, count: n)
        confidence = Array(repeating: 0, count: n)
        rsQ = Array(repeating: 0, count: n)
        rs = Array(repeating: 0, count: n)
        volQ = Array(repeating: 0, count: n)
        vol = Array(repeating: 0, count: n)
        rsiQ = Array(repeating: 0, count: n)
        rsi = Array(repeating: 0, count: n)
        detected = Array(repeating: 0, count: n)
        expires = Array(repeating: 0, count: n)
        price = Array(repeating: 0, count: n)
        change = Array(repeating: 0, count: n)
        presence = Array(repeating: 0, count: n)
        rawName = Array(repeating: 0, count: n)
        source = Array(repeating: 0, count: n)
    }

    init(copying other: PatternChunk) {
        serial = other.serial
        used = other.used
        live = other.live
        alive = other.alive
        symbol = other.symbol
        sector = other.sector
        type = other.type
        tier = other.tier
        confidenceQ = other.confidenceQ
        confidence = other.confidence
        rsQ = other.rsQ
        rs = other.rs
        volQ = other.volQ
        vol = other.vol
        rsiQ = other.rsiQ
        rsi = other.rsi
        detected = other.detected
        expires = other.expires
        price = other.price
        change = other.change
        presence = other.presence
        rawName = other.rawName
        source = other.source
        extras = other.extras
        minExpires = other.minExpires
        maxDetected = other.maxDetected
    }

    // Quantisers: monotonic non-decreasing, so q(x) > q(t) implies x > t and q(x) < q(t) implies x < t.
    @inline(__always) static func quantizeConfidence(_ value: Double) -> UInt16 { clampQ(value * 65_000) }
    @inline(__always) static func quantizeRatio(_ value: Double) -> UInt16 { clampQ(value * 4096) }
    @inline(__always) static func quantizeRSI(_ value: Double) -> UInt16 { clampQ(value * 650) }
    @inline(__always) static func clampQ(_ scaled: Double) -> UInt16 {
        scaled <= 0 ? 0 : scaled >= 65_535 ? 65_535 : UInt16(scaled.rounded(.down))
    }

    func write(_ p: Pattern, at slot: Int, symbol symbolID: UInt32, sector sectorID: UInt8, type typeID: UInt16, rawName rawID: UInt32, source sourceID: UInt16) {
        alive[slot] = 1
        symbol[slot] = symbolID
        sector[slot] = sectorID
        type[slot] = typeID
        tier[slot] = p.tier.rawValue
        confidence[slot] = p.confidence
        confidenceQ[slot] = Self.quantizeConfidence(p.confidence)
        rs[slot] = p.effectiveRelativeStrength
        rsQ[slot] = Self.quantizeRatio(rs[slot])
        vol[slot] = p.effectiveRelativeVolume
        volQ[slot] = Self.quantizeRatio(vol[slot])
        rsi[slot] = p.effectiveRSI
        rsiQ[slot] = Self.quantizeRSI(rsi[slot])
        detected[slot] = p.detectedAt
        expires[slot] = p.expiresAt
        price[slot] = p.price ?? .nan
        change[slot] = p.changePercent ?? .nan
        presence[slot] =
            (p.relativeStrength != nil ? Self.rsPresent : 0) | (p.relativeVolume != nil ? Self.volPresent : 0)
            | (p.rsi != nil ? Self.rsiPresent : 0)
        rawName[slot] = rawID
        source[slot] = sourceID
        extras[UInt16(slot)] = p.extras.isEmpty ? nil : p.extras
        minExpires = min(minExpires, p.expiresAt)
        maxDetected = max(maxDetected, p.detectedAt)
    }

    func recomputeMinExpires() {
        var lowest = Int64.max
        for slot in 0..<used where alive[slot] != 0 { lowest = min(lowest, expires[slot]) }
        minExpires = lowest
    }
}
