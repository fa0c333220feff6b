import JosevContract

/// What the hardware reports to the station.
public enum HardwareEvent: Sendable, Equatable {
    /// The CP circuit measured a new level on a connector.
    case pilotLevel(evseID: String, connectorID: Int, level: PilotLevel)
    /// The proximity pilot saw a cable (rated current, A; nil when unknown) or none.
    case cable(evseID: String, connectorID: Int, connected: Bool, ratedCurrent: Double?)
    case fault(evseID: String, kind: HardwareFaultKind)
    case faultCleared(evseID: String, kind: HardwareFaultKind)
    /// An RFID card was read (evseID nil: a reader shared by the station).
    case card(uid: String, evseID: String?)
    /// The lock of a connector changed by itself (or failed: `.error` is a `lock_failure`).
    case lock(evseID: String, connectorID: Int, state: ConnectorLockState)
    /// The contactor as the hardware sees it (mirror contact, the safety controller's
    /// confirmation), from drivers that `confirmsContactor`.
    case contactor(evseID: String, closed: Bool)
    /// The driver queued observations for `drainEvents()` outside a station operation (an
    /// interrupt, the simulated EV): the station collects them now instead of at its next tick.
    case eventsQueued
}

/// What a meter measures on an EVSE.
public struct MeterReading: Sendable, Equatable {
    public var voltage: PhaseValues
    public var current: PhaseValues
    public var frequency: Double
    public var powerFactor: Double
    public var dcVoltage: Double?
    public var dcCurrent: Double?
    /// The meter's own import register, Wh. When nil the station integrates the power over time.
    public var energyImportedWh: Double?
    public var energyExportedWh: Double?
    /// Total active power as the meter measured it, W (nil: V · I · power factor).
    public var measuredActivePower: Double?

    public init(
        voltage: PhaseValues = PhaseValues(all: 0), current: PhaseValues = PhaseValues(all: 0), frequency: Double = 50,
        powerFactor: Double = 1, dcVoltage: Double? = nil, dcCurrent: Double? = nil, energyImportedWh: Double? = nil,
        energyExportedWh: Double? = nil
    ) {
        self.voltage = voltage
        self.current = current
        self.frequency = frequency
        self.powerFactor = powerFactor
        self.dcVoltage = dcVoltage
        self.dcCurrent = dcCurrent
        self.energyImportedWh = energyImportedWh
        self.energyExportedWh = energyExportedWh
    }

    /// W per phase.
    public var phasePower: PhaseValues {
        PhaseValues(
            l1: voltage.l1 * current.l1 * powerFactor, l2: voltage.l2 * current.l2 * powerFactor,
            l3: voltage.l3 * current.l3 * powerFactor)
    }

    /// Active power, W: the meter's own when it has one, else V · I for DC, Σ V·I·pf over the
    /// phases for AC (positive = import).
    public var activePower: Double {
        if let measuredActivePower { return measuredActivePower }
        if let dcVoltage, let dcCurrent { return dcVoltage * dcCurrent }
        let phases = phasePower
        return phases.l1 + phases.l2 + phases.l3
    }
}

/// What a board driver implements. The station calls it from inside its actor, synchronously,
/// and reads back what happened with `drainEvents()` (a real driver queues what its interrupt or
/// polling thread saw; the daemon calls `Station.tick` often enough, or feeds events in at once
/// with `Station.handle(_:)`).
public protocol StationHardware: AnyObject, Sendable {
    /// Generates a pilot signal on a connector.
    func setPilot(evseID: String, connectorID: Int, signal: PilotSignal)
    /// The current an EV may draw now (A per phase for AC, A for DC): boards supervise overcurrent
    /// with it; the simulated EV draws it in HLC sessions.
    func setCurrentLimit(evseID: String, current: Double)
    func setContactor(evseID: String, closed: Bool)
    /// AC: the phases the EVSE connects (1: l1 only, 3: all). The station calls it only while the
    /// contactor is open (idle, or in the dwell of a switching sequence).
    func setPhases(evseID: String, phases: Int)
    /// Locks or unlocks a socket and returns the state reached.
    func setConnectorLock(evseID: String, connectorID: Int, locked: Bool) -> ConnectorLockState
    /// DC: starts the insulation test.
    func startIsolationTest(evseID: String)
    /// DC: nil while the test runs, the result once it finished.
    func isolationTestResult(evseID: String) -> IsolationStatus?
    /// DC: the output the power electronics shall deliver (negative current = discharge); nil: off.
    func setDCOutput(evseID: String, voltage: Double, current: Double)
    func stopDCOutput(evseID: String)
    /// The meter of an EVSE; nil when the hardware has none.
    func readMeter(evseID: String) -> MeterReading?
    /// The meter of an EVSE with its quality and age (a polled meter answers from its cache). The
    /// default takes `readMeter` as measured now, and its nil as no meter.
    func sampleMeter(evseID: String) -> MeterSample
    /// Time moved on (simulations advance with it; drivers may ignore it).
    func advance(to now: StationInstant)
    /// What happened since the last call, in order.
    func drainEvents() -> [HardwareEvent]
    /// The configuration changed.
    func reconfigure(_ configuration: StationConfiguration)
    /// The hardware reports the contactor's real state (`HardwareEvent.contactor`): the station
    /// then announces a contactor closed or open only once it is confirmed, and supervises the
    /// confirmation (`StationPolicy.contactorConfirmationTimeout`).
    var confirmsContactor: Bool { get }
    /// Resets a tripped residual-current device; false when the hardware cannot.
    func resetRCD(evseID: String) -> Bool
    /// The board driver itself, under whatever wraps it (energy meters beside it): what the
    /// simulator's entry points and `hardware check` look for.
    var boardDriver: any StationHardware { get }
    /// Nothing on the hardware moves with time alone (no EV plugged into a simulation, no test
    /// running) and whatever changes comes with `Station.handle(.eventsQueued)`: the station may then
    /// stop ticking while it is at rest itself. False (the default) keeps the tick going: a real
    /// driver's measurements age and must be looked at.
    var isAtRest: Bool { get }
}

extension StationHardware {
    public var boardDriver: any StationHardware { self }
    public var isAtRest: Bool { false }
    public var confirmsContactor: Bool { false }
    public func resetRCD(evseID: String) -> Bool { false }
    public func setPhases(evseID: String, phases: Int) {}
    public func sampleMeter(evseID: String) -> MeterSample { readMeter(evseID: evseID).map { MeterSample.measured($0) } ?? .absent }
    public func advance(to now: StationInstant) {}
    public func reconfigure(_ configuration: StationConfiguration) {}
}

/// No board attached: every command is accepted and ignored, nothing is ever measured. What
/// happens comes in through `Station.handle(_:)` (`EVSimulator` reports what a board would measure).
/// It claims nothing it cannot know: a lock it does not have is `unknown`, an insulation test that
/// never ran is `no_imd` (no isolation monitor), never a pass.
public final class NullHardware: StationHardware {
    public init() {}
    public var isAtRest: Bool { true }
    public func setPilot(evseID: String, connectorID: Int, signal: PilotSignal) {}
    public func setCurrentLimit(evseID: String, current: Double) {}
    public func setContactor(evseID: String, closed: Bool) {}
    public func setConnectorLock(evseID: String, connectorID: Int, locked: Bool) -> ConnectorLockState {
        .unknown
    }
    public func startIsolationTest(evseID: String) {}
    public func isolationTestResult(evseID: String) -> IsolationStatus? { .noIMD }
    public func setDCOutput(evseID: String, voltage: Double, current: Double) {}
    public func stopDCOutput(evseID: String) {}
    public func readMeter(evseID: String) -> MeterReading? { nil }
    public func drainEvents() -> [HardwareEvent] { [] }
}
