/// The stored form of a normalised `Pattern` (the warm-start cache): a small JSON object with readable keys, so an
/// operator can read it with `redis-cli HGET`. Round-trips every field exactly, absent indicators included.
public enum PatternRecord {
    /// The record format; a reader skips records of another version.
    public static let version = 1

    public static func encode(_ pattern: Pattern) -> String { String(decoding: encodeBytes(pattern), as: UTF8.self) }

    /// The record as UTF-8 JSON, written field by field (no intermediate tree).
    public static func encodeBytes(_ pattern: Pattern) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.object { w in
            w.field("v", version)
            w.field("symbol", pattern.symbol)
            w.field("pattern_type", pattern.patternType)
            w.field("raw_name", pattern.rawName)
            w.field("tier", pattern.tier.name)
            w.field("confidence", pattern.confidence)
            w.field("detected_at", pattern.detectedAt)
            w.field("expires_at", pattern.expiresAt)
            w.field("source", pattern.source)
            let optionals = [
                ("price", pattern.price), ("change_percent", pattern.changePercent),
                ("relative_strength", pattern.relativeStrength), ("relative_volume", pattern.relativeVolume), ("rsi", pattern.rsi),
            ]
            for case (let key, let value?) in optionals { w.field(key, value) }
            if let sector = pattern.sector { w.field("sector", sector) }
            if !pattern.extras.isEmpty {
                w.key("extras")
                w.object { extras in
                    for extra in pattern.extras {
                        switch extra.value {
                        case .number(let number): extras.field(extra.name, number)
                        case .text(let text): extras.field(extra.name, text)
                        }
                    }
                }
            }
        }
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
