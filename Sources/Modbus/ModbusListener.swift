import Basics
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The Modbus server's listening socket on the poll thread: accepts, admits or rejects (allow-list,
/// `maxConnections`), and starts each admitted connection with its request task.
final class ModbusListener: SocketPollerClient, @unchecked Sendable {
    // @unchecked: created on any thread, then only touched on the poller's thread.

    private let fd: Int32
    private let poller: SocketPoller
    private let configuration: ModbusServerConfiguration
    private let handler: any ModbusRequestHandler
    private let logger: Logger
    private let connectionCountChanged: @Sendable (Int) -> Void
    private var connections: [UInt64: ModbusServerConnection] = [:]
    private var nextConnectionID: UInt64 = 0
    private var stopped = false

    init(
        socket: Int32, poller: SocketPoller, configuration: ModbusServerConfiguration, handler: any ModbusRequestHandler,
        logger: Logger, connectionCountChanged: @escaping @Sendable (Int) -> Void
    ) {
        fd = socket
        self.poller = poller
        self.configuration = configuration
        self.handler = handler
        self.logger = logger
        self.connectionCountChanged = connectionCountChanged
    }

    func begin() {
        poller.watch(fd, for: .readable, client: self)
    }

    /// Closes the listening socket and every connection.
    func stop() {
        guard !stopped else { return }
        stopped = true
        poller.unwatch(fd)
        close(fd)
        for connection in connections.values.sorted(by: { $0.id < $1.id }) { connection.close(reason: "server stopped") }
    }

    // MARK: SocketPollerClient

    func socketReady(_ events: SocketPoller.Events) {
        while !stopped {
            switch acceptConnection(from: fd) {
            case .accepted(let client, let peer):
                _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
                admit(client, peer: PeerAddress(peer))
            case .drained:
                return
            case .failed(let error):
                // Out of descriptors (or worse): pause instead of spinning on a listener that stays readable.
                logger.error("Modbus server cannot accept: \(String(cString: strerror(error)))")
                poller.change(fd, to: [])
                poller.setDeadline(fd, .now + AcceptOutcome.pauseAfterFailure)
                return
            }
        }
    }

    func deadlineReached(now: ContinuousClock.Instant) {
        guard !stopped else { return }
        poller.change(fd, to: .readable)
    }

    // MARK: Connections

    private func admit(_ client: Int32, peer: PeerAddress?) {
        var logger = self.logger
        logger[metadataKey: "client"] = "\(peer?.description ?? "?")"
        if !configuration.allowList.isEmpty {
            guard let peer, configuration.allowList.contains(where: { $0.contains(addressBytes: peer.bytes) }) else {
                logger.warning("Modbus connection rejected: client not in the allow-list")
                close(client)
                return
            }
        }
        guard connections.count < configuration.maxConnections else {
            logger.warning(
                "Modbus connection rejected: too many connections",
                metadata: ["max_connections": "\(configuration.maxConnections)"])
            close(client)
            return
        }
        var one: Int32 = 1
        setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        nextConnectionID += 1
        let connectionID = nextConnectionID
        logger[metadataKey: "connection"] = "\(connectionID)"
        logger.info("Modbus connection accepted")

        let (requests, continuation) = AsyncStream.makeStream(
            of: ModbusFrame.self, bufferingPolicy: .bufferingOldest(max(1, configuration.maxQueuedRequests)))
        let fastReader = handler.fastReader
        let connection = ModbusServerConnection(
            fd: client, id: connectionID, poller: poller, configuration: configuration, fastReader: fastReader,
            requests: continuation, logger: logger
        ) { [self] closed in
            connections.removeValue(forKey: closed.id)
            connectionCountChanged(connections.count)
        }
        connections[connectionID] = connection
        connectionCountChanged(connections.count)
        connection.begin()

        let context = ModbusRequestContext(unitID: 0, remoteAddress: peer?.description ?? "?", connectionID: connectionID)
        Task { [handler, configuration, poller] in
            for await frame in requests {
                guard connection.open.load(ordering: .acquiring) else { break }
                var answer: [UInt8] = []
                answer.reserveCapacity(ModbusFraming.maxADULength)
                let answered =
                    if let fastReader, let read = ModbusServer.fastRead(frame.pdu) {
                        ModbusServer.answerFast(
                            fastReader, transactionID: frame.transactionID, unitID: frame.unitID, address: read.address,
                            count: read.count, into: &answer, logger: logger)
                    } else {
                        false
                    }
                if !answered {
                    let pdu = await ModbusServer.respond(
                        to: frame, context: context, handler: handler, readOnly: configuration.readOnly, logger: logger)
                    ModbusFraming.encode(
                        ModbusFrame(transactionID: frame.transactionID, unitID: frame.unitID, pdu: pdu), into: &answer)
                }
                // On the poll thread, in request order; the fast path resumes once every queued
                // request is answered.
                poller.submit { [answer] in connection.answered(answer) }
            }
        }
    }
}
