import Logging
import NIOCore
import NIOPosix
import Synchronization

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

    public init(
        host: String = "0.0.0.0", port: Int = 502, maxConnections: Int = 4, idleTimeout: Duration = .seconds(60),
        frameTimeout: Duration = .seconds(5), allowList: [ModbusAddressRange] = [], readOnly: Bool = false,
        maxQueuedRequests: Int = 32
    ) {
        self.host = host
        self.port = port
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.frameTimeout = frameTimeout
        self.allowList = allowList
        self.readOnly = readOnly
        self.maxQueuedRequests = maxQueuedRequests
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

/// Modbus TCP server on SwiftNIO.
public final class ModbusServer: Sendable {
    public let configuration: ModbusServerConfiguration
    private let handler: any ModbusRequestHandler
    private let logger: Logger
    private let group: any EventLoopGroup

    private struct State {
        var serverChannel: (any Channel)?
        var started = false
        var stopped = false
        var nextConnectionID: UInt64 = 0
        var connections: [UInt64: any Channel] = [:]
    }

    private let state = Mutex(State())

    public init(
        configuration: ModbusServerConfiguration, handler: any ModbusRequestHandler,
        logger: Logger = Logger(label: "modbus.server"),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.handler = handler
        self.logger = logger
        self.group = group
    }

    /// Number of client connections currently open.
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Starts listening; returns the bound port.
    @discardableResult
    public func start() async throws -> Int {
        try state.withLock { state in
            guard !state.started else { throw ModbusServerError.alreadyStarted }
            state.started = true
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.initialize(channel) }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch {
            state.withLock { $0.started = false }
            throw ModbusServerError.bindFailed("\(configuration.host):\(configuration.port): \(error)")
        }
        let port = channel.localAddress?.port ?? configuration.port
        let stoppedMeanwhile = state.withLock { state in
            state.serverChannel = channel
            return state.stopped
        }
        if stoppedMeanwhile { try? await channel.close() }
        logger.info(
            "Modbus server listening",
            metadata: [
                "address": "\(configuration.host):\(port)", "max_connections": "\(configuration.maxConnections)",
                "read_only": "\(configuration.readOnly)",
                "allow_list": "\(configuration.allowList.isEmpty ? "any" : configuration.allowList.map(\.description).joined(separator: ","))",
            ])
        return port
    }

    /// Stops listening and closes every client connection.
    public func stop() async {
        let (server, clients) = state.withLock { state in
            state.stopped = true
            defer { state.serverChannel = nil }
            return (state.serverChannel, Array(state.connections.values))
        }
        try? await server?.close()
        for client in clients { try? await client.close() }
        if server != nil { logger.info("Modbus server stopped") }
    }

    // MARK: Connections

    /// Runs on the new channel's event loop: admits or rejects the connection.
    private func initialize(_ channel: any Channel) throws {
        let remote = channel.remoteAddress
        let remoteText = remote.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
        var logger = self.logger
        logger[metadataKey: "client"] = "\(remoteText)"

        if !configuration.allowList.isEmpty {
            guard let remote, configuration.allowList.contains(where: { $0.contains(remote) }) else {
                logger.warning("Modbus connection rejected: client not in the allow-list")
                try channel.pipeline.syncOperations.addHandler(CloseOnActiveHandler())
                return
            }
        }
        let admitted: UInt64? = state.withLock { state in
            guard !state.stopped, state.connections.count < configuration.maxConnections else { return nil }
            state.nextConnectionID += 1
            state.connections[state.nextConnectionID] = channel
            return state.nextConnectionID
        }
        guard let connectionID = admitted else {
            logger.warning(
                "Modbus connection rejected: too many connections",
                metadata: ["max_connections": "\(configuration.maxConnections)"])
            try channel.pipeline.syncOperations.addHandler(CloseOnActiveHandler())
            return
        }
        logger[metadataKey: "connection"] = "\(connectionID)"
        logger.info("Modbus connection accepted")

        let (requests, continuation) = AsyncStream.makeStream(
            of: ModbusFrame.self, bufferingPolicy: .bufferingOldest(max(1, configuration.maxQueuedRequests)))
        let connection = ModbusServerConnectionHandler(
            frameTimeout: TimeAmount(configuration.frameTimeout), requests: continuation, logger: logger)
        try channel.pipeline.syncOperations.addHandlers([
            IdleStateHandler(readTimeout: TimeAmount(configuration.idleTimeout)), connection,
        ])
        channel.closeFuture.whenComplete { [self] _ in
            continuation.finish()
            _ = state.withLock { $0.connections.removeValue(forKey: connectionID) }
        }
        let context = ModbusRequestContext(unitID: 0, remoteAddress: remoteText, connectionID: connectionID)
        Task { [handler, configuration] in
            for await frame in requests {
                let pdu = await Self.respond(
                    to: frame, context: context, handler: handler, readOnly: configuration.readOnly, logger: logger)
                var buffer = channel.allocator.buffer(capacity: ModbusFraming.headerLength + pdu.count)
                ModbusFraming.encode(
                    ModbusFrame(transactionID: frame.transactionID, unitID: frame.unitID, pdu: pdu), into: &buffer)
                do {
                    try await channel.writeAndFlush(buffer)
                } catch {
                    break
                }
            }
        }
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

/// Closes a rejected connection as soon as it is active.
private final class CloseOnActiveHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// Cuts frames out of the byte stream and queues them for the connection's request task. Closes the
/// connection on a corrupt stream, on a frame left incomplete, when idle, and when the client
/// queues too many requests.
private final class ModbusServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let frameTimeout: TimeAmount
    private let requests: AsyncStream<ModbusFrame>.Continuation
    private let logger: Logger
    private var buffer = ByteBuffer()
    private var frameTimer: Scheduled<Void>?

    init(frameTimeout: TimeAmount, requests: AsyncStream<ModbusFrame>.Continuation, logger: Logger) {
        self.frameTimeout = frameTimeout
        self.requests = requests
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffer.writeBuffer(&bytes)
        do {
            while let frame = try ModbusFraming.decodeFrame(from: &buffer) {
                if case .dropped = requests.yield(frame) {
                    close(context, reason: "too many queued requests")
                    return
                }
            }
        } catch {
            close(context, reason: "corrupt frame: \(error)")
            return
        }
        buffer.discardReadBytes()
        if buffer.readableBytes == 0 {
            frameTimer?.cancel()
            frameTimer = nil
        } else if frameTimer == nil {
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            frameTimer = context.eventLoop.scheduleTask(in: frameTimeout) {
                let (handler, context) = bound.value
                handler.frameTimer = nil
                handler.close(context, reason: "incomplete frame for \(handler.frameTimeout)")
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            close(context, reason: "idle timeout")
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        frameTimer?.cancel()
        frameTimer = nil
        requests.finish()
        if !closedByUs { logger.info("Modbus connection closed by the client") }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(context, reason: "error: \(error)")
    }

    private var closedByUs = false

    private func close(_ context: ChannelHandlerContext, reason: String) {
        guard !closedByUs else { return }
        closedByUs = true
        logger.info("Modbus connection closed by the server", metadata: ["reason": "\(reason)"])
        requests.finish()
        context.close(promise: nil)
    }
}
