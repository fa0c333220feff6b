/// The reconnect delay sequence of a `ReconnectPolicy`, as a pure value.
///
/// `nextDelay` returns the delay before the next attempt and advances; `reset()` is called after a
/// successful connect so the next outage starts again at `initialDelay`.
public struct Backoff: Sendable, Equatable {
    public let policy: ReconnectPolicy
    /// Failed attempts since the last reset.
    public private(set) var attempts: Int = 0

    public init(policy: ReconnectPolicy) {
        self.policy = policy
    }

    /// The undithered delay for attempt `attempt` (0-based): `min(initial * multiplier^attempt, maximum)`.
    public func baseDelay(forAttempt attempt: Int) -> Duration {
        let initial = Backoff.seconds(policy.initialDelay)
        let maximum = max(Backoff.seconds(policy.maximumDelay), 0)
        let factor = max(policy.multiplier, 1)
        var value = max(initial, 0)
        var n = 0
        // Multiply step by step and stop at the cap: no overflow to infinity for large attempt counts.
        while n < attempt && value < maximum {
            value *= factor
            n += 1
        }
        return Backoff.duration(min(value, maximum))
    }

    /// The delay before the next attempt, with jitter drawn from `generator`; advances the sequence.
    public mutating func nextDelay(using generator: inout some RandomNumberGenerator) -> Duration {
        let base = baseDelay(forAttempt: attempts)
        if attempts < Int.max { attempts += 1 }
        let jitter = min(max(policy.jitter, 0), 1)
        guard jitter > 0 else { return base }
        let factor = 1 - jitter * Double.random(in: 0..<1, using: &generator)
        return Backoff.duration(Backoff.seconds(base) * factor)
    }

    /// The delay before the next attempt, with jitter from the system generator; advances the sequence.
    public mutating func nextDelay() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return nextDelay(using: &generator)
    }

    /// Back to `initialDelay`: called after a successful connect.
    public mutating func reset() {
        attempts = 0
    }

    static func seconds(_ duration: Duration) -> Double {
        let (s, attos) = duration.components
        return Double(s) + Double(attos) / 1e18
    }

    static func duration(_ seconds: Double) -> Duration {
        // Whole milliseconds keep the sequence exact for the usual policies (0.5 s, 1 s, 2 s, ...).
        .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
