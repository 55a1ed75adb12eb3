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
    /// Slots are 16-bit and posting offsets count up to the capacity.
    static let capacityRange = 1...32_768

    let capacity: Int

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
    /// `detected` in whole seconds (``quantizeDetected(_:)``), for pruning a scan sorted by detection time.
    let detectedS: UnsafeMutablePointer<UInt32>
    let expires: UnsafeMutablePointer<Int64>
    /// NaN when absent.
    let price: UnsafeMutablePointer<Double>
    let change: UnsafeMutablePointer<Double>
    let presence: UnsafeMutablePointer<UInt8>
    let rawName: UnsafeMutablePointer<UInt32>
    let source: UnsafeMutablePointer<UInt16>
    var extras: ChunkExtras
    /// A lower bound of the live slots' expiry: a scan checks expiry per slot only when `now` reaches it.
    var minExpires = Int64.max
    /// Set when the last slot is handed out (see ``ChunkPostings``).
    var postings: ChunkPostings?

    static let rsPresent: UInt8 = 1
    static let volPresent: UInt8 = 2
    static let rsiPresent: UInt8 = 4

    init(serial: UInt32, capacity: Int) {
        self.serial = serial
        self.capacity = capacity
        extras = ChunkExtras(capacity: capacity)
        alive = Self.column(UInt8.self, capacity)
        symbol = Self.column(UInt32.self, capacity)
        sector = Self.column(UInt8.self, capacity)
        type = Self.column(UInt16.self, capacity)
        tier = Self.column(UInt8.self, capacity)
        confidenceQ = Self.column(UInt16.self, capacity)
        confidence = Self.column(Double.self, capacity)
        rsQ = Self.column(UInt16.self, capacity)
        rs = Self.column(Double.self, capacity)
        volQ = Self.column(UInt16.self, capacity)
        vol = Self.column(Double.self, capacity)
        rsiQ = Self.column(UInt16.self, capacity)
        rsi = Self.column(Double.self, capacity)
        detected = Self.column(Int64.self, capacity)
        detectedS = Self.column(UInt32.self, capacity)
        expires = Self.column(Int64.self, capacity)
        price = Self.column(Double.self, capacity)
        change = Self.column(Double.self, capacity)
        presence = Self.column(UInt8.self, capacity)
        rawName = Self.column(UInt32.self, capacity)
        source = Self.column(UInt16.self, capacity)
    }

    init(copying other: PatternChunk) {
        serial = other.serial
        capacity = other.capacity
        used = other.used
        live = other.live
        alive = Self.copy(other.alive, capacity, used: other.used)
        symbol = Self.copy(other.symbol, capacity, used: other.used)
        sector = Self.copy(other.sector, capacity, used: other.used)
        type = Self.copy(other.type, capacity, used: other.used)
        tier = Self.copy(other.tier, capacity, used: other.used)
        confidenceQ = Self.copy(other.confidenceQ, capacity, used: other.used)
        confidence = Self.copy(other.confidence, capacity, used: other.used)
        rsQ = Self.copy(other.rsQ, capacity, used: other.used)
        rs = Self.copy(other.rs, capacity, used: other.used)
        volQ = Self.copy(other.volQ, capacity, used: other.used)
        vol = Self.copy(other.vol, capacity, used: other.used)
        rsiQ = Self.copy(other.rsiQ, capacity, used: other.used)
        rsi = Self.copy(other.rsi, capacity, used: other.used)
        detected = Self.copy(other.detected, capacity, used: other.used)
        detectedS = Self.copy(other.detectedS, capacity, used: other.used)
        expires = Self.copy(other.expires, capacity, used: other.used)
        price = Self.copy(other.price, capacity, used: other.used)
        change = Self.copy(other.change, capacity, used: other.used)
        presence = Self.copy(other.presence, capacity, used: other.used)
        rawName = Self.copy(other.rawName, capacity, used: other.used)
        source = Self.copy(other.source, capacity, used: other.used)
        extras = other.extras
        minExpires = other.minExpires
        postings = other.postings
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
        detectedS.deallocate()
        expires.deallocate()
        price.deallocate()
        change.deallocate()
        presence.deallocate()
        rawName.deallocate()
        source.deallocate()
    }

    static func column<T: FixedWidthInteger>(_: T.Type, _ capacity: Int) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
        return pointer
    }

    static func column(_: Double.Type, _ capacity: Int) -> UnsafeMutablePointer<Double> {
        let pointer = UnsafeMutablePointer<Double>.allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
        return pointer
    }

    /// A clone copies only the slots handed out: an open tail chunk is cloned once per published batch, and its unused
    /// slots are never read before they are written.
    static func copy<T>(_ source: UnsafeMutablePointer<T>, _ capacity: Int, used: Int) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: capacity)
        pointer.initialize(from: source, count: used)
        return pointer
    }

    // Quantisers: q(x) = floor(x · scale), clamped to 0...65_535; monotonic non-decreasing, so q(x) > q(t) implies
    // x > t and q(x) < q(t) implies x < t. The scales are powers of two, so x · scale is exact: when t · scale is an
    // integer below the clamp (every threshold of the form k / scale, such as 0.5 or 1.0), q(x) >= q(t) exactly
    // when x >= t, and a scan never reads the exact column for it.
    static let confidenceScale = 32_768.0
    static let ratioScale = 4_096.0
    @inline(__always) static func quantizeConfidence(_ value: Double) -> UInt16 { clampQ(value * confidenceScale) }
    @inline(__always) static func quantizeRatio(_ value: Double) -> UInt16 { clampQ(value * ratioScale) }
    @inline(__always) static func clampQ(_ scaled: Double) -> UInt16 {
        scaled <= 0 ? 0 : scaled >= 65_535 ? 65_535 : UInt16(scaled.rounded(.down))
    }

    // RSI is filtered on both sides, and a bound such as 50 is met exactly by many values (an absent RSI counts as 50),
    // so it gets a code that is exact at both ends. With s = x · rsiScale: code(x) = 2s + 1 when s is whole, else
    // 2⌊s⌋ + 2; below 0 (and NaN) 0; from 32_767 on 65_535. It is monotonic, and for a bound t whose t · 256 is whole
    // and in 0..<32_767 (0, 70, 33.5, …) code(x) >= code(t) exactly when x >= t and code(x) <= code(t) exactly when
    // x <= t. Any other bound is decided on the code except where the codes are equal.
    static let rsiScale = 256.0
    @inline(__always) static func encodeRSI(_ value: Double) -> UInt16 {
        let scaled = value * rsiScale
        guard scaled >= 0 else { return 0 }  // NaN too
        guard scaled < 32_767 else { return 65_535 }
        let whole = scaled.rounded(.down)
        return UInt16(whole) * 2 + (scaled == whole ? 1 : 2)
    }

    /// An RSI bound as a code, and whether comparing codes decides it on its own (see ``encodeRSI(_:)``).
    static func rsiBound(_ value: Double) -> (q: UInt16, exact: Bool) {
        let scaled = value * rsiScale
        return (encodeRSI(value), scaled >= 0 && scaled < 32_767 && scaled == scaled.rounded(.down))
    }

    /// Milliseconds to whole seconds, rounded down and clamped to `UInt32`: monotonic non-decreasing.
    @inline(__always) static func quantizeDetected(_ millis: Int64) -> UInt32 {
        millis <= 0 ? 0 : UInt32(clamping: millis / 1000)
    }

    /// A lower bound `value` as a quantised threshold, and whether `q(x) >= q` decides `x >= value` on its own.
    static func lowerBound(_ value: Double, scale: Double) -> (q: UInt16, exact: Bool) {
        let scaled = value * scale
        return (clampQ(scaled), scaled > 0 && scaled < 65_535 && scaled == scaled.rounded(.down))
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
        rsiQ[slot] = Self.encodeRSI(rsi[slot])
        detected[slot] = p.detectedAt
        detectedS[slot] = Self.quantizeDetected(p.detectedAt)
        expires[slot] = p.expiresAt
        price[slot] = p.price ?? .nan
        change[slot] = p.changePercent ?? .nan
        presence[slot] =
            (p.relativeStrength != nil ? Self.rsPresent : 0) | (p.relativeVolume != nil ? Self.volPresent : 0)
            | (p.rsi != nil ? Self.rsiPresent : 0)
        rawName[slot] = rawID
        source[slot] = sourceID
        extras[slot] = p.extras.isEmpty ? nil : p.extras
        minExpires = min(minExpires, p.expiresAt)
    }

    func recomputeMinExpires() {
        var lowest = Int64.max
        for slot in 0..<used where alive[slot] != 0 { lowest = min(lowest, expires[slot]) }
        minExpires = lowest
    }
}

/// The extra indicators of a chunk's slots, in buckets of 64 slots. A chunk cloned for writing (a snapshot still
/// shares it) shares every bucket, and its first write copies only the bucket it touches. One dictionary for the whole
/// chunk was copied whole on that first write, 5% of the ingestion task's time when events carry indicators.
struct ChunkExtras {
    typealias Extras = [(name: String, value: ExtraValue)]
    private var buckets: [[UInt16: Extras]]

    init(capacity: Int) {
        buckets = Array(repeating: [:], count: (capacity + 63) / 64)
    }

    subscript(slot: Int) -> Extras? {
        get { buckets[slot >> 6][UInt16(truncatingIfNeeded: slot)] }
        set { buckets[slot >> 6][UInt16(truncatingIfNeeded: slot)] = newValue }
    }
}
