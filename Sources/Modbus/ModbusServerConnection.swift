import Basics
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One client connection of `ModbusServer`, on the server's poll thread.
///
/// Cuts frames out of the byte stream. Answers FC03 reads at once from the fast reader while no
/// earlier request of the connection is still being answered by the request task; queues
/// everything else for that task, whose answers come back through `answered(_:)` in request order.
/// Closes the connection on a corrupt stream, on a frame left incomplete, when idle, and when the
/// client queues too many requests.
///
/// Back-pressure: while the unsent answers are above `maxUnsentAnswerBytes` (until they drop below
/// half of it) no further frame is taken from the buffer and the socket is not read; both resume
/// when the client takes its answers. A connection that stays so for `unwritableTimeout` is closed.
final class ModbusServerConnection: SocketPollerClient, @unchecked Sendable {
    // @unchecked: everything but `open` is only touched on the poller's thread.

    let id: UInt64
    private let fd: Int32
    private let poller: SocketPoller
    private let configuration: ModbusServerConfiguration
    private let fastReader: (any ModbusFastReader)?
    private let requests: AsyncStream<ModbusFrame>.Continuation
    private let logger: Logger
    private let closed: (ModbusServerConnection) -> Void
    /// False once closed; read by the request task, which then stops asking the handler.
    let open = Atomic<Bool>(true)

    private var inbound: [UInt8] = []
    private var inboundStart = 0
    private var outbound: [UInt8] = []
    private var outboundStart = 0
    private var scratch = [UInt8](repeating: 0, count: 4096)
    /// Requests queued for the request task whose answers are not written yet.
    private var slowRequests = 0
    /// The unsent answers went above the high mark and have not yet dropped below the low one.
    private var unwritable = false
    /// Reading is stopped because the client does not take its answers.
    private var paused = false
    private var isClosed = false
    private var lastRead: ContinuousClock.Instant
    private var frameDeadline: ContinuousClock.Instant?
    private var unwritableDeadline: ContinuousClock.Instant?

    init(
        fd: Int32, id: UInt64, poller: SocketPoller, configuration: ModbusServerConfiguration,
        fastReader: (any ModbusFastReader)?, requests: AsyncStream<ModbusFrame>.Continuation, logger: Logger,
        closed: @escaping (ModbusServerConnection) -> Void
    ) {
        self.fd = fd
        self.id = id
        self.poller = poller
        self.configuration = configuration
        self.fastReader = fastReader
        self.requests = requests
        self.logger = logger
        self.closed = closed
        lastRead = .now
    }

    private var highMark: Int { max(1, configuration.maxUnsentAnswerBytes) }
    private var lowMark: Int { max(1, configuration.maxUnsentAnswerBytes / 2) }
    private var unsent: Int { outbound.count - outboundStart }

    /// Starts watching the socket.
    func begin() {
        poller.watch(fd, for: .readable, client: self)
        updateDeadline()
    }

    /// The request task's answer to the oldest queued request.
    func answered(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        slowRequests -= 1
        outbound.append(contentsOf: bytes)
        flush()
        resumeIfWritable()
    }

    /// Closes the connection (server stopping or a rule broken); logs why.
    func close(reason: String) {
        guard !isClosed else { return }
        logger.info("Modbus connection closed by the server", metadata: ["reason": "\(reason)"])
        end()
    }

    // MARK: SocketPollerClient

    func socketReady(_ events: SocketPoller.Events) {
        if events.contains(.writable) {
            flush()
            resumeIfWritable()
        }
        if events.contains(.hangup) {
            // Nothing more will come: read what is left up to the end (or the error), then close.
            while !isClosed, receive() {}
            if !isClosed { close(reason: "connection hung up") }
        } else if events.contains(.readable), !paused, !isClosed {
            if receive() { takeFrames() }
        }
    }

    func deadlineReached(now: ContinuousClock.Instant) {
        if let deadline = unwritableDeadline, deadline <= now {
            close(reason: "client does not read its answers (\(configuration.unwritableTimeout))")
        } else if let deadline = frameDeadline, deadline <= now {
            close(reason: "incomplete frame for \(configuration.frameTimeout)")
        } else if lastRead + configuration.idleTimeout <= now {
            close(reason: "idle timeout")
        } else {
            updateDeadline()
        }
    }

    // MARK: Reading and answering

    /// One recv into `inbound`; false at the end of the stream, on an error (both close) and when
    /// nothing is there.
    private func receive() -> Bool {
        while true {
            let count = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                inbound.append(contentsOf: scratch[0..<count])
                lastRead = .now
                return true
            }
            if count == 0 {
                logger.info("Modbus connection closed by the client")
                end()
                return false
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return false
            default:
                close(reason: "error: \(String(cString: strerror(errno)))")
                return false
            }
        }
    }

    /// Answers or queues the complete frames in `inbound` while answers can be sent.
    private func takeFrames() {
        do {
            while !isClosed {
                if unsent >= ModbusFraming.maxADULength { flush() }
                guard !unwritable else {
                    pause()
                    break
                }
                if slowRequests == 0, let fastReader, answerFast(fastReader) { continue }
                guard let frame = try ModbusFraming.decodeFrame(from: inbound, at: &inboundStart) else { break }
                slowRequests += 1
                if case .dropped = requests.yield(frame) {
                    close(reason: "too many queued requests")
                    return
                }
            }
        } catch {
            close(reason: "corrupt frame: \(error)")
            return
        }
        guard !isClosed else { return }
        inbound.removeFirst(inboundStart)
        inboundStart = 0
        flush()
        if inbound.isEmpty || paused {
            frameDeadline = nil
        } else if frameDeadline == nil {
            frameDeadline = .now + configuration.frameTimeout
        }
        updateDeadline()
        resumeIfWritable()
    }

    /// Answers the frame at the front of `inbound` if it is a complete FC03 read (12 bytes) the
    /// fast reader can answer now; the answer is appended to `outbound`.
    private func answerFast(_ reader: any ModbusFastReader) -> Bool {
        let start = inboundStart
        guard inbound.count - start >= 12, ModbusFraming.word(inbound, start + 2) == 0,
              ModbusFraming.word(inbound, start + 4) == 6,
              inbound[start + 7] == ModbusFunctionCode.readHoldingRegisters.rawValue
        else { return false }
        let count = ModbusFraming.word(inbound, start + 10)
        guard count >= 1, count <= ModbusRequest.maxReadCount else { return false }
        let answered = ModbusServer.answerFast(
            reader, transactionID: ModbusFraming.word(inbound, start), unitID: inbound[start + 6],
            address: ModbusFraming.word(inbound, start + 8), count: count, into: &outbound, logger: logger)
        if answered { inboundStart += 12 }
        return answered
    }

    // MARK: Writing and back-pressure

    /// Sends as much of `outbound` as the socket takes; tracks the high and low marks.
    private func flush() {
        while !isClosed, outboundStart < outbound.count {
            let sent = outbound.withUnsafeBytes { bytes in
                send(fd, bytes.baseAddress.map { $0 + outboundStart }, bytes.count - outboundStart, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if sent > 0 {
                outboundStart += sent
            } else if sent < 0 && errno == EINTR {
                continue
            } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                break
            } else {
                close(reason: "error: \(String(cString: strerror(errno)))")
                return
            }
        }
        guard !isClosed else { return }
        if outboundStart == outbound.count {
            outbound.removeAll(keepingCapacity: true)
            outboundStart = 0
        }
        if !unwritable && unsent > highMark {
            unwritable = true
        } else if unwritable && unsent < lowMark {
            unwritable = false
        }
        updateInterest()
    }

    /// Stops reading until the client takes its answers, and arms the deadline that closes the
    /// connection if it never does.
    private func pause() {
        guard !paused else { return }
        paused = true
        frameDeadline = nil
        unwritableDeadline = .now + configuration.unwritableTimeout
        updateInterest()
        updateDeadline()
    }

    private func resumeIfWritable() {
        guard paused, !unwritable, !isClosed else { return }
        paused = false
        unwritableDeadline = nil
        updateInterest()
        takeFrames()
    }

    private func updateInterest() {
        guard !isClosed else { return }
        var interest: SocketPoller.Events = paused ? [] : .readable
        if unsent > 0 { interest.insert(.writable) }
        poller.change(fd, to: interest)
    }

    private func updateDeadline() {
        guard !isClosed else { return }
        let deadlines = [lastRead + configuration.idleTimeout, frameDeadline, unwritableDeadline].compactMap { $0 }
        poller.setDeadline(fd, deadlines.min())
    }

    private func end() {
        isClosed = true
        open.store(false, ordering: .releasing)
        requests.finish()
        poller.unwatch(fd)
        Glibc.close(fd)
        closed(self)
    }
}
