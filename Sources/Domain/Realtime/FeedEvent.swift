/// One change the real-time feed tells subscribers about.
public enum FeedEvent: Sendable, Equatable {
    /// A pattern was detected or updated.
    case pattern(Pattern)
    /// A pattern left the live set (by a `pattern_expired` event or by reaching its expiry), as it last was.
    case expired(Pattern)

    public var pattern: Pattern {
        switch self {
        case .pattern(let pattern), .expired(let pattern): pattern
        }
    }
}
