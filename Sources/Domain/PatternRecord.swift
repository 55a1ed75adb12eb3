/// The stored form of a normalised `Pattern` (the warm-start cache): a small JSON object with readable keys, so an
/// operator can read it with `redis-cli HGET`. Round-trips every field exactly, absent indicators included.
public enum PatternRecord {
    /// The record format; a reader skips records of another version.
    public static let version = 1

    public static func encode(_ pattern: Pattern) -> String {
        var members: [(key: String, value: JSONValue)] = [
            ("v", .number(Double(version))),
            ("symbol", .string(pattern.symbol)),
            ("pattern_type", .string(pattern.patternType)),
            ("raw_name", .string(pattern.rawName)),
            ("tier", .string(pattern.tier.name)),
            ("confidence", .number(pattern.confidence)),
            ("detected_at", .number(Double(pattern.detectedAt))),
            ("expires_at", .number(Double(pattern.expiresAt))),
            ("source", .string(pattern.source)),
        ]
        func optional(_ key: String, _ value: Double?) {
            if let value { members.append((key, .number(value))) }
        }
        optional("price", pattern.price)
        optional("change_percent", pattern.changePercent)
        optional("relative_strength", pattern.relativeStrength)
        optional("relative_volume", pattern.relativeVolume)
        optional("rsi", pattern.rsi)
        if let sector = pattern.sector { members.append(("sector", .string(sector))) }
        if !pattern.extras.isEmpty {
            members.append(
                ("extras", .object(pattern.extras.map { extra in
                    switch extra.value {
                    case .number(let number): (extra.name, .number(number))
                    case .text(let text): (extra.name, .string(text))
                    }
                })))
        }
        return JSONValue.object(members).serialized()
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
