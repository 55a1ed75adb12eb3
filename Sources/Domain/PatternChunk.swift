/// A block of `capacity` pattern slots stored column by column. Filters read one narrow column at a time, so a scan of a
/// million patterns touches a few megabytes instead of the whole rows.
///
/// Numeric filter columns are duplicated as 16-bit quantised values (monotonic in the value): a filter decides on the
/// quantised column and reads the exact `Double` only when the quantised value equals the threshold's.
///
/// Columns are fixed-size buffers owned by the chunk (`let` pointers), so scan loops read them with no bounds,
/// exclusivity or reference-counting work.
///
/// Sharing: a published ``PatternSnapshot`` holds chunks; the writer (``PatternIndex``) mutates a chunk only while it is
/// uniquely referenced and clones it otherwise, so a reader's chunk never changes under it.
final class PatternChunk: @unchecked Sendable {
    static let capacity = 1024

    let serial: UInt32
    /// Slots handed out so far (a high-water mark; removed slots stay as holes until the chunk empties).
    var used = 0
    var live = 0
    let alive: UnsafeMutablePointer<UInt8>
    let symbol: UnsafeMutablePointer<UInt32>
    let sector: UnsafeMutablePointer<UInt8>
    let type: UnsafeMutablePointer<UInt16>
    let tier: UnsafeMutablePointer<UInt8>
    let confidenceQ: UnsafeMutablePointer<UInt16>
    let confidence: UnsafeMutablePointer<Double>
    /// Effective values (defaults when absent); `presence` says which were sent.
    let rsQ: UnsafeMutablePointer<UInt16>
    let rs: UnsafeMutablePointer<Double>
    let volQ: UnsafeMutablePointer<UInt16>
    let vol: UnsafeMutablePointer<Double>
    let rsiQ: UnsafeMutablePointer<UInt16>
    let rsi: UnsafeMutablePointer<Double>
    let detected: UnsafeMutablePointer<Int64>
    let expires: UnsafeMutablePointer<Int64>
    /// NaN when absent.
    let price: UnsafeMutablePointer<Double>
    let change: UnsafeMutablePointer<Double>
    let presence: UnsafeMutablePointer<UInt8>
    let rawName: UnsafeMutablePointer<UInt32>
    let source: UnsafeMutablePointer<UInt16>
    var extras: [UInt16: [(name: String, value: ExtraValue)]] = [:]
    /// A lower bound of the live slots' expiry: a scan checks expiry per slot only when `now` reaches it.
    var minExpires = Int64.max

    static let rsPresent: UInt8 = 1
    static let volPresent: UInt8 = 2
    static let rsiPresent: UInt8 = 4

    init(serial: UInt32) {
        self.serial = serial
        alive = Self.column(UInt8.self)
        symbol = Self.column(UInt32.self)
        sector = Self.column(UInt8.self)
        type = Self.column(UInt16.self)
        tier = Self.column(UInt8.self)
        confidenceQ = Self.column(UInt16.self)
        confidence = Self.column(Double.self)
        rsQ = Self.column(UInt16.self)
        rs = Self.column(Double.self)
        volQ = Self.column(UInt16.self)
        vol = Self.column(Double.self)
        rsiQ = Self.column(UInt16.self)
        rsi = Self.column(Double.self)
        detected = Self.column(Int64.self)
        expires = Self.column(Int64.self)
        price = Self.column(Double.self)
        change = Self.column(Double.self)
        presence = Self.column(UInt8.self)
        rawName = Self.column(UInt32.self)
        source = Self.column(UInt16.self)
    }

    init(copying other: PatternChunk) {
        serial = other.serial
        used = other.used
        live = other.live
        alive = Self.copy(other.alive)
        symbol = Self.copy(other.symbol)
        sector = Self.copy(other.sector)
        type = Self.copy(other.type)
        tier = Self.copy(other.tier)
        confidenceQ = Self.copy(other.confidenceQ)
        confidence = Self.copy(other.confidence)
        rsQ = Self.copy(other.rsQ)
        rs = Self.copy(other.rs)
        volQ = Self.copy(other.volQ)
        vol = Self.copy(other.vol)
        rsiQ = Self.copy(other.rsiQ)
        rsi = Self.copy(other.rsi)
        detected = Self.copy(other.detected)
        expires = Self.copy(other.expires)
        price = Self.copy(other.price)
        change = Self.copy(other.change)
        presence = Self.copy(other.presence)
        rawName = Self.copy(other.rawName)
        source = Self.copy(other.source)
        extras = other.extras
        minExpires = other.minExpires
    }

    deinit {
        alive.deallocate()
        symbol.deallocate()
        sector.deallocate()
        type.deallocate()
        tier.deallocate()
        confidenceQ.deallocate()
        confidence.deallocate()
        rsQ.deallocate()
        rs.deallocate()
        volQ.deallocate()
        vol.deallocate()
        rsiQ.deallocate()
        rsi.deallocate()
        detected.deallocate()
        expires.deallocate()
        price.deallocate()
        change.deallocate()
        presence.deallocate()
        rawName.deallocate()
        source.deallocate()
    }

    static func column<T: FixedWidthInteger>(_: T.Type) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
        return pointer
    }

    static func column(_: Double.Type) -> UnsafeMutablePointer<Double> {
        let pointer = UnsafeMutablePointer<Double>.allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
        return pointer
    }

    static func copy<T>(_ source: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: capacity)
        pointer.initialize(from: source, count: capacity)
        return pointer
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
    }

    func recomputeMinExpires() {
        var lowest = Int64.max
        for slot in 0..<used where alive[slot] != 0 { lowest = min(lowest, expires[slot]) }
        minExpires = lowest
    }
}
