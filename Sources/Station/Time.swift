import Basics
import Synchronization

/// A point on the station's monotonic time line: a duration since an arbitrary origin. The
/// station never reads a clock of its own; it is given a `now` closure (tests pass a
/// `ManualClock`, the daemon the default continuous clock).
public struct StationInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var sinceOrigin: Duration

    public init(sinceOrigin: Duration) { self.sinceOrigin = sinceOrigin }

    public static let origin = StationInstant(sinceOrigin: .zero)

    public static func < (lhs: StationInstant, rhs: StationInstant) -> Bool { lhs.sinceOrigin < rhs.sinceOrigin }

    public static func + (lhs: StationInstant, rhs: Duration) -> StationInstant {
        StationInstant(sinceOrigin: lhs.sinceOrigin + rhs)
    }

    public static func - (lhs: StationInstant, rhs: StationInstant) -> Duration { lhs.sinceOrigin - rhs.sinceOrigin }

    public var description: String { "t+\(sinceOrigin)" }

    /// A `now` closure on the continuous (monotonic) clock, with its origin at the call.
    public static func continuousClock() -> @Sendable () -> StationInstant {
        let origin = ContinuousClock.now
        return { StationInstant(sinceOrigin: origin.duration(to: ContinuousClock.now)) }
    }
}

/// Time that moves only when told to: for tests and for simulations that run faster than real time.
public final class ManualClock: Sendable {
    private let current: Mutex<StationInstant>

    public init(_ start: StationInstant = .origin) { current = Mutex(start) }

    public func now() -> StationInstant { current.withLock { $0 } }

    /// Moves time forward (never backward) and returns the new instant.
    @discardableResult
    public func advance(by duration: Duration) -> StationInstant {
        current.withLock { now in
            if duration > .zero { now = now + duration }
            return now
        }
    }

    /// The `now` closure to hand to a `Station`.
    public var closure: @Sendable () -> StationInstant { { [self] in now() } }
}
