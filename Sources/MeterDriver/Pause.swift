#if canImport(Glibc)
    import Glibc
#endif

/// Blocking sleep for a bus thread (never on Swift's cooperative pool).
enum Pause {
    static func sleep(_ duration: Duration) {
        guard duration > .zero else { return }
        let parts = duration.components
        var request = timespec(tv_sec: Int(parts.seconds), tv_nsec: Int(parts.attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
    }
}
