import Testing

@testable import MainLoop

@Suite struct DeadlineListTests {
    @Test func anEmptyListWakesNobody() {
        let list = DeadlineList<Int>()
        #expect(list.nextWake == nil)
        #expect(list.earliestDeadline == .max)
        #expect(list.isEmpty)
    }

    @Test func dueEntriesComeInDeadlineOrderAndTheRestStay() {
        var list = DeadlineList<String>()
        list.insert("c", deadline: 300)
        list.insert("a", deadline: 100)
        list.insert("d", deadline: 400)
        list.insert("b", deadline: 200)
        var due: [String] = []
        list.takeDue(now: 99, into: &due)
        #expect(due.isEmpty)
        list.takeDue(now: 250, into: &due)
        #expect(due == ["a", "b"])
        #expect(list.count == 2)
        #expect(list.earliestDeadline == 300)
        #expect(list.nextWake == 300)
        list.takeDue(now: 1000, into: &due)
        #expect(due == ["a", "b", "c", "d"])
        #expect(list.isEmpty)
        #expect(list.nextWake == nil)
    }

    /// A sleeper that allows a tolerance lets the wake-up move to the next sleeper's deadline:
    /// one wake-up serves both.
    @Test func toleranceCoalescesWakeUps() {
        var list = DeadlineList<String>()
        list.insert("lenient", deadline: 100, tolerance: 50)
        list.insert("strict", deadline: 140)
        #expect(list.nextWake == 140)
        var due: [String] = []
        list.takeDue(now: 140, into: &due)
        #expect(due == ["lenient", "strict"])
    }

    @Test func theWakeUpIsTheEarliestLatestTimeNotTheEarliestDeadline() {
        var list = DeadlineList<Int>()
        list.insert(1, deadline: 100, tolerance: 1000)
        list.insert(2, deadline: 500, tolerance: 10)
        #expect(list.earliestDeadline == 100)
        #expect(list.nextWake == 510)
        list.insert(3, deadline: 0, tolerance: .max)  // no overflow: latest is the end of time
        #expect(list.nextWake == 510)
        #expect(list.earliestDeadline == 0)
    }
}
