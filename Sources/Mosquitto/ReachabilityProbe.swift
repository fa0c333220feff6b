import Glibc

/// Whether a TCP connection to `host:port` can be made within `timeout`, without blocking longer:
/// a non-blocking connect to each resolved address, closed at once. Used before libmosquitto's
/// blocking connect (the only one that sends CONNECT properties), so that a broker address that
/// swallows SYNs costs one `connectTimeout`, not the kernel's minutes of retries.
enum ReachabilityProbe {
    /// nil when an address accepted the connection; else the errno of the last failure
    /// (`ETIMEDOUT` when none answered in time).
    static func connect(host: String, port: Int, timeout: Duration) -> Int32? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return EHOSTUNREACH }
        defer { freeaddrinfo(list) }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var failure: Int32 = ETIMEDOUT
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry?.pointee {
            entry = address.ai_next
            let fd = socket(address.ai_family, address.ai_socktype | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), address.ai_protocol)
            guard fd >= 0 else {
                failure = errno
                continue
            }
            defer { close(fd) }
            if Glibc.connect(fd, address.ai_addr, address.ai_addrlen) == 0 { return nil }
            guard errno == EINPROGRESS else {
                failure = errno
                continue
            }
            let remaining = deadline - clock.now
            guard remaining > .zero else { return ETIMEDOUT }
            let (seconds, attoseconds) = remaining.components
            var pollFD = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&pollFD, 1, Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000))
            guard ready > 0 else {
                failure = ready == 0 ? ETIMEDOUT : errno
                continue
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == 0 { return nil }
            failure = error
        }
        return failure
    }
}
