#if canImport(Glibc)
    import Glibc
#endif

/// What one `acceptConnection(from:)` gives a listener on the poll thread.
public enum AcceptOutcome {
    /// A connection (close-on-exec), and the peer's address as accept(2) filled it in.
    case accepted(Int32, peer: sockaddr_storage)
    /// Nothing more to accept now (the non-blocking listener would block).
    case drained
    /// accept(2) failed otherwise (`errno`): out of descriptors or memory. That lasts while the
    /// listener stays readable, so the caller stops watching it for `pauseAfterFailure` instead of
    /// being woken again at once (a busy loop on the poll thread).
    case failed(errno: Int32)

    public static let pauseAfterFailure: Duration = .milliseconds(100)
}

/// Takes one connection from the non-blocking listening socket `listener`; an interrupted or
/// aborted attempt is tried again.
public func acceptConnection(from listener: Int32) -> AcceptOutcome {
    while true {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let connection = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
        }
        if connection >= 0 {
            // accept4 is not in Swift's Glibc module: close-on-exec after the fact.
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            return .accepted(connection, peer: storage)
        }
        switch errno {
        case EINTR, ECONNABORTED: continue
        case EAGAIN, EWOULDBLOCK: return .drained
        default: return .failed(errno: errno)
        }
    }
}
