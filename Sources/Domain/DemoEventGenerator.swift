/// Produces realistic producer events for the embedded demo: every shape of producer-events.md (A, B and its ISO/tier
/// variant, C and its variants, D streaming and batch, E v1.0), every canonical pattern name and tier, tier channels,
/// updates and expiries. The output is JSON text, so demo events travel through the real normaliser.
public struct DemoEventGenerator: Sendable {
    public struct Event: Sendable, Equatable {
        public var channel: String
        public var body: String
    }

    public enum Shape: CaseIterable, Sendable {
        case canonical, doubleNested, doubleNestedISO, flat, flatVariant, streaming, batch, v1, tierChannel, update, expire
    }

    public static let channel = "tickstock.events.patterns"
    public static let streamingChannel = "tickstock:patterns:streaming"
    public static let detectedChannel = "tickstock:patterns:detected"

    private var random: SplitMix64
    private let symbols: [SymbolInfo]
    private var recent: [(symbol: String, pattern: String, tier: Tier, detected: EpochMillis)] = []
    private var counter = 0

    public init(catalog: Catalog, seed: UInt64) {
        random = SplitMix64(seed: seed)
        let stocks = catalog.symbols.filter { $0.active }
        symbols = stocks.isEmpty ? [SymbolInfo(symbol: "AAPL", name: "Apple Inc.", kind: .stock, referencePrice: 185)] : stocks
    }

    /// The next event, detected shortly before `now`. Shapes cycle so a short run covers all of them.
    public mutating func next(now: EpochMillis) -> Event {
        let shapes = Shape.allCases
        var shape = shapes[counter % shapes.count]
        counter += 1
        if (shape == .update || shape == .expire) && recent.isEmpty { shape = .canonical }
        switch shape {
        case .update: return update(now: now)
        case .expire: return expire()
        default: return fresh(shape: shape, now: now)
        }
    }

    private mutating func fresh(shape: Shape, now: EpochMillis) -> Event {
        let info = symbols[Int.random(in: 0..<symbols.count, using: &random)]
        let pattern = PatternName.all[Int.random(in: 0..<PatternName.all.count, using: &random)]
        let tier = Tier.allCases[Int.random(in: 0..<Tier.allCases.count, using: &random)]
        let detected = now - Int64.random(in: 0..<1_800_000, using: &random)
        let expires = detected + Int64.random(in: 600_000..<14_400_000, using: &random)
        let base = info.referencePrice ?? 100
        let change = Double.random(in: -4...4, using: &random)
        let price = (base * (1 + change / 100) * 100).rounded() / 100
        let confidence = (Double.random(in: 0.45...0.99, using: &random) * 1000).rounded() / 1000
        let rs = (Double.random(in: 0.4...3.2, using: &random) * 100).rounded() / 100
        let rvol = (Double.random(in: 0.5...4.5, using: &random) * 100).rounded() / 100
        let rsi = (Double.random(in: 15...85, using: &random) * 10).rounded() / 10
        let support = (price * 0.97 * 100).rounded() / 100
        recent.append((info.symbol, pattern, tier, detected))
        if recent.count > 256 { recent.removeFirst(recent.count - 256) }

        let seconds = Self.seconds(detected)
        let indicators =
            #"{"relative_strength":\#(rs),"relative_volume":\#(rvol),"rsi":\#(rsi),"support_level":\#(support),"sma_20":\#((price * 0.99 * 100).rounded() / 100)}"#
        let inner =
            #"{"symbol":"\#(info.symbol)","pattern":"\#(pattern)","confidence":\#(confidence),"current_price":\#(price),"price_change":\#(Self.round2(change)),"timestamp":\#(seconds),"expires_at":\#(Self.seconds(expires)),"indicators":\#(indicators),"source":"\#(tier.name)","tier":"\#(tier.name)","flow_id":"demo-\#(counter)","volume":\#(Int.random(in: 100_000...20_000_000, using: &random)),"description":"Demo \#(pattern) on \#(info.symbol)","action":"\#(change >= 0 ? "BUY" : "WATCH")","stop_loss":\#(Self.round2(price * 0.96)),"target_price":\#(Self.round2(price * 1.08))}"#
        switch shape {
        case .doubleNested:
            return Event(
                channel: Self.channel,
                body:
                    #"{"event_type":"pattern_detected","source":"TickStockPL","timestamp":\#(seconds),"data":{"event_type":"pattern_detected","source":"TickStockPL","timestamp":\#(seconds),"flow_id":"demo-\#(counter)","data":\#(inner)},"channel":"\#(Self.channel)"}"#
            )
        case .doubleNestedISO:
            let innerNoTier =
                #"{"symbol":"\#(info.symbol)","pattern":"\#(pattern)","confidence":\#(confidence),"current_price":\#(price),"price_change":\#(Self.round2(change)),"indicators":\#(indicators)}"#
            return Event(
                channel: Self.channel,
                body:
                    #"{"event_type":"pattern_detected","source":"TickStockPL","timestamp":"\#(Timestamp.iso8601(detected))","data":{"event_type":"pattern_detected","source":"TickStockPL","tier":"\#(tier.name)","timestamp":"\#(Timestamp.iso8601(detected))","data":\#(innerNoTier)}}"#
            )
        case .flat:
            return Event(
                channel: Self.channel,
                body:
                    #"{"event_type":"pattern_detected","symbol":"\#(info.symbol)","pattern":"\#(pattern)","confidence":\#(confidence),"current_price":\#(price),"price_change":\#(Self.round2(change)),"timestamp":\#(seconds),"expires_at":\#(Self.seconds(expires)),"indicators":\#(indicators),"source":"\#(tier.name)"}"#
            )
        case .flatVariant:
            let pct = (confidence * 1000).rounded() / 10
            return Event(
                channel: Self.channel,
                body:
                    #"{"event_type":"pattern_detected","symbol":"\#(info.symbol)","pattern_type":"\#(pattern)","confidence":\#(pct),"price_at_detection":\#(price),"detection_timestamp":"\#(Timestamp.iso8601(detected))","expires_at":\#(Self.seconds(expires)),"tier":"\#(tier.name)","timeframe":"1d","category":"chart","metadata":{"relative_volume":\#(rvol),"pattern_strength":"\#(confidence > 0.8 ? "strong" : "moderate")"}}"#
            )
        case .streaming:
            return Event(
                channel: Self.streamingChannel,
                body:
                    #"{"type":"streaming_pattern","detection":{"pattern":"\#(pattern)","symbol":"\#(info.symbol)","confidence":\#(confidence),"timestamp":"\#(Timestamp.iso8601(detected))","parameters":{"relative_volume":\#(rvol)},"timeframe":"\#(tier == .intraday ? "1min" : tier == .hourly ? "1h" : "1d")"}}"#
            )
        case .batch:
            let other = symbols[Int.random(in: 0..<symbols.count, using: &random)]
            let otherPattern = PatternName.all[Int.random(in: 0..<PatternName.all.count, using: &random)]
            recent.append((other.symbol, otherPattern, .intraday, detected))
            return Event(
                channel: Self.detectedChannel,
                body:
                    #"{"type":"patterns_batch","patterns":[{"detection":{"pattern":"\#(pattern)","symbol":"\#(info.symbol)","confidence":\#(confidence),"timestamp":"\#(Timestamp.iso8601(detected))","timeframe":"\#(tier.name)"}},{"detection":{"pattern":"\#(otherPattern)","symbol":"\#(other.symbol)","confidence":\#(Self.round2(confidence * 0.9)),"timestamp":"\#(Timestamp.iso8601(detected))","timeframe":"5m"}}],"count":2}"#
            )
        case .v1:
            let rawName = PatternName.abbreviations[pattern] ?? pattern.replacingUnderscores()
            return Event(
                channel: Self.channel,
                body:
                    #"{"event_type":"pattern_detected","event_id":"evt-\#(counter)","published_at":"\#(Timestamp.iso8601(now))","source":"TickStockPL","version":"1.0","pattern_id":"pat-\#(counter)","pattern_name":"\#(rawName)","symbol":"\#(info.symbol)","timestamp":"\#(Timestamp.iso8601(detected))","price":\#(price),"volume":\#(Int.random(in: 100_000...20_000_000, using: &random)),"confidence":\#(confidence),"timeframe":"\#(tier == .weekly ? "1w" : "daily")","metadata":{"relative_strength":\#(rs)}}"#
            )
        case .tierChannel:
            let channelTier = [Tier.daily, .intraday, .combo][Int.random(in: 0..<3, using: &random)]
            recent[recent.count - 1].tier = channelTier
            return Event(
                channel: "\(Self.channel).\(channelTier.name)",
                body:
                    #"{"event_type":"pattern_detected","source":"TickStockPL","timestamp":\#(seconds),"data":{"symbol":"\#(info.symbol)","pattern":"\#(pattern)","confidence":\#(confidence),"current_price":\#(price),"price_change":\#(Self.round2(change)),"timestamp":\#(seconds),"expires_at":\#(Self.seconds(expires)),"indicators":\#(indicators)}}"#
            )
        default:
            return Event(
                channel: Self.channel,
                body: #"{"event_type":"pattern_detected","source":"TickStockPL","timestamp":\#(seconds),"data":\#(inner)}"#)
        }
    }

    private mutating func update(now: EpochMillis) -> Event {
        let target = recent[Int.random(in: 0..<recent.count, using: &random)]
        let confidence = (Double.random(in: 0.6...0.99, using: &random) * 1000).rounded() / 1000
        return Event(
            channel: Self.channel,
            body:
                #"{"event_type":"pattern_updated","source":"TickStockPL","timestamp":\#(Self.seconds(now)),"data":{"symbol":"\#(target.symbol)","pattern":"\#(target.pattern)","tier":"\#(target.tier.name)","confidence":\#(confidence),"timestamp":\#(Self.seconds(target.detected)),"expires_at":\#(Self.seconds(now + 3_600_000))}}"#
        )
    }

    private mutating func expire() -> Event {
        let index = Int.random(in: 0..<recent.count, using: &random)
        let target = recent.remove(at: index)
        return Event(
            channel: Self.channel,
            body:
                #"{"event_type":"pattern_expired","source":"TickStockPL","data":{"symbol":"\#(target.symbol)","pattern":"\#(target.pattern)","tier":"\#(target.tier.name)","timestamp":\#(Self.seconds(target.detected))}}"#
        )
    }

    static func seconds(_ millis: EpochMillis) -> Double { Double(millis) / 1000 }
    static func round2(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
