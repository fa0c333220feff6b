import JosevContract
import Synchronization

/// The vehicle a simulation plugs in.
public struct SimulatedEV: Sendable, Equatable {
    /// The most the EV draws, A per phase (AC) or A (DC).
    public var maxCurrent: Double
    /// The phases its on-board charger uses (1…3), from l1 on.
    public var phases: Int
    /// The cable's rating from the proximity pilot, A; nil for a tethered cable.
    public var cableRating: Double?
    /// Pulls the pilot to D (ventilation) instead of C.
    public var needsVentilation: Bool

    public init(maxCurrent: Double = 32, phases: Int = 3, cableRating: Double? = nil, needsVentilation: Bool = false) {
        self.maxCurrent = maxCurrent
        self.phases = phases
        self.cableRating = cableRating
        self.needsVentilation = needsVentilation
    }
}

/// A board with an EV on it, for tests and for running the daemon without hardware.
///
/// The EV plugs in (level B), asks for energy (level C as soon as the pilot oscillates: a nominal
/// duty cycle or the 5 % of digital communication), draws `min(offered, EV max)` on its phases while
/// the contactor is closed, stops (back to B), unplugs (A), or shorts the pilot (E). Board faults
/// are reported as they are injected. The meter reads the nominal voltage on the EVSE's phases and
/// the current the EV draws; the station integrates the energy. DC: the output follows the
/// set-point while the contactor is closed; the insulation test takes `isolationTestDuration`.
/// 1/3-phase switching (`setPhases`): the EV draws on the phases the board connects only.
public final class SimulatedHardware: StationHardware {
    struct Plugged: Sendable {
        var connectorID: Int
        var ev: SimulatedEV
        var wantsEnergy = false
        var maxCurrent: Double
        var pilotShorted = false
    }

    struct Board: Sendable {
        var configuration: EVSEConfiguration
        var plugged: Plugged?
        var levels: [Int: PilotLevel] = [:]
        var signals: [Int: PilotSignal] = [:]
        var locks: [Int: ConnectorLockState] = [:]
        var contactorClosed = false
        /// The phases the board connects (`setPhases`); nil: all of the supply's.
        var phases: Int?
        var currentLimit = 0.0
        var dcOutput: (voltage: Double, current: Double)?
        var isolationStarted: StationInstant?
        var isolationResult: IsolationStatus = .valid
        var lockJammed = false

        init(configuration: EVSEConfiguration) {
            self.configuration = configuration
            for connector in configuration.connectors {
                levels[connector.id] = .a
                signals[connector.id] = .off
                locks[connector.id] = .unlocked
            }
        }
    }

    struct State: Sendable {
        var boards: [String: Board] = [:]
        var pending: [HardwareEvent] = []
        var now: StationInstant = .origin
    }

    private let state: Mutex<State>
    public let isolationTestDuration: Duration

    /// No EV plugged, no insulation test or DC output running, nothing queued: time changes nothing.
    public var isAtRest: Bool {
        state.withLock { s in
            s.pending.isEmpty && s.boards.values.allSatisfy { $0.plugged == nil && $0.isolationStarted == nil && $0.dcOutput == nil }
        }
    }
    public let frequency: Double

    public init(configuration: StationConfiguration, isolationTestDuration: Duration = .seconds(2), frequency: Double = 50) {
        var initial = State()
        for evse in configuration.evses { initial.boards[evse.evseID] = Board(configuration: evse) }
        state = Mutex(initial)
        self.isolationTestDuration = isolationTestDuration
        self.frequency = frequency
    }

    // MARK: The EV and the board (`EVSimulator` calls these, then has the station collect the queued events)

    /// Result of the next insulation tests on an EVSE (default `valid`).
    public func setIsolationResult(_ result: IsolationStatus, evseID: String) {
        state.withLock { $0.boards[evseID]?.isolationResult = result }
    }

    /// Makes the socket lock fail (`error`) until called with false.
    public func jamLock(_ jammed: Bool, evseID: String) {
        state.withLock { $0.boards[evseID]?.lockJammed = jammed }
    }

    func plug(evseID: String, connectorID: Int, ev: SimulatedEV) -> Bool {
        state.withLock { state in
            guard var board = state.boards[evseID], board.plugged == nil, board.levels[connectorID] != nil else { return false }
            board.plugged = Plugged(connectorID: connectorID, ev: ev, maxCurrent: ev.maxCurrent)
            state.pending.append(.cable(evseID: evseID, connectorID: connectorID, connected: true, ratedCurrent: ev.cableRating))
            Self.settle(&board, evseID: evseID, into: &state.pending)
            state.boards[evseID] = board
            return true
        }
    }

    func unplug(evseID: String) -> Bool {
        state.withLock { state in
            guard var board = state.boards[evseID], let plugged = board.plugged else { return false }
            board.plugged = nil
            Self.settle(&board, evseID: evseID, into: &state.pending)
            state.pending.append(.cable(evseID: evseID, connectorID: plugged.connectorID, connected: false, ratedCurrent: nil))
            state.boards[evseID] = board
            return true
        }
    }

    func requestEnergy(evseID: String, maxCurrent: Double?) -> Bool {
        updateEV(evseID) { plugged in
            plugged.wantsEnergy = true
            if let maxCurrent { plugged.maxCurrent = max(0, maxCurrent) }
        }
    }

    func stopRequestingEnergy(evseID: String) -> Bool { updateEV(evseID) { $0.wantsEnergy = false } }

    /// A fault of the board (or, for `.pilotError`, a pilot short on the EV side: level E; for
    /// `.lockFailure`, a jammed socket lock: the next lock fails to engage).
    func inject(_ kind: HardwareFaultKind, evseID: String) -> Bool {
        state.withLock { state in
            guard var board = state.boards[evseID] else { return false }
            if kind == .lockFailure {
                board.lockJammed = true
                state.boards[evseID] = board
            } else if kind == .pilotError, board.plugged != nil {
                board.plugged?.pilotShorted = true
                Self.settle(&board, evseID: evseID, into: &state.pending)
                state.boards[evseID] = board
            } else {
                state.pending.append(.fault(evseID: evseID, kind: kind))
            }
            return true
        }
    }

    func clear(_ kind: HardwareFaultKind, evseID: String) -> Bool {
        state.withLock { state in
            guard var board = state.boards[evseID] else { return false }
            if kind == .lockFailure {
                board.lockJammed = false
                state.boards[evseID] = board
            }
            if kind == .pilotError, board.plugged?.pilotShorted == true {
                board.plugged?.pilotShorted = false
                Self.settle(&board, evseID: evseID, into: &state.pending)
                state.boards[evseID] = board
            } else {
                state.pending.append(.faultCleared(evseID: evseID, kind: kind))
            }
            return true
        }
    }

    func presentCard(uid: String, evseID: String?) {
        state.withLock { $0.pending.append(.card(uid: uid, evseID: evseID)) }
    }

    /// The EV on an EVSE, if one is plugged.
    public func vehicle(evseID: String) -> SimulatedEV? { state.withLock { $0.boards[evseID]?.plugged?.ev } }

    private func updateEV(_ evseID: String, _ change: (inout Plugged) -> Void) -> Bool {
        state.withLock { state in
            guard var board = state.boards[evseID], var plugged = board.plugged else { return false }
            change(&plugged)
            board.plugged = plugged
            Self.settle(&board, evseID: evseID, into: &state.pending)
            state.boards[evseID] = board
            return true
        }
    }

    /// Recomputes the pilot levels the EV sets and queues the changes.
    private static func settle(_ board: inout Board, evseID: String, into pending: inout [HardwareEvent]) {
        for connector in board.configuration.connectors {
            let level: PilotLevel
            if let plugged = board.plugged, plugged.connectorID == connector.id {
                let signal = board.signals[connector.id] ?? .off
                if plugged.pilotShorted {
                    level = .e
                } else if plugged.wantsEnergy, signal.oscillating {
                    level = plugged.ev.needsVentilation ? .d : .c
                } else {
                    level = .b
                }
            } else {
                level = .a
            }
            if board.levels[connector.id] != level {
                board.levels[connector.id] = level
                pending.append(.pilotLevel(evseID: evseID, connectorID: connector.id, level: level))
            }
        }
    }

    // MARK: StationHardware

    public func setPilot(evseID: String, connectorID: Int, signal: PilotSignal) {
        state.withLock { state in
            guard var board = state.boards[evseID], board.signals[connectorID] != nil else { return }
            board.signals[connectorID] = signal
            Self.settle(&board, evseID: evseID, into: &state.pending)
            state.boards[evseID] = board
        }
    }

    public func setCurrentLimit(evseID: String, current: Double) {
        state.withLock { $0.boards[evseID]?.currentLimit = current }
    }

    public func setContactor(evseID: String, closed: Bool) {
        state.withLock { $0.boards[evseID]?.contactorClosed = closed }
    }

    public func setPhases(evseID: String, phases: Int) {
        state.withLock { $0.boards[evseID]?.phases = max(1, min(3, phases)) }
    }

    /// The phases the board connects now (what `setPhases` set, else the supply's).
    public func phases(evseID: String) -> Int? {
        state.withLock { state in
            guard let board = state.boards[evseID] else { return nil }
            return board.phases ?? board.configuration.ac?.phases
        }
    }

    public func setConnectorLock(evseID: String, connectorID: Int, locked: Bool) -> ConnectorLockState {
        state.withLock { state in
            guard var board = state.boards[evseID], board.locks[connectorID] != nil else { return .unknown }
            let reached: ConnectorLockState = board.lockJammed ? .error : (locked ? .locked : .unlocked)
            board.locks[connectorID] = reached
            state.boards[evseID] = board
            return reached
        }
    }

    public func startIsolationTest(evseID: String) {
        state.withLock { state in state.boards[evseID]?.isolationStarted = state.now }
    }

    public func isolationTestResult(evseID: String) -> IsolationStatus? {
        state.withLock { state in
            guard let board = state.boards[evseID], let started = board.isolationStarted else { return nil }
            return state.now - started >= isolationTestDuration ? board.isolationResult : nil
        }
    }

    public func setDCOutput(evseID: String, voltage: Double, current: Double) {
        state.withLock { $0.boards[evseID]?.dcOutput = (voltage, current) }
    }

    public func stopDCOutput(evseID: String) {
        state.withLock { $0.boards[evseID]?.dcOutput = nil }
    }

    public func readMeter(evseID: String) -> MeterReading? {
        state.withLock { state in
            guard let board = state.boards[evseID] else { return nil }
            let configuration = board.configuration
            let drawing = board.contactorClosed && (board.plugged.map { p in
                p.wantsEnergy && !p.pilotShorted && (board.levels[p.connectorID] == .c || board.levels[p.connectorID] == .d)
            } ?? false)
            if configuration.dc != nil, configuration.ac == nil {
                guard board.contactorClosed, let output = board.dcOutput else {
                    return MeterReading(frequency: frequency, dcVoltage: 0, dcCurrent: 0)
                }
                let evMax = board.plugged?.maxCurrent ?? 0
                let current = drawing ? (output.current >= 0 ? min(output.current, evMax) : output.current) : 0
                return MeterReading(frequency: frequency, dcVoltage: output.voltage, dcCurrent: current)
            }
            guard let ac = configuration.ac else { return MeterReading(frequency: frequency) }
            let supplyPhases = max(1, min(3, ac.phases))
            let nominal = Double(ac.nominalVoltage)
            let voltage = PhaseValues(l1: nominal, l2: supplyPhases >= 2 ? nominal : 0, l3: supplyPhases >= 3 ? nominal : 0)
            var current = PhaseValues(all: 0)
            if drawing, let plugged = board.plugged {
                let signal = board.signals[plugged.connectorID] ?? .off
                let offered: Double
                switch signal {
                case .nominal(let amps): offered = amps
                case .digital: offered = board.currentLimit
                default: offered = 0
                }
                let amps = max(0, min(offered, plugged.maxCurrent))
                let phases = max(1, min(supplyPhases, plugged.ev.phases, board.phases ?? supplyPhases))
                current = PhaseValues(l1: amps, l2: phases >= 2 ? amps : 0, l3: phases >= 3 ? amps : 0)
            }
            return MeterReading(voltage: voltage, current: current, frequency: frequency)
        }
    }

    public func advance(to now: StationInstant) {
        state.withLock { state in if now > state.now { state.now = now } }
    }

    public func drainEvents() -> [HardwareEvent] {
        state.withLock { state in
            let events = state.pending
            state.pending = []
            return events
        }
    }

    public func reconfigure(_ configuration: StationConfiguration) {
        state.withLock { state in
            var boards: [String: Board] = [:]
            for evse in configuration.evses {
                if var board = state.boards[evse.evseID] {
                    board.configuration = evse
                    boards[evse.evseID] = board
                } else {
                    boards[evse.evseID] = Board(configuration: evse)
                }
            }
            state.boards = boards
        }
    }
}
