public import Domain

/// One raw message as a transport delivered it.
public struct IncomingEvent: Sendable {
    public var body: [UInt8]
    /// The pub/sub channel or stream it came from (tier channels carry the tier).
    public var channel: String
    public var receivedAt: EpochMillis

    public init(body: [UInt8], channel: String, receivedAt: EpochMillis) {
        self.body = body
        self.channel = channel
        self.receivedAt = receivedAt
    }
}
