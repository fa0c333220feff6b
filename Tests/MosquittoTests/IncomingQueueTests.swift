import Synchronization
import Testing
import TestSupport

@testable import Mosquitto

/// Issue 18, finding 2: the intake between the network thread and the router is bounded, sheds
/// visibly, and gives ordinary (small, time-critical) messages before large ones.
@Suite("bounded incoming queue")
struct IncomingQueueTests {
    static func message(_ size: Int, _ tag: UInt8 = 0) -> MQTTMessage {
        MQTTMessage(topic: "josev/cs", payload: [UInt8](repeating: tag, count: size), qos: .atLeastOnce, retain: false)
    }

    @Test("large messages beyond their byte bound are shed and counted; a small one overtakes the large ones")
    func lanesAndShedding() async {
        let limits = IncomingLimits(maxMessages: 100, maxBytes: 1000, largeMessageBytes: 100, maxLargeBytes: 500)
        let reported = ShedRecorder()
        let queue = IncomingMessages(limits: limits, onShed: { reported.record($0) })
        for index in 0..<10 { queue.offer(Self.message(200, UInt8(index))) }
        #expect(queue.waiting.messages == 2, "500 bytes hold two messages of 200")
        #expect(queue.shed == ShedCount(messages: 8, bytes: 1600))
        #expect(reported.last == ShedCount(messages: 8, bytes: 1600))
        #expect(queue.offer(Self.message(10, 99)))

        var iterator = queue.makeAsyncIterator()
        #expect(await iterator.next()?.payload.first == 99, "the small message first")
        #expect(await iterator.next()?.payload.first == 0)
        #expect(await iterator.next()?.payload.first == 1)
        #expect(queue.waiting.messages == 0 && queue.waiting.bytes == 0)
        queue.finish()
        #expect(await iterator.next() == nil)
    }

    @Test("the ordinary lane is bounded by count and bytes; a shed payload is never built")
    func ordinaryBounds() {
        let queue = IncomingMessages(limits: IncomingLimits(maxMessages: 3, maxBytes: 50, largeMessageBytes: 100, maxLargeBytes: 500))
        #expect(queue.offer(Self.message(10)))
        #expect(queue.offer(Self.message(10)))
        #expect(queue.offer(Self.message(10)))
        var built = false
        #expect(!queue.offer(size: 10) {
            built = true
            return Self.message(10)
        })
        #expect(!built)
        #expect(queue.shed.messages == 1)
    }

    @Test("unbounded (the default for clients that do not ask): nothing is shed")
    func unbounded() {
        let queue = IncomingMessages(limits: .unbounded)
        for _ in 0..<2000 { queue.offer(Self.message(1000)) }
        #expect(queue.shed.messages == 0)
        #expect(queue.waiting.messages == 2000)
    }
}

final class ShedRecorder: Sendable {
    private let value = Mutex<ShedCount?>(nil)
    func record(_ count: ShedCount) { value.withLock { $0 = count } }
    var last: ShedCount? { value.withLock { $0 } }

    @Test("the immediate handler is told whether the consumer waits with nothing queued; it stays cheap over 200 000 messages")
    func immediateHandler() async {
        let queue = IncomingMessages(limits: IncomingLimits())
        let taken = Atomic<Int>(0)
        queue.handleAtOnce { message, consumerWaits in
            guard consumerWaits, message.payload.first == 1 else { return false }
            taken.add(1, ordering: .relaxed)
            return true
        }
        // No consumer waiting yet: queued, never handed to the handler.
        #expect(queue.offer(IncomingQueueTests.message(10, 1)))
        #expect(taken.load(ordering: .relaxed) == 0 && queue.waiting.messages == 1)
        let consumer = Task {
            var received: [UInt8] = []
            for await message in queue { received.append(message.payload.first ?? 0) }
            return received
        }
        // Once the consumer took the queued one and waits again, the handler takes what it wants.
        #expect(await waitUntil { queue.consumerWaits })
        for _ in 0..<200_000 { queue.offer(IncomingQueueTests.message(10, 1)) }
        queue.offer(IncomingQueueTests.message(10, 2))  // declined: to the consumer
        queue.finish()
        #expect(await consumer.value == [1, 2])
        #expect(taken.load(ordering: .relaxed) == 200_000)
    }
}
