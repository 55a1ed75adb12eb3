public import Domain
import Foundation
public import Ports

/// The real time of day.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> EpochMillis { EpochMillis((Date().timeIntervalSince1970 * 1000).rounded()) }
}
