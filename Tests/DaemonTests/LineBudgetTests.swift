import Synchronization
import Testing

@testable import Daemon

@Suite("bad-input log budget")
struct LineBudgetTests {
    @Test("every line while they are few; then one per refill with the count not written; the burst refills")
    func burstThenOnePerRefill() {
        let clock = Mutex(ContinuousClock.now)
        let budget = LineBudget(burst: 3, refill: .seconds(1), now: { clock.withLock { $0 } })
        #expect((0..<3).map { _ in budget.take() } == [0, 0, 0])
        #expect((0..<100).allSatisfy { _ in budget.take() == nil })
        clock.withLock { $0 += .milliseconds(999) }
        #expect(budget.take() == nil)
        clock.withLock { $0 += .milliseconds(1) }
        #expect(budget.take() == 101, "the line that is written says how many were not")
        #expect(budget.take() == nil)
        // A quiet spell refills the whole burst, never more.
        clock.withLock { $0 += .seconds(60) }
        #expect((0..<3).map { _ in budget.take() } == [1, 0, 0])
        #expect(budget.take() == nil)
    }
}
