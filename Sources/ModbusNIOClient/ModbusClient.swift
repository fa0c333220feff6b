import Modbus
import NIOCore
import NIOPosix

/// Modbus TCP client on SwiftNIO (the simulators and tests; the daemon links no NIO). Requests may be issued concurrently; each gets its own
/// transaction id and the answer is matched by it (answers with unknown ids are ignored).
public final class ModbusClient: Sendable {
    private let channel: any Channel
    public let requestTimeout: Duration

    private init(channel: any Channel, requestTimeout: Duration) {
        self.channel = channel
        self.requestTimeout = requestTimeout
    }

    /// Connects to `host:port`; throws `ModbusError.connectFailed` or `.timeout`.
    public static func connect(
        host: String, port: Int, timeout: Duration = .seconds(5), requestTimeout: Duration = .seconds(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(ModbusError) -> ModbusClient {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ModbusClientHandler())
                }
            }
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            return ModbusClient(channel: channel, requestTimeout: requestTimeout)
        } catch let error as ChannelError where error == .connectTimeout(TimeAmount(timeout)) {
            throw .timeout
        } catch {
            throw .connectFailed("\(host):\(port): \(error)")
        }
    }

    /// False once the connection closed (by either side).
    public var isConnected: Bool { channel.isActive }

    /// Closes the connection; pending requests fail with `connectionClosed`.
    public func close() async {
        try? await channel.close()
    }

    /// Sends `request` to `unit` and returns the answer, including exception answers as
    /// `.exception(code)` (the typed helpers below throw them instead).
    public func send(_ request: ModbusRequest, unit: UInt8) async throws(ModbusError) -> ModbusResponse {
        let pdu = try ModbusPDU.encodeRequest(request)
        let promise = channel.eventLoop.makePromise(of: [UInt8].self)
        let pending = ModbusClientHandler.Outbound(
            unit: unit, pdu: pdu, timeout: TimeAmount(requestTimeout), promise: promise)
        channel.writeAndFlush(pending, promise: nil)
        let answer: [UInt8]
        do {
            answer = try await promise.futureResult.get()
        } catch let error as ModbusError {
            throw error
        } catch {
            throw .connectionClosed
        }
        return try ModbusPDU.decodeResponse(answer, for: request)
    }

    public func readHoldingRegisters(unit: UInt8, address: UInt16, count: UInt16) async throws(ModbusError) -> [UInt16] {
        switch try await send(.readHoldingRegisters(address: address, count: count), unit: unit) {
        case .readHoldingRegisters(let registers): return registers
        case .exception(let code): throw .exception(code)
        default: throw .invalidResponse("not a read answer")
        }
    }

    /// FC04 (energy meters keep their measurements in input registers).
    public func readInputRegisters(unit: UInt8, address: UInt16, count: UInt16) async throws(ModbusError) -> [UInt16] {
        switch try await send(.readInputRegisters(address: address, count: count), unit: unit) {
        case .readInputRegisters(let registers): return registers
        case .exception(let code): throw .exception(code)
        default: throw .invalidResponse("not a read answer")
        }
    }

    public func writeSingleRegister(unit: UInt8, address: UInt16, value: UInt16) async throws(ModbusError) {
        let response = try await send(.writeSingleRegister(address: address, value: value), unit: unit)
        if case .exception(let code) = response { throw .exception(code) }
    }

    public func writeMultipleRegisters(unit: UInt8, address: UInt16, values: [UInt16]) async throws(ModbusError) {
        let response = try await send(.writeMultipleRegisters(address: address, values: values), unit: unit)
        if case .exception(let code) = response { throw .exception(code) }
    }

    // Typed conveniences (big-endian, high word first).

    public func readFloat32(unit: UInt8, address: UInt16) async throws(ModbusError) -> Float {
        let registers = try await readHoldingRegisters(unit: unit, address: address, count: 2)
        guard let value = ModbusRegisters.float32(registers) else { throw .invalidResponse("short answer") }
        return value
    }

    public func writeFloat32(unit: UInt8, address: UInt16, value: Float) async throws(ModbusError) {
        try await writeMultipleRegisters(unit: unit, address: address, values: ModbusRegisters.registers(float32: value))
    }

    public func readString(unit: UInt8, address: UInt16, count: UInt16) async throws(ModbusError) -> String {
        ModbusRegisters.string(try await readHoldingRegisters(unit: unit, address: address, count: count))
    }
}

/// Assigns transaction ids, frames requests, matches answers, times requests out. Event-loop bound.
final class ModbusClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Outbound
    typealias OutboundOut = ByteBuffer

    struct Outbound: Sendable {
        var unit: UInt8
        var pdu: [UInt8]
        var timeout: TimeAmount
        var promise: EventLoopPromise<[UInt8]>
    }

    private struct Pending {
        var unit: UInt8
        var promise: EventLoopPromise<[UInt8]>
        var timer: Scheduled<Void>
    }

    private var nextTransactionID: UInt16 = 0
    private var pending: [UInt16: Pending] = [:]
    private var received: [UInt8] = []
    private var closed = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard !closed else {
            request.promise.fail(ModbusError.connectionClosed)
            promise?.fail(ModbusError.connectionClosed)
            return
        }
        guard pending.count < Int(UInt16.max) else {
            request.promise.fail(ModbusError.invalidRequest("too many requests in flight"))
            promise?.succeed()
            return
        }
        repeat { nextTransactionID &+= 1 } while pending[nextTransactionID] != nil
        let id = nextTransactionID
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let timer = context.eventLoop.scheduleTask(in: request.timeout) {
            if let expired = bound.value.pending.removeValue(forKey: id) {
                expired.promise.fail(ModbusError.timeout)
            }
        }
        pending[id] = Pending(unit: request.unit, promise: request.promise, timer: timer)
        let out = ModbusFraming.encode(ModbusFrame(transactionID: id, unitID: request.unit, pdu: request.pdu))
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: out)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        received.append(contentsOf: bytes.readableBytesView)
        var index = 0
        defer { received.removeFirst(min(index, received.count)) }
        do {
            while let frame = try ModbusFraming.decodeFrame(from: received, at: &index) {
                // Answers to unknown (timed-out) transactions are dropped.
                guard let entry = pending[frame.transactionID], entry.unit == frame.unitID else { continue }
                pending.removeValue(forKey: frame.transactionID)
                entry.timer.cancel()
                entry.promise.succeed(frame.pdu)
            }
        } catch {
            // The server's stream is corrupt: nothing further can be matched.
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        failAll()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closed = true
        failAll()
    }

    private func failAll() {
        let entries = pending.values
        pending.removeAll()
        for entry in entries {
            entry.timer.cancel()
            entry.promise.fail(ModbusError.connectionClosed)
        }
    }
}
