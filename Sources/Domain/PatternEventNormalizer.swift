/// Turns every producer event shape (producer-events.md A–E, batches, tier channels) into pattern operations or typed
/// reject reasons. Pure: the receive time and the catalogue come in as values.
public struct PatternEventNormalizer: Sendable {
    public struct Configuration: Sendable {
        /// Used when an event has no `expires_at`.
        public var defaultTimeToLive: EpochMillis = 3_600_000
        /// Bodies above this are rejected as `oversize` before parsing.
        public var maxBodyBytes = 65_536
        /// Extra indicator fields kept per pattern; the rest are dropped.
        public var maxExtras = 32
        /// Text extras are cut to this many characters.
        public var maxExtraTextLength = 256
        public init() {}
    }

    /// Where and when an event arrived.
    public struct Context: Sendable {
        /// The pub/sub channel or stream name; a tier channel (`….daily`) supplies the tier when the body has none.
        public var channel: String?
        public var receivedAt: EpochMillis
        public init(channel: String?, receivedAt: EpochMillis) {
            self.channel = channel
            self.receivedAt = receivedAt
        }
    }

    public var configuration: Configuration
    public var catalog: Catalog

    public init(catalog: Catalog, configuration: Configuration = Configuration()) {
        self.catalog = catalog
        self.configuration = configuration
    }

    static let patternEventTypes: Set<String> = ["pattern_detected", "pattern_updated", "pattern_expired"]
    static let extraKeys = [
        "volume", "action", "description", "stop_loss", "target_price", "support_level", "resistance_level", "category",
        "event_id", "pattern_id", "flow_id",
    ]

    /// Normalises raw bytes: size check, JSON parse, then shapes.
    public func normalize(_ body: some Collection<UInt8>, context: Context) -> [NormalizedEvent] {
        guard body.count <= configuration.maxBodyBytes else { return [.rejected(.oversize)] }
        guard let json = try? JSONParser.parse(body) else { return [.rejected(.notJSON)] }
        return normalize(json: json, context: context)
    }

    /// Normalises a parsed message.
    public func normalize(json message: JSONValue, context: Context) -> [NormalizedEvent] {
        guard message.isObject else { return [.rejected(.notObject)] }
        switch message["type"]?.stringValue {
        case "patterns_batch":
            guard case .array(let elements)? = message["patterns"] else { return [.rejected(.missingPattern)] }
            return elements.map { element in
                guard element.isObject else { return .rejected(.notObject) }
                if let detection = element["detection"], detection.isObject {
                    return normalizePattern(layers: [detection, element, message], context: context)
                }
                return normalizePattern(layers: [element, message], context: context)
            }
        case "streaming_pattern":
            guard let detection = message["detection"], detection.isObject else { return [.rejected(.missingPattern)] }
            return [normalizePattern(layers: [detection, message], context: context)]
        default:
            break
        }
        var layers = [message]
        if let data = message["data"], data.isObject {
            layers.insert(data, at: 0)
            if let inner = data["data"], inner.isObject { layers.insert(inner, at: 0) }
        }
        let eventType = Self.first(layers, "event_type")?.stringValue
        if let eventType, !Self.patternEventTypes.contains(eventType) { return [.ignored(kind: eventType)] }
        if eventType == nil, let type = message["type"]?.stringValue { return [.ignored(kind: type)] }
        return [normalizePattern(layers: layers, context: context)]
    }

    /// Reads one pattern from `layers`, innermost first: the first layer that has a field wins.
    func normalizePattern(layers: [JSONValue], context: Context) -> NormalizedEvent {
        let eventType = Self.first(layers, "event_type")?.stringValue ?? "pattern_detected"

        guard let symbolValue = Self.first(layers, "symbol", "ticker") else { return .rejected(.missingSymbol) }
        guard let symbol = symbolValue.stringValue, Self.isValidSymbol(symbol) else { return .rejected(.invalidSymbol) }

        guard let rawName = Self.first(layers, "pattern", "pattern_name", "pattern_type")?.stringValue,
            let patternType = PatternName.canonical(rawName)
        else { return .rejected(.missingPattern) }

        let tier = resolveTier(layers: layers, channel: context.channel)

        let detectedAt: EpochMillis?
        if let value = Self.first(layers, "detection_timestamp", "timestamp", "detected_at") {
            guard let millis = Self.millis(value) else { return .rejected(.invalidTimestamp) }
            detectedAt = millis
        } else {
            detectedAt = nil
        }

        if eventType == "pattern_expired" {
            return .operation(.expire(PatternSelector(symbol: symbol, patternType: patternType, tier: tier, detectedAt: detectedAt)))
        }

        guard let confidenceValue = Self.first(layers, "confidence") else { return .rejected(.missingConfidence) }
        guard let raw = confidenceValue.numberValue, raw.isFinite, raw >= 0, raw <= 100 else { return .rejected(.invalidConfidence) }
        // A percentage becomes the fraction its decimal text names: 98.9 / 100 is 0.9890000000000001 in binary, and
        // rounding to 12 decimals gives the double nearest 0.989, as if the producer had sent the fraction.
        let confidence = raw > 1 ? (raw / 100 * 1e12).rounded() / 1e12 : raw

        let detected = detectedAt ?? context.receivedAt
        var expiresAt = detected + configuration.defaultTimeToLive
        if let value = Self.first(layers, "expires_at", "expiration_timestamp", "expiry") {
            guard let millis = Self.millis(value) else { return .rejected(.invalidTimestamp) }
            expiresAt = millis
        }

        let indicators = layers.lazy.compactMap { $0["indicators"] }.first { $0.isObject }
        func indicator(_ names: String...) -> Double? {
            for name in names {
                if let value = indicators?[name]?.numberValue, value.isFinite { return value }
            }
            for name in names {
                if let value = Self.first(layers, name)?.numberValue, value.isFinite { return value }
            }
            return nil
        }

        let source =
            Self.first(layers, "source")?.stringValue ?? Self.first(layers, "timeframe")?.stringValue ?? tier.name
        var pattern = Pattern(
            symbol: symbol, patternType: patternType, rawName: rawName, tier: tier, confidence: confidence,
            detectedAt: detected, expiresAt: expiresAt,
            price: Self.finite(Self.first(layers, "current_price", "price", "price_at_detection")),
            changePercent: Self.finite(Self.first(layers, "price_change", "change_percent", "change")),
            relativeStrength: indicator("relative_strength"), relativeVolume: indicator("relative_volume"),
            rsi: indicator("rsi"), sector: catalog.sector(ofSymbol: symbol), source: source
        )
        if pattern.sector == nil, let sent = Self.first(layers, "sector")?.stringValue {
            pattern.sector = catalog.sectorName(for: sent)
        }
        pattern.extras = extras(indicators: indicators, layers: layers)
        return .operation(.upsert(pattern))
    }

    func resolveTier(layers: [JSONValue], channel: String?) -> Tier {
        if let text = Self.first(layers, "tier")?.stringValue, let tier = Tier(name: text) ?? Tier(timeframe: text) { return tier }
        for layer in layers {
            if let text = layer["source"]?.stringValue, let tier = Tier(name: text) { return tier }
        }
        if let channel, let suffix = channel.split(whereSeparator: { $0 == "." || $0 == ":" }).last, let tier = Tier(name: String(suffix)) {
            return tier
        }
        if let text = Self.first(layers, "timeframe")?.stringValue, let tier = Tier(timeframe: text) { return tier }
        return .daily
    }

    func extras(indicators: JSONValue?, layers: [JSONValue]) -> [(name: String, value: ExtraValue)] {
        var result: [(name: String, value: ExtraValue)] = []
        var seen: Set<String> = ["relative_strength", "relative_volume", "rsi"]
        func add(_ name: String, _ value: JSONValue) {
            guard result.count < configuration.maxExtras, !seen.contains(name) else { return }
            switch value {
            case .number(let number) where number.isFinite:
                result.append((name, .number(number)))
            case .string(let text):
                result.append((name, .text(String(text.prefix(configuration.maxExtraTextLength)))))
            case .bool(let flag):
                result.append((name, .text(flag ? "true" : "false")))
            default:
                return
            }
            seen.insert(name)
        }
        for member in indicators?.objectMembers ?? [] { add(member.key, member.value) }
        if let pattern = layers.first {
            for key in Self.extraKeys { if let value = pattern[key] { add(key, value) } }
            for container in ["metadata", "parameters"] {
                for member in pattern[container]?.objectMembers ?? [] { add(member.key, member.value) }
            }
        }
        return result
    }

    static func first(_ layers: [JSONValue], _ keys: String...) -> JSONValue? {
        for layer in layers {
            for key in keys {
                if let value = layer[key], value != .null { return value }
            }
        }
        return nil
    }

    static func finite(_ value: JSONValue?) -> Double? {
        guard let number = value?.numberValue, number.isFinite else { return nil }
        return number
    }

    /// Epoch seconds (int or float; values above 10^11 are taken as milliseconds), a numeric string, or ISO-8601.
    static func millis(_ value: JSONValue) -> EpochMillis? {
        switch value {
        case .number(let number):
            return number > 100_000_000_000 ? Timestamp.millis(fromEpochSeconds: number / 1000) : Timestamp.millis(fromEpochSeconds: number)
        case .string(let text):
            if let number = Double(text), number.isFinite { return millis(.number(number)) }
            return Timestamp.millis(fromISO8601: text)
        default:
            return nil
        }
    }

    /// 1–16 characters of `A-Z 0-9 . - ^ =`.
    public static func isValidSymbol(_ symbol: String) -> Bool {
        let utf8 = symbol.utf8
        guard !utf8.isEmpty, utf8.count <= 16 else { return false }
        return utf8.allSatisfy { byte in
            (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2E || byte == 0x2D || byte == 0x5E || byte == 0x3D
        }
    }
}
