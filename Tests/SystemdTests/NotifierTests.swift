import Foundation
import Glibc
import Systemd
import Testing

/// A real `AF_UNIX` datagram socket standing in for the service manager's notify socket.
final class NotifyReceiver {
    let directory: String
    let path: String
    private let fd: Int32

    init() throws {
        var template = Array("/tmp/cs-notify.XXXXXX".utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        directory = String(cString: dir)
        path = directory + "/notify.sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next datagram as text, nil after a 2 s timeout.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Whether a datagram is waiting (without blocking).
    func hasPending() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_PEEK)) }
        return count >= 0
    }

    deinit {
        close(fd)
        unlink(path)
        rmdir(directory)
    }
}

/// Sets environment variables for the duration of `body`, then restores them.
///
/// The environment is process-wide: every test that changes it is in the `.serialized` suite
/// below, and no other test of this package reads NOTIFY_SOCKET or WATCHDOG_*.
func withEnvironment<T>(_ values: [String: String?], _ body: () throws -> T) rethrows -> T {
    var saved: [String: String?] = [:]
    for (name, value) in values {
        saved[name] = getenv(name).map { String(cString: $0) }
        if let value { setenv(name, value, 1) } else { unsetenv(name) }
    }
    defer {
        for (name, value) in saved {
            if let value { setenv(name, value, 1) } else { unsetenv(name) }
        }
    }
    return try body()
}

@Suite("sd_notify over a real datagram socket", .serialized)
struct NotifierTests {
    let notifier = SystemdNotifier()

    @Test func sendsExactDatagrams() throws {
        let receiver = try NotifyReceiver()
        try withEnvironment(["NOTIFY_SOCKET": receiver.path]) {
            #expect(notifier.isConfigured)

            #expect(notifier.ready() == .sent)
            #expect(receiver.receive() == "READY=1")

            #expect(notifier.status("connecting to broker 127.0.0.1:1883") == .sent)
            #expect(receiver.receive() == "STATUS=connecting to broker 127.0.0.1:1883")

            #expect(notifier.watchdog() == .sent)
            #expect(receiver.receive() == "WATCHDOG=1")

            let before = SystemdNotifier.monotonicMicroseconds()
            #expect(notifier.reloading() == .sent)
            let after = SystemdNotifier.monotonicMicroseconds()
            let reload = try #require(receiver.receive())
            let lines = reload.split(separator: "\n").map(String.init)
            #expect(lines.count == 2)
            #expect(lines.first == "RELOADING=1")
            let usecText = try #require(lines.last?.split(separator: "=", maxSplits: 1).last)
            #expect(lines.last?.hasPrefix("MONOTONIC_USEC=") == true)
            let usec = try #require(UInt64(usecText))
            #expect(usec >= before && usec <= after)

            #expect(notifier.ready(status: "serving") == .sent)
            #expect(receiver.receive() == "READY=1\nSTATUS=serving")

            #expect(notifier.stopping() == .sent)
            #expect(receiver.receive() == "STOPPING=1")

            #expect(notifier.notify([.stopping, .status("flushing sessions")]) == .sent)
            #expect(receiver.receive() == "STOPPING=1\nSTATUS=flushing sessions")

            #expect(notifier.notify([.mainPID(4242), .errno(5), .watchdogTrigger]) == .sent)
            #expect(receiver.receive() == "MAINPID=4242\nERRNO=5\nWATCHDOG=trigger")
            #expect(!receiver.hasPending())
        }
    }

    @Test func statusStaysOneLine() throws {
        let receiver = try NotifyReceiver()
        withEnvironment(["NOTIFY_SOCKET": receiver.path]) {
            #expect(notifier.status("line one\nREADY=1\r\0end") == .sent)
            #expect(receiver.receive() == "STATUS=line one READY=1  end")
        }
    }

    @Test func noOpWithoutNotifySocket() {
        withEnvironment(["NOTIFY_SOCKET": nil]) {
            #expect(!notifier.isConfigured)
            #expect(notifier.ready() == .notConfigured)
            #expect(notifier.watchdog() == .notConfigured)
            #expect(notifier.reloading() == .notConfigured)
            #expect(notifier.stopping() == .notConfigured)
        }
    }

    @Test func reportsFailureWhenNobodyListens() throws {
        let receiver = try NotifyReceiver()
        let missing = receiver.directory + "/nobody.sock"
        withEnvironment(["NOTIFY_SOCKET": missing]) {
            guard case .failed(let code) = notifier.ready() else {
                Issue.record("expected a failure for \(missing)")
                return
            }
            #expect(code == ENOENT || code == ECONNREFUSED)
        }
    }

    @Test func watchdogIntervalFromEnvironment() {
        let me = String(getpid())
        withEnvironment(["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": me]) {
            #expect(SystemdNotifier.watchdogInterval() == .seconds(10))
            #expect(SystemdNotifier.recommendedPingInterval() == .seconds(5))
        }
        withEnvironment(["WATCHDOG_USEC": "5000000", "WATCHDOG_PID": nil]) {
            #expect(SystemdNotifier.watchdogInterval() == .seconds(5))
            #expect(SystemdNotifier.recommendedPingInterval() == .milliseconds(2500))
        }
        // Meant for another process (e.g. the ExecStartPre shell): not ours.
        withEnvironment(["WATCHDOG_USEC": "5000000", "WATCHDOG_PID": "1"]) {
            #expect(SystemdNotifier.watchdogInterval() == nil)
        }
        withEnvironment(["WATCHDOG_USEC": nil, "WATCHDOG_PID": nil]) {
            #expect(SystemdNotifier.watchdogInterval() == nil)
            #expect(SystemdNotifier.recommendedPingInterval() == nil)
        }
        withEnvironment(["WATCHDOG_USEC": "soon", "WATCHDOG_PID": me]) {
            #expect(SystemdNotifier.watchdogInterval() == nil)
        }
        // The variables are left in place for the rest of the process (unset_environment = 0).
        withEnvironment(["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": me]) {
            _ = SystemdNotifier.watchdogInterval()
            #expect(getenv("WATCHDOG_USEC") != nil)
        }
    }
}

@Suite("NotifyState wire form")
struct NotifyStateTests {
    @Test(arguments: [
        (NotifyState.ready, "READY=1"),
        (.status("up"), "STATUS=up"),
        (.watchdog, "WATCHDOG=1"),
        (.reloading, "RELOADING=1"),
        (.stopping, "STOPPING=1"),
        (.mainPID(17), "MAINPID=17"),
        (.errno(2), "ERRNO=2"),
        (.watchdogTrigger, "WATCHDOG=trigger"),
        (.monotonicUsec(123_456), "MONOTONIC_USEC=123456"),
    ])
    func assignment(state: NotifyState, expected: String) {
        #expect(state.assignment == expected)
    }
}
