import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// HTTP/1 with the WebSocket upgrade, each connection running on its own event loop (``EventLoopAffineChannel``).
func affineServer<Context: WebSocketRequestContext>(
    webSocketRouter: Router<Context>, configuration: HTTP1WebSocketUpgradeChannel.Configuration
) -> HTTPServerBuilder {
    let webSocketResponder = webSocketRouter.buildResponder()
    return HTTPServerBuilder { responder in
        EventLoopAffineChannel(
            HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: configuration))
    }
}

/// A server child channel whose connection task runs on the connection's own event loop.
///
/// Without it, every request crosses threads twice. The event loop reads the request and wakes a thread of Swift's
/// cooperative pool to run the handler. The handler's writes then wake the event loop again to reach the socket. With
/// the channel's event loop as the task's preferred executor, the handler resumes on the thread that read the
/// request, and its writes go straight to the socket (NIO's async writer writes in place when called on its loop).
///
/// Child tasks inherit the preference, so a WebSocket connection's reading runs on its loop too. Its outbound messages
/// need no task at all: the fan-out schedules one job per loop for the connections it woke (`ConnectionWriter`, in the
/// WebSocket adapter). A handler must not block its thread; none of ours does (I/O awaits, the scan is microseconds).
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
