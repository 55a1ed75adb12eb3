/// The stored form of a normalised `Pattern` (the warm-start cache): a small JSON object with readable keys, so an
/// operator can read it with `redis-cli HGET`. Round-trips every field exactly, absent indicators included.
public enum PatternRecord {
    /// The record format; a reader skips records of another version.
    public static let version = 1

    public static func encode(_ pattern: Pattern) -> String { String(decoding: encodeBytes(pattern), as: UTF8.self) }

    /// The record as UTF-8 JSON, written field by field (no intermediate tree).
    public static func encodeBytes(_ pattern: Pattern) -> [UInt8] {
        var writer = JSONBytesWriter(capacity: 256)
        writer.beginObject()
        writer.key("v")
        writer.integer(Int64(version))
        writer.key("symbol")
        writer.string(pattern.symbol)
        writer.key("pattern_type")
        writer.string(pattern.patternType)
        writer.key("raw_name")
        writer.string(pattern.rawName)
        writer.key("tier")
        writer.string(pattern.tier.name)
        writer.key("confidence")
        writer.number(pattern.confidence)
        writer.key("detected_at")
        writer.integer(pattern.detectedAt)
        writer.key("expires_at")
        writer.integer(pattern.expiresAt)
        writer.key("source")
        writer.string(pattern.source)
        for (key, value) in [
            ("price", pattern.price), ("change_percent", pattern.changePercent), ("relative_strength", pattern.relativeStrength),
            ("relative_volume", pattern.relativeVolume), ("rsi", pattern.rsi),
        ] {
            if let value {
                writer.key(key)
                writer.number(value)
            }
        }
        if let sector = pattern.sector {
            writer.key("sector")
            writer.string(sector)
        }
        if !pattern.extras.isEmpty {
            writer.key("extras")
            writer.beginObject()
            for extra in pattern.extras {
                writer.key(extra.name)
                switch extra.value {
                case .number(let number): writer.number(number)
                case .text(let text): writer.string(text)
                }
            }
            writer.endObject()
        }
        writer.endObject()
        return writer.bytes
    }

    /// The pattern in `record`, or nil when it is not a record of this version.
    public static func decode(_ record: some Collection<UInt8>) -> Pattern? {
        guard let value = try? JSONParser.parse(record), value["v"]?.numberValue == Double(version),
            let symbol = value["symbol"]?.stringValue, let type = value["pattern_type"]?.stringValue,
            let tierName = value["tier"]?.stringValue, let tier = Tier(name: tierName),
            let confidence = value["confidence"]?.numberValue, let detected = value["detected_at"]?.numberValue,
            let expires = value["expires_at"]?.numberValue
        else { return nil }
        func number(_ key: String) -> Double? {
            if case .number(let number)? = value[key] { return number }
            return nil
        }
        let extras: [(name: String, value: ExtraValue)] = (value["extras"]?.objectMembers ?? []).compactMap { member in
            switch member.value {
            case .number(let number): (member.key, .number(number))
            case .string(let text): (member.key, .text(text))
            default: nil
            }
        }
        return Pattern(
            symbol: symbol, patternType: type, rawName: value["raw_name"]?.stringValue, tier: tier, confidence: confidence,
            detectedAt: EpochMillis(detected), expiresAt: EpochMillis(expires), price: number("price"),
            changePercent: number("change_percent"), relativeStrength: number("relative_strength"),
            relativeVolume: number("relative_volume"), rsi: number("rsi"), extras: extras, sector: value["sector"]?.stringValue,
            source: value["source"]?.stringValue ?? "unknown")
    }
}
