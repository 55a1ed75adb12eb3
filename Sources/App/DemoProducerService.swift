import Domain
import InMemory
import Logging
import Ports
import ServiceLifecycle

/// Plays the producer in the embedded default: emits demo events at `rate` per second into the in-memory event source,
/// from where they travel through the real normaliser and index.
struct DemoProducerService<Clock: WallClock>: Service {
    let source: InMemoryEventSource
    let clock: Clock
    let rate: Double
    let generator: DemoEventGenerator
    let logger: Logger

    func run() async throws {
        logger.info("demo producer started", metadata: ["demo.rate": "\(rate)"])
        var generator = self.generator
        let tick = Duration.milliseconds(50)
        var owed = 0.0
        for await _ in AsyncTimerSequence(interval: tick).cancelOnGracefulShutdown() {
            owed += rate * 0.05
            while owed >= 1 {
                owed -= 1
                let event = generator.next(now: clock.now())
                source.publish(IncomingEvent(body: Array(event.body.utf8), channel: event.channel, receivedAt: clock.now()))
            }
        }
    }
}
