#if canImport(Glibc)
    import Glibc
#endif

/// Nanoseconds of CLOCK_MONOTONIC, the executor's one clock.
enum MonotonicTime {
    static var now: UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// A clock's duration in nanoseconds: 0 for one not positive, the end of time for one too long;
    /// a clock whose durations are not `Swift.Duration` counts as 0 (run as soon as possible).
    static func nanoseconds<D: DurationProtocol>(of duration: D) -> UInt64 {
        guard let duration = duration as? Duration, duration > .zero else { return 0 }
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (sum, carry) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        return carry ? .max : sum
    }
}
