/// One pattern as the scan API and the real-time feeds show it: the TickStock compat display strings and the typed
/// fields side by side. `now` is the instant the relative strings (`time`, `exp`) are computed for.
public struct PatternItem: Sendable {
    public let pattern: Pattern
    public let now: EpochMillis

    public init(pattern: Pattern, now: EpochMillis) {
        self.pattern = pattern
        self.now = now
    }

    public func write(to w: inout JSONWriter) {
        let p = pattern
        w.object { w in
            Self.writeHead(p, to: &w)
            w.key("time")
            w.asciiString { DisplayFormat.writeAge(since: p.detectedAt, now: now, to: &$0) }
            w.key("exp")
            w.asciiString { DisplayFormat.writeExpiry(p.expiresAt, now: now, to: &$0) }
            Self.writeTail(p, to: &w)
        }
    }

    /// The members before `time`: everything that does not depend on `now`, in the compat order.
    static func writeHead(_ p: Pattern, to w: inout JSONWriter) {
        w.key("id")
        Self.writeID(p.key, to: &w)
        w.field("symbol", p.symbol)
        w.field("pattern", PatternName.display(p.patternType))
        w.field("conf", DisplayFormat.confidence(p.confidence))
        w.key("rs")
        w.asciiString { DisplayFormat.writeMultiple(p.relativeStrength, to: &$0) }
        w.key("vol")
        w.asciiString { DisplayFormat.writeMultiple(p.relativeVolume, to: &$0) }
        w.key("price")
        w.asciiString { DisplayFormat.writePrice(p.price, to: &$0) }
        w.key("chg")
        w.asciiString { DisplayFormat.writeChange(p.changePercent, to: &$0) }
    }

    /// The members after `exp`.
    static func writeTail(_ p: Pattern, to w: inout JSONWriter) {
        w.field("source", p.source)
        Self.writeTypedFields(p, to: &w)
    }

    /// `key.id` (`AAPL:Bull_Flag:daily:1725456789100`) as a JSON string, written in place.
    public static func writeID(_ key: PatternKey, to w: inout JSONWriter) {
        w.asciiString { w in
            w.appendEscaped(key.symbol)
            w.appendByte(UInt8(ascii: ":"))
            w.appendEscaped(key.patternType)
            w.appendByte(UInt8(ascii: ":"))
            w.appendVerbatim(key.tier.name)
            w.appendByte(UInt8(ascii: ":"))
            w.appendInteger(key.detectedAt)
        }
    }

    /// The typed fields, written into an open object: shared by the scan item and the Socket.IO `pattern_update`.
    public static func writeTypedFields(_ p: Pattern, to w: inout JSONWriter) {
        w.field("pattern_type", p.patternType)
        w.field("raw_name", p.rawName)
        w.field("tier", p.tier.name)
        w.field("confidence", p.confidence)
        w.field("relative_strength", p.effectiveRelativeStrength)
        w.field("relative_volume", p.effectiveRelativeVolume)
        w.field("rsi", p.effectiveRSI)
        w.field("price_value", p.price)
        w.field("change_percent", p.changePercent)
        w.field("detected_at", timestamp: p.detectedAt)
        w.field("expires_at", timestamp: p.expiresAt)
        w.field("sector", p.sector)
        w.key("defaults_applied")
        w.array { w in
            if p.relativeStrength == nil { w.string("relative_strength") }
            if p.relativeVolume == nil { w.string("relative_volume") }
            if p.rsi == nil { w.string("rsi") }
        }
        w.key("indicators")
        w.object { w in
            for extra in p.extras {
                switch extra.value {
                case .number(let number): w.field(extra.name, number)
                case .text(let text): w.field(extra.name, text)
                }
            }
        }
    }
}

/// A scan item serialised ahead of time except for its two `now`-dependent strings (`time`, `exp`), which
/// ``write(now:to:)`` fills in. Writing one is a copy of its bytes plus two short strings, and the result is byte for
/// byte what ``PatternItem/write(to:)`` writes for the same pattern and `now`.
public struct PatternItemFragment: Sendable {
    /// One allocation shared by every copy: a page copies fragments in and out of a cache, and a copy of the pattern
    /// itself would retain each of its strings.
    private final class Storage: Sendable {
        let pattern: Pattern
        /// `{"id":…,"chg":"…"` then `"source":…}`; `split` is where the first part ends.
        let bytes: [UInt8]
        let split: Int

        init(pattern: Pattern, bytes: [UInt8], split: Int) {
            self.pattern = pattern
            self.bytes = bytes
            self.split = split
        }
    }

    private let storage: Storage

    /// Whether these bytes are `pattern`'s, field for field: a cache keeps a fragment only while the live pattern
    /// equals the one it was made from.
    public func isMade(from pattern: Pattern) -> Bool { storage.pattern == pattern }

    public init(_ pattern: Pattern) {
        var head = JSONWriter(capacity: 1024)
        head.object { PatternItem.writeHead(pattern, to: &$0) }
        var tail = JSONWriter(capacity: 768)
        tail.object { PatternItem.writeTail(pattern, to: &$0) }
        var bytes = head.bytes
        bytes.removeLast()  // "}"
        let split = bytes.count
        bytes.append(contentsOf: tail.bytes.dropFirst())  // "{"
        storage = Storage(pattern: pattern, bytes: bytes, split: split)
    }

    /// Writes the item as a value (with its separator) for the instant `now`.
    public func write(now: EpochMillis, to w: inout JSONWriter) {
        let storage = storage
        w.separatedValue { w in
            w.append(storage.bytes[..<storage.split])
            w.appendStatic(#","time":""#)
            DisplayFormat.writeAge(since: storage.pattern.detectedAt, now: now, to: &w)
            w.appendStatic(#"","exp":""#)
            DisplayFormat.writeExpiry(storage.pattern.expiresAt, now: now, to: &w)
            w.appendStatic(#"","#)
            w.append(storage.bytes[storage.split...])
        }
    }
}
