import Foundation
import Synchronization

/// A datagram socket standing in for systemd's `NOTIFY_SOCKET`, recording every datagram.
public final class NotifySocketListener: Sendable {
    public let path: String
    private let fd: Int32
    private let datagrams = Datagrams()

    final class Datagrams: Sendable {
        /// Each datagram with the time it came.
        let list = Mutex<[(at: ContinuousClock.Instant, text: String)]>([])
        /// Set on deinit; the receiving thread then closes the socket (so it never reads a reused descriptor).
        let stopped = Mutex(false)
    }

    /// Binds `<directory>/<name>`; a fresh name by default, so a restarted daemon in the same directory gets its own.
    public init(directory: TemporaryDirectory, name: String = "notify-\(UInt32.random(in: 0...UInt32.max)).sock") throws {
        path = directory.file(name)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket: \(errno)") }
        self.fd = fd
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw TestSupportError("socket path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw TestSupportError("bind \(path): \(errno)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let datagrams = self.datagrams
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = recv(fd, &buffer, buffer.count, 0)
                if datagrams.stopped.withLock({ $0 }) {
                    close(fd)
                    return
                }
                if count > 0 {
                    let text = String(decoding: buffer[0..<count], as: UTF8.self)
                    datagrams.list.withLock { $0.append((ContinuousClock.now, text)) }
                } else if count < 0, errno != EAGAIN, errno != EWOULDBLOCK, errno != EINTR {
                    close(fd)
                    return
                }
            }
        }
    }

    public var received: [String] { datagrams.list.withLock { $0.map(\.text) } }

    /// Every `KEY=value` line of every datagram, in order.
    public var assignments: [String] { received.flatMap { $0.split(separator: "\n").map(String.init) } }

    /// How many times `assignment` (`READY=1`, `WATCHDOG=1`…) came.
    public func count(_ assignment: String) -> Int { assignments.filter { $0 == assignment }.count }

    /// When a datagram with `assignment` (`WATCHDOG=1`…) last came; nil if none did.
    public func lastArrival(of assignment: String) -> ContinuousClock.Instant? {
        datagrams.list.withLock { list in
            list.last { $0.text.split(separator: "\n").contains { $0 == assignment } }?.at
        }
    }

    /// The values of every `STATUS=` line, in order.
    public var statuses: [String] { assignments.compactMap { $0.hasPrefix("STATUS=") ? String($0.dropFirst(7)) : nil } }

    deinit {
        datagrams.stopped.withLock { $0 = true }
        shutdown(fd, Int32(SHUT_RDWR))
        unlink(path)
    }
}
