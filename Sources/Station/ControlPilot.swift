// IEC 61851-1 control pilot: the level the EV pulls the pilot to, the signal the EVSE generates,
// and the duty-cycle encoding of the offered current for basic charging.

/// The control-pilot voltage level as the EV side sets it (IEC 61851-1 states A to F).
public enum PilotLevel: String, Sendable, Equatable, Hashable, CaseIterable {
    /// +12 V: no vehicle.
    case a = "A"
    /// +9 V: vehicle connected, not ready to charge.
    case b = "B"
    /// +6 V: vehicle ready to charge.
    case c = "C"
    /// +3 V: vehicle ready to charge, ventilation required.
    case d = "D"
    /// 0 V: pilot shorted to PE, diode missing, or the EVSE holds the pilot at 0 V (error).
    case e = "E"
    /// −12 V: the EVSE is not available (fault).
    case f = "F"
}

/// The control-pilot state as `cp_status.state` spells it: the level and whether the PWM runs.
public enum ControlPilotState: String, Sendable, Equatable, Hashable, CaseIterable {
    case a1 = "A1", a2 = "A2", b1 = "B1", b2 = "B2", c1 = "C1", c2 = "C2", d1 = "D1", d2 = "D2", e = "E", f = "F"

    public init(level: PilotLevel, pwm: Bool) {
        switch level {
        case .a: self = pwm ? .a2 : .a1
        case .b: self = pwm ? .b2 : .b1
        case .c: self = pwm ? .c2 : .c1
        case .d: self = pwm ? .d2 : .d1
        case .e: self = .e
        case .f: self = .f
        }
    }

    public var level: PilotLevel {
        switch self {
        case .a1, .a2: .a
        case .b1, .b2: .b
        case .c1, .c2: .c
        case .d1, .d2: .d
        case .e: .e
        case .f: .f
        }
    }

    /// Digit 2: the oscillator runs.
    public var pwm: Bool { self == .a2 || self == .b2 || self == .c2 || self == .d2 }

    /// C2 or D2: the EV asks for energy and the EVSE signals that it may have it.
    public var requestsEnergy: Bool { self == .c2 || self == .d2 }
}

/// What the EVSE puts on the pilot of a connector.
public enum PilotSignal: Sendable, Equatable, Hashable {
    /// Constant +12 V side of the square wave: PWM off, "100 %" duty cycle, EVSE not ready.
    case off
    /// Basic charging (IEC 61851-1 annex A): the offered current per phase encoded in the duty cycle.
    case nominal(current: Double)
    /// 5 %: digital communication (ISO 15118 / DIN 70121) is required.
    case digital
    /// State E: the pilot is held at 0 V (0 % duty cycle).
    case error
    /// State F: the pilot is held at −12 V (0 % duty cycle).
    case fault

    /// The duty cycle in percent (0…100) as `cp_status.duty_cycle` reports it.
    public var dutyCycle: Double {
        switch self {
        case .off: 100
        case .nominal(let current): PWMEncoding.dutyCycle(forCurrent: current) ?? 100
        case .digital: 5
        case .error, .fault: 0
        }
    }

    /// Whether the oscillator runs (the digit 2 of the CP state).
    public var oscillating: Bool {
        switch self {
        case .nominal, .digital: true
        case .off, .error, .fault: false
        }
    }

    /// The current an EV may draw in basic charging; nil for every other signal.
    public var nominalCurrent: Double? {
        if case .nominal(let current) = self { return current }
        return nil
    }
}

/// The IEC 61851-1 duty-cycle encoding of the offered current (table A.8).
public enum PWMEncoding {
    /// The smallest current the PWM can offer (10 % duty cycle).
    public static let minimumCurrent = 6.0
    /// The largest current the PWM can offer (96 % duty cycle).
    public static let maximumCurrent = 80.0
    /// Issue 18 (update storms): after the offered current on a running PWM changed, an increase
    /// waits this long from that change (a decrease never waits). Two Modbus masters racing
    /// 10 A / 20 A writes made ~2260 pilot changes a second; the EV needs seconds to follow one
    /// anyway (IEC 61851-1 gives it 5 s). A start, a stop, 5 %, E and F are never delayed.
    public static let adjustmentInterval: Duration = .seconds(1)

    /// The resolution of the offered current (the contract's `cp_pwm.current` precision).
    public static let currentResolution = 0.1
    /// Duty cycle of the digital-communication signal.
    public static let digitalDutyCycle = 5.0

    /// The duty cycle in percent for a current that the PWM can represent, nil otherwise
    /// (under 6 A, over 80 A, not finite).
    ///
    /// 6 A ≤ I ≤ 51 A: D = I / 0.6; 51 A < I ≤ 80 A: D = I / 2.5 + 64.
    public static func dutyCycle(forCurrent current: Double) -> Double? {
        guard current.isFinite, current >= minimumCurrent, current <= maximumCurrent else { return nil }
        return current <= 51 ? current / 0.6 : current / 2.5 + 64
    }

    /// The current a duty cycle offers, nil for duty cycles that offer none (digital
    /// communication, state E/F, PWM off, the reserved ranges).
    public static func current(forDutyCycle duty: Double) -> Double? {
        guard duty.isFinite else { return nil }
        if duty >= 10, duty <= 85 { return duty * 0.6 }
        if duty > 85, duty <= 96 { return (duty - 64) * 2.5 }
        return nil
    }

    /// The largest current the PWM can represent that does not exceed `current`: rounded down to
    /// the 0.1 A resolution and capped at 80 A. Nil when that is under 6 A (the PWM must pause).
    public static func representableCurrent(atMost current: Double) -> Double? {
        guard current.isFinite || current == .infinity else { return nil }
        let capped = min(current, maximumCurrent)
        // The epsilon keeps values like 15.7 (15.699999…) from losing a step.
        let steps = (capped / currentResolution + 1e-9).rounded(.down)
        let rounded = steps * currentResolution
        let clean = (rounded * 10).rounded() / 10
        return clean >= minimumCurrent ? clean : nil
    }
}
