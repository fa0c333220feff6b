import JosevContract

/// What the station tells the rest of the daemon when something Josev must hear about changes.
///
/// This is the original, status-only stream; the daemon switches over it exhaustively, so it keeps
/// its single case. Everything else (CP state, contactor, authorization, meter, faults, …) comes on
/// `Station.notifications`, which carries `.statusAndLimitsChanged` too, in the same order.
public enum StationEvent: Sendable, Equatable {
    /// A status or a limit of one or more EVSEs changed: publish a `cs_status_and_limits` update.
    case statusAndLimitsChanged(evseIDs: [String])
}

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
    public var contactorClosed = false
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

    public init() {}

    init(configuration: EVSEConfiguration, setpoints: SetpointPolicy = SetpointPolicy()) {
        connectors = configuration.connectors.map { ConnectorState(id: $0.id) }
        phases = configuration.ac.map { max(1, min(3, $0.phases)) } ?? 3
        activePhases = phases
        externalSetpointLimit = Station.setpointLimit(configuration, setpoints: setpoints, state: self)
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

    /// A session runs: a scheduled availability change or reset waits for its end.
    public var sessionActive: Bool { transaction != nil || contactorClosed || hlcCharging || cableCheck != .none }
}

/// The station: the one source of truth about EVSEs, connectors, control pilot, contactor,
/// authorization, transactions, limits and meters. It knows nothing of MQTT, Modbus or files; the
/// daemon asks it, calls its operations, and listens to its notifications. It drives the hardware
/// through `StationHardware` and reads time only through the `now` closure it was given.
///
/// Order guarantees of `notifications` (and `events`): everything is yielded synchronously inside
/// the actor, in the order the state changed, so the notifications of one operation are contiguous
/// and never interleave with another's. Within an operation: a hardware observation comes before
/// its consequences (a CP level before the contactor opening it causes, a fault before the pilot
/// going to F); a contactor opening comes before the pilot change of the same step, a contactor
/// closing after it; `.statusAndLimitsChanged` comes last, at most once per operation, naming every
/// EVSE whose `cs_status_and_limits` entry changed. Buffers keep the newest 1024 notifications.
/// An `observer` given to `init` sees every notification synchronously, before the streams do
/// (for logs and deterministic tests).
public actor Station {
    public private(set) var configuration: StationConfiguration
    public let policy: StationPolicy
    private var states: [String: EVSEState]
    private var meters: [String: MeterState] = [:]
    private var reportedPilots: [String: [Int: PilotReport]] = [:]
    private var currentLimits: [String: Double] = [:]
    private var stationOperative = true
    private var stationResetPending = false
    private var lastTime: StationInstant
    private let now: @Sendable () -> StationInstant
    private let hardware: any StationHardware
    private let observer: (@Sendable (StationNotification) -> Void)?

    /// Status and limits changes only (the original stream).
    public nonisolated let events: AsyncStream<StationEvent>
    private let eventSink: AsyncStream<StationEvent>.Continuation
    /// Everything Josev must hear about, in order.
    public nonisolated let notifications: AsyncStream<StationNotification>
    private let notificationSink: AsyncStream<StationNotification>.Continuation

    public init(
        configuration: StationConfiguration, hardware: any StationHardware = NullHardware(), policy: StationPolicy = StationPolicy(),
        now: @escaping @Sendable () -> StationInstant = StationInstant.continuousClock(),
        observer: (@Sendable (StationNotification) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.observer = observer
        self.hardware = hardware
        self.policy = policy
        self.now = now
        let start = now()
        lastTime = start
        var states: [String: EVSEState] = [:]
        var meters: [String: MeterState] = [:]
        var reported: [String: [Int: PilotReport]] = [:]
        for evse in configuration.evses {
            states[evse.evseID] = EVSEState(configuration: evse, setpoints: configuration.setpoints)
            meters[evse.evseID] = MeterState(since: start)
            reported[evse.evseID] = Dictionary(uniqueKeysWithValues: evse.connectors.map { ($0.id, PilotReport(state: .a1, duty: 100)) })
        }
        self.states = states
        self.meters = meters
        reportedPilots = reported
        (events, eventSink) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1024))
        (notifications, notificationSink) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1024))
    }

    deinit {
        eventSink.finish()
        notificationSink.finish()
    }

    public var evseIDs: [String] { configuration.evses.map(\.evseID) }

    public func owns(evseID: String) -> Bool { states[evseID] != nil }

    public func state(of evseID: String) -> EVSEState? { states[evseID] }

    /// Answers the actor at once: the daemon's watchdog proves with it that the station is not stuck.
    public func heartbeat() {}

    // MARK: Answers

    /// `cs_parameters` response data.
    public func parameters() -> CsParameters {
        CsParameters(
            swVersion: configuration.identity.firmwareVersion,
            hwVersion: configuration.identity.hardwareVersion,
            parameters: configuration.evses.map(Self.parameters(of:))
        )
    }

    /// `cs_status_and_limits` response/update data, for all EVSEs or the given ones.
    public func statusAndLimits(evseIDs: [String]? = nil) -> CsStatusAndLimits {
        let wanted = configuration.evses.filter { evseIDs?.contains($0.evseID) ?? true }
        return CsStatusAndLimits(evses: wanted.map { evse in
            Self.statusAndLimits(of: evse, state: states[evse.evseID] ?? EVSEState())
        })
    }

    /// The CP state of a connector (`cp_status`).
    public func controlPilot(evseID: String, connectorID: Int) -> ControlPilotState? {
        states[evseID]?.connector(connectorID)?.pilotState
    }

    /// Whether the contactor is closed (`cs_contactor_status`); nil for an unknown EVSE.
    public func contactorClosed(evseID: String) -> Bool? { states[evseID]?.contactorClosed }

    /// The current the EVSE offers now (A per phase for AC, A for DC); nil for an unknown EVSE.
    public func offeredCurrent(evseID: String) -> Double? {
        guard let evse = evseConfiguration(evseID), let state = states[evseID] else { return nil }
        return Self.offeredCurrent(evse, state: state)
    }

    /// Meter values of an EVSE, brought up to now.
    public func meterValues(evseID: String) -> MeterSnapshot? {
        perform {
            guard let evse = evseConfiguration(evseID), let state = states[evseID], let meter = meters[evseID] else { return nil }
            return snapshot(evse, state: state, meter: meter)
        }
    }

    // MARK: Status and limits

    /// Sets the EVSE's reported status (faults still win); emits an event when the entry changed.
    /// False for an unknown EVSE.
    @discardableResult
    public func setStatus(_ status: EVSEStatusCode, evseID: String) -> Bool {
        change(evseID) { $0.reportedStatus = status }
    }

    /// Trips or resets the residual-current device (a `.rcdTripped` fault).
    @discardableResult
    public func setRCDError(_ tripped: Bool, evseID: String) -> Bool {
        tripped ? fault(.rcdTripped, evseID: evseID) : clearFault(.rcdTripped, evseID: evseID)
    }

    /// Sets (or clears, with nil) a local external current limit in A per phase (local control, the
    /// control socket, tests). It has no valid time, survives until cleared or reset, and takes part
    /// in the minimum next to the external (Modbus) setpoint without replacing it (a setpoint never
    /// clears it either). NaN counts as 0, negative values as 0. Energy managers use `setExternalSetpoint`.
    @discardableResult
    public func setExternalCurrentLimit(_ limit: Double?, evseID: String) -> Bool {
        change(evseID) { $0.externalCurrentLimit = Self.sanitized(limit) }
    }

    /// Sets (or clears) a configured current limit in A per phase.
    @discardableResult
    public func setConfiguredCurrentLimit(_ limit: Double?, evseID: String) -> Bool {
        change(evseID) { $0.configuredCurrentLimit = Self.sanitized(limit) }
    }

    /// The EV's own maximum current (`ev_rated_limits`), A per phase; nil to forget it.
    @discardableResult
    public func setEVMaxCurrent(_ limit: Double?, evseID: String) -> Bool {
        change(evseID) { $0.evMaxCurrent = Self.sanitized(limit) }
    }

    /// The DC output as measured outside the hardware driver. A hardware that measures DC overrides it.
    @discardableResult
    public func setDCMeasurement(voltage: Double, current: Double, evseID: String) -> Bool {
        change(evseID) {
            $0.presentVoltage = voltage
            $0.presentCurrent = current
        }
    }

    // MARK: External setpoint and phases (PROFILE.md §4)

    /// An external (Modbus register 1210) setpoint, A per phase (AC) or A (DC). Every write
    /// restarts its valid time (`SetpointPolicy.validTime`); when that runs out (checked by `tick`
    /// and every operation) the EVSE falls back to its safe current by itself. What the socket
    /// applies: see `ExternalSetpointState.applied` (above the hardware's maximum: clamped; 0 < A < 6
    /// on AC: pause). Every change of the applied current is announced like any limit change:
    /// `.cpStateChanged` with the new duty while basic charging runs, then `.statusAndLimitsChanged`.
    public func setExternalSetpoint(_ amps: Double, evseID: String) -> SetpointWriteResult {
        guard let evse = evseConfiguration(evseID), states[evseID] != nil else { return .rejected(.unknownEVSE) }
        guard configuration.setpoints.enabled else { return .rejected(.disabled) }
        guard amps.isFinite, amps >= 0 else { return .rejected(.invalidValue) }
        if evse.ac != nil, amps > PWMEncoding.maximumCurrent { return .rejected(.outOfRange(amps)) }
        return perform {
            states[evseID]?.externalSetpoint = amps
            states[evseID]?.externalSetpointExpiry = lastTime + configuration.setpoints.effectiveValidTime
            settle()
            guard let state = setpointState(evseID) else { return .rejected(.unknownEVSE) }
            return .accepted(state)
        }
    }

    /// The external setpoint's state (registers 1206–1215), brought up to now (an expired setpoint
    /// is dropped, with its notifications, before the answer). Nil for an unknown EVSE.
    public func externalSetpointState(evseID: String) -> ExternalSetpointState? {
        guard states[evseID] != nil else { return nil }
        return perform {
            settle()
            return setpointState(evseID)
        }
    }

    /// Requests 1- or 3-phase charging (register 1215). Idle (contactor open): switched at once.
    /// Charging (basic, PWM): the station runs the sequence itself, driven by `tick`: PWM off (C1) →
    /// the EV stops drawing (current under 0.5 A, or `currentDecayTimeout`) → contactor opens →
    /// `phaseSwitchDwell` → the phases switch → PWM on → the contactor closes once the EV is in C2
    /// again (IEC 61851-1: never before). `phases` reads the new value at once. The phases stay as
    /// requested across sessions and resets.
    public func setPhases(_ phases: Int, evseID: String) -> PhaseSwitchResult {
        guard let evse = evseConfiguration(evseID), states[evseID] != nil else { return .refused(.unknownEVSE) }
        guard phases == 1 || phases == 3 else { return .refused(.invalidPhases(phases)) }
        guard configuration.setpoints.allowPhaseSwitching else { return .refused(.notAllowed) }
        guard let ac = evse.ac else { return .refused(.notAC) }
        guard ac.phases >= 3 else { return .refused(.singlePhaseSupply) }
        return perform {
            guard let state = states[evseID] else { return .refused(.unknownEVSE) }
            if var progress = state.phaseSwitch {
                if progress.target == phases { return .switching }
                if let wait = switchWait(state) { return .refused(.rateLimited(retryAfter: wait)) }
                progress.target = phases
                states[evseID]?.phaseSwitch = progress
                states[evseID]?.phases = phases
                states[evseID]?.lastPhaseSwitch = lastTime
                return .switching
            }
            if state.phases == phases, state.activePhases == phases { return .accepted }
            if !state.contactorClosed {
                states[evseID]?.phases = phases
                completePhaseSwitch(evseID, to: phases)
                return .accepted
            }
            let signal = state.activeConnectorID.flatMap { state.connector($0)?.signal }
            if state.hlcCharging || signal == .digital { return .refused(.highLevelCommunication) }
            if let wait = switchWait(state) { return .refused(.rateLimited(retryAfter: wait)) }
            states[evseID]?.phases = phases
            states[evseID]?.lastPhaseSwitch = lastTime
            states[evseID]?.phaseSwitch = PhaseSwitchProgress(
                from: state.activePhases, target: phases, step: .stoppingCurrent, stepStarted: lastTime, started: lastTime)
            settle()
            return .switching
        }
    }

    /// Applies a reloaded configuration. The caller has checked with `StationConfiguration`
    /// which parts need a restart; here every EVSE that is still configured keeps its dynamic
    /// state, new ones start fresh, removed ones are dropped. Emits an event for every EVSE whose
    /// `cs_status_and_limits` entry changed.
    public func reconfigure(_ newConfiguration: StationConfiguration) {
        let before = statusAndLimits()
        advanceTime(to: now())
        configuration = newConfiguration
        hardware.reconfigure(newConfiguration)
        var newStates: [String: EVSEState] = [:]
        var newMeters: [String: MeterState] = [:]
        var newReports: [String: [Int: PilotReport]] = [:]
        for evse in newConfiguration.evses {
            var state = states[evse.evseID] ?? EVSEState(configuration: evse, setpoints: newConfiguration.setpoints)
            if !newConfiguration.setpoints.enabled {
                state.externalSetpoint = nil
                state.externalSetpointExpiry = nil
            }
            let supplyPhases = evse.ac.map { max(1, min(3, $0.phases)) } ?? 3
            if state.phaseSwitch == nil, state.phases > supplyPhases || state.activePhases > supplyPhases {
                state.phases = supplyPhases
                state.activePhases = supplyPhases
            }
            let old = state.connectors
            state.connectors = evse.connectors.map { connector in old.first { $0.id == connector.id } ?? ConnectorState(id: connector.id) }
            newStates[evse.evseID] = state
            newMeters[evse.evseID] = meters[evse.evseID] ?? MeterState(since: lastTime)
            let reports = reportedPilots[evse.evseID] ?? [:]
            newReports[evse.evseID] = Dictionary(uniqueKeysWithValues: evse.connectors.map {
                ($0.id, reports[$0.id] ?? PilotReport(state: .a1, duty: 100))
            })
        }
        states = newStates
        meters = newMeters
        reportedPilots = newReports
        currentLimits = currentLimits.filter { newStates[$0.key] != nil }
        settle()
        emitStatusChanges(since: before)
    }

    // MARK: Control pilot

    /// `cp_pwm`: the signal Josev wants on the pilot. HLC → 5 %; a current → the IEC 61851-1 duty
    /// cycle of that current, lowered to the station's limits and rounded down to 0.1 A; 0 A → PWM
    /// off (100 %); under 6 A → PWM off (the PWM cannot offer it); no current → the station's own
    /// offered current; `error_state` → E; `fault_state` → F.
    public func applyPWM(evseID: String, hlc: Bool, current: Double? = nil, errorState: Bool = false, faultState: Bool = false)
        -> PWMResult
    {
        guard states[evseID] != nil else { return .rejected(.unknownEVSE) }
        let request: PilotRequest
        if faultState {
            request = .fault
        } else if errorState {
            request = .error
        } else if let fault = states[evseID]?.faults.min() {
            return .rejected(.faulted(fault))
        } else if hlc {
            request = .digital
        } else if let current {
            guard current.isFinite, current >= 0 else { return .rejected(.invalidCurrent(current)) }
            request = current == 0 ? .off : .nominal(requested: current)
        } else {
            request = .nominal(requested: nil)
        }
        return perform {
            states[evseID]?.pilotRequest = request
            states[evseID]?.heldOpen = false
            settle()
            guard let evse = evseConfiguration(evseID), let state = states[evseID] else { return .rejected(.unknownEVSE) }
            let signal = Self.pilotSignal(evse, state: state)
            if case .nominal(let requested) = request {
                let asked = requested ?? Self.offeredCurrent(evse, state: state)
                if let requested, signal != .nominal(current: requested) { return .limited(signal, requested: requested) }
                if requested == nil, signal == .off { return .limited(signal, requested: asked) }
            }
            return .applied(signal)
        }
    }

    // MARK: Contactor

    /// Closes the contactor if the rules allow it (else says why), or opens it. An opened contactor
    /// stays open until something asks for energy again (a new `cp_pwm`, `hlc_charging true`, a
    /// cable check, an authorization, a transaction, or `setContactor(close: true)`).
    public func setContactor(evseID: String, close: Bool) -> ContactorResult {
        guard states[evseID] != nil else { return .refused(.unknownEVSE) }
        return perform {
            if close {
                states[evseID]?.heldOpen = false
                if let refusal = contactorRefusal(evseID, automatic: false) { return .refused(refusal) }
                setContactorState(evseID, closed: true)
                settle()
                return states[evseID]?.contactorClosed == true ? .closed : .refused(contactorRefusal(evseID, automatic: false) ?? .heldOpen)
            } else {
                states[evseID]?.heldOpen = true
                settle()
                return .opened
            }
        }
    }

    /// The rule that keeps the contactor open now, nil when it may close.
    public func contactorRefusal(evseID: String) -> ContactorRefusal? { contactorRefusal(evseID, automatic: false) }

    /// `hlc_charging`: true in PowerDelivery start (the contactor closes once the CP is C2/D2), false
    /// in PowerDelivery stop (it opens at once). The CP state is announced again, as tux-evse does.
    @discardableResult
    public func hlcCharging(evseID: String, active: Bool) -> Bool {
        guard states[evseID] != nil else { return false }
        perform {
            states[evseID]?.hlcCharging = active
            if active {
                states[evseID]?.heldOpen = false
                states[evseID]?.chargingStopped = false
            } else {
                states[evseID]?.heldOpen = true
                states[evseID]?.cableCheck = .none
            }
            settle()
            if let state = states[evseID], let id = state.activeConnectorID, let connector = state.connector(id) {
                emit(.cpStateChanged(evseID: evseID, connectorID: id, state: connector.pilotState, duty: connector.signal.dutyCycle))
            }
        }
        return true
    }

    /// `iso15118_state_info` `SessionStop`: the ISO 15118 session ended; open the contactor.
    @discardableResult
    public func sessionStopped(evseID: String) -> Bool {
        change(evseID) {
            $0.hlcCharging = false
            $0.cableCheck = .none
            $0.heldOpen = true
        }
    }

    // MARK: Authorization and transactions

    /// A token was presented for an EVSE: accepted at once when it is on the local list, otherwise
    /// Josev is asked (`.authorizationRequested`).
    @discardableResult
    public func requestAuthorization(evseID: String, token: ChargingToken) -> AuthorizationOutcome {
        guard states[evseID] != nil else { return .unknownEVSE }
        return perform { presentToken(token, evseID: evseID) }
    }

    /// An RFID card was read (on the EVSE's reader; nil: the station's shared reader picks the EVSE
    /// waiting for one).
    @discardableResult
    public func rfid(uid: String, evseID: String? = nil) -> AuthorizationOutcome {
        guard let target = cardTarget(evseID) else { return .unknownEVSE }
        return perform { presentToken(.rfid(uid), evseID: target) }
    }

    /// Josev's decision about a token (`authorization` response or update). Without an EVSE id it
    /// applies to the EVSE that waits for that token. False when no EVSE fits.
    @discardableResult
    public func authorize(evseID: String?, token: ChargingToken?, decision: AuthorizationDecision) -> Bool {
        let target: String?
        if let evseID {
            target = states[evseID] != nil ? evseID : nil
        } else {
            target = evseIDs.first { id in
                guard case .pending(let pending) = states[id]?.authorization else { return false }
                return token == nil || token?.id == pending.id
            } ?? (evseIDs.count == 1 ? evseIDs.first : nil)
        }
        guard let target else { return false }
        perform {
            let known = token ?? states[target]?.authorization.token ?? ChargingToken(id: "", type: .central)
            let state: EVSEAuthorization
            switch decision {
            case .accepted:
                state = .accepted(known)
                states[target]?.chargingStopped = false
                states[target]?.heldOpen = false
            case .rejected:
                state = .rejected(known)
            case .deauthorized:
                state = .none
                stopCharging(target)
            }
            states[target]?.authorization = state
            emit(.authorizationChanged(evseID: target, state: state, local: false))
        }
        return true
    }

    /// `transaction_status` `started` / `in_progress`: records the transaction (idempotent for the same id).
    @discardableResult
    public func startTransaction(evseID: String, transactionID: String, token: ChargingToken? = nil) -> Bool {
        guard states[evseID] != nil else { return false }
        perform {
            if states[evseID]?.transaction?.id == transactionID {
                if let token { states[evseID]?.transaction?.token = token }
                return
            }
            let energy = meters[evseID]?.energyImportedWh ?? 0
            states[evseID]?.transaction = StationTransaction(
                id: transactionID, evseID: evseID, startedAt: lastTime, token: token, energyAtStartWh: energy)
            states[evseID]?.chargingStopped = false
            states[evseID]?.heldOpen = false
        }
        return true
    }

    /// `transaction_status` `ended`: opens the contactor, ends the session's authorization, and
    /// returns the ended transaction (nil when unknown).
    @discardableResult
    public func endTransaction(transactionID: String, evseID: String? = nil) -> StationTransaction? {
        guard let target = evseIDs.first(where: { id in
            states[id]?.transaction?.id == transactionID && (evseID == nil || evseID == id)
        }) else { return nil }
        return perform {
            guard var transaction = states[target]?.transaction else { return nil }
            transaction.endedAt = lastTime
            transaction.energyAtEndWh = meters[target]?.energyImportedWh
            states[target]?.transaction = nil
            states[target]?.authorization = .none
            stopCharging(target)
            return transaction
        }
    }

    /// `stop_charging`: opens the contactor and pauses a basic-charging PWM; stays stopped until a
    /// new authorization, transaction, HLC request or plug-in.
    @discardableResult
    public func stopCharging(evseID: String) -> StopChargingOutcome {
        guard states[evseID] != nil else { return .rejected }
        perform { stopCharging(evseID) }
        return .accepted
    }

    // MARK: Availability and reset

    /// `change_availability`. Going inoperative while a session runs on an affected EVSE is
    /// scheduled until it ends (as OCPP does); going operative is immediate.
    public func changeAvailability(_ scope: AvailabilityScope, operative: Bool) -> AvailabilityChangeResult {
        let affected: [String]
        switch scope {
        case .station:
            affected = evseIDs
        case .evse(let id):
            guard states[id] != nil else { return .rejected }
            affected = [id]
        case .connector(let id, let connectorID):
            guard states[id]?.connector(connectorID) != nil else { return .rejected }
            affected = [id]
        }
        return perform {
            if case .station = scope { stationOperative = operative }
            var scheduled = false
            for id in affected {
                guard let state = states[id] else { continue }
                let change = PendingAvailability(scope: scope, operative: operative)
                if !operative, state.sessionActive {
                    states[id]?.pendingAvailability.append(change)
                    scheduled = true
                } else {
                    states[id]?.pendingAvailability.removeAll { $0.scope == scope }
                    apply(change, evseID: id)
                }
            }
            settle()
            return scheduled ? .scheduled : .accepted
        }
    }

    /// `reset`: resets the dynamic state (pilot, contactor, authorization, transaction, limits set
    /// from outside, HLC and DC session state) of one EVSE or all. Scheduled while a session runs
    /// unless `immediate`; the meter register, availability, faults and plugged cables stay.
    public func reset(evseID: String? = nil, immediate: Bool = false) -> StationResetResult {
        if let evseID, states[evseID] == nil { return .rejected }
        return perform {
            let scope = evseID.map { [$0] } ?? evseIDs
            let busy = scope.contains { states[$0]?.sessionActive == true }
            if busy, !immediate {
                if let evseID { states[evseID]?.resetPending = true } else { stationResetPending = true }
                return .scheduled
            }
            performReset(scope)
            settle()
            return .accepted
        }
    }

    // MARK: Reservations

    /// Josev reports a connector reserved (`true`) or no longer reserved (`false`: available,
    /// occupied, unavailable, faulted; the reservation was used, cancelled or expired). Nil when
    /// the connector is unknown; false when nothing changed.
    @discardableResult
    public func setReserved(_ reserved: Bool, evseID: String, connectorID: Int) -> Bool? {
        guard let index = states[evseID]?.connectors.firstIndex(where: { $0.id == connectorID }) else { return nil }
        guard states[evseID]?.connectors[index].reserved != reserved else { return false }
        perform {
            states[evseID]?.connectors[index].reserved = reserved
            states[evseID]?.connectors[index].reservedSince = reserved ? lastTime : nil
            emit(.reservationChanged(evseID: evseID, connectorID: connectorID, reserved: reserved, expired: false))
        }
        return true
    }

    /// At start: a reservation the previous run of the daemon kept, reported `age` ago (Josev
    /// does not report it again). Restored without a notification (nothing changed for Josev), its
    /// `reservationTimeout` counted from the original report; false, and nothing restored, when
    /// that time already passed; nil when the connector is unknown. A connector already reserved
    /// keeps its (newer) reservation.
    @discardableResult
    public func restoreReservation(evseID: String, connectorID: Int, age: Duration) -> Bool? {
        guard let index = states[evseID]?.connectors.firstIndex(where: { $0.id == connectorID }) else { return nil }
        if let timeout = policy.reservationTimeout, age >= timeout { return false }
        guard states[evseID]?.connectors[index].reserved == false else { return true }
        perform {
            states[evseID]?.connectors[index].reserved = true
            states[evseID]?.connectors[index].reservedSince = lastTime + (.zero - max(.zero, age))
        }
        return true
    }

    /// Drops reservations older than `policy.reservationTimeout`.
    private func expireReservations() {
        guard let timeout = policy.reservationTimeout else { return }
        for id in evseIDs {
            for (index, connector) in (states[id]?.connectors ?? []).enumerated() {
                guard connector.reserved, let since = connector.reservedSince, lastTime - since >= timeout else { continue }
                states[id]?.connectors[index].reserved = false
                states[id]?.connectors[index].reservedSince = nil
                emit(.reservationChanged(evseID: id, connectorID: connector.id, reserved: false, expired: true))
            }
        }
    }

    // MARK: Connector, DC

    /// `cs_connector`: locks, unlocks or reads a socket lock. Unlocking while the contactor is closed is refused.
    public func connectorLock(evseID: String, connectorID: Int, action: ConnectorLockAction) -> ConnectorLockResult {
        guard let connector = states[evseID]?.connector(connectorID) else { return .unknownConnector }
        if action == .status { return .done(connector.cable.lock) }
        if action == .unlock, states[evseID]?.contactorClosed == true { return .refusedWhileEnergized(connector.cable.lock) }
        return perform {
            let reached = hardware.setConnectorLock(evseID: evseID, connectorID: connectorID, locked: action == .lock)
            updateCable(evseID, connectorID: connectorID) { $0.lock = reached }
            return .done(reached)
        }
    }

    /// `cable_check` (DC): `start` closes the contactor for the insulation test and starts it;
    /// `status` reports progress. `valid`/`warning` keep the contactor closed for pre-charge; any other
    /// result opens it. Without an isolation monitor the result is `no_imd`.
    public func cableCheck(evseID: String, action: CableCheckAction) -> CableCheckProgress {
        guard let evse = evseConfiguration(evseID), states[evseID] != nil else { return .failed(.unknownEVSE) }
        guard let dc = evse.dc else { return .failed(.notDC) }
        return perform {
            switch action {
            case .start:
                states[evseID]?.cableCheck = .running
                states[evseID]?.heldOpen = false
                states[evseID]?.isolationStatus = .invalid
                settle()
                guard states[evseID]?.contactorClosed == true else {
                    let refusal = contactorRefusal(evseID, automatic: false) ?? .heldOpen
                    states[evseID]?.cableCheck = .none
                    return .failed(.contactor(refusal))
                }
                guard dc.isolationMonitor else { return finishCableCheck(evseID, result: .noIMD) }
                hardware.startIsolationTest(evseID: evseID)
                return pollCableCheck(evseID)
            case .status:
                switch states[evseID]?.cableCheck ?? .none {
                case .none: return .failed(.notStarted)
                case .passed(let result): return .finished(result)
                case .running: return dc.isolationMonitor ? pollCableCheck(evseID) : finishCableCheck(evseID, result: .noIMD)
                }
            }
        }
    }

    /// `power_electronics_setpoint` (DC): the output the EV asks for, within the EVSE's limits.
    public func powerElectronicsSetpoint(
        evseID: String, voltage: Double, target: DCTarget, isPrecharge: Bool = false, evMaximumVoltage: Double? = nil
    ) -> SetpointDecision {
        guard let evse = evseConfiguration(evseID), let state = states[evseID] else { return .rejected(.unknownEVSE) }
        guard let dc = evse.dc else { return .rejected(.notDC) }
        guard voltage.isFinite, voltage >= 0, voltage <= dc.maxVoltage, voltage <= (evMaximumVoltage ?? .infinity) else {
            return .rejected(.voltageOutOfRange(voltage))
        }
        guard state.contactorClosed else { return .rejected(.contactorOpen) }
        let maxCurrent = Self.dcMaxCurrent(dc, state: state)
        let powerCap = voltage > 0 ? dc.maxPower / voltage : Double.infinity
        var current: Double
        switch target {
        case .chargeCurrent(let amps):
            guard amps.isFinite, amps >= 0 else { return .rejected(.invalidTarget) }
            current = min(amps, maxCurrent, powerCap)
        case .chargePower(let watts):
            guard watts.isFinite, watts >= 0 else { return .rejected(.invalidTarget) }
            current = min(voltage > 0 ? watts / voltage : 0, maxCurrent, powerCap)
        case .dischargeCurrent(let amps), .dischargePower(let amps):
            guard let bpt = evse.dcBPT else { return .rejected(.dischargeNotSupported) }
            guard amps.isFinite, amps >= 0 else { return .rejected(.invalidTarget) }
            var magnitude = amps
            if case .dischargePower = target { magnitude = voltage > 0 ? amps / voltage : 0 }
            let bptPowerCap = voltage > 0 ? bpt.maxDischargePower / voltage : Double.infinity
            current = -min(magnitude, bpt.maxDischargeCurrent, bptPowerCap)
        }
        if isPrecharge { current = max(-2, min(current, 2)) }
        let output = DCOutput(voltage: voltage, current: current)
        return perform {
            states[evseID]?.dcOutput = output
            hardware.setDCOutput(evseID: evseID, voltage: voltage, current: current)
            settle()
            return .accepted(voltage: voltage, current: current)
        }
    }

    // MARK: Time

    /// Moves the station to `now` (default: the injected clock): integrates the meters, lets the
    /// hardware (or simulation) advance, handles what it reports, and emits the periodic `.meterValues`.
    public func tick(now instant: StationInstant? = nil) {
        let before = statusAndLimits()
        advanceTime(to: instant ?? now())
        expireReservations()
        settle()
        if let interval = policy.meterValuesInterval {
            for id in evseIDs {
                guard let state = states[id] else { continue }
                if state.contactorClosed || state.transaction != nil {
                    let since = meters[id]?.lastNotification ?? lastTime
                    if meters[id]?.lastNotification == nil { meters[id]?.lastNotification = since }
                    if lastTime - since >= interval {
                        meters[id]?.lastNotification = lastTime
                        emit(.meterValues(evseID: id))
                    }
                } else {
                    meters[id]?.lastNotification = nil
                }
            }
        }
        emitStatusChanges(since: before)
    }

    // MARK: Hardware-event entry points

    /// A hardware driver reports what it saw.
    public func handle(_ event: HardwareEvent) {
        perform {
            process(event)
            settle()
        }
    }

    /// An EV plugs into a connector (the simulated EV, or a level-B report on other hardware).
    @discardableResult
    public func plug(evseID: String, connectorID: Int = 1, ev: SimulatedEV = SimulatedEV()) -> Bool {
        guard states[evseID]?.connector(connectorID) != nil else { return false }
        return perform {
            if let simulation {
                guard simulation.plug(evseID: evseID, connectorID: connectorID, ev: ev) else { return false }
            } else {
                process(.cable(evseID: evseID, connectorID: connectorID, connected: true, ratedCurrent: ev.cableRating))
                process(.pilotLevel(evseID: evseID, connectorID: connectorID, level: .b))
            }
            settle()
            return true
        }
    }

    /// The EV unplugs.
    @discardableResult
    public func unplug(evseID: String) -> Bool {
        guard let connectorID = states[evseID]?.activeConnectorID else { return false }
        return perform {
            if let simulation {
                guard simulation.unplug(evseID: evseID) else { return false }
            } else {
                process(.pilotLevel(evseID: evseID, connectorID: connectorID, level: .a))
                process(.cable(evseID: evseID, connectorID: connectorID, connected: false, ratedCurrent: nil))
            }
            settle()
            return true
        }
    }

    /// The EV wants energy (level C once the pilot oscillates), drawing at most `maxCurrent`.
    @discardableResult
    public func evRequestsPower(evseID: String, maxCurrent: Double? = nil) -> Bool {
        guard let connectorID = states[evseID]?.activeConnectorID else { return false }
        return perform {
            if let simulation {
                guard simulation.requestEnergy(evseID: evseID, maxCurrent: maxCurrent) else { return false }
            } else {
                process(.pilotLevel(evseID: evseID, connectorID: connectorID, level: .c))
            }
            settle()
            return true
        }
    }

    /// The EV stops asking for energy (back to level B).
    @discardableResult
    public func evStops(evseID: String) -> Bool {
        guard let connectorID = states[evseID]?.activeConnectorID else { return false }
        return perform {
            if let simulation {
                guard simulation.stopRequestingEnergy(evseID: evseID) else { return false }
            } else {
                process(.pilotLevel(evseID: evseID, connectorID: connectorID, level: .b))
            }
            settle()
            return true
        }
    }

    /// A fault occurs (`.pilotError` with a simulated EV: the EV shorts the pilot, state E).
    @discardableResult
    public func fault(_ kind: HardwareFaultKind, evseID: String) -> Bool {
        guard states[evseID] != nil else { return false }
        return perform {
            if let simulation {
                _ = simulation.inject(kind, evseID: evseID)
            } else {
                process(.fault(evseID: evseID, kind: kind))
            }
            settle()
            return true
        }
    }

    /// A fault is gone. The pilot stays off until Josev asks for a PWM again.
    @discardableResult
    public func clearFault(_ kind: HardwareFaultKind, evseID: String) -> Bool {
        guard states[evseID] != nil else { return false }
        return perform {
            if let simulation {
                _ = simulation.clear(kind, evseID: evseID)
            } else {
                process(.faultCleared(evseID: evseID, kind: kind))
            }
            settle()
            return true
        }
    }

    // MARK: - Internals

    private var simulation: SimulatedHardware? { hardware as? SimulatedHardware }

    private func evseConfiguration(_ evseID: String) -> EVSEConfiguration? {
        configuration.evses.first { $0.evseID == evseID }
    }

    private static func sanitized(_ limit: Double?) -> Double? {
        guard let limit else { return nil }
        return limit.isNaN ? 0 : max(0, limit)
    }

    /// Runs an operation: time first, then the change, then the consequences, then the status event.
    private func perform<T>(_ body: () -> T) -> T {
        let before = statusAndLimits()
        advanceTime(to: now())
        let result = body()
        settle()
        emitStatusChanges(since: before)
        return result
    }

    private func change(_ evseID: String, _ body: (inout EVSEState) -> Void) -> Bool {
        guard states[evseID] != nil else { return false }
        perform {
            if var state = states[evseID] {
                body(&state)
                states[evseID] = state
            }
        }
        return true
    }

    private func emit(_ notification: StationNotification) {
        observer?(notification)
        notificationSink.yield(notification)
        if case .statusAndLimitsChanged(let ids) = notification { eventSink.yield(.statusAndLimitsChanged(evseIDs: ids)) }
    }

    private func emitStatusChanges(since before: CsStatusAndLimits) {
        let after = statusAndLimits()
        let changed = after.evses.filter { entry in !before.evses.contains(entry) }.map(\.evseID)
        if !changed.isEmpty { emit(.statusAndLimitsChanged(evseIDs: changed)) }
    }

    // MARK: Time and meters

    private func advanceTime(to instant: StationInstant) {
        let target = max(lastTime, instant)
        for id in evseIDs { meters[id]?.integrate(until: target) }
        lastTime = target
        hardware.advance(to: target)
    }

    /// Reads every meter after the outputs changed; the new power holds from now on.
    private func refreshMeters() {
        for evse in configuration.evses {
            let id = evse.evseID
            guard var meter = meters[id], let state = states[id] else { continue }
            let reading: MeterReading
            if let measured = hardware.readMeter(evseID: id) {
                reading = measured
                if let voltage = measured.dcVoltage, let current = measured.dcCurrent {
                    states[id]?.presentVoltage = voltage
                    states[id]?.presentCurrent = current
                }
            } else if evse.dc != nil, evse.ac == nil {
                reading = MeterReading(
                    frequency: policy.nominalFrequency, dcVoltage: state.presentVoltage, dcCurrent: state.contactorClosed ? state.presentCurrent : 0)
            } else {
                reading = MeterReading(frequency: policy.nominalFrequency)
            }
            meter.reading = reading
            if let register = reading.energyImportedWh { meter.energyImportedWh = register }
            if let register = reading.energyExportedWh { meter.energyExportedWh = register }
            meters[id] = meter
        }
    }

    private func snapshot(_ evse: EVSEConfiguration, state: EVSEState, meter: MeterState) -> MeterSnapshot {
        let reading = meter.reading
        return MeterSnapshot(
            evseID: evse.evseID, timestamp: lastTime, voltage: reading.voltage, current: reading.current,
            power: reading.phasePower, activePower: reading.activePower, frequency: reading.frequency,
            powerFactor: reading.powerFactor, energyImportedWh: meter.energyImportedWh, energyExportedWh: meter.energyExportedWh,
            dcVoltage: reading.dcVoltage, dcCurrent: reading.dcCurrent, maxCurrentOffered: Self.offeredCurrent(evse, state: state),
            transactionEnergyWh: state.transaction?.energyWh(meterNow: meter.energyImportedWh))
    }

    // MARK: The engine

    /// Brings outputs in line with the state until nothing moves: handles what the hardware
    /// reported, derives status, pilot signals, current limits and the contactor, carries out
    /// scheduled changes whose session ended, and reads the meters.
    private func settle() {
        for _ in 0..<32 {
            let reported = hardware.drainEvents()
            for event in reported { process(event) }
            var commanded = false
            for id in evseIDs where applyOutputs(id) { commanded = true }
            let scheduled = applyScheduled()
            if reported.isEmpty, !commanded, !scheduled { break }
        }
        refreshMeters()
    }

    /// Returns whether it commanded the hardware.
    private func applyOutputs(_ evseID: String) -> Bool {
        guard let evse = evseConfiguration(evseID), var state = states[evseID] else { return false }
        var commanded = false
        state.statusCode = Self.derivedStatus(state)
        state.rcdError = state.faults.contains(.rcdTripped)
        // The external setpoint's valid time ran out: back to the safe current.
        if let expiry = state.externalSetpointExpiry, lastTime >= expiry {
            state.externalSetpoint = nil
            state.externalSetpointExpiry = nil
        }
        state.externalSetpointLimit = Self.setpointLimit(evse, setpoints: configuration.setpoints, state: state)
        states[evseID] = state

        // A switching sequence whose dwell is over: switch, and let the PWM resume below.
        if let progress = state.phaseSwitch, progress.step == .dwelling, !state.contactorClosed,
           lastTime - progress.stepStarted >= configuration.setpoints.effectivePhaseSwitchDwell {
            completePhaseSwitch(evseID, to: progress.target)
            commanded = true
        }

        // Open first: safety before signalling.
        if state.contactorClosed, mustOpen(evseID) {
            setContactorState(evseID, closed: false)
            commanded = true
        }

        // Pilot signals: the active connector gets the EVSE's signal, the others none.
        guard let current = states[evseID] else { return commanded }
        let signal = Self.pilotSignal(evse, state: current)
        let active = current.activeConnectorID
        for connector in current.connectors {
            let wanted: PilotSignal = connector.id == active ? signal : (Self.isForced(signal) ? signal : .off)
            guard connector.signal != wanted, let index = current.connectors.firstIndex(where: { $0.id == connector.id }) else { continue }
            states[evseID]?.connectors[index].signal = wanted
            hardware.setPilot(evseID: evseID, connectorID: connector.id, signal: wanted)
            reportPilot(evseID, connectorID: connector.id)
            commanded = true
        }

        // The pilot may have just stopped offering energy (C1): open without waiting for the EV
        // (a switching sequence waits for the current to fall first).
        if states[evseID]?.contactorClosed == true, mustOpen(evseID) {
            setContactorState(evseID, closed: false)
            commanded = true
        }
        if var progress = states[evseID]?.phaseSwitch, progress.step == .stoppingCurrent, states[evseID]?.contactorClosed == false {
            progress.step = .dwelling
            progress.stepStarted = lastTime
            states[evseID]?.phaseSwitch = progress
            commanded = true
        }

        // The current an EV may draw.
        if let latest = states[evseID] {
            let limit = Self.offeredCurrent(evse, state: latest)
            if currentLimits[evseID] != limit {
                currentLimits[evseID] = limit
                hardware.setCurrentLimit(evseID: evseID, current: limit)
            }
        }

        // Close last, once the pilot says so.
        if states[evseID]?.contactorClosed == false, policy.autoCloseContactor, contactorRefusal(evseID, automatic: true) == nil {
            setContactorState(evseID, closed: true)
            commanded = true
        }
        return commanded
    }

    /// The contactor must open now: a rule keeps it open, unless a switching sequence waits for the
    /// EV to stop drawing current after the PWM went off.
    private func mustOpen(_ evseID: String) -> Bool {
        guard let refusal = contactorRefusal(evseID, automatic: true) else { return false }
        switch refusal {
        case .pilotState, .noChargingRequest: return !holdsForPhaseSwitch(evseID)
        default: return true
        }
    }

    /// Current under this (A, on every phase) counts as "the EV stopped drawing".
    static let zeroCurrentThreshold = 0.5

    /// A switching sequence keeps the contactor closed while the EV is still in C/D or still draws
    /// current, for at most `currentDecayTimeout` after the PWM went off.
    private func holdsForPhaseSwitch(_ evseID: String) -> Bool {
        guard let state = states[evseID], let progress = state.phaseSwitch, progress.step == .stoppingCurrent,
              lastTime - progress.stepStarted < configuration.setpoints.effectiveCurrentDecayTimeout,
              let id = state.activeConnectorID, let level = state.connector(id)?.level else { return false }
        switch level {
        case .c, .d: return true
        case .b:
            let current = hardware.readMeter(evseID: evseID)?.current
            return [current?.l1, current?.l2, current?.l3].contains { ($0 ?? 0) >= Self.zeroCurrentThreshold }
        default: return false
        }
    }

    /// Switches the hardware (the contactor is open) and ends a running sequence.
    private func completePhaseSwitch(_ evseID: String, to phases: Int) {
        states[evseID]?.phaseSwitch = nil
        guard states[evseID]?.activePhases != phases else { return }
        states[evseID]?.activePhases = phases
        hardware.setPhases(evseID: evseID, phases: phases)
    }

    /// How long a new switching sequence must still wait; nil when it may start now.
    private func switchWait(_ state: EVSEState) -> Duration? {
        guard let last = state.lastPhaseSwitch else { return nil }
        let wait = configuration.setpoints.effectiveMinimumSwitchInterval - (lastTime - last)
        return wait > .zero ? wait : nil
    }

    private func setpointState(_ evseID: String) -> ExternalSetpointState? {
        guard let evse = evseConfiguration(evseID), let state = states[evseID] else { return nil }
        let remaining = state.externalSetpointExpiry.map { max(.zero, $0 - lastTime) } ?? .zero
        return ExternalSetpointState(
            enabled: configuration.setpoints.enabled, setpoint: state.externalSetpoint, remaining: remaining,
            safeCurrent: evse.effectiveSafeCurrent, inEffect: state.externalSetpoint != nil,
            applied: Self.appliedCurrent(evse, state: state), phases: state.phases, phaseSwitchInProgress: state.phaseSwitch != nil)
    }

    /// F and E are shown on every connector of the EVSE.
    private static func isForced(_ signal: PilotSignal) -> Bool { signal == .fault || signal == .error }

    private func setContactorState(_ evseID: String, closed: Bool) {
        guard states[evseID]?.contactorClosed != closed else { return }
        states[evseID]?.contactorClosed = closed
        hardware.setContactor(evseID: evseID, closed: closed)
        if !closed, states[evseID]?.dcOutput != nil {
            states[evseID]?.dcOutput = nil
            hardware.stopDCOutput(evseID: evseID)
        }
        if closed, meters[evseID]?.lastNotification == nil { meters[evseID]?.lastNotification = lastTime }
        emit(.contactorChanged(evseID: evseID, closed: closed))
    }

    private func reportPilot(_ evseID: String, connectorID: Int) {
        guard let connector = states[evseID]?.connector(connectorID) else { return }
        let report = PilotReport(state: connector.pilotState, duty: connector.signal.dutyCycle)
        guard reportedPilots[evseID]?[connectorID] != report else { return }
        reportedPilots[evseID]?[connectorID] = report
        emit(.cpStateChanged(evseID: evseID, connectorID: connectorID, state: report.state, duty: report.duty))
    }

    /// The contactor rules. `automatic`: also honour an explicit "hold open".
    private func contactorRefusal(_ evseID: String, automatic: Bool) -> ContactorRefusal? {
        guard let evse = evseConfiguration(evseID), let state = states[evseID] else { return .unknownEVSE }
        if let fault = state.faults.min() { return .fault(fault) }
        if state.reportedStatus != .ready { return .notReady(state.reportedStatus) }
        guard let activeID = state.activeConnectorID, let connector = state.connector(activeID) else {
            return .pilotState(state.connectors.first?.pilotState ?? .a1)
        }
        if !(state.stationOperative && state.operative && connector.operative) { return .inoperative }
        let dcPhase = state.cableCheck != .none
        let pilot = connector.pilotState
        guard pilot.requestsEnergy || (dcPhase && pilot == .b2) else { return .pilotState(pilot) }
        let isAC = evse.connectors.first { $0.id == activeID }?.connectorType.isAC ?? (evse.ac != nil)
        let requested: Bool
        if isAC {
            switch connector.signal {
            case .nominal: requested = true
            case .digital: requested = state.hlcCharging
            default: requested = false
            }
        } else {
            requested = state.hlcCharging || dcPhase
        }
        guard requested else { return .noChargingRequest }
        // Free vend does not open a reserved connector: its driver is authorized through Josev.
        let authorized = (policy.freeVend && !connector.reserved) || state.authorization.isAccepted || state.transaction?.token != nil
            || (policy.trustJosevAuthorization && (state.hlcCharging || dcPhase))
        guard authorized else { return .notAuthorized }
        if state.chargingStopped { return .chargingStopped }
        if automatic, state.heldOpen { return .heldOpen }
        return nil
    }

    private func stopCharging(_ evseID: String) {
        states[evseID]?.chargingStopped = true
        if case .nominal = states[evseID]?.pilotRequest { states[evseID]?.pilotRequest = .off }
    }

    private func presentToken(_ token: ChargingToken, evseID: String) -> AuthorizationOutcome {
        if policy.localTokens.contains(token.id), states[evseID]?.reservationApplies != true {
            states[evseID]?.authorization = .accepted(token)
            states[evseID]?.chargingStopped = false
            states[evseID]?.heldOpen = false
            emit(.authorizationChanged(evseID: evseID, state: .accepted(token), local: true))
            return .acceptedLocally
        }
        states[evseID]?.authorization = .pending(token)
        emit(.authorizationRequested(evseID: evseID, token: token))
        return .pending
    }

    /// The EVSE a card on a reader belongs to: the given one, the only one, or the first with a
    /// vehicle and no accepted authorization.
    private func cardTarget(_ evseID: String?) -> String? {
        if let evseID { return states[evseID] != nil ? evseID : nil }
        if evseIDs.count == 1 { return evseIDs.first }
        return evseIDs.first { id in
            guard let state = states[id] else { return false }
            return state.activeConnectorID != nil && !state.authorization.isAccepted
        } ?? evseIDs.first
    }

    private func process(_ event: HardwareEvent) {
        switch event {
        case .pilotLevel(let evseID, let connectorID, let level):
            guard let state = states[evseID], let index = state.connectors.firstIndex(where: { $0.id == connectorID }) else { return }
            let previousActive = state.activeConnectorID
            let wasPlugged = state.connectors[index].level != .a
            states[evseID]?.connectors[index].level = level
            if wasPlugged, level == .a, previousActive == connectorID {
                // The EV left: the pilot goes off with it (A1, never an A2 blip).
                endSession(evseID)
                if states[evseID]?.connectors[index].signal.oscillating == true {
                    states[evseID]?.connectors[index].signal = .off
                    hardware.setPilot(evseID: evseID, connectorID: connectorID, signal: .off)
                }
            }
            reportPilot(evseID, connectorID: connectorID)
            if !wasPlugged, level != .a, previousActive == nil {
                states[evseID]?.chargingStopped = false
                states[evseID]?.heldOpen = false
                if let onPlug = policy.pilotOnPlugIn, states[evseID]?.pilotRequest == .off,
                    states[evseID]?.connectors[index].reserved == false
                {
                    states[evseID]?.pilotRequest = Self.request(for: onPlug)
                }
            }
        case .cable(let evseID, let connectorID, let connected, let rated):
            updateCable(evseID, connectorID: connectorID) {
                $0.connected = connected
                $0.ratedCurrent = connected ? rated : nil
            }
        case .fault(let evseID, let kind):
            guard states[evseID] != nil, states[evseID]?.faults.contains(kind) == false else { return }
            states[evseID]?.faults.insert(kind)
            emit(.hardwareFault(evseID: evseID, kind: kind))
        case .faultCleared(let evseID, let kind):
            guard states[evseID]?.faults.contains(kind) == true else { return }
            states[evseID]?.faults.remove(kind)
            if states[evseID]?.faults.isEmpty == true { states[evseID]?.pilotRequest = .off }
            emit(.hardwareFaultCleared(evseID: evseID, kind: kind))
        case .card(let uid, let evseID):
            if let target = cardTarget(evseID) { _ = presentToken(.rfid(uid), evseID: target) }
        case .lock(let evseID, let connectorID, let lock):
            updateCable(evseID, connectorID: connectorID) { $0.lock = lock }
        }
    }

    private static func request(for signal: PilotSignal) -> PilotRequest {
        switch signal {
        case .off: .off
        case .nominal(let current): .nominal(requested: current)
        case .digital: .digital
        case .error: .error
        case .fault: .fault
        }
    }

    private func updateCable(_ evseID: String, connectorID: Int, _ change: (inout CableInfo) -> Void) {
        guard let index = states[evseID]?.connectors.firstIndex(where: { $0.id == connectorID }),
              var cable = states[evseID]?.connectors[index].cable else { return }
        let before = cable
        change(&cable)
        guard cable != before else { return }
        states[evseID]?.connectors[index].cable = cable
        emit(.cableInfo(evseID: evseID, connectorID: connectorID, info: cable))
    }

    /// The EV left: what belonged to its session goes (the OCPP transaction stays until Josev ends it).
    private func endSession(_ evseID: String) {
        guard var state = states[evseID] else { return }
        state.pilotRequest = .off
        state.hlcCharging = false
        state.cableCheck = .none
        state.authorization = .none
        state.evMaxCurrent = nil
        state.chargingStopped = false
        state.heldOpen = false
        state.isolationStatus = nil
        states[evseID] = state
    }

    private func performReset(_ evseIDs: [String]) {
        for id in evseIDs {
            guard var state = states[id] else { continue }
            state.pilotRequest = .off
            state.hlcCharging = false
            state.cableCheck = .none
            state.authorization = .none
            state.transaction = nil
            state.externalCurrentLimit = nil
            state.externalSetpoint = nil
            state.externalSetpointExpiry = nil
            state.evMaxCurrent = nil
            state.chargingStopped = false
            state.heldOpen = false
            state.isolationStatus = nil
            state.resetPending = false
            // A running phase switch goes on (the contactor opens, the dwell passes, the phases
            // switch); with the pilot request reset, nothing resumes after it.
            if state.dcOutput != nil {
                state.dcOutput = nil
                hardware.stopDCOutput(evseID: id)
            }
            states[id] = state
        }
        emit(.resetPerformed(evseIDs: evseIDs))
    }

    /// Carries out availability changes and resets whose session ended. Returns whether it did something.
    private func applyScheduled() -> Bool {
        var did = false
        for id in evseIDs {
            guard let state = states[id], !state.sessionActive else { continue }
            if !state.pendingAvailability.isEmpty {
                states[id]?.pendingAvailability = []
                for change in state.pendingAvailability { apply(change, evseID: id) }
                did = true
            }
            if state.resetPending {
                performReset([id])
                did = true
            }
        }
        if stationResetPending, !evseIDs.contains(where: { states[$0]?.sessionActive == true }) {
            stationResetPending = false
            performReset(evseIDs)
            did = true
        }
        return did
    }

    private func apply(_ change: PendingAvailability, evseID: String) {
        guard let state = states[evseID] else { return }
        switch change.scope {
        case .station:
            guard state.stationOperative != change.operative else { return }
            states[evseID]?.stationOperative = change.operative
            emit(.availabilityChanged(evseID: evseID, connectorID: nil, operative: change.operative))
        case .evse:
            guard state.operative != change.operative else { return }
            states[evseID]?.operative = change.operative
            emit(.availabilityChanged(evseID: evseID, connectorID: nil, operative: change.operative))
        case .connector(_, let connectorID):
            guard let index = state.connectors.firstIndex(where: { $0.id == connectorID }),
                  state.connectors[index].operative != change.operative else { return }
            states[evseID]?.connectors[index].operative = change.operative
            emit(.availabilityChanged(evseID: evseID, connectorID: connectorID, operative: change.operative))
        }
    }

    // MARK: Cable check

    private func pollCableCheck(_ evseID: String) -> CableCheckProgress {
        guard let result = hardware.isolationTestResult(evseID: evseID) else { return .ongoing }
        return finishCableCheck(evseID, result: result)
    }

    private func finishCableCheck(_ evseID: String, result: IsolationStatus) -> CableCheckProgress {
        states[evseID]?.isolationStatus = result
        if result == .valid || result == .warning {
            states[evseID]?.cableCheck = .passed(result)
        } else {
            states[evseID]?.cableCheck = .none
            states[evseID]?.heldOpen = true
        }
        settle()
        return .finished(result)
    }

    // MARK: Pure derivations from configuration + state

    static func derivedStatus(_ state: EVSEState) -> EVSEStatusCode {
        if let fault = state.faults.min(by: { $0.statusCode.severity > $1.statusCode.severity || ($0.statusCode.severity == $1.statusCode.severity && $0 < $1) }) {
            return fault.statusCode
        }
        if state.reportedStatus != .ready { return state.reportedStatus }
        return state.isOperative ? .ready : .notReady
    }

    /// The signal the EVSE's pilot carries: F/E while faulted, else what Josev asked, a basic-charging
    /// current lowered to the offered current and rounded down, or off when that is under 6 A.
    static func pilotSignal(_ evse: EVSEConfiguration, state: EVSEState) -> PilotSignal {
        if !state.faults.isEmpty {
            return state.faults.count == 1 && state.faults.contains(.pilotError) ? .error : .fault
        }
        switch state.pilotRequest {
        case .off: return .off
        case .digital: return .digital
        case .error: return .error
        case .fault: return .fault
        case .nominal(let requested):
            // A switching sequence pauses basic charging until its dwell is over.
            if state.phaseSwitch != nil { return .off }
            let offered = offeredCurrent(evse, state: state)
            let target = min(requested ?? offered, offered)
            return PWMEncoding.representableCurrent(atMost: target).map { .nominal(current: $0) } ?? .off
        }
    }

    /// The current offered now: AC, A per phase: the installation limit lowered by the configured,
    /// external, cable and EV limits; 0 when the EVSE cannot deliver (faulted, status other than
    /// ready/not ready, inoperative). DC: the DC maximum lowered by the configured and external limits.
    static func offeredCurrent(_ evse: EVSEConfiguration, state: EVSEState) -> Double {
        if let ac = evse.ac { return offeredACCurrent(ac, state: state) }
        if let dc = evse.dc { return dcMaxCurrent(dc, state: state) }
        return 0
    }

    /// The offered AC current per phase. A single-phase EVSE reports the same value on l1, l2 and
    /// l3: Josev takes min(l1, l2, l3) as EVSEMaxCurrent for ISO 15118-2, so zeros on unused phases
    /// would stop every session. The same holds for a 3-phase EVSE switched to one phase: the limit
    /// stays on l1, l2 and l3 (the phases in use are `ExternalSetpointState.phases`).
    static func offeredACCurrent(_ ac: ACSupply, state: EVSEState) -> Double {
        guard state.statusCode == .ready || state.statusCode == .notReady, state.faults.isEmpty, state.isOperative else { return 0 }
        var current = ac.maxCurrent
        for limit in [state.configuredCurrentLimit, state.externalCurrentLimit, state.externalSetpointLimit, state.evMaxCurrent] {
            if let limit { current = min(current, limit) }
        }
        if let id = state.activeConnectorID, let rated = state.connector(id)?.cable.ratedCurrent { current = min(current, rated) }
        return max(0, current)
    }

    static func dcMaxCurrent(_ dc: DCSupply, state: EVSEState) -> Double {
        var current = dc.maxCurrent
        for limit in [state.configuredCurrentLimit, state.externalCurrentLimit, state.externalSetpointLimit] {
            if let limit { current = min(current, limit) }
        }
        return max(0, current)
    }

    /// The limit external control sets: the valid setpoint, else (control on) the safe current;
    /// rounded down to 0.1 A; AC: 0 under 6 A (the PWM cannot offer it: pause, never round up).
    static func setpointLimit(_ evse: EVSEConfiguration, setpoints: SetpointPolicy, state: EVSEState) -> Double? {
        let raw: Double
        if let setpoint = state.externalSetpoint {
            raw = setpoint
        } else if setpoints.enabled {
            raw = evse.effectiveSafeCurrent
        } else {
            return nil
        }
        let stepped = PWMEncoding.roundedDown(raw)
        if evse.ac != nil, stepped < PWMEncoding.minimumCurrent { return 0 }
        return stepped
    }

    /// What the socket really offers (register 1206). AC: the offered current, lowered to the
    /// current Josev asked for in basic charging, rounded down to what the PWM represents; 0 under
    /// 6 A. DC: the DC maximum current as reported in `cs_status_and_limits`.
    static func appliedCurrent(_ evse: EVSEConfiguration, state: EVSEState) -> Double {
        if let ac = evse.ac {
            var limit = offeredACCurrent(ac, state: state)
            if case .nominal(let requested?) = state.pilotRequest { limit = min(limit, requested) }
            return PWMEncoding.representableCurrent(atMost: limit) ?? 0
        }
        if let dc = evse.dc { return dcMaxCurrent(dc, state: state) }
        return 0
    }

    static func parameters(of evse: EVSEConfiguration) -> EVSEParameters {
        EVSEParameters(
            evseID: evse.evseID,
            supportsEIM: evse.supportsEIM,
            networkInterface: evse.networkInterface,
            connectors: evse.connectors.map { connector in
                var services = ConnectorServices()
                if let ac = evse.ac, connector.connectorType.isAC {
                    services.ac = ACService(
                        connectorType: connector.connectorType, nominalVoltage: ac.nominalVoltage, controlMode: connector.controlMode)
                    if let bpt = evse.acBPT {
                        services.acBPT = ACBPTService(
                            connectorType: connector.connectorType, nominalVoltage: ac.nominalVoltage,
                            controlMode: connector.controlMode, bptChannel: bpt.bptChannel, generatorMode: bpt.generatorMode,
                            gridIslandDetectionMode: bpt.gridIslandDetectionMode)
                    }
                }
                if evse.dc != nil, !connector.connectorType.isAC {
                    services.dc = DCService(connectorType: connector.connectorType, controlMode: connector.controlMode)
                    if let bpt = evse.dcBPT {
                        services.dcBPT = DCBPTService(
                            connectorType: connector.connectorType, controlMode: connector.controlMode,
                            bptChannel: bpt.bptChannel, generatorMode: bpt.generatorMode,
                            gridIslandDetectionMode: bpt.gridIslandDetectionMode)
                    }
                }
                return ConnectorParameters(id: connector.id, services: services)
            }
        )
    }

    static func statusAndLimits(of evse: EVSEConfiguration, state: EVSEState) -> EVSEStatusAndLimits {
        var entry = EVSEStatusAndLimits(evseID: evse.evseID, statusCode: state.statusCode)
        if let ac = evse.ac {
            entry.ac = ACLimits(
                maxCurrent: PhaseValues(all: offeredACCurrent(ac, state: state)),
                nominalVoltage: Double(ac.nominalVoltage),
                rcdError: state.rcdError
            )
            if let bpt = evse.acBPT {
                entry.acBPT = ACBPTLimits(
                    evseMaxDischargePower: PhaseValues(all: bpt.maxDischargePower),
                    evseMinDischargePower: PhaseValues(all: bpt.minDischargePower))
            }
        }
        if let dc = evse.dc {
            entry.dc = DCLimits(
                presentVoltage: state.presentVoltage,
                presentCurrent: state.presentCurrent,
                maxCurrent: dcMaxCurrent(dc, state: state),
                minCurrent: dc.minCurrent,
                maxVoltage: dc.maxVoltage,
                minVoltage: dc.minVoltage,
                maxPower: dc.maxPower,
                peakCurrentRipple: dc.peakCurrentRipple,
                currentRegTolerance: dc.currentRegTolerance,
                energyToBeDelivered: dc.energyToBeDelivered,
                isolationStatus: dc.isolationMonitor ? state.isolationStatus : .noIMD,
                evsePowerRampLimit: dc.powerRampLimit
            )
            if let bpt = evse.dcBPT {
                entry.dcBPT = DCBPTLimits(
                    evseMaxDischargePower: bpt.maxDischargePower, evseMinDischargePower: bpt.minDischargePower,
                    evseMaxDischargeCurrent: bpt.maxDischargeCurrent, evseMinDischargeCurrent: bpt.minDischargeCurrent)
            }
        }
        return entry
    }
}

/// What was last announced for a connector's pilot.
struct PilotReport: Sendable, Equatable {
    var state: ControlPilotState
    var duty: Double
}

/// The meter of one EVSE: the last reading and the registers the station integrates.
struct MeterState: Sendable {
    var reading = MeterReading()
    var energyImportedWh = 0.0
    var energyExportedWh = 0.0
    var lastUpdate: StationInstant
    var lastNotification: StationInstant?

    init(since start: StationInstant) { lastUpdate = start }

    /// Integrates the power of the last reading (constant since then) up to `instant`.
    mutating func integrate(until instant: StationInstant) {
        guard instant > lastUpdate else { return }
        let hours = (instant - lastUpdate).inSeconds / 3600
        lastUpdate = instant
        let power = reading.activePower
        guard power.isFinite else { return }
        if reading.energyImportedWh == nil, power > 0 { energyImportedWh += power * hours }
        if reading.energyExportedWh == nil, power < 0 { energyExportedWh += -power * hours }
    }
}

extension EVSEStatusCode {
    /// Which status wins when several faults are active.
    var severity: Int {
        switch self {
        case .emergencyShutdown: 4
        case .utilityInterruptEvent: 3
        case .malfunction: 2
        case .isolationMonitoringActive, .shutdown, .notReady: 1
        case .ready: 0
        }
    }
}
