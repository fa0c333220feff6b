import JosevContract
import Synchronization

/// The envelope ids of the last `capacity` requests and updates handled, with the answer given to
/// each request: a QoS 1 redelivery (or a replay) of the same envelope is not acted on twice. A
/// repeated request gets the stored answer published again; a repeated update is ignored.
final class RecentMessages: Sendable {
    /// What the router did with an id it handled.
    enum Handled: Sendable {
        /// A request and its answer (nil: it was left unanswered).
        case request(answer: Envelope?)
        case update
    }

    static let defaultCapacity = 256

    let capacity: Int
    private let state = Mutex(State())

    private struct State {
        var handled: [String: Handled] = [:]
        /// Ids in the order they were handled, oldest first (a ring of `capacity`).
        var order: [String] = []
        var next = 0
    }

    init(capacity: Int = RecentMessages.defaultCapacity) {
        self.capacity = max(1, capacity)
    }

    /// What was done with `id`, if it is among the recent ones.
    func handled(_ id: String) -> Handled? { state.withLock { $0.handled[id] } }

    /// Remembers `id`; the oldest id leaves the window when it is full.
    func remember(_ id: String, _ handled: Handled) {
        state.withLock { state in
            if state.handled.updateValue(handled, forKey: id) != nil { return }
            if state.order.count < capacity {
                state.order.append(id)
            } else {
                state.handled.removeValue(forKey: state.order[state.next])
                state.order[state.next] = id
                state.next = (state.next + 1) % capacity
            }
        }
    }
}

/// A line that may recur once per message (a retained message at every subscribe, an id the answer
/// could not carry): written at most once per `interval`, with how many were not written since.
final class IntervalLog: Sendable {
    let interval: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state = Mutex<(last: ContinuousClock.Instant?, unwritten: Int)>((nil, 0))

    init(interval: Duration = .seconds(300), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.interval = interval
        self.now = now
    }

    /// Nil when the line is not due; otherwise the number of occurrences not written since the last one.
    func due() -> Int? {
        let instant = now()
        return state.withLock { state in
            if let last = state.last, instant - last < interval {
                state.unwritten += 1
                return nil
            }
            let unwritten = state.unwritten
            state = (instant, 0)
            return unwritten
        }
    }
}
