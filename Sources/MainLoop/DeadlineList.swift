/// Jobs waiting for a time, in nanoseconds of one monotonic clock: each may run from its deadline
/// until its latest time (deadline plus the tolerance its sleeper allowed). One wake-up runs every
/// entry whose deadline has come, so sleepers whose windows overlap share it: the wake-up is at
/// the earliest latest time, not the earliest deadline.
///
/// A plain array: a daemon has a handful of sleepers (ticker, watchdog, session push, a retry), so
/// a scan on wake-up costs less than keeping a heap in order.
public struct DeadlineList<Element> {
    private var entries: [(deadline: UInt64, latest: UInt64, element: Element)] = []
    /// The earliest deadline in the list (UInt64.max when empty): nothing is due before it.
    public private(set) var earliestDeadline: UInt64 = .max
    /// When the waiter must be awake at the latest (nil when empty).
    public private(set) var nextWake: UInt64?

    public init() {}

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    public mutating func insert(_ element: Element, deadline: UInt64, tolerance: UInt64 = 0) {
        let (latest, overflow) = deadline.addingReportingOverflow(tolerance)
        let end = overflow ? UInt64.max : latest
        entries.append((deadline, end, element))
        earliestDeadline = min(earliestDeadline, deadline)
        nextWake = min(nextWake ?? .max, end)
    }

    /// Removes and hands over (in deadline order) every entry whose deadline is at or before `now`.
    public mutating func takeDue(now: UInt64, into due: inout [Element]) {
        guard now >= earliestDeadline else { return }
        var taken: [(deadline: UInt64, latest: UInt64, element: Element)] = []
        var kept: [(deadline: UInt64, latest: UInt64, element: Element)] = []
        kept.reserveCapacity(entries.count)
        for entry in entries {
            if entry.deadline <= now { taken.append(entry) } else { kept.append(entry) }
        }
        taken.sort { $0.deadline < $1.deadline }
        for entry in taken { due.append(entry.element) }
        entries = kept
        earliestDeadline = kept.lazy.map(\.deadline).min() ?? .max
        nextWake = kept.lazy.map(\.latest).min()
    }
}
