public import Domain
public import Ports
import Synchronization

/// A clock that moves only when told: for tests and deterministic runs.
public final class ManualWallClock: WallClock {
    private let current: Mutex<EpochMillis>

    public init(_ start: EpochMillis = 1_725_456_789_000) { current = Mutex(start) }

    public func now() -> EpochMillis { current.withLock { $0 } }

    public func advance(by millis: EpochMillis) { current.withLock { $0 += millis } }

    public func set(_ millis: EpochMillis) { current.withLock { $0 = millis } }
}
