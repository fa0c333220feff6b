import Foundation

/// A hostile TCP client on 127.0.0.1: a small receive buffer it never reads, and a non-blocking
/// socket it writes into as long as the peer takes bytes.
public final class RawTCPFlooder: @unchecked Sendable {
    public let fd: Int32

    /// Connects with `SO_RCVBUF` set to `receiveBuffer` bytes before the handshake.
    public init(port: Int, receiveBuffer: Int32 = 4096) throws {
        fd = try connectToLoopback(port: port) { fd in
            var size = receiveBuffer
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(fd) }

    /// Writes `chunk` over and over until the peer has taken nothing for `stall` or `limit` has
    /// passed; returns the bytes the peer took.
    public func flood(_ chunk: [UInt8], stall: Duration, limit: Duration) -> Int {
        let clock = ContinuousClock()
        let end = clock.now + limit
        var lastProgress = clock.now
        var sent = 0
        var offset = 0
        while clock.now < end, clock.now - lastProgress < stall {
            let written = chunk.withUnsafeBytes { bytes in
                send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                sent += written
                offset = (offset + written) % chunk.count
                lastProgress = clock.now
                continue
            }
            if written < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { break }
            var pollFD = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&pollFD, 1, 50)
        }
        return sent
    }

    /// `POLLRDHUP` (Linux, not in Glibc's Swift overlay): the peer shut down its side.
    static let pollReadHangUp: Int16 = 0x2000

    /// Waits until the peer closed or reset the connection; false if it is still open at `timeout`.
    public func waitUntilClosedByPeer(timeout: Duration) -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + timeout
        while clock.now < end {
            var pollFD = pollfd(fd: fd, events: Self.pollReadHangUp, revents: 0)
            if poll(&pollFD, 1, 100) > 0,
               pollFD.revents & (Self.pollReadHangUp | Int16(POLLHUP | POLLERR)) != 0
            {
                return true
            }
        }
        return false
    }
}
