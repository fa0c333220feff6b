import PhyVerso
import Station

/// What the host knows about one MCU charge port: what it commanded and what the MCU reported.
public struct BoardPortReport: Sendable, Equatable {
    public var evseID: String
    public var mcuConnector: Int
    public var cp: CpState?
    public var pp: PpState?
    /// PWM duty commanded, 0.01 % (nil: none yet).
    public var pwmCommanded: UInt32?
    public var coilCommanded = false
    /// The MCU's `set_coil_state_response` (nil: none yet).
    public var coilConfirmed: Bool?
    public var lockCommanded: Bool?
    public var lockReported: LockState?
    public var flags = ErrorFlags()
    /// Last coil command → its confirmation.
    public var lastConfirmationLatency: Duration?
    /// What the last comparison of commanded with reported found (empty: consistent).
    public var mismatches: [String] = []
}

/// The ports of the board and how the MCU's reports become `HardwareEvent`s. Pure: `BoardHardware`
/// runs it under its lock, with the instant of each input.
struct BoardPorts: Sendable {
    struct Port: Sendable {
        var settings: BoardSettings.Connector
        /// The EVSE's connector the port serves (its first).
        var connectorID: Int
        var report: BoardPortReport
        /// A close waits for the lock to engage.
        var coilWaitsForLock = false
        var coilCommandedAt: ContinuousClock.Instant?
        var lockCommandedAt: ContinuousClock.Instant?
        /// The station locked the socket itself (`setLock`): it keeps it locked through a pause of
        /// the session and unlocks it itself; only a lock the coil took implicitly is released with the coil.
        var lockHeldByHost = false
    }

    private(set) var ports: [Int32: Port] = [:]

    init(settings: BoardSettings, configuration: StationConfiguration) {
        for connector in settings.connectors {
            let evse = configuration.evses.first { $0.evseID == connector.evseID }
            ports[Int32(connector.mcuConnector)] = Port(
                settings: connector, connectorID: evse?.connectors.first?.id ?? 1,
                report: BoardPortReport(evseID: connector.evseID, mcuConnector: connector.mcuConnector))
        }
    }

    var reports: [BoardPortReport] { ports.values.map(\.report).sorted { $0.mcuConnector < $1.mcuConnector } }
    var evseIDs: [String] { reports.map(\.evseID) }

    func number(of evseID: String) -> Int32? { ports.first { $0.value.report.evseID == evseID }?.key }

    // MARK: Commands (each returns what to send)

    mutating func setPilot(evseID: String, signal: PilotSignal) -> [EverestToMcu] {
        guard let number = number(of: evseID) else { return [] }
        let duty = UInt32(max(0, min(10000, (signal.dutyCycle * 100).rounded())))
        ports[number]?.report.pwmCommanded = duty
        return [EverestToMcu(.pwmDutyCycle(duty), connector: number)]
    }

    mutating func setCoil(evseID: String, closed: Bool, now: ContinuousClock.Instant) -> [EverestToMcu] {
        guard let number = number(of: evseID), let port = ports[number] else { return [] }
        ports[number]?.report.coilCommanded = closed
        ports[number]?.coilCommandedAt = now
        if closed, port.settings.lock != .none, port.report.lockReported != .locked {
            ports[number]?.coilWaitsForLock = true
            return setLock(number, locked: true, now: now)
        }
        ports[number]?.coilWaitsForLock = false
        return [EverestToMcu(.setCoilStateRequest(CoilState(coilType: .ac, closed: closed)), connector: number)]
    }

    mutating func setLock(evseID: String, locked: Bool, now: ContinuousClock.Instant) -> [EverestToMcu] {
        guard let number = number(of: evseID) else { return [] }
        ports[number]?.lockHeldByHost = locked
        return setLock(number, locked: locked, now: now)
    }

    private mutating func setLock(_ number: Int32, locked: Bool, now: ContinuousClock.Instant) -> [EverestToMcu] {
        guard ports[number]?.settings.lock != BoardSettings.Lock.none else { return [] }
        ports[number]?.report.lockCommanded = locked
        ports[number]?.lockCommandedAt = now
        return [EverestToMcu(.connectorLock(locked), connector: number)]
    }

    func lockState(evseID: String) -> ConnectorLockState {
        guard let number = number(of: evseID), let port = ports[number] else { return .unknown }
        if port.settings.lock == .none { return .unknown }
        switch port.report.lockReported {
        case .locked?: return .locked
        case .unlocked?: return .unlocked
        default: return .unknown
        }
    }

    mutating func resetRCD(evseID: String) -> [EverestToMcu] {
        guard let number = number(of: evseID) else { return [] }
        return [EverestToMcu(.rcdCommand(RcdCommand(test: false, reset: true)), connector: number)]
    }

    // MARK: Reports

    /// One message of the MCU for a port: the events it means and what to send in reply.
    mutating func receive(_ payload: McuToEverest.Payload, connector: Int32, now: ContinuousClock.Instant)
        -> (events: [HardwareEvent], replies: [EverestToMcu])
    {
        guard var port = ports[connector] else { return ([], []) }
        let evseID = port.report.evseID
        var events: [HardwareEvent] = []
        var replies: [EverestToMcu] = []
        switch payload {
        case .cpState(let state):
            port.report.cp = state
            events.append(.pilotLevel(evseID: evseID, connectorID: port.connectorID, level: Self.level(state)))
        case .ppState(let state):
            port.report.pp = state
            events.append(
                .cable(evseID: evseID, connectorID: port.connectorID, connected: state != .notConnected, ratedCurrent: state.ampacity.map(Double.init)))
        case .setCoilStateResponse(let coil):
            port.report.coilConfirmed = coil.closed
            if let since = port.coilCommandedAt, coil.closed == port.report.coilCommanded {
                port.report.lastConfirmationLatency = since.duration(to: now)
                port.coilCommandedAt = nil
            }
            events.append(.contactor(evseID: evseID, closed: coil.closed))
            // The socket unlocks once the contactor is confirmed open (never while it may be live).
            if !coil.closed, !port.report.coilCommanded, port.report.lockCommanded == true, !port.lockHeldByHost {
                port.report.lockCommanded = false
                port.lockCommandedAt = now
                replies.append(EverestToMcu(.connectorLock(false), connector: connector))
            }
        case .lockState(let state):
            port.report.lockReported = state
            switch state {
            case .locked:
                events.append(.lock(evseID: evseID, connectorID: port.connectorID, state: .locked))
                if port.coilWaitsForLock, port.report.coilCommanded {
                    port.coilWaitsForLock = false
                    replies.append(EverestToMcu(.setCoilStateRequest(CoilState(coilType: .ac, closed: true)), connector: connector))
                }
            case .unlocked:
                events.append(.lock(evseID: evseID, connectorID: port.connectorID, state: .unlocked))
            case .undefined, .locking, .unlocking:
                break
            }
        case .errorFlags(let flags):
            events += Self.changes(from: port.report.flags, to: flags, evseID: evseID, connectorID: port.connectorID)
            port.report.flags = flags
            if flags.connectorLockFailed { port.coilWaitsForLock = false }
        default:
            break
        }
        ports[connector] = port
        return (events, replies)
    }

    /// Commanded against reported, once a second: the coil and the lock must have followed within
    /// `settle`; returns the lock failures found (the coil is the station's to supervise).
    mutating func compare(now: ContinuousClock.Instant, settle: Duration) -> [HardwareEvent] {
        var events: [HardwareEvent] = []
        for (number, port) in ports {
            var found: [String] = []
            if let confirmed = port.report.coilConfirmed, confirmed != port.report.coilCommanded,
               port.coilCommandedAt.map({ $0.duration(to: now) >= settle }) ?? true {
                found.append("contactor commanded \(port.report.coilCommanded ? "closed" : "open"), confirmed \(confirmed ? "closed" : "open")")
            }
            if let commanded = port.report.lockCommanded, let since = port.lockCommandedAt, since.duration(to: now) >= settle,
               port.report.lockReported != (commanded ? .locked : .unlocked) {
                found.append("lock commanded \(commanded ? "locked" : "unlocked"), reported \(port.report.lockReported.map { "\($0)" } ?? "nothing")")
                if commanded, !port.report.mismatches.contains(where: { $0.hasPrefix("lock") }) {
                    events.append(.lock(evseID: port.report.evseID, connectorID: port.connectorID, state: .error))
                }
            }
            if port.report.pwmCommanded == 0, let cp = port.report.cp, cp != .f, cp != .e {
                found.append("PWM commanded F, CP reported \(cp)")
            }
            ports[number]?.report.mismatches = found
        }
        return events
    }

    static func level(_ state: CpState) -> PilotLevel {
        switch state {
        case .a: .a
        case .b: .b
        case .c: .c
        case .d: .d
        case .e: .e
        case .f: .f
        }
    }

    /// The MCU's error flags as fault transitions.
    static func changes(from old: ErrorFlags, to new: ErrorFlags, evseID: String, connectorID: Int) -> [HardwareEvent] {
        var events: [HardwareEvent] = []
        func edge(_ was: Bool, _ now: Bool, _ kind: HardwareFaultKind) {
            if now, !was { events.append(.fault(evseID: evseID, kind: kind)) }
            if was, !now { events.append(.faultCleared(evseID: evseID, kind: kind)) }
        }
        edge(old.rcdTriggered || old.rcdSelftestFailed, new.rcdTriggered || new.rcdSelftestFailed, .rcdTripped)
        edge(old.diodeFault, new.diodeFault, .diodeFault)
        edge(old.cpSignalFault, new.cpSignalFault, .pilotError)
        if new.connectorLockFailed, !old.connectorLockFailed {
            events.append(.lock(evseID: evseID, connectorID: connectorID, state: .error))
        }
        if old.connectorLockFailed, !new.connectorLockFailed { events.append(.faultCleared(evseID: evseID, kind: .lockFailure)) }
        return events
    }
}
