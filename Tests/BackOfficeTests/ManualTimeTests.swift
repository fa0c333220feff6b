import Testing
import TestSupport

/// The manual clock the back-office tests advance instead of sleeping.
@Suite("ManualTime: a clock the test advances", .timeLimit(.minutes(1)))
struct ManualTimeTests {
    @Test("wall and monotonic time move together, only when advanced")
    func clocksMoveTogether() {
        let time = ManualTime(unixMilliseconds: 1_000)
        let start = time.monotonic()
        #expect(time.unixMilliseconds() == 1_000)
        time.advance(by: .milliseconds(1_500))
        #expect(time.unixMilliseconds() == 2_500)
        #expect(start.duration(to: time.monotonic()) == .milliseconds(1_500))
        time.advance(by: .seconds(-5))
        #expect(time.unixMilliseconds() == 2_500, "time never goes back")
    }

    @Test("sleepers wake when their deadline is passed, the shorter first")
    func sleepersWakeInOrder() async throws {
        let time = ManualTime()
        let woken = Locked<[Int]>([])
        let long = Task {
            try await time.sleep(for: .seconds(10))
            woken.withLock { $0.append(10) }
        }
        let short = Task {
            try await time.sleep(for: .seconds(1))
            woken.withLock { $0.append(1) }
        }
        #expect(await time.waitForSleepers(2))
        #expect(time.pendingSleeps == [.seconds(1), .seconds(10)])
        time.advance(by: .milliseconds(999))
        #expect(time.pendingSleeps == [.milliseconds(1), .milliseconds(9_001)])
        #expect(await time.advanceToNextSleeper())
        try await short.value
        #expect(woken.withLock { $0 } == [1])
        #expect(time.pendingSleeps == [.seconds(9)])
        #expect(await time.advanceToNextSleeper())
        try await long.value
        #expect(woken.withLock { $0 } == [1, 10])
        #expect(time.pendingSleeps.isEmpty)
    }

    @Test("a cancelled sleeper throws CancellationError and leaves the clock")
    func cancelledSleeper() async {
        let time = ManualTime()
        let sleeper = Task { try await time.sleep(for: .seconds(60)) }
        #expect(await time.waitForSleepers(1))
        sleeper.cancel()
        let result = await sleeper.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(time.pendingSleeps.isEmpty)
    }
}
