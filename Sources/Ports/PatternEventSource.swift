/// Where producer events come from (Redis pub/sub and streams, the demo producer).
public protocol PatternEventSource: Sendable {
    /// A short name for logs and stats (`memory`, `redis`).
    var name: String { get }
    /// Delivers events in batches to `handler` until the task is cancelled. A batch counts as processed only when
    /// `handler` returns: at-least-once sources acknowledge it then and redeliver it otherwise.
    /// Throws only when the source cannot go on (cancellation ends it normally).
    func run(_ handler: @Sendable ([IncomingEvent]) async throws -> Void) async throws
}
