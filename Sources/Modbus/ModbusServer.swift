import Basics
import Logging
import NIOCore
import NIOPosix

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
    /// When not nil, the server first offers FC03 reads to it, synchronously on the connection's
    /// event loop (in request order: only while no earlier request of the connection is still with
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

    /// Taken on SwiftNIO event loops, hence a `Locked` (the rule in Basics.swift).
    private let state = Locked(State())

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

    /// Before any server starts: the shared event-loop group (`MultiThreadedEventLoopGroup.singleton`,
    /// every server's default) gets one thread instead of one per core. The daemon serves a handful
    /// of gridBox connections; a thread per core would only sit idle beside its other threads.
    public static func useOneEventLoopThread() {
        NIOSingletons.groupLoopCountSuggestion = 1
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
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(
                    low: max(1, configuration.maxUnsentAnswerBytes / 2), high: max(1, configuration.maxUnsentAnswerBytes)))
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.initialize(channel) }
            }
        let channel: any Channel
        do {
            if let socket = configuration.listeningSocket {
                channel = try await bootstrap.withBoundSocket(socket).get()
            } else {
                channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
            }
        } catch {
            state.withLock { $0.started = false }
            let what = configuration.listeningSocket.map { "the passed socket (fd \($0))" } ?? "\(configuration.host):\(configuration.port)"
            throw ModbusServerError.bindFailed("\(what): \(error)")
        }
        let port = channel.localAddress?.port ?? configuration.port
        let address = channel.localAddress?.ipAddress ?? configuration.host
        let stoppedMeanwhile = state.withLock { state in
            state.serverChannel = channel
            return state.stopped
        }
        if stoppedMeanwhile { try? await channel.close() }
        logger.info(
            "Modbus server listening",
            metadata: [
                "address": "\(address):\(port)", "passed_by_systemd": "\(configuration.listeningSocket != nil)",
                "max_connections": "\(configuration.maxConnections)",
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
        let fastReader = handler.fastReader
        let connection = ModbusServerConnectionHandler(
            frameTimeout: TimeAmount(configuration.frameTimeout),
            unwritableTimeout: TimeAmount(configuration.unwritableTimeout), requests: continuation,
            fastReader: fastReader, logger: logger)
        try channel.pipeline.syncOperations.addHandlers([
            IdleStateHandler(readTimeout: TimeAmount(configuration.idleTimeout)), connection,
        ])
        channel.closeFuture.whenComplete { [self] _ in
            continuation.finish()
            _ = state.withLock { $0.connections.removeValue(forKey: connectionID) }
        }
        let context = ModbusRequestContext(unitID: 0, remoteAddress: remoteText, connectionID: connectionID)
        let loopBound = NIOLoopBound(connection, eventLoop: channel.eventLoop)
        Task { [handler, configuration] in
            for await frame in requests {
                var buffer = channel.allocator.buffer(capacity: ModbusFraming.maxADULength)
                let answered =
                    if let fastReader, let read = Self.fastRead(frame.pdu) {
                        Self.answerFast(
                            fastReader, transactionID: frame.transactionID, unitID: frame.unitID, address: read.address,
                            count: read.count, into: &buffer, logger: logger)
                    } else {
                        false
                    }
                if !answered {
                    let pdu = await Self.respond(
                        to: frame, context: context, handler: handler, readOnly: configuration.readOnly, logger: logger)
                    ModbusFraming.encode(
                        ModbusFrame(transactionID: frame.transactionID, unitID: frame.unitID, pdu: pdu), into: &buffer)
                }
                do {
                    // On the event loop, so that the connection's fast path resumes only after this
                    // answer is written: answers leave in request order.
                    try await channel.eventLoop.flatSubmit { [buffer] in
                        loopBound.value.slowRequestAnswered()
                        return channel.writeAndFlush(buffer)
                    }.get()
                } catch {
                    break
                }
            }
        }
    }

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
        into buffer: inout ByteBuffer, logger: Logger
    ) -> Bool {
        let start = buffer.writerIndex
        buffer.writeInteger(transactionID)
        buffer.writeInteger(UInt16(0))
        buffer.writeInteger(UInt16(0))  // length, set below
        buffer.writeInteger(unitID)
        switch reader.answerRead(unit: unitID, address: address, count: count, into: &buffer) {
        case .answered:
            break
        case .exception(let code):
            buffer.writeInteger(ModbusFunctionCode.readHoldingRegisters.rawValue | 0x80)
            buffer.writeInteger(code.rawValue)
            logger.debug(
                "Modbus exception",
                metadata: [
                    "unit": "\(unitID)", "request": "\(ModbusRequest.readHoldingRegisters(address: address, count: count))",
                    "exception": "\(code)",
                ])
        case .unavailable:
            buffer.moveWriterIndex(to: start)
            return false
        }
        buffer.setInteger(UInt16(truncatingIfNeeded: buffer.writerIndex - start - 6), at: start + 4)
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

/// Closes a rejected connection as soon as it is active.
private final class CloseOnActiveHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// Cuts frames out of the byte stream. Answers FC03 reads at once from the fast reader while no
/// earlier request of the connection is still being answered by the request task; queues
/// everything else for that task. Closes the connection on a corrupt stream, on a frame left
/// incomplete, when idle, and when the client queues too many requests.
///
/// Back-pressure: while the channel is not writable (its unsent answers are above the high water
/// mark) no further frame is taken from the buffer and the channel stops reading; both resume when
/// it becomes writable again. A connection that stays unwritable for `unwritableTimeout` is closed.
private final class ModbusServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let frameTimeout: TimeAmount
    private let unwritableTimeout: TimeAmount
    private let requests: AsyncStream<ModbusFrame>.Continuation
    private let fastReader: (any ModbusFastReader)?
    private let logger: Logger
    private var buffer = ByteBuffer()
    private var frameTimer: Scheduled<Void>?
    private var unwritableTimer: Scheduled<Void>?
    /// Requests queued for the request task whose answers are not written yet.
    private var slowRequests = 0
    /// Reading is stopped because the client does not take its answers.
    private var paused = false

    init(
        frameTimeout: TimeAmount, unwritableTimeout: TimeAmount, requests: AsyncStream<ModbusFrame>.Continuation,
        fastReader: (any ModbusFastReader)?, logger: Logger
    ) {
        self.frameTimeout = frameTimeout
        self.unwritableTimeout = unwritableTimeout
        self.requests = requests
        self.fastReader = fastReader
        self.logger = logger
    }

    /// The request task wrote an answer (called on the event loop).
    func slowRequestAnswered() { slowRequests -= 1 }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffer.writeBuffer(&bytes)
        takeFrames(context)
    }

    /// Answers or queues the complete frames in `buffer` while the channel is writable.
    private func takeFrames(_ context: ChannelHandlerContext) {
        var answers: ByteBuffer?
        defer {
            if let answers, answers.readableBytes > 0 { context.writeAndFlush(wrapOutboundOut(answers), promise: nil) }
        }
        do {
            while !closedByUs {
                if let pending = answers, pending.readableBytes >= ModbusFraming.maxADULength {
                    context.writeAndFlush(wrapOutboundOut(pending), promise: nil)
                    answers = nil
                }
                guard context.channel.isWritable else {
                    pause(context)
                    break
                }
                if slowRequests == 0, let fastReader, answerFast(fastReader, into: &answers, context: context) { continue }
                guard let frame = try ModbusFraming.decodeFrame(from: &buffer) else { break }
                slowRequests += 1
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
        if buffer.readableBytes == 0 || paused {
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

    /// Stops reading the connection until it can take its answers again, and arms the timer that
    /// closes it if it never does.
    private func pause(_ context: ChannelHandlerContext) {
        guard !paused else { return }
        paused = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        unwritableTimer = context.eventLoop.scheduleTask(in: unwritableTimeout) {
            let (handler, context) = bound.value
            handler.unwritableTimer = nil
            handler.close(context, reason: "client does not read its answers (\(handler.unwritableTimeout))")
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        defer { context.fireChannelWritabilityChanged() }
        guard paused, context.channel.isWritable else { return }
        paused = false
        unwritableTimer?.cancel()
        unwritableTimer = nil
        takeFrames(context)
        if !paused && !closedByUs {
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        }
    }

    /// Answers the frame at the front of `buffer` if it is a complete FC03 read (12 bytes) the fast
    /// reader can answer now; the answer is appended to `answers` (written after the whole read).
    private func answerFast(
        _ reader: any ModbusFastReader, into answers: inout ByteBuffer?, context: ChannelHandlerContext
    ) -> Bool {
        let start = buffer.readerIndex
        guard buffer.readableBytes >= 12, buffer.getInteger(at: start + 2, as: UInt16.self) == 0,
              buffer.getInteger(at: start + 4, as: UInt16.self) == 6,
              buffer.getInteger(at: start + 7, as: UInt8.self) == ModbusFunctionCode.readHoldingRegisters.rawValue,
              let transactionID = buffer.getInteger(at: start, as: UInt16.self),
              let unitID = buffer.getInteger(at: start + 6, as: UInt8.self),
              let address = buffer.getInteger(at: start + 8, as: UInt16.self),
              let count = buffer.getInteger(at: start + 10, as: UInt16.self),
              count >= 1, count <= ModbusRequest.maxReadCount
        else { return false }
        var out = answers ?? context.channel.allocator.buffer(capacity: ModbusFraming.maxADULength)
        answers = nil  // keep `out` uniquely referenced: no copy on write
        let answered = ModbusServer.answerFast(
            reader, transactionID: transactionID, unitID: unitID, address: address, count: count, into: &out,
            logger: logger)
        answers = out
        if answered { buffer.moveReaderIndex(forwardBy: 12) }
        return answered
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
        unwritableTimer?.cancel()
        unwritableTimer = nil
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
