import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock date and time for unit 200 @168..178.
public struct ModbusDateTime: Sendable, Hashable {
    public var year: Int16
    public var month: Int16
    public var day: Int16
    public var hour: Int16
    public var minute: Int16
    public var second: Int16
    /// Minutes east of UTC (local = UTC + offset).
    public var utcOffsetMinutes: Int16

    public init(year: Int16, month: Int16, day: Int16, hour: Int16, minute: Int16, second: Int16, utcOffsetMinutes: Int16) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.utcOffsetMinutes = utcOffsetMinutes
    }

    /// Local time from the C library (`localtime_r`: TZ or /etc/localtime; UTC when neither is set),
    /// so no Foundation is needed.
    public static func now() -> ModbusDateTime {
        var seconds = time(nil)
        var fields = tm()
        guard localtime_r(&seconds, &fields) != nil else {
            return ModbusDateTime(year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, utcOffsetMinutes: 0)
        }
        return ModbusDateTime(
            year: Int16(truncatingIfNeeded: fields.tm_year + 1900), month: Int16(truncatingIfNeeded: fields.tm_mon + 1),
            day: Int16(truncatingIfNeeded: fields.tm_mday), hour: Int16(truncatingIfNeeded: fields.tm_hour),
            minute: Int16(truncatingIfNeeded: fields.tm_min), second: Int16(truncatingIfNeeded: min(fields.tm_sec, 59)),
            utcOffsetMinutes: Int16(truncatingIfNeeded: fields.tm_gmtoff / 60))
    }
}

/// The Alfen NG9xx-compatible register map (PROFILE.md §1–§3) over a `RegisterMapBackend`.
///
/// Unit 200 is the station, units 1...socketCount the sockets. Reads must lie completely inside one
/// block (else 02); registers of a block we cannot fill read 0xFFFF. Writes: 1210 (FC16 × 2, float
/// A) and 1215 (FC06 or FC16 × 1, 1 or 3) on socket units; everything else is refused per §3.
///
/// Unknown unit ids are answered with exception 0B (Gateway Target Device Failed to Respond), one of
/// the two answers PROFILE §3 allows: unlike silence it does not make the client wait for its
/// timeout, and unlike 04 (what pymodbus' own simulator sends) it does not claim that the station
/// failed: the addressed device simply does not exist behind this server.
///
/// Reads are answered from `snapshot`, an image of every readable block of every unit, rebuilt by
/// `refreshSnapshot()`. With `Configuration.snapshotMaxAge` set, the server answers reads on its
/// poll thread from the installed image while it is fresh (`fastReader`); otherwise (and when the
/// image is stale) a read comes to this actor, which rebuilds the image and answers from it. The
/// image is rebuilt after every accepted write, before the write's answer is sent, so a read after
/// a write sees it; and whenever the owner calls `refreshSnapshot()` (the daemon: on station
/// notifications and on its 250 ms tick).
public actor AlfenRegisterMap: ModbusRequestHandler {
    /// The station serial number's field (unit 200, register 157): 11 registers, so at most
    /// `serialNumberMaxLength` printable ASCII characters and a NUL.
    public static let serialNumberRegisters = 11
    public static let serialNumberMaxLength = 2 * serialNumberRegisters - 1

    public struct Configuration: Sendable {
        /// Unit id of the station block.
        public var stationUnit: UInt8
        /// Setpoints above this are absurd and answered with 03 (values above the hardware maximum
        /// but below this are accepted; the station clamps them).
        public var maxSetpoint: Float
        /// When false every write is answered with 01 (Alfen's "allow writing" switch).
        public var writesEnabled: Bool
        /// Turns the fast read path on: reads are answered on the server's poll thread from the
        /// register snapshot while it is at most this old; an older one makes the next read
        /// refresh it through the actor. Only for an owner that calls `refreshSnapshot()` whenever
        /// the source changes (writes through this map refresh it themselves) and periodically for
        /// drifting values. nil (the default): every read asks the source.
        public var snapshotMaxAge: Duration?

        public init(
            stationUnit: UInt8 = 200, maxSetpoint: Float = 80, writesEnabled: Bool = true,
            snapshotMaxAge: Duration? = nil
        ) {
            self.stationUnit = stationUnit
            self.maxSetpoint = maxSetpoint
            self.writesEnabled = writesEnabled
            self.snapshotMaxAge = snapshotMaxAge
        }
    }

    /// Register blocks: first address and length.
    public enum Block: Sendable, CaseIterable {
        case stationIdentity, stationStatus, stationSCN, socketMeter, socketStatus
        /// Not Alfen's: cs-companion's vendor block on socket units (docs/MODBUS.md, "Vendor
        /// registers"), outside every Alfen range.
        case socketVendor

        public var range: ClosedRange<Int> {
            switch self {
            case .stationIdentity: 100...178
            case .stationStatus: 1100...1105
            case .stationSCN: 1400...1431
            case .socketMeter: 300...425
            case .socketStatus: 1200...1215
            case .socketVendor: Self.vendorPlugIns...Self.vendorPlugIns + 21
            }
        }

        static let station: [Block] = [.stationIdentity, .stationStatus, .stationSCN]
        static let socket: [Block] = [.socketMeter, .socketStatus, .socketVendor]

        /// Vendor block: plug-in counter (UINT32), then the EVSE id (STRING, 20 registers).
        public static let vendorPlugIns = 3000
        public static let vendorEVSEID = 3002
        public static let vendorEVSEIDRegisters = 20
    }

    public static let setpointRegister: UInt16 = 1210
    public static let phasesRegister: UInt16 = 1215

    public let configuration: Configuration
    private let source: any RegisterMapBackend
    private let clock: @Sendable () -> ModbusDateTime
    private let logger: Logger
    /// Open write-log windows per "unit/register" (a storm of writes is one line per window).
    private var writeLogWindows: [String: WriteLogWindow] = [:]
    /// The last value written per "unit/register", to log changes only.
    private var lastWritten: [String: String] = [:]
    /// The image reads are answered from (see the type's documentation).
    public nonisolated let snapshot: ModbusRegisterSnapshot
    /// The generation of the last refresh begun.
    private var refreshes: UInt64 = 0
    /// The source's revision the installed image was built from (nil: unknown).
    private var installedRevision: UInt64?
    /// The build under way, shared by `refreshSnapshotIfChanged` callers it already covers.
    private var building: (revision: UInt64?, task: Task<ModbusRegisterImage, Never>)?

    public nonisolated var fastReader: (any ModbusFastReader)? { configuration.snapshotMaxAge == nil ? nil : snapshot }

    public init(
        source: any RegisterMapBackend, configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "modbus.map"), clock: @escaping @Sendable () -> ModbusDateTime = ModbusDateTime.now
    ) {
        self.source = source
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        snapshot = ModbusRegisterSnapshot(maxAge: configuration.snapshotMaxAge ?? .zero)
    }

    /// Rebuilds the register image from the source and installs it (unless a refresh begun later
    /// installed its image first); returns the image built.
    @discardableResult
    public func refreshSnapshot() async -> ModbusRegisterImage {
        await build(revision: await source.revision())
    }

    /// Rebuilds the image only when the source changed since the image installed, or being built,
    /// was begun (a source without revisions: always). A Modbus write rebuilds the image once
    /// (`refreshSnapshot`); the notifications the write caused then find it current. On return the
    /// installed image shows the source as it was when this was called.
    public func refreshSnapshotIfChanged() async {
        guard let revision = await source.revision() else {
            await refreshSnapshot()
            return
        }
        if let installedRevision, installedRevision >= revision { return }
        if let building, let covered = building.revision, covered >= revision {
            _ = await building.task.value
            return
        }
        await build(revision: revision)
    }

    /// One build, shared with the callers it covers while it runs.
    @discardableResult
    private func build(revision: UInt64?) async -> ModbusRegisterImage {
        refreshes += 1
        let generation = refreshes
        let taken = ContinuousClock.now
        let task = Task { await self.rebuild(revision: revision, generation: generation, taken: taken) }
        building = (revision, task)
        let image = await task.value
        if building?.task == task { building = nil }
        return image
    }

    private func rebuild(revision: UInt64?, generation: UInt64, taken: ContinuousClock.Instant) async -> ModbusRegisterImage {
        let station = await source.station()
        var image = ModbusRegisterImage()
        image.setUnit(
            configuration.stationUnit,
            blocks: Block.station.map { ($0.range, stationRegisters($0, station: station)) })
        if station.socketCount >= 1 {
            for index in 1...min(station.socketCount, Int(UInt8.max)) where index != Int(configuration.stationUnit) {
                // A socket the source does not know reads as an unknown unit (0B).
                guard let socket = await source.socket(index) else { continue }
                image.setUnit(UInt8(index), blocks: Block.socket.map { ($0.range, Self.socketRegisters($0, socket: socket)) })
            }
        }
        if snapshot.install(image, generation: generation, taken: taken) { installedRevision = revision }
        return image
    }

    public func handle(_ request: ModbusRequest, context: ModbusRequestContext) async -> ModbusResponse {
        let unit = context.unitID
        if case .readHoldingRegisters(let address, let count) = request {
            // The fast path could not answer (no image yet, or a stale one): refresh, answer from it.
            return await refreshSnapshot().response(unit: unit, address: address, count: count)
        }
        let station = await source.station()
        let isStation = unit == configuration.stationUnit
        let isSocket = !isStation && unit >= 1 && Int(unit) <= station.socketCount
        guard isStation || isSocket else { return .exception(.gatewayTargetDeviceFailedToRespond) }

        switch request {
        case .readHoldingRegisters:
            return .exception(.serverDeviceFailure)  // answered above
        case .readInputRegisters:
            return .exception(.illegalFunction)  // never decoded by the server; holding registers only
        case .writeSingleRegister(let address, let value):
            return await write(unit: unit, isStation: isStation, address: address, values: [value], request: request, context: context)
        case .writeMultipleRegisters(let address, let values):
            return await write(unit: unit, isStation: isStation, address: address, values: values, request: request, context: context)
        }
    }

    // MARK: Writes

    private func write(
        unit: UInt8, isStation: Bool, address: UInt16, values: [UInt16], request: ModbusRequest,
        context: ModbusRequestContext
    ) async -> ModbusResponse {
        guard configuration.writesEnabled else {
            return refused(unit, address, .illegalFunction, "writes are disabled", context)
        }
        if isStation {
            // SCN max current per phase (1417/1419/1421, float32): writable on an Alfen in SCN mode,
            // which we do not support → 01 for whole values; anything else is read-only → 02.
            let scn: Set<UInt16> = [1417, 1419, 1421]
            if scn.contains(address), values.count % 2 == 0, Int(address) + values.count <= 1423 {
                return refused(unit, address, .illegalFunction, "SCN mode is not supported", context)
            }
            return refused(unit, address, .illegalDataAddress, "read-only register or partial value", context)
        }
        switch (address, values.count) {
        case (Self.setpointRegister, 2) where request.functionCode == .writeMultipleRegisters:
            guard let amps = ModbusRegisters.float32(values), amps.isFinite, amps >= 0, amps <= configuration.maxSetpoint
            else {
                let text = ModbusRegisters.float32(values).map { "\($0)" } ?? "?"
                return refused(unit, address, .illegalDataValue, "setpoint \(text) A not in 0...\(configuration.maxSetpoint)", context)
            }
            let result = await source.setSetpoint(socket: Int(unit), amps: amps)
            if result == .accepted { await refreshSnapshot() }
            return outcome(result, unit: unit, address: address, value: "\(amps) A", request: request, context: context)
        case (Self.phasesRegister, 1):
            let phases = values[0]
            guard phases == 1 || phases == 3 else {
                return refused(unit, address, .illegalDataValue, "phases \(phases) (must be 1 or 3)", context)
            }
            let result = await source.setPhases(socket: Int(unit), phases: phases)
            if result == .accepted { await refreshSnapshot() }
            return outcome(result, unit: unit, address: address, value: "\(phases)", request: request, context: context)
        default:
            return refused(unit, address, .illegalDataAddress, "read-only register or partial value", context)
        }
    }

    private func outcome(
        _ result: ModbusWriteResult, unit: UInt8, address: UInt16, value: String, request: ModbusRequest,
        context: ModbusRequestContext
    ) -> ModbusResponse {
        switch result {
        case .rejected(let code):
            return refused(unit, address, code, "station refused \(value)", context)
        case .accepted:
            let key = "\(unit)/\(address)"
            let previous = lastWritten.updateValue(value, forKey: key)
            if previous == value {
                logger.debug("Modbus write repeated value", metadata: ["unit": "\(unit)", "register": "\(address)", "value": "\(value)"])
            } else if logsWriteChange(key: key, unit: unit, address: address, value: value) {
                logger.info(
                    "Modbus write changed value",
                    metadata: [
                        "unit": "\(unit)", "register": "\(address)", "value": "\(value)",
                        "previous": "\(previous ?? "none")", "client": "\(context.remoteAddress)",
                    ])
            }  // else counted: the window's summary line says how many changes and the last value
            return .success(for: request)
        }
    }

    /// The changes of one register within `writeLogWindow` of its first logged change: the first
    /// `writeLogBurst` are logged each, the rest only counted.
    private struct WriteLogWindow {
        var logged = 1
        var changes = 0
        var last: String
    }

    /// How long a window lasts, and how many changes in it are logged one line each.
    static let writeLogWindow: Duration = .seconds(5)
    static let writeLogBurst = 5

    /// Whether this change gets its own line; opens a window (closed with one summary line of the
    /// changes not logged, if any, at its end) at the first change.
    private func logsWriteChange(key: String, unit: UInt8, address: UInt16, value: String) -> Bool {
        guard var window = writeLogWindows[key] else {
            writeLogWindows[key] = WriteLogWindow(last: value)
            Task {
                try? await Task.sleep(for: Self.writeLogWindow)
                closeWriteLogWindow(key: key, unit: unit, address: address)
            }
            return true
        }
        defer { writeLogWindows[key] = window }
        window.last = value
        guard window.logged < Self.writeLogBurst else {
            window.changes += 1
            return false
        }
        window.logged += 1
        return true
    }

    private func closeWriteLogWindow(key: String, unit: UInt8, address: UInt16) {
        guard let window = writeLogWindows.removeValue(forKey: key), window.changes > 0 else { return }
        logger.info(
            "Modbus write changed value \(window.changes) more times in \(Self.writeLogWindow), not logged each",
            metadata: ["unit": "\(unit)", "register": "\(address)", "changes": "\(window.changes)", "last": "\(window.last)"])
    }

    private func refused(
        _ unit: UInt8, _ address: UInt16, _ code: ModbusExceptionCode, _ reason: String, _ context: ModbusRequestContext
    ) -> ModbusResponse {
        logger.info(
            "Modbus write refused",
            metadata: [
                "unit": "\(unit)", "register": "\(address)", "exception": "\(code)", "reason": "\(reason)",
                "client": "\(context.remoteAddress)",
            ])
        return .exception(code)
    }

    // MARK: Register images

    private func stationRegisters(_ block: Block, station: ModbusStationInfo) -> [UInt16] {
        var r: [UInt16] = []
        switch block {
        case .stationIdentity:
            let now = clock()
            r += ModbusRegisters.registers(string: station.name, count: 17)
            r += ModbusRegisters.registers(string: station.manufacturer, count: 5)
            r.append(1)  // table version
            r += ModbusRegisters.registers(string: station.firmwareVersion, count: 17)
            r += ModbusRegisters.registers(string: station.platformType, count: 17)
            r += ModbusRegisters.registers(string: station.serialNumber, count: Self.serialNumberRegisters)
            for field in [now.year, now.month, now.day, now.hour, now.minute, now.second] {
                r.append(UInt16(bitPattern: field))
            }
            r += ModbusRegisters.registers(uint64: station.uptimeMilliseconds)
            r.append(UInt16(bitPattern: now.utcOffsetMinutes))
        case .stationStatus:
            r += ModbusRegisters.registers(float32: station.maxCurrent)
            r += ModbusRegisters.registers(float32: station.temperature ?? .nan)
            r.append(station.ocppConnected ? 1 : 0)
            r.append(UInt16(clamping: station.socketCount))
        case .stationSCN:
            // "SCN not configured": empty name, 0 sockets, unknown currents, no remaining time,
            // unknown safe current, Modbus max-current disabled.
            r += ModbusRegisters.registers(string: "", count: 4)
            r.append(0)
            for _ in 0..<9 { r += ModbusRegisters.registers(float32: .nan) }
            for _ in 0..<3 { r += ModbusRegisters.registers(uint32: 0) }
            r += ModbusRegisters.registers(float32: .nan)
            r.append(0)
        case .socketMeter, .socketStatus, .socketVendor:
            break
        }
        return r
    }

    static func socketRegisters(_ block: Block, socket: ModbusSocketInfo) -> [UInt16] {
        var r: [UInt16] = []
        func f32(_ value: Float) { r += ModbusRegisters.registers(float32: value) }
        func f64(_ value: Double) { r += ModbusRegisters.registers(float64: value) }
        func phases(_ values: ModbusPhases<Float>) { f32(values.l1); f32(values.l2); f32(values.l3) }
        func phases(_ values: ModbusPhases<Double>) { f64(values.l1); f64(values.l2); f64(values.l3) }
        switch block {
        case .socketMeter:
            let m = socket.meter
            r.append(m.state.rawValue)
            r += ModbusRegisters.registers(uint64: m.ageMilliseconds)
            r.append(m.type.rawValue)
            phases(m.voltageLN)
            phases(m.voltageLL)
            f32(m.currentN)
            phases(m.current)
            f32(m.currentSum)
            phases(m.powerFactor)
            f32(m.powerFactorSum)
            f32(m.frequency)
            phases(m.realPower)
            f32(m.realPowerSum)
            phases(m.apparentPower)
            f32(m.apparentPowerSum)
            phases(m.reactivePower)
            f32(m.reactivePowerSum)
            phases(m.realEnergyDelivered)
            f64(m.realEnergyDeliveredSum)
            phases(m.realEnergyConsumed)
            f64(m.realEnergyConsumedSum)
            phases(m.apparentEnergy)
            f64(m.apparentEnergySum)
            phases(m.reactiveEnergy)
            f64(m.reactiveEnergySum)
        case .socketStatus:
            r.append(socket.available ? 1 : 0)
            r += ModbusRegisters.registers(string: socket.mode3State, count: 5)
            f32(socket.appliedMaxCurrent)
            r += ModbusRegisters.registers(uint32: socket.setpointRemainingSeconds)
            f32(socket.setpoint ?? .nan)
            f32(socket.safeCurrent)
            r.append(socket.setpointActive ? 1 : 0)
            r.append(socket.phases)
        case .socketVendor:
            r += ModbusRegisters.registers(uint32: socket.plugIns)
            r += ModbusRegisters.registers(string: socket.evseID, count: Block.vendorEVSEIDRegisters)
        case .stationIdentity, .stationStatus, .stationSCN:
            break
        }
        return r
    }
}
