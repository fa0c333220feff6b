import Basics
import JSONSchema
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The local control interface: a Unix stream socket speaking line-delimited JSON, one request
/// object per line, one answer object per line (`{"ok":true,…}` or `{"ok":false,"error":"…"}`).
/// Used by `cs-companion status|plug|unplug|rfid|fault|clear-fault|ev` and by the simulated
/// hardware's drivers in tests and demos.
///
/// Only root, the daemon's own user and members of the daemon's group may use it: the socket file
/// is mode 0660, and every connection's peer credentials (SO_PEERCRED) are checked as well.
/// Connections are accepted on the daemon's "servers" poll thread (`SocketPoller.shared`, beside the
/// Modbus server) and served concurrently, each on its own short-lived thread, at most
/// `maxConnections` at a time (one more waits up to `slotWait` for a free slot, then is told so in one
/// line and closed): an idle or slow client cannot delay another's `status`. A request is at most 64 KiB and must arrive whole within
/// `requestDeadline` of the connection's accept (or of the previous answer): a client dribbling one
/// byte at a time is closed at that deadline, not at a per-recv timeout.
public final class ControlServer: Sendable {
    public typealias Handler = @Sendable (JSONObject) async -> JSONObject

    public let path: String
    private let listener: Int32
    private let handler: Handler
    private let logger: Logger
    private let stopped = Atomic<Bool>(false)
    private let maxConnections: Int
    private let requestDeadline: Duration
    private let poller: SocketPoller
    private let acceptor = Locked<ControlAcceptor?>(nil)
    /// How long the accept loop waits for a free slot before refusing a connection: a burst of short
    /// calls beyond the cap is served, a cap's worth of idle connections does not queue anyone for long.
    static let slotWait: Duration = .seconds(1)

    /// Pending connections the kernel holds before `accept` (50 parallel callers must not see EAGAIN).
    static let listenBacklog: Int32 = 128

    public struct SetupError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public init(
        path: String, logger: Logger, maxConnections: Int = 16, requestDeadline: Duration = .seconds(5),
        poller: SocketPoller = .shared, handler: @escaping Handler
    ) throws(SetupError) {
        self.path = path
        self.maxConnections = max(1, maxConnections)
        self.requestDeadline = requestDeadline
        self.poller = poller
        self.handler = handler
        self.logger = logger
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw SetupError(description: "control socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SetupError(description: "socket: \(String(cString: strerror(errno)))") }
        unlink(path)  // a stale socket from a previous run
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, chmod(path, 0o660) == 0, listen(fd, Self.listenBacklog) == 0,
              fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0
        else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw SetupError(description: "cannot listen on \(path): \(reason)")
        }
        listener = fd
    }

    /// Accepts connections on the poll thread until `stop()`.
    public func start() {
        let acceptor = ControlAcceptor(server: self, listener: listener, poller: poller, maxConnections: maxConnections)
        self.acceptor.withLock { $0 = acceptor }
        poller.submit { acceptor.begin() }
    }

    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        unlink(path)
        shutdown(listener, Int32(SHUT_RDWR))
        if let acceptor = acceptor.withLock({ acceptor in
            defer { acceptor = nil }
            return acceptor
        }) {
            poller.submit { acceptor.stop() }  // closes the listener on the thread that polls it
        } else {
            close(listener)
        }
    }

    /// The acceptor could not take a connection (`errno`); it pauses accepting for a moment.
    func acceptFailed(_ error: Int32) {
        logger.error("control socket cannot accept: \(String(cString: strerror(error)))")
    }

    /// One detached thread per connection: it serves, closes, and calls `done` (the acceptor counts).
    func serveOnOwnThread(_ connection: Int32, done: @escaping @Sendable () -> Void) -> Bool {
        let job = Unmanaged.passRetained(ConnectionJob(server: self, connection: connection, done: done))
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            let job = Unmanaged<ConnectionJob>.fromOpaque(context).takeRetainedValue()
            nameCurrentThread("control")
            job.server.serve(job.connection)
            close(job.connection)
            job.done()
            return nil
        }, job.toOpaque())
        guard created == 0 else {
            job.release()
            return false
        }
        pthread_detach(thread)
        return true
    }

    private final class ConnectionJob: Sendable {
        let server: ControlServer
        let connection: Int32
        let done: @Sendable () -> Void
        init(server: ControlServer, connection: Int32, done: @escaping @Sendable () -> Void) {
            self.server = server
            self.connection = connection
            self.done = done
        }
    }

    /// Whether the peer is root, our own user, or in our group.
    private func peerAllowed(_ connection: Int32) -> (Bool, String) {
        var credentials = PeerCredentials()
        var length = socklen_t(MemoryLayout<PeerCredentials>.size)
        guard getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 else { return (false, "unknown peer") }
        let who = "uid \(credentials.uid) gid \(credentials.gid) pid \(credentials.pid)"
        return (credentials.uid == 0 || credentials.uid == getuid() || credentials.gid == getgid(), who)
    }

    private func serve(_ connection: Int32) {
        let (allowed, who) = peerAllowed(connection)
        guard allowed else {
            logger.warning("control socket: refused \(who) (not root, not the service user or group)")
            reply(connection, ["ok": false, "error": "permission denied"])
            return
        }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var deadline = ContinuousClock.now + requestDeadline
        while !stopped.load(ordering: .acquiring) {
            guard waitReadable(connection, until: deadline) else {
                reply(connection, ["ok": false, "error": .string("no complete request within \(requestDeadline)")])
                return
            }
            let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
            pending.append(contentsOf: chunk[0..<count])
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                guard !line.allSatisfy({ $0 == 32 || $0 == 13 || $0 == 9 }) else { continue }
                guard reply(connection, answer(line, peer: who)) else { return }
                deadline = ContinuousClock.now + requestDeadline  // the next request gets its own deadline
            }
            if pending.count > 64 * 1024 {
                reply(connection, ["ok": false, "error": "request longer than 64 KiB"])
                return
            }
        }
    }

    /// Waits until `connection` has something to read (or was closed); false at `deadline`.
    private func waitReadable(_ connection: Int32, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return false }
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            var descriptor = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }  // let recv report the error
        }
    }

    private func answer(_ line: [UInt8], peer: String) -> JSONObject {
        let request: JSONObject
        do {
            guard case .object(let object) = try JSONValue.parse(line, maxDepth: 16) else {
                return ["ok": false, "error": "a request is a JSON object"]
            }
            request = object
        } catch {
            return ["ok": false, "error": .string("not JSON: \(error)")]
        }
        logger.info("control: \(request["command"]?.stringValue ?? "?") from \(peer)")
        // Bridge from this thread to the async handler; the thread waits, the cooperative pool does not.
        let box = ResultBox()
        let semaphore = Semaphore()
        let handler = self.handler
        Task {
            let result = await handler(request)
            box.value.withLock { $0 = result }
            semaphore.signal()
        }
        semaphore.wait()
        return box.value.withLock { $0 } ?? ["ok": false, "error": "no answer"]
    }

    @discardableResult
    func reply(_ connection: Int32, _ object: JSONObject) -> Bool {
        var bytes = JSONValue.object(object).serializedBytes()
        bytes.append(UInt8(ascii: "\n"))
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    private final class ResultBox: Sendable {
        /// Set by a task, read by the control socket's thread: a `Locked` (the rule in Basics.swift).
        let value = Locked<JSONObject?>(nil)
    }
}

/// `struct ucred` of <sys/socket.h> (only visible to C with _GNU_SOURCE): pid, uid, gid.
struct PeerCredentials {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// A counting semaphore for a plain thread waiting on a Swift task.
final class Semaphore: @unchecked Sendable {
    // @unchecked: the sem_t is only touched through sem_* calls, which are thread-safe.
    private let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

    init() { sem_init(semaphore, 0, 0) }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    func signal() { sem_post(semaphore) }

    func wait() {
        while sem_wait(semaphore) != 0 && errno == EINTR {}
    }
}

/// A client for the control socket (the CLI, josev-sim, tests).
public enum ControlClient {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Sends one request and returns the answer.
    public static func request(_ object: JSONObject, path: String, timeoutSeconds: Int = 10) throws(Failure) -> JSONObject {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw Failure(description: "socket path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            throw Failure(description: "cannot connect to \(path): \(String(cString: strerror(errno))) (is cs-companiond running? are you root or in its group?)")
        }
        var line = JSONValue.object(object).serializedBytes()
        line.append(UInt8(ascii: "\n"))
        guard (line.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == line.count else {
            throw Failure(description: "cannot send to \(path)")
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !answer.contains(UInt8(ascii: "\n")) {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw Failure(description: "no answer from \(path)") }
            answer.append(contentsOf: chunk[0..<count])
        }
        let text = answer.prefix { $0 != UInt8(ascii: "\n") }
        guard case .object(let result)? = try? JSONValue.parse(bytes: text) else { throw Failure(description: "answer is not a JSON object") }
        return result
    }
}

/// Where the control socket lives: the option, else `$RUNTIME_DIRECTORY/control.sock` (systemd's
/// RuntimeDirectory=), else `/run/cs-companiond/control.sock`.
public enum ControlSocketPath {
    public static var `default`: String {
        if let runtime = getenv("RUNTIME_DIRECTORY").map({ String(cString: $0) }), !runtime.isEmpty {
            // RuntimeDirectory= may list several directories separated by ':'; ours is the first.
            return String(runtime.split(separator: ":").first ?? Substring(runtime)) + "/control.sock"
        }
        return "/run/cs-companiond/control.sock"
    }
}
