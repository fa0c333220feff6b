import Basics
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The poll thread itself (Basics/SocketPoller.swift) with real loopback sockets: an echo server
/// whose connections close after `idle` without a byte.
@Suite("SocketPoller: one thread, real sockets", .timeLimit(.minutes(1)))
struct SocketPollerTests {
    @Test("100 connections at once are each echoed their own bytes, every callback on the poller's thread")
    func manyConnections() async throws {
        let poller = SocketPoller(name: "test-echo")
        defer { poller.shutdown() }
        let server = try EchoServer.start(on: poller, idle: nil)
        let answers = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for index in 0..<100 {
                group.addTask {
                    let fd = try BlockingSocket.connect(port: server.port)
                    defer { close(fd) }
                    let message = Array("hello \(index)\n".utf8)
                    try BlockingSocket.send(fd, message)
                    return (index, try BlockingSocket.receive(fd, count: message.count))
                }
            }
            var answers: [Int: [UInt8]] = [:]
            for try await (index, bytes) in group { answers[index] = bytes }
            return answers
        }
        #expect(answers.count == 100)
        for (index, bytes) in answers { #expect(bytes == Array("hello \(index)\n".utf8)) }
        #expect(server.offThread.current == 0, "a callback ran on another thread")
    }

    @Test("an idle deadline closes the connection at its time (the peer reads EOF), not before")
    func idleDeadline() async throws {
        let poller = SocketPoller(name: "test-idle")
        defer { poller.shutdown() }
        let idle = Duration.milliseconds(300)
        let server = try EchoServer.start(on: poller, idle: idle)
        let fd = try BlockingSocket.connect(port: server.port)
        defer { close(fd) }
        let connected = ContinuousClock.now
        // recv blocks until the server closes (0 = EOF); SO_RCVTIMEO only guards against a hang.
        let result = BlockingSocket.receiveOnce(fd)
        let waited = connected.duration(to: .now)
        #expect(result == 0, "EOF from the server")
        #expect(waited >= idle - .milliseconds(5), "closed after \(waited), before its idle deadline")
        #expect(waited < .seconds(5))
    }

    @Test("jobs submitted from many tasks all run on the thread, each submitter's in its order")
    func submittedJobsInOrder() async throws {
        let poller = SocketPoller(name: "test-jobs")
        defer { poller.shutdown() }
        let log = ThreadConfinedLog()
        await withTaskGroup(of: Void.self) { group in
            for submitter in 0..<8 {
                group.addTask {
                    for step in 0..<200 {
                        poller.submit { log.entries.append((submitter, step, poller.isCurrentThread)) }
                    }
                }
            }
        }
        let entries = await poller.perform { log.entries.map { [$0.0, $0.1, $0.2 ? 1 : 0] } }
        #expect(entries.count == 1600)
        #expect(entries.allSatisfy { $0[2] == 1 })
        for submitter in 0..<8 {
            #expect(entries.filter { $0[0] == submitter }.map { $0[1] } == Array(0..<200))
        }
    }
}

/// Touched only by jobs on the poller's thread.
private final class ThreadConfinedLog: @unchecked Sendable {
    var entries: [(Int, Int, Bool)] = []
}

/// An echo server on a `SocketPoller`: every byte a client sends comes back.
private final class EchoServer: SocketPollerClient, @unchecked Sendable {
    // @unchecked: after `start`, only touched on the poller's thread (`offThread` is a Locked).
    let port: Int
    private let fd: Int32
    private let poller: SocketPoller
    private let idle: Duration?
    var open = 0
    let offThread = Locked(0)

    private init(fd: Int32, port: Int, poller: SocketPoller, idle: Duration?) {
        self.fd = fd
        self.port = port
        self.poller = poller
        self.idle = idle
    }

    static func start(on poller: SocketPoller, idle: Duration?) throws -> EchoServer {
        let (fd, port) = try BlockingSocket.listen()
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let server = EchoServer(fd: fd, port: port, poller: poller, idle: idle)
        poller.submit { poller.watch(fd, for: .readable, client: server) }
        return server
    }

    func checkThread() {
        if !poller.isCurrentThread { offThread.withLock { $0 += 1 } }
    }

    func socketReady(_ events: SocketPoller.Events) {
        checkThread()
        while true {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            open += 1
            let connection = Connection(fd: client, server: self)
            poller.watch(client, for: .readable, client: connection)
            if let idle { poller.setDeadline(client, .now + idle) }
        }
    }

    func deadlineReached(now: ContinuousClock.Instant) { checkThread() }

    final class Connection: SocketPollerClient {
        let fd: Int32
        let server: EchoServer
        init(fd: Int32, server: EchoServer) {
            self.fd = fd
            self.server = server
        }

        func socketReady(_ events: SocketPoller.Events) {
            server.checkThread()
            var buffer = [UInt8](repeating: 0, count: 512)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                _ = buffer.withUnsafeBytes { send(fd, $0.baseAddress, count, Int32(MSG_NOSIGNAL)) }
                if let idle = server.idle { server.poller.setDeadline(fd, .now + idle) }
            } else if count == 0 || errno != EAGAIN {
                end()
            }
        }

        func deadlineReached(now: ContinuousClock.Instant) {
            server.checkThread()
            end()
        }

        private func end() {
            server.poller.unwatch(fd)
            close(fd)
            server.open -= 1
        }
    }
}

/// Blocking loopback sockets for the client side.
enum BlockingSocket {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ what: String) { description = "\(what): \(String(cString: strerror(errno)))" }
    }

    static func listen() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && Glibc.listen(fd, 128) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { throw Failure("listen") }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)  // only against a hang
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure("connect")
        }
        return fd
    }

    static func send(_ fd: Int32, _ bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw Failure("send") }
    }

    /// Exactly `count` bytes (throws on EOF or timeout before).
    static func receive(_ fd: Int32, count: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < count {
            let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - bytes.count), 0) }
            guard got > 0 else { throw Failure("recv after \(bytes.count) bytes") }
            bytes += chunk[0..<got]
        }
        return bytes
    }

    /// One recv's result: bytes received, 0 at EOF, -1 on error or timeout.
    static func receiveOnce(_ fd: Int32) -> Int {
        var chunk = [UInt8](repeating: 0, count: 512)
        return chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    }
}
