import Domain
import Testing

/// The real-time core: the indexed matcher against a brute-force reference, entered-screen presets, the replay
/// history and the two protocols' parsers.
@Suite struct TheSubscriptionIndex {
    /// A match's deliveries by owner; an owner listed twice fails the test.
    static func byOwner(_ deliveries: [(owner: UInt64, names: [String])]) -> [UInt64: [String]] {
        var result: [UInt64: [String]] = [:]
        for delivery in deliveries {
            #expect(result[delivery.owner] == nil, "owner \(delivery.owner) listed twice")
            result[delivery.owner] = delivery.names
        }
        return result
    }

    static func randomCriteria(_ random: inout SplitMix64) -> SubscriptionCriteria {
        var criteria = SubscriptionCriteria()
        let symbols = ThePatternIndex.symbols
        let types = ThePatternIndex.types
        if Int.random(in: 0..<3, using: &random) == 0 { criteria.symbols = Set((0..<Int.random(in: 1...4, using: &random)).map { _ in symbols.randomElement(using: &random)! }) }
        if Int.random(in: 0..<3, using: &random) == 0 { criteria.patternTypes = Set((0..<Int.random(in: 1...3, using: &random)).map { _ in types.randomElement(using: &random)! }) }
        if Int.random(in: 0..<3, using: &random) == 0 { criteria.tiers = [Tier.allCases.randomElement(using: &random)!] }
        if Int.random(in: 0..<3, using: &random) == 0 { criteria.confidenceMin = ThePatternIndex.confidences.randomElement(using: &random)! }
        if Int.random(in: 0..<5, using: &random) == 0 { criteria.sectors = ["Energy", "Utilities"] }
        return criteria
    }

    @Test func `indexed matching agrees with checking every subscription`() {
        var random = SplitMix64(seed: 7)
        for round in 0..<20 {
            var index = SubscriptionIndex()
            var reference: [(owner: UInt64, name: String, criteria: SubscriptionCriteria)] = []
            for owner in UInt64(0)..<60 {
                for n in 0..<Int.random(in: 0...3, using: &random) {
                    let criteria = Self.randomCriteria(&random)
                    index.add(.init(owner: owner, name: "s\(n)"), criteria: criteria, since: 0)
                    reference.append((owner, "s\(n)", criteria))
                }
            }
            // Some removals, mirrored in the reference.
            for _ in 0..<10 {
                guard let victim = reference.randomElement(using: &random) else { break }
                let removed = index.remove(.init(owner: victim.owner, name: victim.name))
                #expect(removed)
                reference.removeAll { $0.owner == victim.owner && $0.name == victim.name }
            }
            // Adds after removals reuse freed slots; replacing a subscription moves it to the end of its owner's order.
            for _ in 0..<10 {
                let owner = UInt64.random(in: 0..<60, using: &random)
                let name = "s\(Int.random(in: 0...4, using: &random))"
                let criteria = Self.randomCriteria(&random)
                index.add(.init(owner: owner, name: name), criteria: criteria, since: 0)
                reference.removeAll { $0.owner == owner && $0.name == name }
                reference.append((owner, name, criteria))
            }
            #expect(index.count == reference.count, "round \(round)")
            for owner in UInt64(0)..<60 {
                #expect(index.subscriptions(of: owner) == reference.filter { $0.owner == owner }.map(\.name), "round \(round)")
            }
            for _ in 0..<200 {
                let pattern = ThePatternIndex.randomPattern(&random)
                let event: FeedEvent = Bool.random(using: &random) ? .pattern(pattern) : .expired(pattern)
                var expected: [UInt64: [String]] = [:]
                for entry in reference where entry.criteria.matches(pattern) { expected[entry.owner, default: []].append(entry.name) }
                let matched = TheSubscriptionIndex.byOwner(index.match(event))
                #expect(matched == expected, "round \(round): \(pattern.key.id)")
            }
        }
    }

    @Test func `only subscriptions without symbols or types are checked for every event`() {
        var index = SubscriptionIndex()
        index.add(.init(owner: 1, name: "a"), criteria: SubscriptionCriteria(symbols: ["AAPL"]), since: 0)
        index.add(.init(owner: 1, name: "b"), criteria: SubscriptionCriteria(patternTypes: ["Doji"]), since: 0)
        index.add(.init(owner: 2, name: "c"), criteria: SubscriptionCriteria(confidenceMin: 0.9), since: 0)
        #expect(index.unindexedCount == 1)
        let removed = index.removeAll(of: 1)
        #expect(removed == 2 && index.count == 1 && index.subscriptions(of: 1).isEmpty)
    }

    @Test func `a preset subscription alerts the first time a pattern enters the screen`() throws {
        var preset = ScanQuery()
        preset.confidenceMin = 0.8
        var index = SubscriptionIndex()
        index.add(.init(owner: 1, name: "screen"), criteria: SubscriptionCriteria(preset: preset), since: 0)
        index.add(.init(owner: 2, name: "all"), criteria: SubscriptionCriteria(), since: 0)
        var pattern = Pattern(symbol: "AAPL", patternType: "Doji", tier: .daily, confidence: 0.6, detectedAt: 1000, expiresAt: 9000)
        do {
            let matched = TheSubscriptionIndex.byOwner(index.match(.pattern(pattern)))
            #expect(matched == [2: ["all"]])  // below the screen
        }
        pattern.confidence = 0.85
        do {
            let matched = TheSubscriptionIndex.byOwner(index.match(.pattern(pattern)))
            #expect(matched == [1: ["screen"], 2: ["all"]])  // enters: alert
        }
        pattern.confidence = 0.9
        do {
            let matched = TheSubscriptionIndex.byOwner(index.match(.pattern(pattern)))
            #expect(matched == [2: ["all"]])  // still in: no second alert
        }
        pattern.confidence = 0.5
        do {
            let matched = TheSubscriptionIndex.byOwner(index.match(.expired(pattern)))
            #expect(matched == [1: ["screen"], 2: ["all"]])  // its expiry reaches the alerted screen
        }
        do {
            let matched = TheSubscriptionIndex.byOwner(index.match(.expired(pattern)))
            #expect(matched == [2: ["all"]])
        }
    }

    @Test func `replay skips events a subscription already got live`() {
        var index = SubscriptionIndex()
        let pattern = Pattern(symbol: "AAPL", patternType: "Doji", tier: .daily, confidence: 0.6, detectedAt: 1000, expiresAt: 9000)
        index.add(.init(owner: 1, name: "late"), criteria: SubscriptionCriteria(), since: 10)
        do {
            let replayed = index.replay(.pattern(pattern), seq: 9, to: 1)
            #expect(replayed == ["late"])  // published before it existed: missed
        }
        index.add(.init(owner: 1, name: "early"), criteria: SubscriptionCriteria(), since: 5)
        do {
            let replayed = index.replay(.pattern(pattern), seq: 9, to: 1)
            #expect(replayed == [])  // "early" got seq 9 live
        }
    }
}

@Suite struct TheReplayBuffer {
    @Test func `keeps the minimum count and everything younger than the minimum age`() {
        var buffer = ReplayBuffer<Int>(minimumCount: 3, minimumAge: 1000, capacity: 10)
        for seq in 1...6 { buffer.append(Int(seq), seq: UInt64(seq), at: EpochMillis(seq) * 100) }
        #expect(buffer.count == 6)  // all younger than a second
        buffer.append(7, seq: 7, at: 5000)
        #expect(buffer.count == 3 && buffer.oldestSeq == 5)  // old ones beyond the minimum count dropped
        for seq in 8...30 { buffer.append(seq, seq: UInt64(seq), at: 5000) }
        #expect(buffer.count == 10 && buffer.oldestSeq == 21)  // capped
    }

    @Test func `resume replays after the given seq or reports a gap`() {
        var buffer = ReplayBuffer<Int>(minimumCount: 5, minimumAge: 0, capacity: 5)
        for seq in 1...8 { buffer.append(seq, seq: UInt64(seq), at: 0) }
        guard case .replay(let entries) = buffer.resume(after: 5, latest: 8) else { Issue.record("expected a replay"); return }
        #expect(entries.map(\.element) == [6, 7, 8])
        guard case .replay(let none) = buffer.resume(after: 8, latest: 8) else { Issue.record("expected an empty replay"); return }
        #expect(none.isEmpty)
        guard case .replay(let all) = buffer.resume(after: 3, latest: 8) else { Issue.record("oldest held is 4"); return }
        #expect(all.map(\.element) == [4, 5, 6, 7, 8])
        guard case .gap = buffer.resume(after: 2, latest: 8) else { Issue.record("3 is gone: expected a gap"); return }
        guard case .gap = buffer.resume(after: 9, latest: 8) else { Issue.record("a seq from the future is a gap"); return }
    }
}

@Suite struct TheRealtimeProtocols {
    let catalog = Catalog.standard(
        symbols: [SymbolInfo(symbol: "AAPL", name: "Apple", kind: .stock, sector: "Information Technology")],
        sectors: [SectorInfo(name: "Information Technology", etf: "XLK"), SectorInfo(name: "Energy", etf: "XLE")])

    @Test func `native requests parse with validated criteria`() throws {
        let message = try NativeProtocol.parse(
            Array(#"{"action":"subscribe","id":"c1","symbols":["aapl"],"pattern_types":"WeeklyBO,Doji","tiers":["daily"],"confidence_min":0.7,"sectors":["XLK"]}"#.utf8),
            catalog: catalog)
        #expect(
            message
                == .subscribe(
                    id: "c1",
                    criteria: SubscriptionCriteria(
                        symbols: ["AAPL"], patternTypes: ["Weekly_Breakout", "Doji"], tiers: [.daily], confidenceMin: 0.7,
                        sectors: ["Information Technology"])))
        #expect(try NativeProtocol.parse(Array(#"{"action":"resume","after":42}"#.utf8), catalog: catalog) == .resume(after: 42, epoch: nil))
        let preset = try NativeProtocol.parse(
            Array(#"{"action":"subscribe","id":"p","preset":{"confidence_min":0.9,"rs_min":1.5}}"#.utf8), catalog: catalog)
        guard case .subscribe(_, let criteria) = preset else { Issue.record("expected subscribe"); return }
        #expect(criteria.preset?.confidenceMin == 0.9 && criteria.preset?.rsMin == 1.5)
    }

    @Test(arguments: [
        ("{", "not valid JSON"), ("[1]", "JSON object"), (#"{"id":"x"}"#, "action is required"), (#"{"action":"dance"}"#, "unknown action"),
        (#"{"action":"subscribe"}"#, "id is required"), (#"{"action":"subscribe","id":""}"#, "id must be"),
        (#"{"action":"subscribe","id":"x","tiers":["yearly"]}"#, "tiers"),
        (#"{"action":"subscribe","id":"x","confidence_min":3}"#, "confidence_min"),
        (#"{"action":"subscribe","id":"x","symbols":[1]}"#, "symbols must be a list of strings"),
        (#"{"action":"subscribe","id":"x","sectors":["Moon"]}"#, "unknown sector"),
        (#"{"action":"subscribe","id":"x","preset":{"rs_min":"-1"}}"#, "preset: rs_min"),
        (#"{"action":"subscribe","id":"x","preset":"7"}"#, "preset"), (#"{"action":"resume","after":-1}"#, "resume needs after"),
    ])
    func `bad native requests name the problem`(frame: String, expected: String) {
        #expect(throws: RealtimeProtocolError.self) { try NativeProtocol.parse(Array(frame.utf8), catalog: catalog) }
        do {
            _ = try NativeProtocol.parse(Array(frame.utf8), catalog: catalog)
        } catch {
            #expect(error.code == "bad_request" && error.message.contains(expected), "\(frame): \(error.message)")
        }
    }

    @Test func `socket io packets decode`() throws {
        #expect(try SocketIOProtocol.parse(Array("40".utf8)) == .connect(namespace: "/"))
        #expect(try SocketIOProtocol.parse(Array("40/admin,".utf8)) == .connect(namespace: "/admin"))
        #expect(try SocketIOProtocol.parse(Array("3".utf8)) == .pong)
        #expect(try SocketIOProtocol.parse(Array("2probe".utf8)) == .ping("probe"))
        #expect(
            try SocketIOProtocol.parse(Array(#"4212["subscribe_patterns",{"patterns":[]}]"#.utf8))
                == .event(name: "subscribe_patterns", payload: .object([("patterns", .array([]))]), ackID: 12, namespace: "/"))
        #expect(try SocketIOProtocol.parse(Array(#"42["heartbeat"]"#.utf8)) == .event(name: "heartbeat", payload: .null, ackID: nil, namespace: "/"))
        #expect(throws: RealtimeProtocolError.self) { try SocketIOProtocol.parse(Array("42[1,2]".utf8)) }
        #expect(throws: RealtimeProtocolError.self) { try SocketIOProtocol.parse(Array("9".utf8)) }
        #expect(throws: RealtimeProtocolError.self) { try SocketIOProtocol.parse(Array(#"451-["x",{"_placeholder":true,"num":0}]"#.utf8)) }
    }

    @Test func `an event is serialised once and every recipient's message is valid JSON`() throws {
        let pattern = Pattern(
            symbol: "AAPL", patternType: "Bull_Flag", tier: .daily, confidence: 0.8, detectedAt: 1_725_456_789_000,
            expiresAt: 1_725_460_389_000, price: 150.25)
        let body = NativeProtocol.eventBody(.pattern(pattern), seq: 7, epoch: "e1")
        for names in [["c1"], ["c1", "c\"2"]] {
            let message = try JSONParser.parse(body + NativeProtocol.recipientTail(names))
            #expect(message["T"]?.stringValue == "pattern" && message["seq"]?.numberValue == 7 && message["epoch"]?.stringValue == "e1")
            #expect(message["subscription"]?.stringValue == "c1" && message["data"]?["symbol"]?.stringValue == "AAPL")
            #expect((message["subscriptions"] != nil) == (names.count > 1))
        }
        let frames = SocketIOProtocol.eventFrames(.pattern(pattern), seq: 7, epoch: "e1")
        #expect(frames.count == 2)
        let alert = try JSONParser.parse(frames[1].dropFirst(2))
        guard case .array(let items) = alert else { Issue.record("not an array"); return }
        #expect(items[0].stringValue == "pattern_alert")
        #expect(items[1]["event"] == items[1]["event_data"] && items[1]["event"]?["data"]?["symbol"]?.stringValue == "AAPL")
    }
}
