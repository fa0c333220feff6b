#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The wall clock (`CLOCK_REALTIME`): what session records, configuration changes and the
/// contract's time stamps say. It jumps when the time is set; measure durations on a monotonic clock.
public enum WallClock {
    /// Now, in Unix milliseconds.
    public static func unixMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec / 1_000_000)
    }

    /// Now as the contract writes it (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
    public static func now() -> String {
        DateTimeText.format(unixMilliseconds: unixMilliseconds()) ?? "1970-01-01T00:00:00.000Z"
    }
}

/// "Now" and "wait", for a component whose tests must not wait in real time: the daemon passes
/// `SystemTime()`, tests a manual clock they advance (`ManualTime` in TestSupport).
public protocol TimeSource: Sendable {
    /// The wall clock in Unix milliseconds (what is recorded and compared with date-times).
    func unixMilliseconds() -> Int64
    /// The monotonic clock (what durations and intervals are measured on).
    func monotonic() -> ContinuousClock.Instant
    /// Returns once `duration` passed on the monotonic clock; throws `CancellationError` when the
    /// calling task is cancelled first.
    func sleep(for duration: Duration) async throws
}

/// The real clocks: `CLOCK_REALTIME`, `ContinuousClock` and `Task.sleep`.
public struct SystemTime: TimeSource {
    public init() {}

    public func unixMilliseconds() -> Int64 { WallClock.unixMilliseconds() }

    public func monotonic() -> ContinuousClock.Instant { .now }

    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}
