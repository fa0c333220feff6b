import JosevContract

// Domain types of the station. They are not wire types: the daemon maps them to the contract's
// messages. Names are chosen so that they do not collide with the message models in JosevContract.

// MARK: Authorization and transactions

/// The kind of identifier a token is (OCPP IdTokenType; the raw values are the contract's spelling).
public enum ChargingTokenType: String, Sendable, Equatable, Hashable, CaseIterable {
    case iso14443 = "ISO14443", iso15693 = "ISO15693", keyCode = "key_code", local, noAuthorization = "no_authorization"
    case macAddress = "mac_address", eMAID = "e_maid", central
}

/// An identifier that asks for (or carries) an authorization: an RFID UID, an eMAID, a key code…
public struct ChargingToken: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var id: String
    public var type: ChargingTokenType

    public init(id: String, type: ChargingTokenType) {
        self.id = id
        self.type = type
    }

    /// An RFID card's UID (ISO 14443).
    public static func rfid(_ uid: String) -> ChargingToken { ChargingToken(id: uid, type: .iso14443) }

    public var description: String { "\(type.rawValue):\(id)" }

    /// For logs: the type and the last four characters only. A card UID or a key code is enough
    /// to clone a card or open a station, and the journal is read by more people than the
    /// back office; the last four characters still let a technician match a driver's card.
    public var redacted: String {
        guard id.count > 4 else { return "\(type.rawValue):****" }
        return "\(type.rawValue):…\(id.suffix(4))"
    }
}

/// Where an EVSE stands with the authorization of its (next) session.
public enum EVSEAuthorization: Sendable, Equatable {
    case none
    /// A token was presented; the station waits for Josev's (OCPP's) decision.
    case pending(ChargingToken)
    case accepted(ChargingToken)
    case rejected(ChargingToken)

    public var token: ChargingToken? {
        switch self {
        case .none: nil
        case .pending(let token), .accepted(let token), .rejected(let token): token
        }
    }

    public var isAccepted: Bool { if case .accepted = self { true } else { false } }
}

/// A decision about a token, from Josev (`authorization` response or update).
public enum AuthorizationDecision: String, Sendable, Equatable, CaseIterable {
    case accepted, rejected, deauthorized
}

/// What happened to a presented token.
public enum AuthorizationOutcome: Sendable, Equatable {
    /// The station accepted it itself (local list); the daemon tells Josev with an `authorization` update.
    case acceptedLocally
    /// The station asked Josev (event `.authorizationRequested`); the decision comes with `authorize(…)`.
    case pending
    case unknownEVSE
}

/// The transaction Josev (OCPP) runs on an EVSE (`transaction_status`).
public struct StationTransaction: Sendable, Equatable {
    public var id: String
    public var evseID: String
    public var startedAt: StationInstant
    public var token: ChargingToken?
    /// The EVSE meter's import register when the transaction started, Wh.
    public var energyAtStartWh: Double
    public var endedAt: StationInstant?
    /// The import register when it ended, Wh.
    public var energyAtEndWh: Double?

    public init(id: String, evseID: String, startedAt: StationInstant, token: ChargingToken?, energyAtStartWh: Double) {
        self.id = id
        self.evseID = evseID
        self.startedAt = startedAt
        self.token = token
        self.energyAtStartWh = energyAtStartWh
    }

    /// Energy delivered in the transaction (so far, or in total once it ended), Wh.
    public func energyWh(meterNow: Double) -> Double { max(0, (energyAtEndWh ?? meterNow) - energyAtStartWh) }
}

// MARK: Faults

/// A hardware fault. The raw values follow `hardware_fault.fault_name` where one fits.
public enum HardwareFaultKind: String, Sendable, Equatable, Hashable, CaseIterable, Comparable {
    case emergencyStop = "emergency_stop"
    case powerLoss = "power_loss"
    /// The residual-current device tripped (`ac.rcd_error`).
    case rcdTripped = "rcd_tripped"
    case groundFault = "ground_fault"
    case overcurrent = "overcurrent_fault"
    case powerQuality = "power_quality"
    case overTemperature = "over_temperature"
    case contactorWelded = "contactor_welded"
    /// The pilot is shorted or the EV's diode is missing: CP state E. Reported by the CP circuit.
    case pilotError = "pilot_error"
    case lockFailure = "lock_failure"
    case isolationFault = "isolation_fault"
    /// The EVSE's meter does not answer, answers nonsense, or is not the meter configured
    /// (`expect_serial`): nothing it measures is known, and no session may be billed from it.
    case meterCommunication = "meter_communication"
    /// The safety controller's link is lost (no keep-alive within the link timeout, or only bad frames).
    case boardLink = "board_link"
    /// The EV's diode is missing (the pilot's negative half-wave is not at −12 V).
    case diodeFault = "diode_fault"
    /// The contactor was commanded closed and its feedback did not confirm it in time.
    case contactorStuckOpen = "contactor_stuck_open"
    case other

    /// The `hardware_fault.fault_name` value to report.
    public var faultName: String {
        switch self {
        case .emergencyStop: "emergency_stop"
        case .powerLoss: "power_loss"
        case .rcdTripped, .groundFault, .isolationFault: "ground_fault"
        case .overcurrent: "overcurrent_fault"
        case .powerQuality: "power_quality"
        case .overTemperature, .contactorWelded, .pilotError, .lockFailure, .meterCommunication, .boardLink, .diodeFault,
            .contactorStuckOpen, .other:
            "other"
        }
    }

    /// Latched: never cleared by the hardware or by time, only by a person (the control socket)
    /// once the cause was repaired. It survives a restart of the daemon.
    public var isLatched: Bool { self == .contactorWelded }

    /// Belongs to the session it happened in: cleared when the EV leaves (state A).
    public var endsWithSession: Bool { self == .lockFailure || self == .contactorStuckOpen }

    /// The EVSE status a fault of this kind causes.
    public var statusCode: EVSEStatusCode {
        switch self {
        case .emergencyStop: .emergencyShutdown
        case .powerLoss: .utilityInterruptEvent
        default: .malfunction
        }
    }

    public static func < (lhs: HardwareFaultKind, rhs: HardwareFaultKind) -> Bool {
        let order = allCases
        return (order.firstIndex(of: lhs) ?? 0) < (order.firstIndex(of: rhs) ?? 0)
    }
}

// MARK: Availability and reset

/// What a `change_availability` addresses.
public enum AvailabilityScope: Sendable, Equatable, Hashable {
    case station
    case evse(String)
    case connector(evseID: String, connectorID: Int)
}

public enum AvailabilityChangeResult: String, Sendable, Equatable {
    /// Done (or nothing to do).
    case accepted
    /// A session runs on an affected EVSE: the change is carried out when it ends.
    case scheduled
    /// Unknown EVSE or connector.
    case rejected
}

public enum StationResetResult: String, Sendable, Equatable {
    /// Done now: the dynamic state of the addressed EVSEs was reset (event `.resetPerformed`).
    case accepted
    /// A session runs: the reset is carried out when it ends.
    case scheduled
    /// Unknown EVSE.
    case rejected
}

// MARK: Results of operations

/// Why the contactor may not close. The checks run in the order of the cases.
public enum ContactorRefusal: Sendable, Equatable {
    case unknownEVSE
    /// A hardware fault is active (the first one, in `HardwareFaultKind` order).
    case fault(HardwareFaultKind)
    /// The EVSE's status is not `evse_ready` (set by `setStatus`).
    case notReady(EVSEStatusCode)
    /// The station, the EVSE or the connector in use is inoperative.
    case inoperative
    /// The control pilot is not C2/D2 (B2/C2/D2 during the DC cable check and pre-charge).
    case pilotState(ControlPilotState)
    /// Nothing asks for energy: HLC without `hlc_charging true`, DC without cable check, or no PWM that offers current.
    case noChargingRequest
    case notAuthorized
    /// Charging was stopped in this session (`stop_charging`, transaction ended, deauthorized, session stop).
    case chargingStopped
    /// Opened on request (`setContactor(close: false)`, `hlc_charging false`); closes again on the next request.
    case heldOpen
    /// The socket's lock has not engaged yet (the hardware did not confirm it).
    case socketNotLocked
}

public enum ContactorResult: Sendable, Equatable {
    case closed
    case opened
    case refused(ContactorRefusal)
}

public enum PWMRejection: Sendable, Equatable {
    case unknownEVSE
    /// Negative or not a number.
    case invalidCurrent(Double)
    /// A hardware fault holds the pilot in state F.
    case faulted(HardwareFaultKind)
}

/// The answer to `applyPWM`.
public enum PWMResult: Sendable, Equatable {
    /// The signal is on the pilot as asked (wire: `valid`).
    case applied(PilotSignal)
    /// Basic charging with a different current than asked: lowered to the station's limits, rounded
    /// down to the PWM's resolution, or paused (`.off`) because under 6 A cannot be represented
    /// (wire: `valid`, with the reason as `info`).
    case limited(PilotSignal, requested: Double)
    /// Nothing changed (wire: `invalid` for unknown EVSE or bad current, `error` when faulted).
    case rejected(PWMRejection)

    public var signal: PilotSignal? {
        switch self {
        case .applied(let signal), .limited(let signal, _): signal
        case .rejected: nil
        }
    }
}

public enum StopChargingOutcome: Sendable, Equatable {
    case accepted
    case rejected
}

/// `cs_connector` actions.
public enum ConnectorLockAction: String, Sendable, Equatable, CaseIterable { case lock, unlock, status }

/// The lock of a socket (`cs_connector.status`, `cable_info.lock`).
public enum ConnectorLockState: String, Sendable, Equatable, CaseIterable { case locked, unlocked, error, unknown }

public enum ConnectorLockResult: Sendable, Equatable {
    case done(ConnectorLockState)
    /// Unlocking under load is refused: the state stays as it is.
    case refusedWhileEnergized(ConnectorLockState)
    /// Unlocking a socket the station locked for the session that still runs on it (the EV is
    /// plugged in, the session is neither stopped nor ended) is refused.
    case refusedWhileSessionRuns(ConnectorLockState)
    case unknownConnector

    public var state: ConnectorLockState {
        switch self {
        case .done(let state), .refusedWhileEnergized(let state), .refusedWhileSessionRuns(let state): state
        case .unknownConnector: .error
        }
    }
}

/// `cable_check.cable_check_action`.
public enum CableCheckAction: String, Sendable, Equatable { case start, status }

/// The answer to `cableCheck`.
public enum CableCheckProgress: Sendable, Equatable {
    case ongoing
    /// Finished with an isolation level (`valid`/`warning` let the session go on).
    case finished(IsolationStatus)
    /// The check cannot run: wire `finished` + `invalid`.
    case failed(CableCheckFailure)
}

public enum CableCheckFailure: Sendable, Equatable {
    case unknownEVSE
    case notDC
    /// `status` without a `start` before it.
    case notStarted
    /// The contactor may not close for the insulation test.
    case contactor(ContactorRefusal)
}

/// Where a DC session stands with its cable check.
public enum CableCheckPhase: Sendable, Equatable {
    case none
    case running
    /// Finished with `valid` or `warning`: the contactor stays closed through pre-charge.
    case passed(IsolationStatus)
}

/// What Josev asked the pilot to do (`cp_pwm`); the station derives the signal from it.
public enum PilotRequest: Sendable, Equatable {
    case off
    /// Basic charging with this current (nil: the station's own offered current).
    case nominal(requested: Double?)
    case digital
    case error
    case fault
}

/// An availability change waiting for the end of a session.
public struct PendingAvailability: Sendable, Equatable {
    public var scope: AvailabilityScope
    public var operative: Bool
}

/// The set-point the DC power electronics follow.
public struct DCOutput: Sendable, Equatable {
    public var voltage: Double
    public var current: Double
}

/// The active set-point of `power_electronics_setpoint.dc`.
public enum DCTarget: Sendable, Equatable {
    case chargeCurrent(Double)
    case chargePower(Double)
    case dischargeCurrent(Double)
    case dischargePower(Double)
}

public enum SetpointRejection: Sendable, Equatable {
    case unknownEVSE
    case notDC
    case contactorOpen
    /// The voltage is negative, not finite, or over the EVSE's (or the EV's) maximum.
    case voltageOutOfRange(Double)
    case invalidTarget
    /// Discharge without a DC-BPT supply.
    case dischargeNotSupported
}

public enum SetpointDecision: Sendable, Equatable {
    /// Accepted; the output the power electronics will deliver (current limited to the EVSE's
    /// current and power limits, to 2 A in pre-charge; negative current = discharge).
    case accepted(voltage: Double, current: Double)
    case rejected(SetpointRejection)
}

// MARK: Connector, cable, meter

/// What the proximity pilot and the lock know about a connector (`cable_info`).
public struct CableInfo: Sendable, Equatable {
    public var connected: Bool
    /// A per phase, from the proximity-pilot resistor; nil when unknown or tethered.
    public var ratedCurrent: Double?
    public var lock: ConnectorLockState

    public init(connected: Bool, ratedCurrent: Double? = nil, lock: ConnectorLockState = .unknown) {
        self.connected = connected
        self.ratedCurrent = ratedCurrent
        self.lock = lock
    }
}

/// The dynamic state of one connector.
public struct ConnectorState: Sendable, Equatable {
    public var id: Int
    public var level: PilotLevel = .a
    /// The signal the EVSE applies to this connector's pilot.
    public var signal: PilotSignal = .off
    /// When `signal` last went from one nominal current to another (see `PWMEncoding.adjustmentInterval`).
    public var signalAdjustedAt: StationInstant?
    public var cable = CableInfo(connected: false, lock: .unlocked)
    public var operative = true
    /// Josev reported the connector `reserved` (`connector_and_charging`): only the reservation's
    /// driver may charge here, so free vend and local tokens do not count.
    public var reserved = false
    /// When the reservation was reported (for `StationPolicy.reservationTimeout`).
    public var reservedSince: StationInstant?
    /// Vehicles plugged in since the daemon started: the pilot went from A to B, C or D (wraps at
    /// 2³²). A load manager that polls compares it to see an unplug and replug between two polls.
    public var plugIns: UInt32 = 0
    /// The station locked this socket for a session (it unlocks it when the session is over).
    public var lockedByStation = false
    /// A lock command the hardware has not confirmed yet, since when (supervised like the contactor).
    public var lockCommandedAt: StationInstant?

    public init(id: Int) { self.id = id }

    public var pilotState: ControlPilotState {
        switch signal {
        case .error: .e
        case .fault: .f
        default: ControlPilotState(level: level, pwm: signal.oscillating)
        }
    }
}

/// A meter snapshot of one EVSE (`meter_values`).
public struct MeterSnapshot: Sendable, Equatable {
    public var evseID: String
    public var timestamp: StationInstant
    /// V per phase (0 on phases the EVSE does not have).
    public var voltage: PhaseValues
    /// A per phase.
    public var current: PhaseValues
    /// W per phase (V · I · power factor).
    public var power: PhaseValues
    /// Total active power, W (import positive; DC: V · I).
    public var activePower: Double
    public var frequency: Double
    public var powerFactor: Double
    /// Import register, Wh.
    public var energyImportedWh: Double
    /// Export register, Wh.
    public var energyExportedWh: Double
    public var dcVoltage: Double?
    public var dcCurrent: Double?
    /// The current offered now, A per phase (AC) or A (DC).
    public var maxCurrentOffered: Double
    /// Energy of the active transaction so far, Wh.
    public var transactionEnergyWh: Double?
    /// Whether voltage, current, power and frequency were measured (unknown values are NaN; the
    /// energy registers are the meter's last counted values either way).
    public var quality: MeterQuality = .measured
    /// Age of the reading (nil: no reading at all).
    public var age: Duration? = .zero
}

// MARK: Policy

/// How the station behaves where the contract leaves it open.
public struct StationPolicy: Sendable, Equatable {
    /// Every session is authorized (no token needed).
    public var freeVend: Bool
    /// Tokens (ids) the station accepts itself, without asking Josev.
    public var localTokens: Set<String>
    /// An ISO 15118 session that reached PowerDelivery (`hlc_charging true`) or a DC cable check
    /// was authorized by Josev: count it as authorization (PnC and remote start never reach the CS).
    public var trustJosevAuthorization: Bool
    /// Close the contactor by itself once the rules allow it (the contract: "the CS closes and opens the
    /// contactor itself"). With false it closes only on `setContactor(close: true)`.
    public var autoCloseContactor: Bool
    /// Emit `.meterValues` for a charging EVSE every so often (simulated time); nil: never.
    public var meterValuesInterval: Duration?
    /// The pilot signal to start when an EV plugs in (nil: wait for `cp_pwm`). Boards that generate
    /// the 5 % PWM themselves use `.digital`.
    public var pilotOnPlugIn: PilotSignal?
    /// Grid frequency reported by meters that do not measure it, Hz.
    public var nominalFrequency: Double
    /// A reservation Josev never ends is dropped after this long (nil: never). Josev ends
    /// reservations itself (`connector_and_charging` available); this is a safety net.
    public var reservationTimeout: Duration? = .seconds(86400)
    /// A meter reading older than this is stale: its voltage, current and power are unknown.
    public var meterMaxAge: Duration = .seconds(10)
    /// Hardware that confirms its contactor (`StationHardware.confirmsContactor`): the feedback
    /// must follow a command within this time, else `contactor_stuck_open` (close) or the latched
    /// `contactor_welded` (open).
    public var contactorConfirmationTimeout: Duration = .seconds(2)
    /// OCPP `TxCtrlr.EVConnectionTimeOut` (classic `ConnectionTimeOut`): an authorization with no
    /// EV plugged in is dropped after this long (nil: never).
    public var connectionTimeout: Duration? = .seconds(300)
    /// OCPP `TxCtrlr.StopTxOnEVSideDisconnect`: the EV leaving ends the session's authorization
    /// (the running transaction no longer authorizes charging; Josev ends it). False: the
    /// authorization survives, and the EV has `connectionTimeout` to come back.
    public var stopTransactionOnEVSideDisconnect = true
    /// OCPP 1.6 `UnlockConnectorOnEVSideDisconnect`: a socket unlocks when the EV leaves. False: it
    /// stays locked while the cable is in it and the transaction runs.
    public var unlockConnectorOnEVSideDisconnect = true

    public init(
        freeVend: Bool = false, localTokens: Set<String> = [], trustJosevAuthorization: Bool = true,
        autoCloseContactor: Bool = true, meterValuesInterval: Duration? = .seconds(60), pilotOnPlugIn: PilotSignal? = nil,
        nominalFrequency: Double = 50
    ) {
        self.freeVend = freeVend
        self.localTokens = localTokens
        self.trustJosevAuthorization = trustJosevAuthorization
        self.autoCloseContactor = autoCloseContactor
        self.meterValuesInterval = meterValuesInterval
        self.pilotOnPlugIn = pilotOnPlugIn
        self.nominalFrequency = nominalFrequency
    }
}

// MARK: Events

/// Everything Josev (or the daemon) must hear about, in the order it happened.
public enum StationNotification: Sendable, Equatable {
    /// A status or a limit changed: publish `cs_status_and_limits`. Comes last among the
    /// notifications of one operation, once, naming every EVSE whose entry changed.
    case statusAndLimitsChanged(evseIDs: [String])
    /// The CP state or the duty cycle of a connector changed: publish `cp_status`.
    case cpStateChanged(evseID: String, connectorID: Int, state: ControlPilotState, duty: Double)
    /// Publish `cs_contactor_status` update.
    case contactorChanged(evseID: String, closed: Bool)
    /// A token needs Josev's decision: send an `authorization` request.
    case authorizationRequested(evseID: String, token: ChargingToken)
    /// The authorization changed; `local` when the station decided (send an `authorization` update).
    case authorizationChanged(evseID: String, state: EVSEAuthorization, local: Bool)
    /// Periodic meter values of a charging EVSE: publish a `meter_values` update.
    case meterValues(evseID: String)
    /// Publish `hardware_fault`.
    case hardwareFault(evseID: String, kind: HardwareFaultKind)
    case hardwareFaultCleared(evseID: String, kind: HardwareFaultKind)
    /// Plug, proximity or lock state of a connector changed: publish `cable_info`.
    case cableInfo(evseID: String, connectorID: Int, info: CableInfo)
    /// The effective availability of an EVSE (connectorID nil) or a connector changed.
    case availabilityChanged(evseID: String, connectorID: Int?, operative: Bool)
    /// The dynamic state of these EVSEs was reset (now or after the sessions that ran ended).
    case resetPerformed(evseIDs: [String])
    /// A connector became reserved or free again; `expired` when the station dropped it itself.
    case reservationChanged(evseID: String, connectorID: Int, reserved: Bool, expired: Bool)
    /// No EV plugged in within `StationPolicy.connectionTimeout` of an authorization: it was
    /// dropped (and the transaction started for it, if any, no longer authorizes charging).
    case connectionTimedOut(evseID: String, token: ChargingToken?, transactionID: String?)
}
