import Foundation

/// A TCP forwarder on a free 127.0.0.1 port, to break a client's connection under it.
///
/// `.forward` relays to `127.0.0.1:upstreamPort`; `sever()` then closes every relayed connection
/// on both sides without any MQTT DISCONNECT (the broker sees the client vanish: will, keepalive…).
/// `.blackhole` accepts TCP and never answers (a broker that hangs: connect timeouts).
public final class TCPProxy: Sendable {
    public enum Mode: Sendable { case forward, blackhole }

    private struct State {
        var open = true
        var refusing = false
        var connections: [Int32] = []
    }

    public let host = "127.0.0.1"
    public let port: Int
    public let upstreamPort: Int
    public let mode: Mode
    private let listener: Int32
    private let state = Locked(State())

    public init(upstreamPort: Int, mode: Mode = .forward) throws {
        self.upstreamPort = upstreamPort
        self.mode = mode
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = loopbackAddress(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0, listen(fd, 16) == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw TestSupportError("proxy listen: \(message)")
        }
        self.listener = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit {
        // The accept thread holds `self` until `close()`; deinit only runs after it ended.
    }

    /// Closes every current connection on both sides (FIN to the broker and the client; no DISCONNECT).
    /// New connections are still accepted.
    public func sever() {
        let connections = state.withLock { $0.connections }
        for fd in connections { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// While refusing, a new connection is closed at once (as by a broker that is not up yet);
    /// the current ones stay. Lets a test decide when a client may (re)connect.
    public func setRefusing(_ refusing: Bool) {
        state.withLock { $0.refusing = refusing }
    }

    /// Stops accepting and severs everything. Idempotent; lets the proxy be released.
    public func close() {
        let wasOpen = state.withLock { s in
            let was = s.open
            s.open = false
            return was
        }
        guard wasOpen else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        sever()
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                break
            }
            if state.withLock({ $0.open && $0.refusing }) {
                Glibc.close(client)
                continue
            }
            let registered = state.withLock { s -> Bool in
                guard s.open else { return false }
                s.connections.append(client)
                return true
            }
            guard registered else {
                Glibc.close(client)
                break
            }
            switch mode {
            case .blackhole:
                Thread { [self] in pump(client, nil) }.start()
            case .forward:
                let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var address = loopbackAddress(port: upstreamPort)
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Foundation.connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                if upstream < 0 || connected != 0 {
                    if upstream >= 0 { Glibc.close(upstream) }
                    forget(client)
                    Glibc.close(client)
                    continue
                }
                state.withLock { $0.connections.append(upstream) }
                Thread { [self] in pump(client, upstream) }.start()
            }
        }
        Glibc.close(listener)
    }

    private func forget(_ fd: Int32) {
        state.withLock { s in s.connections.removeAll { $0 == fd } }
    }

    /// Copies bytes both ways until either side ends (or, upstream nil, reads and discards).
    private func pump(_ client: Int32, _ upstream: Int32?) {
        var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0)]
        if let upstream { fds.append(pollfd(fd: upstream, events: Int16(POLLIN), revents: 0)) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        loop: while true {
            let ready = poll(&fds, nfds_t(fds.count), 1000)
            if ready < 0 && errno != EINTR { break }
            for index in fds.indices where fds[index].revents != 0 {
                let count = read(fds[index].fd, &buffer, buffer.count)
                if count <= 0 { break loop }
                guard let upstream else { continue }
                let target = index == 0 ? upstream : client
                var written = 0
                while written < count {
                    let n = buffer.withUnsafeBytes { write(target, $0.baseAddress! + written, count - written) }
                    if n <= 0 { break loop }
                    written += n
                }
            }
        }
        for fd in [client] + (upstream.map { [$0] } ?? []) {
            forget(fd)
            shutdown(fd, Int32(SHUT_RDWR))
            Glibc.close(fd)
        }
    }
}
