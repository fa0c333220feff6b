import Basics

#if canImport(Glibc)
    import Glibc
#endif

/// The control socket's listener on the poll thread: accepts, and hands each connection to a
/// thread of its own while fewer than `maxConnections` are served. One more waits for a free slot
/// up to `ControlServer.slotWait` (accepting pauses meanwhile, further callers stay in the kernel's
/// backlog), then is told it is busy and closed.
final class ControlAcceptor: SocketPollerClient, @unchecked Sendable {
    // @unchecked: created on any thread, then only touched on the poller's thread.

    private let server: ControlServer
    private let listener: Int32
    private let poller: SocketPoller
    private let maxConnections: Int
    private var serving = 0
    /// The accepted connection waiting for a free slot.
    private var waiting: Int32?
    private var stopped = false

    init(server: ControlServer, listener: Int32, poller: SocketPoller, maxConnections: Int) {
        self.server = server
        self.listener = listener
        self.poller = poller
        self.maxConnections = maxConnections
    }

    func begin() {
        guard !stopped else { return }
        poller.watch(listener, for: .readable, client: self)
    }

    func stop() {
        guard !stopped else { return }
        stopped = true
        poller.unwatch(listener)
        close(listener)
        if let waiting {
            close(waiting)
            self.waiting = nil
        }
    }

    func socketReady(_ events: SocketPoller.Events) {
        while !stopped, waiting == nil {
            let connection: Int32
            switch acceptConnection(from: listener) {
            case .accepted(let accepted, _):
                connection = accepted
            case .drained:
                return
            case .failed(let error):
                // Out of descriptors (or worse): pause instead of spinning on a listener that stays readable.
                server.acceptFailed(error)
                poller.change(listener, to: [])
                poller.setDeadline(listener, .now + AcceptOutcome.pauseAfterFailure)
                return
            }
            if serving < maxConnections {
                serve(connection)
            } else {
                waiting = connection
                poller.change(listener, to: [])
                poller.setDeadline(listener, .now + ControlServer.slotWait)
            }
        }
    }

    /// The waiting connection found no free slot in time, or the pause after a failed accept is over.
    func deadlineReached(now: ContinuousClock.Instant) {
        guard let connection = waiting else {
            if !stopped { poller.change(listener, to: .readable) }
            return
        }
        waiting = nil
        server.reply(connection, ["ok": false, "error": .string("busy: \(maxConnections) control connections already open")])
        close(connection)
        poller.change(listener, to: .readable)
    }

    private func serve(_ connection: Int32) {
        serving += 1
        let started = server.serveOnOwnThread(connection) { [self, poller] in
            poller.submit { self.slotFreed() }
        }
        if !started {
            serving -= 1
            server.reply(connection, ["ok": false, "error": "busy: cannot start a thread"])
            close(connection)
        }
    }

    private func slotFreed() {
        serving -= 1
        guard !stopped, let connection = waiting else { return }
        waiting = nil
        poller.setDeadline(listener, nil)
        poller.change(listener, to: .readable)
        serve(connection)
    }
}
