public import Domain

/// The time of day, injected so the Domain never reads a clock and tests control time.
public protocol WallClock: Sendable {
    /// Milliseconds since the Unix epoch, now.
    func now() -> EpochMillis
}
