import JosevContract

#if canImport(Glibc)
    import Glibc
#endif

/// The wall clock as the contract writes it (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
enum WallClock {
    static func unixMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec / 1_000_000)
    }

    static func now() -> String { DateTimeText.format(unixMilliseconds: unixMilliseconds()) ?? "1970-01-01T00:00:00.000Z" }
}
