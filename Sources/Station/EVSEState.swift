import JosevContract

/// The dynamic state of one EVSE, next to its configuration.
public struct EVSEState: Sendable, Equatable {
    /// The status Josev sees: derived from the faults, the status set with `setStatus`, and the availability.
    public var statusCode: EVSEStatusCode = .ready
    /// The residual-current device tripped (a `.rcdTripped` fault is active).
    public var rcdError = false
    /// A local limit set from outside (`setExternalCurrentLimit`: local control, tests), A per phase;
    /// nil when none. It has no valid time and is independent of the external (Modbus) setpoint:
    /// both take part in the minimum.
    public var externalCurrentLimit: Double?
    /// The external (Modbus) setpoint as written, A per phase (AC) or A (DC); nil when none is valid.
    public var externalSetpoint: Double?
    /// When `externalSetpoint` runs out (the station then falls back to the safe current).
    public var externalSetpointExpiry: StationInstant?
    /// Derived: the limit external control sets now: the valid setpoint, else the safe current while
    /// external control is on, rounded down to 0.1 A; AC: 0 when under 6 A (pause). nil: no such limit.
    public var externalSetpointLimit: Double?
    /// The phases to use (1 or 3), as last requested: switching sequences report the target at once.
    public var phases = 3
    /// The phases the hardware connects now (differs from `phases` while a sequence runs).
    public var activePhases = 3
    /// The switching sequence that runs, if any.
    public var phaseSwitch: PhaseSwitchProgress?
    /// When the last switching sequence started (for `minimumSwitchInterval`).
    public var lastPhaseSwitch: StationInstant?
    public var presentVoltage: Double = 0
    public var presentCurrent: Double = 0
    public var isolationStatus: IsolationStatus?

    /// The status reported with `setStatus` (the daemon's own knowledge); faults and availability come on top.
    public var reportedStatus: EVSEStatusCode = .ready
    public var faults: Set<HardwareFaultKind> = []
    public var connectors: [ConnectorState] = []
    /// What `cp_pwm` asked for.
    public var pilotRequest: PilotRequest = .off
    /// The contactor as commanded.
    public var contactorClosed = false
    /// The contactor as the hardware confirmed it (nil: the hardware reports nothing, or nothing yet).
    public var contactorConfirmed: Bool?
    /// Since when the command waits for its confirmation (nil: none pending).
    public var contactorCommandedAt: StationInstant?
    /// The last opening of the contactor came while the EV still asked for energy (CP C/D): under load.
    public var lastOpeningUnderLoad = false
    /// `hlc_charging` status: an ISO 15118 session is in PowerDelivery.
    public var hlcCharging = false
    public var authorization: EVSEAuthorization = .none
    public var transaction: StationTransaction?
    public var cableCheck: CableCheckPhase = .none
    public var dcOutput: DCOutput?
    /// A limit from the configuration side (e.g. an OCPP variable), A per phase; nil when none.
    public var configuredCurrentLimit: Double?
    /// The EV's own maximum (`ev_rated_limits`), A per phase; nil when unknown.
    public var evMaxCurrent: Double?
    /// Availability set for this EVSE.
    public var operative = true
    /// The station-wide availability as it applies to this EVSE (a scheduled change waits for the session).
    public var stationOperative = true
    public var pendingAvailability: [PendingAvailability] = []
    public var resetPending = false
    /// Charging was stopped in this session; the contactor stays open until a new authorization,
    /// transaction, HLC request or plug-in.
    public var chargingStopped = false
    /// The contactor was opened on request and stays open until something asks for energy again.
    public var heldOpen = false
    /// Since when an accepted authorization (or a transaction) waits for an EV to plug in
    /// (`StationPolicy.connectionTimeout`); nil when none waits.
    public var awaitingPlugInSince: StationInstant?
    /// The running transaction no longer authorizes charging: no EV came within the connection
    /// timeout, or its EV left (StopTxOnEVSideDisconnect). Josev ends it; a new authorization or
    /// transaction clears it.
    public var transactionStopped = false

    public init() {}

    init(configuration: EVSEConfiguration, setpoints: SetpointPolicy = SetpointPolicy()) {
        connectors = configuration.connectors.map { ConnectorState(id: $0.id) }
        phases = configuration.ac.map { max(1, min(3, $0.phases)) } ?? 3
        activePhases = phases
        externalSetpointLimit = StationLimits.setpointLimit(configuration, setpoints: setpoints, state: self)
    }

    /// The connector an EV is plugged into (the first one not in state A), if any.
    public var activeConnectorID: Int? { connectors.first { $0.level != .a }?.id }

    public func connector(_ id: Int) -> ConnectorState? { connectors.first { $0.id == id } }

    /// Station, EVSE and at least one connector operative.
    public var isOperative: Bool { stationOperative && operative && connectors.contains(where: \.operative) }

    /// The connectors Josev reported reserved.
    public var reservedConnectorIDs: [Int] { connectors.filter(\.reserved).map(\.id) }

    /// A token presented on this EVSE must go to Josev: the connector in use, or with no EV any
    /// connector, is reserved (only Josev knows whose reservation it is).
    public var reservationApplies: Bool {
        if let active = activeConnectorID { return connector(active)?.reserved ?? false }
        return connectors.contains(where: \.reserved)
    }

    /// What belonged to the EV's session goes (the EV left, or a reset); the OCPP transaction stays.
    mutating func endSession() {
        pilotRequest = .off
        hlcCharging = false
        cableCheck = .none
        authorization = .none
        evMaxCurrent = nil
        chargingStopped = false
        heldOpen = false
        isolationStatus = nil
    }

    /// A session runs: a scheduled availability change or reset waits for its end.
    public var sessionActive: Bool { transaction != nil || contactorClosed || hlcCharging || cableCheck != .none }

    /// A `reset` need not wait here: no session runs, or Josev already stopped it (`stop_charging`,
    /// the transaction ended, a deauthorization): what is left of it ends with the reset.
    public var idleForReset: Bool { !sessionActive || chargingStopped }
}

/// Everything a register map shows of one EVSE, read in one call (`Station.evseView(at:)`).
public struct EVSEView: Sendable, Equatable {
    public var configuration: EVSEConfiguration
    public var state: EVSEState
    /// The meter, brought up to the time of the read.
    public var meter: MeterSnapshot
    /// The external setpoint's state (an expired setpoint already dropped).
    public var setpoint: ExternalSetpointState
}

/// What was last announced for a connector's pilot.
struct PilotReport: Sendable, Equatable {
    var state: ControlPilotState
    var duty: Double
}
