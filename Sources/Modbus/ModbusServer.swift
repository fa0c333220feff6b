import Basics
import Logging

/// Who asked, for handlers that log or decide per client.
public struct ModbusRequestContext: Sendable {
    public var unitID: UInt8
    public var transactionID: UInt16
    /// "ip:port" of the client.
    public var remoteAddress: String
    /// Numbers the server's connections from 1, for log correlation.
    public var connectionID: UInt64

    public init(unitID: UInt8, transactionID: UInt16 = 0, remoteAddress: String = "", connectionID: UInt64 = 0) {
        self.unitID = unitID
        self.transactionID = transactionID
        self.remoteAddress = remoteAddress
        self.connectionID = connectionID
    }
}

/// Answers decoded requests. The server calls it for one request at a time per connection, in the
/// order the requests arrived; different connections run concurrently.
///
/// For `.readHoldingRegisters(_, count)` a non-exception answer must carry exactly `count`
/// registers; anything else is replaced by exception 04 (Server Device Failure).
public protocol ModbusRequestHandler: Sendable {
    func handle(_ request: ModbusRequest, context: ModbusRequestContext) async -> ModbusResponse
    /// When not nil, the server first offers FC03 reads to it, synchronously on the server's
    /// poll thread (in request order: only while no earlier request of the connection is still with
    /// `handle`); reads it cannot answer (`.unavailable`) go to `handle`.
    var fastReader: (any ModbusFastReader)? { get }
}

extension ModbusRequestHandler {
    public var fastReader: (any ModbusFastReader)? { nil }
}

public struct ModbusServerConfiguration: Sendable {
    /// Address to listen on ("0.0.0.0", "::", "127.0.0.1", …).
    public var host: String
    /// TCP port; 0 picks a free one (`start()` returns it).
    public var port: Int
    /// Simultaneous clients; further connections are closed at once.
    public var maxConnections: Int
    /// A connection without any received byte for this long is closed (Alfen: 60 s).
    public var idleTimeout: Duration
    /// A frame that stays incomplete this long (a length field that promises more than comes)
    /// closes the connection.
    public var frameTimeout: Duration
    /// Clients allowed to connect; empty allows everybody. Others are closed at once and logged.
    public var allowList: [ModbusAddressRange]
    /// Every write (FC06, FC16) is answered with exception 01 without reaching the handler.
    public var readOnly: Bool
    /// Requests a client may queue (pipelined) before it is considered abusive and disconnected.
    public var maxQueuedRequests: Int
    /// Answers written but not yet taken by the client's socket, in bytes, above which the server
    /// stops reading that connection (back-pressure: a master that pipelines reads and never reads
    /// the answers costs at most this much); reading resumes below half of it.
    public var maxUnsentAnswerBytes: Int
    /// A connection that stays unable to take its answers this long is closed.
    public var unwritableTimeout: Duration
    /// A socket already bound and listening (systemd socket activation, `sd_listen_fds`): when set,
    /// the server adopts it and `host`/`port` are not bound. The server owns it from then on.
    public var listeningSocket: Int32?

    public init(
        host: String = "0.0.0.0", port: Int = 502, maxConnections: Int = 4, idleTimeout: Duration = .seconds(60),
        frameTimeout: Duration = .seconds(5), allowList: [ModbusAddressRange] = [], readOnly: Bool = false,
        maxQueuedRequests: Int = 32, maxUnsentAnswerBytes: Int = 4 * ModbusFraming.maxADULength,
        unwritableTimeout: Duration = .seconds(10), listeningSocket: Int32? = nil
    ) {
        self.host = host
        self.port = port
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.frameTimeout = frameTimeout
        self.allowList = allowList
        self.readOnly = readOnly
        self.maxQueuedRequests = maxQueuedRequests
        self.maxUnsentAnswerBytes = maxUnsentAnswerBytes
        self.unwritableTimeout = unwritableTimeout
        self.listeningSocket = listeningSocket
    }
}

public enum ModbusServerError: Error, Sendable, Equatable, CustomStringConvertible {
    case alreadyStarted
    case bindFailed(String)

    public var description: String {
        switch self {
        case .alreadyStarted: "Modbus server already started"
        case .bindFailed(let reason): "Modbus server cannot listen: \(reason)"
        }
    }
}

/// Modbus TCP server on a poll thread of ours (`SocketPoller`, by default the shared "servers"
/// thread): the listening socket and every connection are watched there; `handle` runs in a task
/// per connection whose answers go back to the thread in request order.
public final class ModbusServer: Sendable {
    public let configuration: ModbusServerConfiguration
    private let handler: any ModbusRequestHandler
    private let logger: Logger
    private let poller: SocketPoller

    private struct State {
        var listener: ModbusListener?
        var started = false
        var stopped = false
        var connectionCount = 0
    }

    /// Read by any caller, written on the poll thread: a `Locked` (the rule in Basics.swift).
    private let state = Locked(State())

    public init(
        configuration: ModbusServerConfiguration, handler: any ModbusRequestHandler,
        logger: Logger = Logger(label: "modbus.server"), poller: SocketPoller = .shared
    ) {
        self.configuration = configuration
        self.handler = handler
        self.logger = logger
        self.poller = poller
    }

    /// Number of client connections currently open.
    public var connectionCount: Int { state.withLock { $0.connectionCount } }

    /// Starts listening; returns the bound port.
    @discardableResult
    public func start() async throws -> Int {
        try state.withLock { state in
            guard !state.started else { throw ModbusServerError.alreadyStarted }
            state.started = true
        }
        let socket: ListeningSocket
        do {
            socket = try ListeningSocket.open(configuration)
        } catch {
            state.withLock { $0.started = false }
            let what = configuration.listeningSocket.map { "the passed socket (fd \($0))" } ?? "\(configuration.host):\(configuration.port)"
            throw ModbusServerError.bindFailed("\(what): \(error)")
        }
        let listener = ModbusListener(
            socket: socket.fd, poller: poller, configuration: configuration, handler: handler, logger: logger,
            connectionCountChanged: { [state] count in state.withLock { $0.connectionCount = count } })
        let stoppedMeanwhile = state.withLock { state in
            state.listener = listener
            return state.stopped
        }
        await poller.perform { stoppedMeanwhile ? listener.stop() : listener.begin() }
        logger.info(
            "Modbus server listening",
            metadata: [
                "address": "\(socket.address):\(socket.port)", "passed_by_systemd": "\(configuration.listeningSocket != nil)",
                "max_connections": "\(configuration.maxConnections)",
                "read_only": "\(configuration.readOnly)",
                "allow_list": "\(configuration.allowList.isEmpty ? "any" : configuration.allowList.map(\.description).joined(separator: ","))",
            ])
        return socket.port
    }

    /// Stops listening and closes every client connection.
    public func stop() async {
        let listener = state.withLock { state in
            state.stopped = true
            defer { state.listener = nil }
            return state.listener
        }
        guard let listener else { return }
        await poller.perform { listener.stop() }
        logger.info("Modbus server stopped")
    }

    // MARK: Answers

    /// Address and count of an FC03 request PDU the fast path may answer (nil: anything else,
    /// including counts outside 1...125, which `respond` refuses with 03).
    static func fastRead(_ pdu: [UInt8]) -> (address: UInt16, count: UInt16)? {
        guard pdu.count == 5, pdu[0] == ModbusFunctionCode.readHoldingRegisters.rawValue else { return nil }
        let count = UInt16(pdu[3]) << 8 | UInt16(pdu[4])
        guard count >= 1, count <= ModbusRequest.maxReadCount else { return nil }
        return (UInt16(pdu[1]) << 8 | UInt16(pdu[2]), count)
    }

    /// Appends the whole answer ADU of a read to `buffer` from `reader`; false (buffer as it was)
    /// when the reader cannot answer now.
    static func answerFast(
        _ reader: any ModbusFastReader, transactionID: UInt16, unitID: UInt8, address: UInt16, count: UInt16,
        into buffer: inout [UInt8], logger: Logger
    ) -> Bool {
        let start = buffer.count
        ModbusFraming.appendHeader(transactionID: transactionID, length: 0, unitID: unitID, to: &buffer)  // length set below
        switch reader.answerRead(unit: unitID, address: address, count: count, into: &buffer) {
        case .answered:
            break
        case .exception(let code):
            buffer.append(ModbusFunctionCode.readHoldingRegisters.rawValue | 0x80)
            buffer.append(code.rawValue)
            logger.debug(
                "Modbus exception",
                metadata: [
                    "unit": "\(unitID)", "request": "\(ModbusRequest.readHoldingRegisters(address: address, count: count))",
                    "exception": "\(code)",
                ])
        case .unavailable:
            buffer.removeSubrange(start...)
            return false
        }
        let length = UInt16(truncatingIfNeeded: buffer.count - start - 6)
        buffer[start + 4] = UInt8(length >> 8)
        buffer[start + 5] = UInt8(length & 0xFF)
        return true
    }

    /// The response PDU for one frame.
    static func respond(
        to frame: ModbusFrame, context: ModbusRequestContext, handler: any ModbusRequestHandler, readOnly: Bool,
        logger: Logger
    ) async -> [UInt8] {
        var context = context
        context.unitID = frame.unitID
        context.transactionID = frame.transactionID
        let request: ModbusRequest
        switch ModbusPDU.decodeRequest(frame.pdu) {
        case .failure(let fault):
            logger.debug(
                "Modbus request refused",
                metadata: ["unit": "\(frame.unitID)", "function": "\(fault.function)", "exception": "\(fault.code)"])
            return ModbusPDU.encodeResponse(.exception(fault.code), function: fault.function)
        case .success(let decoded):
            request = decoded
        }
        let function = request.functionCode.rawValue
        if readOnly && request.isWrite {
            logger.info(
                "Modbus write refused: server is read-only", metadata: ["unit": "\(frame.unitID)", "request": "\(request)"])
            return ModbusPDU.encodeResponse(.exception(.illegalFunction), function: function)
        }
        var response = await handler.handle(request, context: context)
        if case .readHoldingRegisters(_, let count) = request, case .readHoldingRegisters(let registers) = response,
           registers.count != Int(count)
        {
            logger.error(
                "Modbus handler answered \(registers.count) registers for a read of \(count)",
                metadata: ["unit": "\(frame.unitID)"])
            response = .exception(.serverDeviceFailure)
        }
        if case .exception(let code) = response {
            logger.debug(
                "Modbus exception", metadata: ["unit": "\(frame.unitID)", "request": "\(request)", "exception": "\(code)"])
        }
        return ModbusPDU.encodeResponse(response, function: function)
    }
}
