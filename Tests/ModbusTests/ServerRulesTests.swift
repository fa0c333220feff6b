import Basics
import Logging
import Modbus
import ModbusNIOClient
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The server's connection rules on real sockets: connection cap, allow-list, idle and frame
/// timeouts, corrupt streams, the pipelining limit, read-only, answers in request order across the
/// fast path and the handler.
@Suite("Modbus server: connection rules", .timeLimit(.minutes(1)))
struct ServerRulesTests {
    /// Reads answer registers `address, address + 1, …`; writes are echoed. With `fast`, FC03
    /// reads are answered by the fast reader (the same values), everything else by `handle`.
    struct Counting: ModbusRequestHandler {
        var fast = false
        var gate: Gate?

        func handle(_ request: ModbusRequest, context: ModbusRequestContext) async -> ModbusResponse {
            if let gate { await gate.wait() }
            switch request {
            case .readHoldingRegisters(let address, let count), .readInputRegisters(let address, let count):
                return .readHoldingRegisters((0..<count).map { address &+ $0 })
            case .writeSingleRegister(let address, let value):
                return .writeSingleRegister(address: address, value: value)
            case .writeMultipleRegisters(let address, let values):
                return .writeMultipleRegisters(address: address, count: UInt16(values.count))
            }
        }

        var fastReader: (any ModbusFastReader)? { fast ? Reader() : nil }

        struct Reader: ModbusFastReader {
            func answerRead(unit: UInt8, address: UInt16, count: UInt16, into buffer: inout [UInt8]) -> ModbusFastReadResult {
                buffer += [0x03, UInt8(count * 2)]
                for register in (0..<count).map({ address &+ $0 }) { buffer += [UInt8(register >> 8), UInt8(register & 0xFF)] }
                return .answered
            }
        }
    }

    /// Holds every request until opened.
    final class Gate: Sendable {
        private let opened = Locked<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
        func wait() async {
            await withCheckedContinuation { continuation in
                let now = opened.withLock { state in
                    if !state.open { state.waiters.append(continuation) }
                    return state.open
                }
                if now { continuation.resume() }
            }
        }
        func open() {
            for waiter in opened.withLock({ state in
                state.open = true
                defer { state.waiters = [] }
                return state.waiters
            }) { waiter.resume() }
        }
    }

    static func start(
        _ configuration: ModbusServerConfiguration, handler: Counting = Counting(), host: String = "127.0.0.1"
    ) async throws -> (ModbusServer, Int) {
        var configuration = configuration
        configuration.host = host
        configuration.port = 0
        let server = ModbusServer(configuration: configuration, handler: handler, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        return (server, try await server.start())
    }

    /// Waits (blocking recv, bounded by SO_RCVTIMEO) for the server to close the connection;
    /// returns how long it took, nil if data or an error came instead.
    static func timeToEOF(_ fd: Int32) -> Duration? {
        let start = ContinuousClock.now
        return BlockingSocket.receiveOnce(fd) == 0 ? start.duration(to: .now) : nil
    }

    @Test("maxConnections: the next connection is closed at once, the admitted ones keep working")
    func connectionCap() async throws {
        let (server, port) = try await Self.start(ModbusServerConfiguration(maxConnections: 2))
        let first = try await ModbusClient.connect(host: "127.0.0.1", port: port)
        let second = try await ModbusClient.connect(host: "127.0.0.1", port: port)
        #expect(try await first.readHoldingRegisters(unit: 1, address: 10, count: 2) == [10, 11])
        #expect(try await second.readHoldingRegisters(unit: 1, address: 20, count: 1) == [20])
        let third = try BlockingSocket.connect(port: port)
        defer { close(third) }
        #expect(Self.timeToEOF(third) != nil, "the third connection is closed")
        #expect(try await first.readHoldingRegisters(unit: 1, address: 30, count: 1) == [30])
        #expect(server.connectionCount == 2)
        await first.close()
        await second.close()
        await server.stop()
    }

    @Test("allow-list: a client outside it is closed at once")
    func allowList() async throws {
        let (server, port) = try await Self.start(ModbusServerConfiguration(allowList: [try ModbusAddressRange("10.0.0.0/8")]))
        let fd = try BlockingSocket.connect(port: port)
        defer { close(fd) }
        #expect(Self.timeToEOF(fd) != nil)
        await server.stop()
        let (open, openPort) = try await Self.start(ModbusServerConfiguration(allowList: [try ModbusAddressRange("127.0.0.0/8")]))
        let client = try await ModbusClient.connect(host: "127.0.0.1", port: openPort)
        #expect(try await client.readHoldingRegisters(unit: 1, address: 5, count: 1) == [5])
        await client.close()
        await open.stop()
    }

    @Test("bound to \"::\": IPv6 and IPv4 clients (IPv4-mapped) are served; the allow-list matches the mapped IPv4 peer")
    func dualStack() async throws {
        let (server, port) = try await Self.start(
            ModbusServerConfiguration(allowList: [try ModbusAddressRange("127.0.0.1"), try ModbusAddressRange("::1")]), host: "::")
        for host in ["::1", "127.0.0.1"] {
            let client = try await ModbusClient.connect(host: host, port: port)
            #expect(try await client.readHoldingRegisters(unit: 1, address: 40, count: 1) == [40], "\(host)")
            await client.close()
        }
        await server.stop()
    }

    @Test("a host that is not an address of this machine: start throws bindFailed")
    func bindFailure() async throws {
        let server = ModbusServer(configuration: ModbusServerConfiguration(host: "192.0.2.1", port: 0), handler: Counting())
        await #expect(throws: ModbusServerError.self) { try await server.start() }
    }

    @Test("idle timeout: a silent connection is closed after it, not before; a request postpones it")
    func idleTimeout() async throws {
        let idle = Duration.milliseconds(400)
        let (server, port) = try await Self.start(ModbusServerConfiguration(idleTimeout: idle))
        let fd = try BlockingSocket.connect(port: port)
        defer { close(fd) }
        let request = adu(transaction: 7, unit: 1, pdu: [0x03, 0x00, 0x01, 0x00, 0x01])
        try BlockingSocket.send(fd, request)
        #expect(try BlockingSocket.receive(fd, count: 11) == adu(transaction: 7, unit: 1, pdu: [0x03, 2, 0, 1]))
        let answered = ContinuousClock.now
        #expect(Self.timeToEOF(fd) != nil)
        #expect(answered.duration(to: .now) >= idle - .milliseconds(5), "counted from the last request")
        await server.stop()
    }

    @Test("frame timeout: a frame left incomplete closes the connection after it")
    func frameTimeout() async throws {
        let (server, port) = try await Self.start(ModbusServerConfiguration(frameTimeout: .milliseconds(300)))
        let fd = try BlockingSocket.connect(port: port)
        defer { close(fd) }
        try BlockingSocket.send(fd, [0, 1, 0, 0, 0, 6, 1])  // promises 5 more bytes
        let eof = try #require(Self.timeToEOF(fd))
        #expect(eof >= .milliseconds(295))
        #expect(eof < .seconds(30), "well before the idle timeout")
        await server.stop()
    }

    @Test("a corrupt MBAP header closes the connection at once")
    func corruptStream() async throws {
        let (server, port) = try await Self.start(ModbusServerConfiguration())
        let fd = try BlockingSocket.connect(port: port)
        defer { close(fd) }
        try BlockingSocket.send(fd, [0, 1, 0, 7])  // protocol id 7
        #expect(Self.timeToEOF(fd) != nil)
        await server.stop()
    }

    @Test("more pipelined requests than maxQueuedRequests while the handler is busy: disconnected")
    func pipeliningLimit() async throws {
        let gate = Gate()
        let (server, port) = try await Self.start(
            ModbusServerConfiguration(maxQueuedRequests: 2), handler: Counting(gate: gate))
        let fd = try BlockingSocket.connect(port: port)
        defer { close(fd) }
        let requests = (1...10).flatMap { adu(transaction: UInt16($0), unit: 1, pdu: [0x06, 0x00, 0x01, 0x00, UInt8($0)]) }
        try BlockingSocket.send(fd, requests)
        #expect(Self.timeToEOF(fd) != nil)
        gate.open()
        await server.stop()
    }

    @Test("read-only: writes are answered with exception 01, reads work")
    func readOnly() async throws {
        let (server, port) = try await Self.start(ModbusServerConfiguration(readOnly: true))
        let client = try await ModbusClient.connect(host: "127.0.0.1", port: port)
        await #expect(throws: ModbusError.exception(.illegalFunction)) {
            try await client.writeSingleRegister(unit: 1, address: 3, value: 4)
        }
        #expect(try await client.readHoldingRegisters(unit: 1, address: 3, count: 1) == [3])
        await client.close()
        await server.stop()
    }

    @Test("pipelined reads and writes come back in request order, fast path and handler mixed", arguments: [false, true])
    func answersInOrder(fast: Bool) async throws {
        let (server, port) = try await Self.start(ModbusServerConfiguration(maxQueuedRequests: 64), handler: Counting(fast: fast))
        let fd = try BlockingSocket.connect(port: port)
        defer { close(fd) }
        var requests: [UInt8] = []
        var expected: [UInt8] = []
        for transaction in UInt16(1)...40 {
            let address = transaction * 3
            if transaction % 3 == 0 {
                let pdu: [UInt8] = [0x06, UInt8(address >> 8), UInt8(address & 0xFF), 0x12, 0x34]
                requests += adu(transaction: transaction, unit: 1, pdu: pdu)
                expected += adu(transaction: transaction, unit: 1, pdu: pdu)
            } else {
                requests += adu(transaction: transaction, unit: 1, pdu: [0x03, UInt8(address >> 8), UInt8(address & 0xFF), 0, 2])
                let next = address + 1
                expected += adu(
                    transaction: transaction, unit: 1,
                    pdu: [0x03, 4, UInt8(address >> 8), UInt8(address & 0xFF), UInt8(next >> 8), UInt8(next & 0xFF)])
            }
        }
        try BlockingSocket.send(fd, requests)
        #expect(try BlockingSocket.receive(fd, count: expected.count) == expected)
        await server.stop()
    }

    @Test("stop closes every connection; the port chosen for port 0 is the one listening")
    func stopClosesConnections() async throws {
        let (server, port) = try await Self.start(ModbusServerConfiguration())
        #expect(port > 0)
        let fds = try (0..<3).map { _ in try BlockingSocket.connect(port: port) }
        defer { for fd in fds { close(fd) } }
        for (index, fd) in fds.enumerated() {
            try BlockingSocket.send(fd, adu(transaction: UInt16(index), unit: 1, pdu: [0x03, 0, 1, 0, 1]))
            _ = try BlockingSocket.receive(fd, count: 11)
        }
        #expect(server.connectionCount == 3)
        await server.stop()
        for fd in fds { #expect(Self.timeToEOF(fd) != nil) }
        #expect(server.connectionCount == 0)
    }
}
