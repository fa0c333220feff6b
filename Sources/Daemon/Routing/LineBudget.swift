import Synchronization

/// How many lines about bad input get written: every one while they come few (up to `burst` at
/// once), then one per `refill` with the count of those not written, so that a flood of malformed
/// messages costs neither a log write each nor the journal's room.
final class LineBudget: Sendable {
    let burst: Int
    let refill: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state: Mutex<(tokens: Int, refilled: ContinuousClock.Instant, unwritten: Int)>

    init(burst: Int = 32, refill: Duration = .seconds(1), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.burst = burst
        self.refill = refill
        self.now = now
        state = Mutex((burst, now(), 0))
    }

    /// Nil when this line is not to be written; otherwise how many were not written since the last one.
    func take() -> Int? {
        let instant = now()
        return state.withLock { s in
            let earned = Int((instant - s.refilled) / refill)
            if earned > 0 {
                s.tokens = min(burst, s.tokens + earned)
                s.refilled = s.refilled + refill * earned
            }
            guard s.tokens > 0 else {
                s.unwritten += 1
                return nil
            }
            s.tokens -= 1
            defer { s.unwritten = 0 }
            return s.unwritten
        }
    }
}
