import Basics
import JosevContract

/// The station: the one source of truth about EVSEs, connectors, control pilot, contactor,
/// authorization, transactions, limits and meters. It knows nothing of MQTT, Modbus or files; the
/// daemon asks it, calls its operations, and subscribes to its notifications. It drives the
/// hardware through `StationHardware` and reads time only through the `now` closure it was given.
///
/// The actor is thin: the state and the rules are the value `StationCore`; every operation here
/// runs one core operation and then publishes the notifications it collected.
///
/// Order guarantees of the notifications (every subscription, and the `observer`): everything is
/// published synchronously inside the actor, in the order the state changed, so the notifications
/// of one operation are contiguous and never interleave with another's. Within an operation: a
/// hardware observation comes before its consequences (a CP level before the contactor opening it
/// causes, a fault before the pilot going to F); a contactor opening comes before the pilot change
/// of the same step, a contactor closing after it; `.statusAndLimitsChanged` comes last, at most
/// once per operation, naming every EVSE whose `cs_status_and_limits` entry changed. An `observer`
/// given to `init` sees every notification synchronously, before the subscriptions do (for logs
/// and deterministic tests).
public actor Station {
    private var core: StationCore
    private var subscribers = NotificationFanOut()
    private let observer: (@Sendable (StationNotification) -> Void)?
    /// How the station behaves where the contract leaves it open (`updatePolicy` changes it).
    public var policy: StationPolicy { core.policy }
    /// The board driver the station commands (a simulator finds its `SimulatedHardware` here).
    public nonisolated let hardware: any StationHardware

    public init(
        configuration: StationConfiguration, hardware: any StationHardware = NullHardware(), policy: StationPolicy = StationPolicy(),
        now: @escaping @Sendable () -> StationInstant = StationInstant.continuousClock(),
        observer: (@Sendable (StationNotification) -> Void)? = nil
    ) {
        core = StationCore(configuration: configuration, hardware: hardware, policy: policy, now: now)
        published = PublishedStatus(core.statusAndLimits())
        self.observer = observer
        self.hardware = hardware
    }

    deinit { subscribers.finish() }

    // MARK: Notifications

    /// A new, independent stream of every notification from now on, in order. Each subscriber has
    /// its own buffer of the newest `limit` unread notifications; one that stops iterating is dropped.
    public func subscribe(bufferingNewest limit: Int = 1024) -> AsyncStream<StationNotification> {
        subscribers.subscribe(bufferingNewest: limit)
    }

    /// Counts what a reader (the Modbus register image) may have to catch up with: every operation
    /// that published notifications, and every `tick` (time moved: meters, remaining setpoint
    /// time). What was read after reading revision r shows everything up to r.
    public private(set) var revision: UInt64 = 0

    /// Subscriptions still open (as of the last notification).
    public var subscriberCount: Int { subscribers.count }

    /// `cs_status_and_limits` after the last operation, for readers that must not wait for the actor.
    public nonisolated let published: PublishedStatus

    /// Rung when the station leaves rest while the ticker sleeps (`enterRest`).
    public nonisolated let restBell = Doorbell()
    private var resting = false

    /// The ticker asks before it sleeps: true when the station (and its hardware) is at rest, so
    /// that nothing is due until an operation changes something; that operation then rings `restBell`.
    public func enterRest() -> Bool {
        resting = core.isAtRest
        return resting
    }

    /// Runs one core operation and publishes what it caused.
    private func run<T>(_ operation: (inout StationCore) -> T) -> T {
        // At rest the clock was not moved on since the ticker's last round: the operation must see
        // the time it happens at (a setpoint's valid time, a session's start count from it).
        if resting { core.advanceTime(to: core.now()) }
        defer {
            published.publish(core.statusAndLimits())
            if resting, !core.isAtRest {
                resting = false
                restBell.ring()
            }
        }
        let result = operation(&core)
        let notifications = core.takeNotifications()
        if !notifications.isEmpty { revision += 1 }
        for notification in notifications {
            observer?(notification)
            subscribers.publish(notification)
        }
        return result
    }

    // MARK: Answers

    public var configuration: StationConfiguration { core.configuration }

    public var evseIDs: [String] { core.evseIDs }

    public func owns(evseID: String) -> Bool { core.states[evseID] != nil }

    public func state(of evseID: String) -> EVSEState? { core.states[evseID] }

    /// Answers the actor at once: the daemon's watchdog proves with it that the station is not stuck.
    public func heartbeat() {}

    /// `cs_parameters` response data.
    public func parameters() -> CsParameters { core.parameters() }

    /// `cs_status_and_limits` response/update data, for all EVSEs or the given ones.
    public func statusAndLimits(evseIDs: [String]? = nil) -> CsStatusAndLimits { core.statusAndLimits(evseIDs: evseIDs) }

    /// The CP state of a connector (`cp_status`).
    public func controlPilot(evseID: String, connectorID: Int) -> ControlPilotState? {
        core.states[evseID]?.connector(connectorID)?.pilotState
    }

    /// Whether the contactor is closed (`cs_contactor_status`); nil for an unknown EVSE.
    /// With hardware that confirms its contactor: the confirmed state.
    public func contactorClosed(evseID: String) -> Bool? {
        let confirms = core.hardware.confirmsContactor
        return core.states[evseID].map { confirms ? $0.contactorConfirmed ?? false : $0.contactorClosed }
    }

    /// The current the EVSE offers now (A per phase for AC, A for DC); nil for an unknown EVSE.
    public func offeredCurrent(evseID: String) -> Double? { core.offeredCurrent(evseID: evseID) }

    /// Meter values of an EVSE, brought up to now.
    public func meterValues(evseID: String) -> MeterSnapshot? { run { $0.meterValues(evseID: evseID) } }

    /// The `index`-th configured EVSE (0-based) with its state, meter and external setpoint, brought
    /// up to now, in one call (a register map reads a socket with it). Nil past the last EVSE.
    public func evseView(at index: Int) -> EVSEView? { run { $0.evseView(at: index) } }

    // MARK: Status and limits

    /// Sets the EVSE's reported status (faults still win); emits an event when the entry changed.
    /// False for an unknown EVSE.
    @discardableResult
    public func setStatus(_ status: EVSEStatusCode, evseID: String) -> Bool { run { $0.setStatus(status, evseID: evseID) } }

    /// Trips or resets the residual-current device (a `.rcdTripped` fault).
    @discardableResult
    public func setRCDError(_ tripped: Bool, evseID: String) -> Bool { run { $0.setRCDError(tripped, evseID: evseID) } }

    /// Sets (or clears, with nil) a local external current limit in A per phase (local control, the
    /// control socket, tests). It has no valid time, survives until cleared or reset, and takes part
    /// in the minimum next to the external (Modbus) setpoint without replacing it (a setpoint never
    /// clears it either). NaN counts as 0, negative values as 0. Energy managers use `setExternalSetpoint`.
    @discardableResult
    public func setExternalCurrentLimit(_ limit: Double?, evseID: String) -> Bool {
        run { $0.setExternalCurrentLimit(limit, evseID: evseID) }
    }

    /// Sets (or clears) a configured current limit in A per phase.
    @discardableResult
    public func setConfiguredCurrentLimit(_ limit: Double?, evseID: String) -> Bool {
        run { $0.setConfiguredCurrentLimit(limit, evseID: evseID) }
    }

    /// The EV's own maximum current (`ev_rated_limits`), A per phase; nil to forget it.
    @discardableResult
    public func setEVMaxCurrent(_ limit: Double?, evseID: String) -> Bool { run { $0.setEVMaxCurrent(limit, evseID: evseID) } }

    /// The DC output as measured outside the hardware driver. A hardware that measures DC overrides it.
    @discardableResult
    public func setDCMeasurement(voltage: Double, current: Double, evseID: String) -> Bool {
        run { $0.setDCMeasurement(voltage: voltage, current: current, evseID: evseID) }
    }

    // MARK: External setpoint and phases (PROFILE.md §4)

    /// An external (Modbus register 1210) setpoint, A per phase (AC) or A (DC). Every write
    /// restarts its valid time (`SetpointPolicy.validTime`); when that runs out (checked by `tick`
    /// and every operation) the EVSE falls back to its safe current by itself. What the socket
    /// applies: see `ExternalSetpointState.applied` (above the hardware's maximum: clamped; 0 < A < 6
    /// on AC: pause). Every change of the applied current is announced like any limit change:
    /// `.cpStateChanged` with the new duty while basic charging runs, then `.statusAndLimitsChanged`.
    public func setExternalSetpoint(_ amps: Double, evseID: String) -> SetpointWriteResult {
        run { $0.setExternalSetpoint(amps, evseID: evseID) }
    }

    /// The external setpoint's state (registers 1206–1215), brought up to now (an expired setpoint
    /// is dropped, with its notifications, before the answer). Nil for an unknown EVSE.
    public func externalSetpointState(evseID: String) -> ExternalSetpointState? { run { $0.externalSetpointState(evseID: evseID) } }

    /// Requests 1- or 3-phase charging (register 1215). Idle (contactor open): switched at once.
    /// Charging (basic, PWM): the station runs the sequence itself, driven by `tick`: PWM off (C1) →
    /// the EV stops drawing (current under 0.5 A, or `currentDecayTimeout`) → contactor opens →
    /// `phaseSwitchDwell` → the phases switch → PWM on → the contactor closes once the EV is in C2
    /// again (IEC 61851-1: never before). `phases` reads the new value at once. The phases stay as
    /// requested across sessions and resets.
    public func setPhases(_ phases: Int, evseID: String) -> PhaseSwitchResult { run { $0.setPhases(phases, evseID: evseID) } }

    /// Applies a reloaded configuration. The caller has checked with `StationConfiguration`
    /// which parts need a restart; here every EVSE that is still configured keeps its dynamic
    /// state, new ones start fresh, removed ones are dropped. Emits an event for every EVSE whose
    /// `cs_status_and_limits` entry changed.
    public func reconfigure(_ newConfiguration: StationConfiguration) { run { $0.reconfigure(newConfiguration) } }

    // MARK: Control pilot and contactor

    /// `cp_pwm`: the signal Josev wants on the pilot. HLC → 5 %; a current → the IEC 61851-1 duty
    /// cycle of that current, lowered to the station's limits and rounded down to 0.1 A; 0 A → PWM
    /// off (100 %); under 6 A → PWM off (the PWM cannot offer it); no current → the station's own
    /// offered current; `error_state` → E; `fault_state` → F.
    public func applyPWM(evseID: String, hlc: Bool, current: Double? = nil, errorState: Bool = false, faultState: Bool = false)
        -> PWMResult
    {
        run { $0.applyPWM(evseID: evseID, hlc: hlc, current: current, errorState: errorState, faultState: faultState) }
    }

    /// Closes the contactor if the rules allow it (else says why), or opens it. An opened contactor
    /// stays open until something asks for energy again (a new `cp_pwm`, `hlc_charging true`, a
    /// cable check, an authorization, a transaction, or `setContactor(close: true)`).
    public func setContactor(evseID: String, close: Bool) -> ContactorResult { run { $0.setContactor(evseID: evseID, close: close) } }

    /// The rule that keeps the contactor open now, nil when it may close.
    public func contactorRefusal(evseID: String) -> ContactorRefusal? { core.contactorRefusal(evseID: evseID) }

    /// `hlc_charging`: true in PowerDelivery start (the contactor closes once the CP is C2/D2), false
    /// in PowerDelivery stop (it opens at once). The CP state is announced again, as tux-evse does.
    @discardableResult
    public func hlcCharging(evseID: String, active: Bool) -> Bool { run { $0.hlcCharging(evseID: evseID, active: active) } }

    /// `iso15118_state_info` `SessionStop`: the ISO 15118 session ended; open the contactor.
    @discardableResult
    public func sessionStopped(evseID: String) -> Bool { run { $0.sessionStopped(evseID: evseID) } }

    // MARK: Authorization and transactions

    /// A token was presented for an EVSE: accepted at once when it is on the local list, otherwise
    /// Josev is asked (`.authorizationRequested`).
    @discardableResult
    public func requestAuthorization(evseID: String, token: ChargingToken) -> AuthorizationOutcome {
        run { $0.requestAuthorization(evseID: evseID, token: token) }
    }

    /// An RFID card was read (on the EVSE's reader; nil: the station's shared reader picks the EVSE
    /// waiting for one).
    @discardableResult
    public func rfid(uid: String, evseID: String? = nil) -> AuthorizationOutcome { run { $0.rfid(uid: uid, evseID: evseID) } }

    /// Josev's decision about a token (`authorization` response or update). Without an EVSE id it
    /// applies to the EVSE that waits for that token. False when no EVSE fits.
    @discardableResult
    public func authorize(evseID: String?, token: ChargingToken?, decision: AuthorizationDecision) -> Bool {
        run { $0.authorize(evseID: evseID, token: token, decision: decision) }
    }

    /// `transaction_status` `started` / `in_progress`: records the transaction (idempotent for the same id).
    @discardableResult
    public func startTransaction(evseID: String, transactionID: String, token: ChargingToken? = nil) -> Bool {
        run { $0.startTransaction(evseID: evseID, transactionID: transactionID, token: token) }
    }

    /// `transaction_status` `ended`: opens the contactor, ends the session's authorization, and
    /// returns the ended transaction (nil when unknown).
    @discardableResult
    public func endTransaction(transactionID: String, evseID: String? = nil) -> StationTransaction? {
        run { $0.endTransaction(transactionID: transactionID, evseID: evseID) }
    }

    /// `stop_charging`: opens the contactor and pauses a basic-charging PWM; stays stopped until a
    /// new authorization, transaction, HLC request or plug-in.
    @discardableResult
    public func stopCharging(evseID: String) -> StopChargingOutcome { run { $0.stopCharging(evseID: evseID) } }

    /// Changes the policy while running (a configuration key the back office changed, e.g.
    /// `TxCtrlr.EVConnectionTimeOut`); it applies from the next operation on.
    public func updatePolicy(_ change: @Sendable (inout StationPolicy) -> Void) { run { change(&$0.policy) } }

    // MARK: Availability, reset and reservations

    /// `change_availability`. Going inoperative while a session runs on an affected EVSE is
    /// scheduled until it ends (as OCPP does); going operative is immediate.
    public func changeAvailability(_ scope: AvailabilityScope, operative: Bool) -> AvailabilityChangeResult {
        run { $0.changeAvailability(scope, operative: operative) }
    }

    /// `reset`: resets the dynamic state (pilot, contactor, authorization, transaction, limits set
    /// from outside, HLC and DC session state) of one EVSE or all. Scheduled while a session runs
    /// unless `immediate`; the meter register, availability, faults and plugged cables stay.
    public func reset(evseID: String? = nil, immediate: Bool = false) -> StationResetResult {
        run { $0.reset(evseID: evseID, immediate: immediate) }
    }

    /// Josev reports a connector reserved (`true`) or no longer reserved (`false`: available,
    /// occupied, unavailable, faulted; the reservation was used, cancelled or expired). Nil when
    /// the connector is unknown; false when nothing changed.
    @discardableResult
    public func setReserved(_ reserved: Bool, evseID: String, connectorID: Int) -> Bool? {
        run { $0.setReserved(reserved, evseID: evseID, connectorID: connectorID) }
    }

    /// At start: a reservation the previous run of the daemon kept, reported `age` ago (Josev
    /// does not report it again). Restored without a notification (nothing changed for Josev), its
    /// `reservationTimeout` counted from the original report; false, and nothing restored, when
    /// that time already passed; nil when the connector is unknown. A connector already reserved
    /// keeps its (newer) reservation.
    @discardableResult
    public func restoreReservation(evseID: String, connectorID: Int, age: Duration) -> Bool? {
        run { $0.restoreReservation(evseID: evseID, connectorID: connectorID, age: age) }
    }

    // MARK: Connector, DC

    /// `cs_connector`: locks, unlocks or reads a socket lock. Unlocking while the contactor is closed is refused.
    public func connectorLock(evseID: String, connectorID: Int, action: ConnectorLockAction) -> ConnectorLockResult {
        run { $0.connectorLock(evseID: evseID, connectorID: connectorID, action: action) }
    }

    /// `cable_check` (DC): `start` closes the contactor for the insulation test and starts it;
    /// `status` reports progress. `valid`/`warning` keep the contactor closed for pre-charge; any other
    /// result opens it. Without an isolation monitor the result is `no_imd`.
    public func cableCheck(evseID: String, action: CableCheckAction) -> CableCheckProgress {
        run { $0.cableCheck(evseID: evseID, action: action) }
    }

    /// `power_electronics_setpoint` (DC): the output the EV asks for, within the EVSE's limits.
    public func powerElectronicsSetpoint(
        evseID: String, voltage: Double, target: DCTarget, isPrecharge: Bool = false, evMaximumVoltage: Double? = nil
    ) -> SetpointDecision {
        run {
            $0.powerElectronicsSetpoint(
                evseID: evseID, voltage: voltage, target: target, isPrecharge: isPrecharge, evMaximumVoltage: evMaximumVoltage)
        }
    }

    // MARK: Time

    /// Moves the station to `now` (default: the injected clock): integrates the meters, lets the
    /// hardware (or simulation) advance, handles what it reports, and emits the periodic `.meterValues`.
    public func tick(now instant: StationInstant? = nil) {
        revision += 1
        run { $0.tick(now: instant) }
    }

    // MARK: What the hardware reports

    /// A hardware driver reports what it saw (`.eventsQueued`: collect what it queued for `drainEvents()`).
    public func handle(_ event: HardwareEvent) { run { $0.handle([event]) } }

    /// Several observations of a driver, handled as one operation (one `.statusAndLimitsChanged`).
    public func handle(_ events: [HardwareEvent]) { run { $0.handle(events) } }

    /// A fault reported outside the hardware driver (the control socket, tests).
    @discardableResult
    public func fault(_ kind: HardwareFaultKind, evseID: String) -> Bool { run { $0.fault(kind, evseID: evseID) } }

    /// A fault is gone. The pilot stays off until Josev asks for a PWM again.
    @discardableResult
    public func clearFault(_ kind: HardwareFaultKind, evseID: String) -> Bool { run { $0.clearFault(kind, evseID: evseID) } }

    /// A person cleared a latched fault (`contactor_welded`) after the repair; false when it is not
    /// active or the hardware still reports the contactor closed against an open command.
    @discardableResult
    public func clearLatchedFault(_ kind: HardwareFaultKind, evseID: String) -> Bool {
        run { $0.clearLatchedFault(kind, evseID: evseID) }
    }

    /// Resets a tripped RCD (no EV connected, contactor open); see `RCDResetResult`.
    public func resetRCD(evseID: String) -> RCDResetResult { run { $0.resetRCD(evseID: evseID) } }
}
