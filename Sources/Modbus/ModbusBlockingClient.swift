#if canImport(Glibc)
    import Glibc
#endif

/// A Modbus TCP client for a thread that may block (a meter bus thread): one request at a time,
/// each waiting at most `requestTimeout` for its answer. Every request gets its own transaction id;
/// an answer with another id (a late answer to a request that timed out) is skipped.
/// Not thread-safe: one thread uses it.
public final class ModbusBlockingClient {
    public let requestTimeout: Duration
    private var fd: Int32
    private var nextTransactionID: UInt16 = 0
    private var received: [UInt8] = []
    private var scratch = [UInt8](repeating: 0, count: 1024)

    private init(fd: Int32, requestTimeout: Duration) {
        self.fd = fd
        self.requestTimeout = requestTimeout
    }

    deinit { close() }

    /// Connects to `host:port` (a name or a numeric address); throws `.connectFailed` or `.timeout`.
    public static func connect(
        host: String, port: Int, timeout: Duration = .seconds(5), requestTimeout: Duration = .seconds(5)
    ) throws(ModbusError) -> ModbusBlockingClient {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &found)
        guard resolved == 0, let info = found?.pointee else {
            throw .connectFailed("\(host):\(port): \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(found) }
        let fd = socket(info.ai_family, info.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.ai_protocol)
        guard fd >= 0 else { throw .connectFailed("socket: \(String(cString: strerror(errno)))") }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let client = ModbusBlockingClient(fd: fd, requestTimeout: requestTimeout)
        if Glibc.connect(fd, info.ai_addr, info.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else { throw .connectFailed("\(host):\(port): \(String(cString: strerror(errno)))") }
            guard client.wait(for: Int16(POLLOUT), until: .now + timeout) else { throw .timeout }
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length)
            guard failure == 0 else { throw .connectFailed("\(host):\(port): \(String(cString: strerror(failure)))") }
        }
        return client
    }

    /// False once the connection closed (by either side).
    public var isConnected: Bool { fd >= 0 }

    public func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    /// Sends `request` to `unit` and returns the answer, including exception answers as
    /// `.exception(code)`. A broken connection is closed and reported as `.connectionClosed`.
    public func send(_ request: ModbusRequest, unit: UInt8) throws(ModbusError) -> ModbusResponse {
        guard fd >= 0 else { throw .connectionClosed }
        let pdu = try ModbusPDU.encodeRequest(request)
        nextTransactionID &+= 1
        let id = nextTransactionID
        let deadline = ContinuousClock.now + requestTimeout
        try write(ModbusFraming.encode(ModbusFrame(transactionID: id, unitID: unit, pdu: pdu)), until: deadline)
        while true {
            var index = 0
            let frame: ModbusFrame?
            do {
                frame = try ModbusFraming.decodeFrame(from: received, at: &index)
            } catch {
                close()  // the server's stream is corrupt: nothing further can be matched
                throw .connectionClosed
            }
            received.removeFirst(index)
            if let frame {
                guard frame.transactionID == id, frame.unitID == unit else { continue }
                return try ModbusPDU.decodeResponse(frame.pdu, for: request)
            }
            try receive(until: deadline)
        }
    }

    public func readHoldingRegisters(unit: UInt8, address: UInt16, count: UInt16) throws(ModbusError) -> [UInt16] {
        switch try send(.readHoldingRegisters(address: address, count: count), unit: unit) {
        case .readHoldingRegisters(let registers): return registers
        case .exception(let code): throw .exception(code)
        default: throw .invalidResponse("not a read answer")
        }
    }

    /// FC04 (energy meters keep their measurements in input registers).
    public func readInputRegisters(unit: UInt8, address: UInt16, count: UInt16) throws(ModbusError) -> [UInt16] {
        switch try send(.readInputRegisters(address: address, count: count), unit: unit) {
        case .readInputRegisters(let registers): return registers
        case .exception(let code): throw .exception(code)
        default: throw .invalidResponse("not a read answer")
        }
    }

    // MARK: Socket

    private func write(_ bytes: [UInt8], until deadline: ContinuousClock.Instant) throws(ModbusError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                offset += sent
            } else if sent < 0 && errno == EINTR {
                continue
            } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                guard wait(for: Int16(POLLOUT), until: deadline) else { throw .timeout }
            } else {
                close()
                throw .connectionClosed
            }
        }
    }

    private func receive(until deadline: ContinuousClock.Instant) throws(ModbusError) {
        while true {
            let count = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received.append(contentsOf: scratch[0..<count])
                return
            }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                guard wait(for: Int16(POLLIN), until: deadline) else { throw .timeout }
                continue
            }
            close()
            throw .connectionClosed
        }
    }

    /// Waits until the socket is ready for `events` (or in error); false at `deadline`.
    private func wait(for events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return false }
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }  // let the call report the error
        }
    }
}
