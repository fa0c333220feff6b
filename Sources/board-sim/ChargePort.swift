import PhyVerso

/// One charge port of the simulated MCU: the EV on its pilot, the PWM, the contactor with its
/// feedback contact, the lock motor and the RCD. Every change the host must know is sent at once.
struct ChargePort {
    enum EVState { case absent, connected, ready }

    let number: Int32
    private(set) var ev = EVState.absent
    private(set) var pp = PpState.notConnected
    /// Duty in 0.01 %; 10000 = X1 (no PWM, +12 V), 0 = state F.
    private(set) var pwm: UInt32 = 10000
    /// What the contactor will be once `coilDueAt` passes.
    private var coilTarget = false
    private var coilDueAt: Duration?
    /// The feedback contact: what the MCU reports.
    private(set) var coilFeedback = false
    private(set) var lock = LockState.unlocked
    private var lockTarget: Bool?
    private var lockDueAt: Duration?
    private(set) var errors = ErrorFlags()
    private(set) var reportedCP = CpState.a

    init(number: Int32) { self.number = number }

    /// The CP level the MCU measures: F while it drives −12 V, else what the EV presents.
    private var measuredCP: CpState {
        if pwm == 0 { return .f }
        switch ev {
        case .absent: return .a
        case .connected: return .b
        case .ready: return .c
        }
    }

    // MARK: Host commands

    mutating func setPWM(_ duty: UInt32, now: Duration, options: SafetyMCU.Options) -> SafetyMCU.Effects {
        var effects = SafetyMCU.Effects()
        let label = duty == 0 ? "F" : duty >= 10000 ? "X1" : "\(Double(duty) / 100) %"
        effects.log.append("host: connector \(number) PWM \(label)")
        pwm = min(duty, 10000)
        if pwm == 0 { effects.merge(open(reason: "PWM F", now: now, options: options)) }
        effects.merge(reportCP())
        return effects
    }

    mutating func requestCoil(_ request: CoilState, hostAlive: Bool, now: Duration, options: SafetyMCU.Options) -> SafetyMCU.Effects {
        var effects = SafetyMCU.Effects()
        guard request.closed else {
            effects.log.append("host: connector \(number) contactor open requested")
            effects.merge(open(reason: "host", now: now, options: options))
            return effects
        }
        // The MCU ANDs the host's "on" with its own conditions.
        let refusal: String? =
            !hostAlive ? "no host keep-alive"
            : errors.rcdTriggered ? "RCD tripped"
            : pwm == 0 ? "PWM is F"
            : !(reportedCP == .c || reportedCP == .d) ? "CP is \(reportedCP), not C/D"
            : nil
        if let refusal {
            effects.log.append("host: connector \(number) contactor close refused (\(refusal))")
            effects.send(.setCoilStateResponse(CoilState(coilType: .ac, closed: coilFeedback)), connector: number)
            return effects
        }
        effects.log.append("host: connector \(number) contactor close requested")
        schedule(coil: true, now: now, options: options)
        return effects
    }

    mutating func requestLock(_ engage: Bool, now: Duration, options: SafetyMCU.Options) -> SafetyMCU.Effects {
        var effects = SafetyMCU.Effects()
        effects.log.append("host: connector \(number) \(engage ? "lock" : "unlock") requested")
        lockTarget = engage
        lockDueAt = now + options.actuationDelay
        lock = engage ? .locking : .unlocking
        effects.send(.lockState(lock), connector: number)
        return effects
    }

    mutating func rcdCommand(_ command: RcdCommand, options: SafetyMCU.Options) -> SafetyMCU.Effects {
        var effects = SafetyMCU.Effects()
        if command.test {
            if options.faults.contains(.rcdSelftestFail) {
                effects.log.append("host: connector \(number) RCD self-test: the RCD did not trip (self-test failed)")
                var flags = errors
                flags.rcdSelftestFailed = true
                effects.merge(report(flags))
            } else {
                effects.log.append("host: connector \(number) RCD self-test: test current on, RCD trips")
                effects.merge(tripRCD(reason: "self-test", options: options))
            }
        }
        if command.reset {
            if errors.rcdTriggered || errors.rcdSelftestFailed {
                effects.log.append("host: connector \(number) RCD reset")
                var flags = errors
                flags.rcdTriggered = false
                flags.rcdSelftestFailed = false
                effects.merge(report(flags))
            } else {
                effects.log.append("host: connector \(number) RCD reset (nothing to reset)")
            }
        }
        return effects
    }

    // MARK: EV and faults

    mutating func ev(_ action: EVAction, now: Duration, options: SafetyMCU.Options) -> SafetyMCU.Effects {
        var effects = SafetyMCU.Effects()
        switch action {
        case .plug(let rating):
            effects.log.append("ev: connector \(number) plugged in (cable \(rating.ampacity.map { "\($0) A" } ?? "\(rating)"))")
            ev = .connected
            pp = rating
            effects.send(.ppState(pp), connector: number)
        case .ready:
            effects.log.append("ev: connector \(number) ready to charge (B→C)")
            if ev != .absent { ev = .ready }
        case .pause:
            effects.log.append("ev: connector \(number) pauses (C→B)")
            if ev != .absent { ev = .connected }
        case .unplug:
            effects.log.append("ev: connector \(number) unplugged")
            ev = .absent
            pp = .notConnected
            effects.send(.ppState(pp), connector: number)
            effects.merge(open(reason: "unplugged", now: now, options: options))
        case .rcdTrip:
            effects.merge(tripRCD(reason: "residual current", options: options))
        case .diodeFault:
            effects.log.append("ev: connector \(number) diode fault")
            var flags = errors
            flags.diodeFault = true
            effects.merge(report(flags))
        }
        effects.merge(reportCP())
        return effects
    }

    /// The host fell silent: state F, contactor open, heartbeat flag.
    mutating func hostLost(now: Duration, options: SafetyMCU.Options) -> SafetyMCU.Effects {
        var effects = SafetyMCU.Effects()
        pwm = 0
        effects.merge(open(reason: "host silent", now: now, options: options))
        effects.merge(setHeartbeatTimeout(true))
        effects.merge(reportCP())
        return effects
    }

    mutating func setHeartbeatTimeout(_ on: Bool) -> SafetyMCU.Effects {
        var flags = errors
        flags.heartbeatTimeout = on
        return report(flags)
    }

    /// Actuators reach their targets.
    mutating func settle(now: Duration, options: SafetyMCU.Options) -> SafetyMCU.Effects {
        var effects = SafetyMCU.Effects()
        if let due = coilDueAt, now >= due {
            coilDueAt = nil
            let welded = !coilTarget && coilFeedback && options.faults.contains(.welded)
            let stuckOpen = coilTarget && !coilFeedback && options.faults.contains(.stuckOpen)
            coilFeedback = welded ? true : stuckOpen ? false : coilTarget
            effects.log.append(
                welded
                    ? "mcu: connector \(number) contactor commanded open but its feedback stays closed (welded)"
                    : stuckOpen
                        ? "mcu: connector \(number) contactor commanded closed but its feedback stays open"
                        : "mcu: connector \(number) contactor \(coilFeedback ? "closed" : "open")")
            effects.send(.setCoilStateResponse(CoilState(coilType: .ac, closed: coilFeedback)), connector: number)
            var flags = errors
            flags.coilFeedbackDiverges = coilFeedback != coilTarget
            effects.merge(report(flags))
        }
        if let due = lockDueAt, now >= due, let target = lockTarget {
            lockDueAt = nil
            lockTarget = nil
            var flags = errors
            if target && options.faults.contains(.lockFailure) {
                lock = .unlocked
                flags.connectorLockFailed = true
                effects.log.append("mcu: connector \(number) lock failed to engage")
            } else {
                lock = target ? .locked : .unlocked
                flags.connectorLockFailed = false
                effects.log.append("mcu: connector \(number) \(target ? "locked" : "unlocked")")
            }
            effects.send(.lockState(lock), connector: number)
            effects.merge(report(flags))
        }
        return effects
    }

    // MARK: Internals

    private mutating func schedule(coil closed: Bool, now: Duration, options: SafetyMCU.Options) {
        coilTarget = closed
        coilDueAt = now + options.actuationDelay
    }

    /// Opens the contactor unless it is open (or opening) already.
    private mutating func open(reason: String, now: Duration, options: SafetyMCU.Options) -> SafetyMCU.Effects {
        var effects = SafetyMCU.Effects()
        if coilFeedback || coilTarget {
            if coilTarget || coilDueAt == nil { schedule(coil: false, now: now, options: options) }
            effects.log.append("mcu: connector \(number) opening the contactor (\(reason))")
        } else if reason == "host" {
            // Confirm an open request for an open contactor, as the host waits for it.
            effects.send(.setCoilStateResponse(CoilState(coilType: .ac, closed: false)), connector: number)
        }
        return effects
    }

    private mutating func tripRCD(reason: String, options: SafetyMCU.Options) -> SafetyMCU.Effects {
        var effects = SafetyMCU.Effects()
        effects.log.append("mcu: connector \(number) RCD tripped (\(reason)), contactor opened by hardware")
        // The RCD opens the contactor in hardware, without waiting for anyone (a welded one stays closed).
        coilTarget = false
        coilDueAt = nil
        if coilFeedback && !options.faults.contains(.welded) {
            coilFeedback = false
            effects.send(.setCoilStateResponse(CoilState(coilType: .ac, closed: false)), connector: number)
        }
        var flags = errors
        flags.rcdTriggered = true
        effects.merge(report(flags))
        return effects
    }

    private mutating func report(_ flags: ErrorFlags) -> SafetyMCU.Effects {
        var effects = SafetyMCU.Effects()
        guard flags != errors else { return effects }
        errors = flags
        effects.send(.errorFlags(errors), connector: number)
        return effects
    }

    private mutating func reportCP() -> SafetyMCU.Effects {
        var effects = SafetyMCU.Effects()
        let cp = measuredCP
        guard cp != reportedCP else { return effects }
        reportedCP = cp
        effects.log.append("mcu: connector \(number) CP state \(cp)")
        effects.send(.cpState(cp), connector: number)
        return effects
    }
}
