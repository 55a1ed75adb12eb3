import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import WebSocket

/// HTTP/1 with the WebSocket upgrade, each HTTP connection's task running on its own event loop
/// (``EventLoopAffineChannel``); upgraded WebSocket connections have no task (`WebSocketServerChannel`).
func affineServer(_ endpoints: WebSocketEndpoints) -> HTTPServerBuilder {
    HTTPServerBuilder { responder in EventLoopAffineChannel(WebSocketServerChannel(responder: responder, endpoints: endpoints)) }
}

/// A server child channel whose connection task runs on the connection's own event loop.
///
/// Without it, every request crosses threads twice. The event loop reads the request and wakes a thread of Swift's
/// cooperative pool to run the handler. The handler's writes then wake the event loop again to reach the socket. With
/// the channel's event loop as the task's preferred executor, the handler resumes on the thread that read the
/// request, and its writes go straight to the socket (NIO's async writer writes in place when called on its loop).
///
/// A WebSocket connection needs none of this: once upgraded, its loop runs it without a task, and the fan-out schedules
/// one job per loop for the connections it woke (`ConnectionWriter`, in the WebSocket adapter). A handler must not block its thread; none of ours does (I/O awaits, the scan is microseconds).
struct EventLoopAffineChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base

    init(_ base: Base) { self.base = base }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await base.handle(value: value, logger: logger)
        }
    }
}

/// A task executor that runs jobs on one NIO event loop.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
