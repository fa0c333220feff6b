import Foundation
import Logging
import Modbus
import ModbusNIOClient
import NIOCore
import NIOPosix
import TestSupport

/// An in-memory station: 2 sockets by default, a meter with plausible values, setpoint writes
/// applied (clamped to 32 A in 1206), phase switching allowed unless switched off.
actor FakeStation: RegisterMapBackend {
    var info = ModbusStationInfo(
        name: "CS-Companion Test", manufacturer: "ACME", firmwareVersion: "1.2.3-test", platformType: "CSC-1",
        serialNumber: "SN-0001-XYZ", uptimeMilliseconds: 123_456_789, maxCurrent: 32, temperature: 35.5,
        ocppConnected: true, socketCount: 2)
    var sockets: [Int: ModbusSocketInfo] = [:]
    var phaseSwitchingAllowed = true
    private(set) var setpointWrites: [(socket: Int, amps: Float)] = []
    private(set) var phaseWrites: [(socket: Int, phases: UInt16)] = []
    /// nil: no revisions (every refresh rebuilds); else bumped by every accepted write.
    private(set) var revisionCount: UInt64?
    /// How often a socket was read (an image build reads every socket once).
    private(set) var socketReads = 0
    static let hardwareMax: Float = 32

    init(socketCount: Int = 2) {
        info.socketCount = socketCount
        for index in 1...max(1, socketCount) {
            var meter = ModbusMeterReading()
            meter.state = [.initialised, .updated]
            meter.ageMilliseconds = 250
            meter.type = .rtu
            meter.voltageLN = ModbusPhases(230.5, 229.25, 231)
            meter.current = ModbusPhases(10, 10.5, 9.5)
            meter.currentSum = 30
            meter.powerFactor = ModbusPhases(0.99, 0.98, 0.97)
            meter.powerFactorSum = 0.98
            meter.frequency = 50
            meter.realPower = ModbusPhases(2300, 2400, 2200)
            meter.realPowerSum = 6900
            meter.realEnergyDelivered = ModbusPhases(1000.25, 2000.5, 3000.75)
            meter.realEnergyDeliveredSum = 6001.5 + Double(index)
            meter.realEnergyConsumed = ModbusPhases(0, 0, 0)
            meter.realEnergyConsumedSum = 0
            sockets[index] = ModbusSocketInfo(
                meter: meter, available: true, mode3State: "C2", appliedMaxCurrent: 16, setpointRemainingSeconds: 0,
                setpoint: nil, safeCurrent: 6, setpointActive: false, phases: 3)
        }
        if socketCount == 0 { sockets = [:] }
    }

    func station() async -> ModbusStationInfo { info }
    func socket(_ index: Int) async -> ModbusSocketInfo? {
        socketReads += 1
        return sockets[index]
    }

    func revision() async -> UInt64? { revisionCount }
    func trackRevisions() { revisionCount = 0 }
    /// Something the map shows changed (as a station operation or a tick would report).
    func bumpRevision() { revisionCount = revisionCount.map { $0 + 1 } }

    func setSetpoint(socket: Int, amps: Float) async -> ModbusWriteResult {
        guard var info = sockets[socket] else { return .rejected(.serverDeviceFailure) }
        setpointWrites.append((socket, amps))
        info.setpoint = amps
        info.appliedMaxCurrent = min(amps, Self.hardwareMax)
        info.setpointRemainingSeconds = 60
        info.setpointActive = true
        sockets[socket] = info
        bumpRevision()
        return .accepted
    }

    func setPhases(socket: Int, phases: UInt16) async -> ModbusWriteResult {
        guard phaseSwitchingAllowed else { return .rejected(.illegalFunction) }
        guard sockets[socket] != nil else { return .rejected(.serverDeviceFailure) }
        phaseWrites.append((socket, phases))
        sockets[socket]?.phases = phases
        return .accepted
    }

    func allowPhaseSwitching(_ allowed: Bool) { phaseSwitchingAllowed = allowed }
    func setTemperature(_ value: Float?) { info.temperature = value }
}

/// A log handler that keeps lines in memory, so tests can check what the server logged.
final class CollectingLogHandler: LogHandler, @unchecked Sendable {
    // @unchecked: `lines` is a Locked (thread-safe); the LogHandler value properties are only set
    // at creation.
    let lines = Locked<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let text = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lines.withLock { $0.append("\(event.level) \(event.message) \(text)") }
    }

    func contains(_ fragment: String) -> Bool { lines.current.contains { $0.contains(fragment) } }
}

/// A running server with the Alfen map over a `FakeStation` on 127.0.0.1.
struct Rig {
    let station: FakeStation
    let server: ModbusServer
    let port: Int
    let logs: CollectingLogHandler

    static func start(
        configuration: ModbusServerConfiguration = ModbusServerConfiguration(),
        map mapConfiguration: AlfenRegisterMap.Configuration = .init(), station: FakeStation = FakeStation()
    ) async throws -> Rig {
        var configuration = configuration
        configuration.host = "127.0.0.1"
        configuration.port = 0
        let logs = CollectingLogHandler()
        let logger = Logger(label: "modbus.test") { _ in logs }
        let map = AlfenRegisterMap(source: station, configuration: mapConfiguration, logger: logger)
        let server = ModbusServer(configuration: configuration, handler: map, logger: logger)
        let port = try await server.start()
        return Rig(station: station, server: server, port: port, logs: logs)
    }

    func client(requestTimeout: Duration = .seconds(5)) async throws -> ModbusClient {
        try await ModbusClient.connect(host: "127.0.0.1", port: port, requestTimeout: requestTimeout)
    }

    func stop() async { await server.stop() }
}

/// A plain TCP connection for sending arbitrary bytes.
final class RawConnection: Sendable {
    private let channel: any Channel
    private let received: Locked<[UInt8]>

    private init(channel: any Channel, received: Locked<[UInt8]>) {
        self.channel = channel
        self.received = received
    }

    static func connect(port: Int) async throws -> RawConnection {
        let received = Locked<[UInt8]>([])
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received: received))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, received: received)
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    var bytes: [UInt8] { received.current }
    var isOpen: Bool { channel.isActive }

    /// Waits until at least `count` bytes arrived; returns them (nil on timeout).
    func receive(atLeast count: Int, timeout: Duration = .seconds(3)) async -> [UInt8]? {
        await waitUntil(timeout: timeout) { self.bytes.count >= count } ? bytes : nil
    }

    /// Waits until the server closed the connection.
    func waitClosed(timeout: Duration = .seconds(3)) async -> Bool {
        await waitUntil(timeout: timeout) { !self.channel.isActive }
    }

    func close() async { try? await channel.close() }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: Locked<[UInt8]>
        init(received: Locked<[UInt8]>) { self.received = received }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            received.withLock { $0 += bytes }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}

/// MBAP + PDU bytes.
func adu(transaction: UInt16 = 1, protocolID: UInt16 = 0, length: UInt16? = nil, unit: UInt8, pdu: [UInt8]) -> [UInt8] {
    let length = length ?? UInt16(pdu.count + 1)
    return [UInt8(transaction >> 8), UInt8(transaction & 0xFF), UInt8(protocolID >> 8), UInt8(protocolID & 0xFF),
            UInt8(length >> 8), UInt8(length & 0xFF), unit] + pdu
}

/// Output and exit status of a tool run as a child process (posix_spawn, clean signal mask).
struct ToolRun: CustomStringConvertible {
    var status: Int32
    var output: String
    var description: String { "exit \(status): \(output)" }
}

func runTool(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> ToolRun {
    let (status, output) = try await Command.capture(executable, arguments, timeout: timeout)
    return ToolRun(status: status, output: output)
}
