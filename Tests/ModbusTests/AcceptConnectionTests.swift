import Basics
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The accept step both listeners on the poll thread use (Basics/AcceptConnection.swift), on real
/// loopback sockets.
@Suite("acceptConnection: accepted, drained, failed", .timeLimit(.minutes(1)))
struct AcceptConnectionTests {
    @Test("a waiting connection is accepted close-on-exec with its peer's address; then the listener is drained")
    func acceptedThenDrained() throws {
        let (listener, port) = try BlockingSocket.listen()
        defer { close(listener) }
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
        #expect(isDrained(acceptConnection(from: listener)))
        let client = try BlockingSocket.connect(port: port)
        defer { close(client) }
        var pending = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        #expect(poll(&pending, 1, 5000) == 1)
        guard case .accepted(let connection, let peer) = acceptConnection(from: listener) else {
            Issue.record("no connection accepted")
            return
        }
        defer { close(connection) }
        #expect(fcntl(connection, F_GETFD) & FD_CLOEXEC != 0)
        #expect(Int32(peer.ss_family) == AF_INET)
        #expect(isDrained(acceptConnection(from: listener)))
    }

    @Test("accept(2) failing for another reason than an empty backlog is reported with its errno")
    func failed() {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { ends.forEach { close($0) } }
        guard case .failed(let error) = acceptConnection(from: ends[0]) else {
            Issue.record("a pipe was accepted from")
            return
        }
        #expect(error == ENOTSOCK)
    }

    private func isDrained(_ outcome: AcceptOutcome) -> Bool {
        if case .drained = outcome { true } else { false }
    }
}
