import Domain
import Ports
import Synchronization

extension WebSocketHub {
    /// Acts on one packet; false when the client asked to close.
    func handleSocketIO(_ packet: SocketIOProtocol.Inbound, connection: UInt64, sessionID: String, writer: ConnectionWriter) -> Bool {
        let now = clock.now()
        let seconds = Double(now) / 1000
        switch packet {
        case .close, .disconnect: return false
        case .pong, .ignored: break
        case .ping(let data): writer.send(OutboundMessage(body: SocketIOProtocol.pong(data)))
        case .connect(let namespace):
            guard namespace == "/" else {
                writer.send(OutboundMessage(body: SocketIOProtocol.connectError(namespace: namespace, message: "Invalid namespace")))
                break
            }
            writer.send(OutboundMessage(body: SocketIOProtocol.connected(sessionID: sessionID)))
            emit(writer, "connection_confirmed") { w in
                w.object { w in
                    w.field("user_id", "anonymous")
                    w.field("session_id", sessionID)
                    w.field("server_time", seconds)
                    w.field("status", "connected")
                    w.field("epoch", self.epoch)
                }
            }
        case .event(let name, let payload, let ackID, _):
            switch name {
            case "subscribe_patterns":
                do throws(ScanQueryError) {
                    let (rooms, patterns) = try subscribeRooms(payload, connection: connection)
                    let reply: (inout JSONWriter) -> Void = { w in
                        w.object { w in
                            w.field("patterns", patterns)
                            w.field("count", rooms.count)
                            w.field("subscribed_to", rooms)
                            w.field("timestamp", seconds)
                        }
                    }
                    emit(writer, "subscription_confirmed", reply)
                    if let ackID { writer.send(OutboundMessage(body: SocketIOProtocol.ack(ackID, reply))) }
                } catch {
                    counters.badRequests.add(1, ordering: .relaxed)
                    emit(writer, "subscription_error") { w in
                        w.object { w in
                            w.field("error", error.message)
                            w.field("field", error.parameter)
                            w.field("timestamp", seconds)
                        }
                    }
                }
            case "unsubscribe_patterns":
                let requested = (try? SubscriptionCriteria.strings(payload["rooms"], field: "rooms")) ?? []
                let rooms = requested.isEmpty ? subscriptions(of: connection) : requested
                let removed = rooms.filter { unsubscribe(connection, name: $0).existed }
                emit(writer, "unsubscription_confirmed") { w in
                    w.object { w in
                        w.field("rooms", removed)
                        w.field("remaining", self.subscriptions(of: connection))
                        w.field("timestamp", seconds)
                    }
                }
            case "heartbeat":
                emit(writer, "heartbeat_ack") { $0.object { $0.field("timestamp", seconds) } }
            default:
                counters.badRequests.add(1, ordering: .relaxed)
                emit(writer, "protocol_error") { $0.object { $0.field("message", "unknown event '\(name)'") } }
            }
        }
        return true
    }

    /// `subscribe_patterns` in either TickStock form. `{patterns:[…]}` joins one room per pattern (`pattern_<Type>`,
    /// or `pattern_all` when empty); `{watchlist_symbols:[…], pattern_types:[…]}` joins one room per symbol
    /// (`symbol_<SYM>`), each limited to the given types. `tiers` and `confidence_min` may narrow either form.
    private func subscribeRooms(_ payload: JSONValue, connection: UInt64) throws(ScanQueryError) -> (rooms: [String], patterns: [String]) {
        let names = try SubscriptionCriteria.strings(payload["patterns"], field: "patterns")
            + SubscriptionCriteria.strings(payload["pattern_types"], field: "pattern_types")
        let symbols = try SubscriptionCriteria.strings(payload["watchlist_symbols"], field: "watchlist_symbols")
        var request: [(key: String, value: JSONValue)] = [
            ("pattern_types", .array(names.map(JSONValue.string))), ("symbols", .array(symbols.map(JSONValue.string))),
        ]
        if let tiers = payload["tiers"] { request.append(("tiers", tiers)) }
        if let confidence = payload["confidence_min"] { request.append(("confidence_min", confidence)) }
        let criteria: SubscriptionCriteria
        do {
            criteria = try SubscriptionCriteria.parse(.object(request), catalog: catalog)
        } catch {
            // Name the field the client sent.
            let field = error.parameter == "symbols" ? "watchlist_symbols" : error.parameter == "pattern_types" && !names.isEmpty ? "patterns" : error.parameter
            throw ScanQueryError(parameter: field, message: error.message)
        }
        let types = (criteria.patternTypes ?? []).sorted()
        var rooms: [(String, SubscriptionCriteria)] = []
        if let symbolSet = criteria.symbols {
            for symbol in symbolSet.sorted() {
                var room = criteria
                room.symbols = [symbol]
                rooms.append(("symbol_\(symbol)", room))
            }
        } else if !types.isEmpty {
            for type in types {
                var room = criteria
                room.patternTypes = [type]
                rooms.append(("pattern_\(type)", room))
            }
        } else {
            rooms.append(("pattern_all", criteria))
        }
        guard subscriptions(of: connection).count + rooms.count <= Self.maximumSubscriptions * 5 else {
            throw ScanQueryError(parameter: "watchlist_symbols", message: "too many rooms for one connection")
        }
        for (name, room) in rooms { _ = subscribe(connection, name: name, criteria: room) }
        return (rooms.map(\.0), types)
    }

    func emit(_ writer: ConnectionWriter, _ name: String, _ payload: (inout JSONWriter) -> Void) {
        writer.send(OutboundMessage(body: SocketIOProtocol.event(name, payload)))
    }

    static func sessionID(_ id: UInt64) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var random = UInt64.random(in: .min ... .max)
        var text = ""
        for _ in 0..<12 {
            text.append(alphabet[Int(random & 63)])
            random >>= 6
        }
        return text + String(id, radix: 36)
    }
}
