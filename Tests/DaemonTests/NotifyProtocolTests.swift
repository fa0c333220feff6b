import Foundation
import Synchronization
import Testing
import TestSupport

/// A datagram socket standing in for systemd's `NOTIFY_SOCKET`, recording every datagram.
final class NotifySocketListener: Sendable {
    let path: String
    private let fd: Int32
    private let datagrams = Datagrams()

    final class Datagrams: Sendable {
        let list = Mutex<[String]>([])
    }

    init(directory: TemporaryDirectory) throws {
        path = directory.file("notify.sock")
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
                if count > 0 {
                    datagrams.list.withLock { $0.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
                } else if count < 0, errno != EAGAIN, errno != EWOULDBLOCK, errno != EINTR {
                    return
                }
            }
        }
    }

    var received: [String] { datagrams.list.withLock { $0 } }

    /// Every `KEY=value` line of every datagram, in order.
    var assignments: [String] { received.flatMap { $0.split(separator: "\n").map(String.init) } }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        unlink(path)
    }
}

@Suite("sd_notify protocol", .timeLimit(.minutes(1)))
struct NotifyProtocolTests {
    @Test("READY after connecting, STATUS, WATCHDOG at half the interval, RELOADING then READY on SIGHUP, STOPPING on SIGTERM")
    func notifySequence() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let listener = try NotifySocketListener(directory: directory)
        let daemon = try DaemonProcess(
            config: stationConfigYAML(port: broker.port), directory: directory,
            environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "400000"])
        #expect(await waitUntil(timeout: .seconds(10)) { listener.assignments.contains("READY=1") }, "\(listener.received) \(daemon.log)")
        #expect(listener.assignments.contains { $0.hasPrefix("STATUS=") && $0.contains("connected to 127.0.0.1") })
        // 400 ms watchdog → a ping every 200 ms.
        #expect(await waitUntil(timeout: .seconds(3)) { listener.assignments.filter { $0 == "WATCHDOG=1" }.count >= 4 })

        let readyBefore = listener.assignments.filter { $0 == "READY=1" }.count
        daemon.signal(SIGHUP)
        #expect(await waitUntil(timeout: .seconds(5)) { listener.assignments.filter { $0 == "READY=1" }.count > readyBefore })
        let all = listener.assignments
        let reloading = try #require(all.firstIndex(of: "RELOADING=1"))
        #expect(all[reloading...].contains("READY=1"))
        #expect(all.contains { $0.hasPrefix("MONOTONIC_USEC=") })

        #expect(await daemon.stop() == 0)
        #expect(await waitUntil(timeout: .seconds(2)) { listener.assignments.contains("STOPPING=1") })
    }

    @Test("no READY while the broker cannot be reached; the status says why")
    func notReadyWithoutBroker() async throws {
        let port = try freeLoopbackPort()
        let directory = try TemporaryDirectory()
        let listener = try NotifySocketListener(directory: directory)
        let daemon = try DaemonProcess(
            config: stationConfigYAML(port: port), directory: directory, environment: ["NOTIFY_SOCKET": listener.path])
        #expect(await waitUntil(timeout: .seconds(5)) { listener.assignments.contains { $0.contains("unreachable") } }, "\(listener.received)")
        #expect(!listener.assignments.contains("READY=1"))
        #expect(await daemon.stop() == 0)
    }
}
