// External (Modbus / energy-manager) setpoints and 1/3-phase switching: the read model and the
// results of the operations (PROFILE.md §4). The station's rules are in `Station`.

/// What an external setpoint does on an EVSE now: the Modbus registers 1206–1215 of a socket.
public struct ExternalSetpointState: Sendable, Equatable {
    /// External current control is on (`SetpointPolicy.enabled`).
    public var enabled: Bool
    /// The valid setpoint as written, A per phase (AC) or A (DC); nil when none (never written since
    /// the start or the last reset, or its valid time ran out). Register 1210.
    public var setpoint: Double?
    /// How long the setpoint stays valid; zero without one. Register 1208.
    public var remaining: Duration
    /// The fallback current while external control is on and no setpoint is valid. Register 1212.
    public var safeCurrent: Double
    /// The setpoint, not the safe current, is what external control applies (register 1214).
    public var inEffect: Bool
    /// What the socket really offers, A (register 1206): the minimum of the setpoint (or the safe
    /// current), the configured, local external, installation, EV and cable limits and, in basic
    /// charging, the current Josev asked for; AC: rounded down to the PWM's 0.1 A steps, and 0 when
    /// that is under 6 A (the PWM pauses). 0 while the EVSE cannot deliver (faulted, unavailable).
    public var applied: Double
    /// The phases to use (register 1215): the requested value, at once, also while the switching
    /// sequence still runs. DC EVSEs report 3.
    public var phases: Int
    /// A switching sequence runs (PWM off, contactor open, dwell) and has not yet switched.
    public var phaseSwitchInProgress: Bool

    public init(
        enabled: Bool, setpoint: Double?, remaining: Duration, safeCurrent: Double, inEffect: Bool, applied: Double, phases: Int,
        phaseSwitchInProgress: Bool
    ) {
        self.enabled = enabled
        self.setpoint = setpoint
        self.remaining = remaining
        self.safeCurrent = safeCurrent
        self.inEffect = inEffect
        self.applied = applied
        self.phases = phases
        self.phaseSwitchInProgress = phaseSwitchInProgress
    }
}

/// Why an external setpoint was not taken.
public enum SetpointWriteRejection: Sendable, Equatable {
    case unknownEVSE
    /// External control is off (`SetpointPolicy.enabled` false). Modbus: exception 01.
    case disabled
    /// Not a number, infinite or negative. Modbus: exception 03.
    case invalidValue
    /// AC over 80 A, the most any PWM can offer (absurd rather than merely above the hardware's
    /// maximum, which is accepted and clamped). Modbus: exception 03.
    case outOfRange(Double)
}

/// The answer to `Station.setExternalSetpoint`.
public enum SetpointWriteResult: Sendable, Equatable {
    /// Taken; its valid time restarted. The state after the write (what 1206 reads now).
    case accepted(ExternalSetpointState)
    case rejected(SetpointWriteRejection)
}

/// Why a phase switch was refused.
public enum PhaseSwitchRefusal: Sendable, Equatable {
    case unknownEVSE
    /// Not 1 or 3. Modbus: exception 03.
    case invalidPhases(Int)
    /// `SetpointPolicy.allowPhaseSwitching` is false. Modbus: exception 01.
    case notAllowed
    /// A DC EVSE has no phases to switch.
    case notAC
    /// The EVSE's supply has fewer than three phases.
    case singlePhaseSupply
    /// An ISO 15118 (5 %) session is charging: switching would end it.
    case highLevelCommunication
    /// The last switching sequence started less than `minimumSwitchInterval` ago; try again after this.
    case rateLimited(retryAfter: Duration)
}

/// The answer to `Station.setPhases`.
public enum PhaseSwitchResult: Sendable, Equatable {
    /// Done now (the contactor was open), or nothing to change.
    case accepted
    /// Charging: the station runs the switching sequence (PWM off, current ≈ 0, contactor open,
    /// dwell, switch, PWM on, contactor closes once the EV asks again). `phases` reads the new value already.
    case switching
    case refused(PhaseSwitchRefusal)
}

/// A switching sequence that runs on an EVSE.
public struct PhaseSwitchProgress: Sendable, Equatable {
    public enum Step: Sendable, Equatable {
        /// The PWM is off (C1); the contactor stays closed until the EV stopped drawing current
        /// (or `currentDecayTimeout` passed).
        case stoppingCurrent
        /// The contactor is open; after `phaseSwitchDwell` the phases switch and the PWM resumes.
        case dwelling
    }

    /// The phases in use before the switch.
    public var from: Int
    public var target: Int
    public var step: Step
    /// When the current step began.
    public var stepStarted: StationInstant
    public var started: StationInstant

    public init(from: Int, target: Int, step: Step, stepStarted: StationInstant, started: StationInstant) {
        self.from = from
        self.target = target
        self.step = step
        self.stepStarted = stepStarted
        self.started = started
    }
}

extension PWMEncoding {
    /// `current` rounded down to the 0.1 A resolution (0 for values that are not positive numbers).
    static func roundedDown(_ current: Double) -> Double {
        guard current.isFinite, current > 0 else { return current == .infinity ? current : 0 }
        let steps = (current / currentResolution + 1e-9).rounded(.down)
        return (steps * currentResolution * 10).rounded() / 10
    }
}
