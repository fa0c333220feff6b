import Daemon
import Foundation
import JSONSchema
import Synchronization
import Testing
import TestSupport

/// Issue 18, finding 7: the control socket serves clients concurrently, bounds a whole request by a
/// deadline (not each recv), and its backlog takes a burst of parallel callers.
@Suite("control socket under idle, slow and parallel clients", .timeLimit(.minutes(2)))
struct ControlSocketConcurrencyTests {
    @Test("an idle connection held open does not delay another client's status")
    func idleConnectionDoesNotBlock() async throws {
        let (daemon, _) = try await startDaemon()
        let idle = try RawControlConnection(path: daemon.controlSocket)
        defer { idle.close() }
        let started = ContinuousClock.now
        let answer = try ControlClient.request(["command": "status"], path: daemon.controlSocket, timeoutSeconds: 10)
        let elapsed = ContinuousClock.now - started
        #expect(answer["ok"] == true)
        #expect(elapsed < .seconds(2), "status took \(elapsed) behind an idle connection")
        #expect(await daemon.stop() == 0)
    }

    @Test("a client sending one byte every 100 ms is closed at the request deadline while others are served")
    func slowLorisIsCutAtTheDeadline() async throws {
        let (daemon, _) = try await startDaemon()
        let loris = try RawControlConnection(path: daemon.controlSocket)
        defer { loris.close() }
        let dribble = Task.detached { loris.dribbleUntilClosed(every: .milliseconds(100), giveUpAfter: .seconds(30)) }

        // Served while the slow client dribbles.
        for _ in 0..<5 {
            let started = ContinuousClock.now
            let answer = try ControlClient.request(["command": "status"], path: daemon.controlSocket, timeoutSeconds: 10)
            #expect(answer["ok"] == true)
            #expect(ContinuousClock.now - started < .seconds(2))
        }
        let cut = await dribble.value
        // The default deadline is 5 s from accept to the complete line; the client kept sending all along.
        let closedAfter = try #require(cut, "the slow client was never disconnected")
        #expect(closedAfter >= .seconds(4), "closed after \(closedAfter)")
        #expect(closedAfter < .seconds(9), "closed after \(closedAfter)")
        #expect(try ControlClient.request(["command": "status"], path: daemon.controlSocket)["ok"] == true)
        #expect(await daemon.stop() == 0)
    }

    @Test("50 parallel status requests, beside a forgotten idle connection, are all answered")
    func fiftyParallelStatusCalls() async throws {
        let (daemon, _) = try await startDaemon()
        let path = daemon.controlSocket
        let idle = try RawControlConnection(path: path)
        defer { idle.close() }
        let outcomes = await onThreads(50) { () -> String in
            do {
                let answer = try ControlClient.request(["command": "status"], path: path, timeoutSeconds: 20)
                return answer["ok"] == true ? "ok" : "\(answer)"
            } catch {
                return "\(error)"
            }
        }
        #expect(outcomes.count == 50)
        #expect(outcomes.filter { $0 != "ok" }.isEmpty, "\(outcomes.filter { $0 != "ok" })")
        #expect(await daemon.stop() == 0)
    }

    @Test("beyond 16 open connections one more is refused with an answer, and served once a slot is free")
    func connectionCap() async throws {
        let (daemon, _) = try await startDaemon()
        let idle = try (0..<16).map { _ in try RawControlConnection(path: daemon.controlSocket) }
        let refused = try ControlClient.request(["command": "status"], path: daemon.controlSocket, timeoutSeconds: 10)
        #expect(refused["ok"] == false, "\(refused)")
        idle[0].close()
        let served = try ControlClient.request(["command": "status"], path: daemon.controlSocket, timeoutSeconds: 10)
        #expect(served["ok"] == true, "\(served)")
        for connection in idle.dropFirst() { connection.close() }
        #expect(await daemon.stop() == 0)
    }

    private func startDaemon() async throws -> (DaemonProcess, TestBroker) {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: stationConfigYAML(port: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        return (daemon, broker)
    }
}

/// Runs `body` on `count` plain threads at once (blocking socket calls, so not on the cooperative
/// pool, which has as many threads as cores) and returns every result.
func onThreads<T: Sendable>(_ count: Int, _ body: @escaping @Sendable () -> T) async -> [T] {
    await withCheckedContinuation { (continuation: CheckedContinuation<[T], Never>) in
        let collected = ThreadResults<T>()
        for _ in 0..<count {
            let thread = Thread {
                let result = body()
                let all: [T]? = collected.results.withLock { results in
                    results.append(result)
                    return results.count == count ? results : nil
                }
                if let all { continuation.resume(returning: all) }
            }
            thread.start()
        }
    }
}

private final class ThreadResults<T: Sendable>: Sendable {
    let results = Mutex<[T]>([])
}

/// A raw client connection to the control socket, for misbehaving on purpose.
final class RawControlConnection: Sendable {
    let fd: Int32
    let opened = ContinuousClock.now

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket failed") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() where index < raw.count - 1 { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw TestSupportError("cannot connect to \(path)")
        }
    }

    func close() { Glibc.close(fd) }

    /// Sends one space every `interval` (never a newline) and returns how long after connecting the
    /// server closed the connection (EOF or a send error), or nil if it was still open at `giveUpAfter`.
    func dribbleUntilClosed(every interval: Duration, giveUpAfter: Duration) -> Duration? {
        var byte = UInt8(ascii: " ")
        var buffer = [UInt8](repeating: 0, count: 4096)
        let milliseconds = Int32(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000)
        while ContinuousClock.now - opened < giveUpAfter {
            if send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) != 1 { return ContinuousClock.now - opened }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            // poll paces the dribble and notices the server's answer or close at the same time.
            if poll(&descriptor, 1, milliseconds) > 0 {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { return ContinuousClock.now - opened }
                // The one-line refusal arrives first; the close follows: keep reading.
            }
        }
        return nil
    }
}
