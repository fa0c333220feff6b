import Basics
import JosevContract
import Logging
import Modbus
import Station
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The Alfen register map's backend on the station: socket n (unit n) is the n-th configured
/// EVSE, read in one call to the station (`Station.evseView(at:)`). Writes of 1210 and 1215 go to
/// the station's external setpoint and phase switching (PROFILE §4), which own the valid time,
/// the fallback to the safe current and the clamping.
final class StationModbusAdapter: RegisterMapBackend {
    let station: Station
    let started = ContinuousClock.now
    private let ocppConnected: Mutex<Bool>
    let logger: Logger

    init(station: Station, logger: Logger) {
        self.station = station
        self.logger = logger
        ocppConnected = Mutex(false)
    }

    func revision() async -> UInt64? { await station.revision }

    /// From Josev's `websocket_status` updates (register 1104); whether the value changed (then the
    /// register image must be rebuilt: the station's revision does not count this flag).
    @discardableResult
    func setOCPPConnected(_ connected: Bool) -> Bool {
        ocppConnected.withLock { value in
            defer { value = connected }
            return value != connected
        }
    }

    func station() async -> ModbusStationInfo {
        let configuration = await station.configuration
        let uptime = started.duration(to: .now)
        var maxCurrent: Double = 0
        for evse in configuration.evses { maxCurrent = max(maxCurrent, evse.ac?.maxCurrent ?? evse.dc?.maxCurrent ?? 0) }
        return ModbusStationInfo(
            name: "\(configuration.identity.vendor) \(configuration.identity.model)".prefix(33).description,
            manufacturer: configuration.identity.vendor.prefix(9).description,
            firmwareVersion: configuration.identity.firmwareVersion.prefix(33).description,
            platformType: configuration.identity.model.prefix(33).description,
            serialNumber: configuration.identity.serialNumber.prefix(21).description,
            uptimeMilliseconds: UInt64(max(0, uptime.wholeMilliseconds)),
            maxCurrent: Float(maxCurrent), temperature: nil,
            ocppConnected: ocppConnected.withLock { $0 }, socketCount: configuration.evses.count)
    }

    private func evse(_ index: Int) async -> EVSEConfiguration? {
        let evses = await station.configuration.evses
        return evses.indices.contains(index - 1) ? evses[index - 1] : nil
    }

    func socket(_ index: Int) async -> ModbusSocketInfo? {
        guard index >= 1, let view = await station.evseView(at: index - 1) else { return nil }
        return Self.socketInfo(view)
    }

    /// The registers of one socket from the station's view of its EVSE.
    static func socketInfo(_ view: EVSEView) -> ModbusSocketInfo {
        let snapshot = view.meter, state = view.state, setpoint = view.setpoint
        var info = ModbusSocketInfo()
        var meter = ModbusMeterReading()
        // Unknown values are NaN in the snapshot and read as NaN (0xFFFF…) registers; the energy
        // registers are the meter's last counted values.
        meter.state = snapshot.quality.isKnown ? [.initialised, .updated] : (snapshot.quality == .absent ? [] : [.initialised, .error])
        meter.ageMilliseconds = snapshot.age.map { UInt64(max(0, $0.components.seconds)) * 1000 + UInt64(max(0, $0.components.attoseconds) / 1_000_000_000_000_000) } ?? 0
        meter.type = .other
        meter.voltageLN = ModbusPhases(Float(snapshot.voltage.l1), Float(snapshot.voltage.l2), Float(snapshot.voltage.l3))
        meter.current = ModbusPhases(Float(snapshot.current.l1), Float(snapshot.current.l2), Float(snapshot.current.l3))
        meter.currentSum = Float(snapshot.current.l1 + snapshot.current.l2 + snapshot.current.l3)
        let pf = Float(snapshot.powerFactor)
        meter.powerFactor = ModbusPhases(pf, pf, pf)
        meter.powerFactorSum = pf
        meter.frequency = Float(snapshot.frequency)
        meter.realPower = ModbusPhases(Float(snapshot.power.l1), Float(snapshot.power.l2), Float(snapshot.power.l3))
        meter.realPowerSum = Float(snapshot.activePower)
        meter.realEnergyDeliveredSum = snapshot.energyImportedWh
        meter.realEnergyConsumedSum = snapshot.energyExportedWh
        info.meter = meter
        let connectorID = view.configuration.connectors.first?.id ?? 1
        if let pilot = state.connector(connectorID)?.pilotState {
            // Alfen spells the unplugged state "A" (no PWM digit).
            info.mode3State = pilot.level == .a ? "A" : pilot.rawValue
        }
        // PROFILE.md has no "reserved" value: a reserved socket reads 0 (not available to the
        // public) in 1200 until its driver is authorized; the mode-3 state (1201) stays the pilot's.
        let reservedForAnother =
            state.connector(connectorID)?.reserved == true && !state.authorization.isAccepted && state.transaction == nil
        info.available = state.isOperative && !reservedForAnother
        info.appliedMaxCurrent = Float(setpoint.applied)
        info.setpointRemainingSeconds = UInt32(max(0, setpoint.remaining.components.seconds))
        info.setpoint = setpoint.setpoint.map(Float.init)
        info.safeCurrent = Float(setpoint.safeCurrent)
        info.setpointActive = setpoint.inEffect
        info.phases = UInt16(setpoint.phases)
        // Vendor block (docs/MODBUS.md): the socket's plug-ins and its EVSE id.
        info.plugIns = state.connectors.reduce(0) { $0 &+ $1.plugIns }
        info.evseID = view.configuration.evseID
        return info
    }

    func setSetpoint(socket: Int, amps: Float) async -> ModbusWriteResult {
        guard let evse = await evse(socket) else { return .rejected(.illegalDataAddress) }
        // The register map logs every written value that differs from the last one.
        switch await station.setExternalSetpoint(Double(amps), evseID: evse.evseID) {
        case .accepted(let state):
            logger.debug("Modbus setpoint \(amps) A on \(evse.evseID): applied \(state.applied) A", metadata: ["evse_id": "\(evse.evseID)"])
            return .accepted
        case .rejected(.disabled):
            return .rejected(.illegalFunction)
        case .rejected(.unknownEVSE):
            return .rejected(.illegalDataAddress)
        case .rejected(.invalidValue), .rejected(.outOfRange):
            return .rejected(.illegalDataValue)
        }
    }

    func setPhases(socket: Int, phases: UInt16) async -> ModbusWriteResult {
        guard let evse = await evse(socket) else { return .rejected(.illegalDataAddress) }
        switch await station.setPhases(Int(phases), evseID: evse.evseID) {
        case .accepted, .switching:
            return .accepted
        case .refused(.invalidPhases):
            return .rejected(.illegalDataValue)
        case .refused(.rateLimited):
            return .rejected(.serverDeviceBusy)
        case .refused(.unknownEVSE):
            return .rejected(.illegalDataAddress)
        case .refused:
            return .rejected(.illegalFunction)
        }
    }
}
