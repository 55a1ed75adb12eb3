import Foundation
public import Hummingbird

/// JSON responses from `Encodable` values: typed structs and `JSONEncoder`, never `[String: Any]`.
public enum JSONBody {
    public static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        let data = try encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// An encodable JSON scalar for maps whose values are numbers or text.
enum JSONScalar: Encodable, Sendable {
    case number(Double)
    case integer(Int)
    case text(String)
    case bool(Bool)
    case null

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }
}

/// Encodes string-keyed maps in key order, so responses are stable byte for byte.
struct OrderedMap<Value: Encodable & Sendable>: Encodable, Sendable {
    var pairs: [(String, Value)]

    init(_ pairs: [(String, Value)]) { self.pairs = pairs }
    init(_ dictionary: [String: Value]) { pairs = dictionary.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (key, value) in pairs { try container.encode(value, forKey: Key(stringValue: key)) }
    }
}
