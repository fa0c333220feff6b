import JosevContract

/// Limits set from outside, the external (Modbus) setpoint with its valid time, and 1/3-phase
/// switching (PROFILE.md §4).
extension StationCore {
    mutating func setStatus(_ status: EVSEStatusCode, evseID: String) -> Bool {
        change(evseID) { $0.reportedStatus = status }
    }

    mutating func setExternalCurrentLimit(_ limit: Double?, evseID: String) -> Bool {
        change(evseID) { $0.externalCurrentLimit = Self.sanitized(limit) }
    }

    mutating func setConfiguredCurrentLimit(_ limit: Double?, evseID: String) -> Bool {
        change(evseID) { $0.configuredCurrentLimit = Self.sanitized(limit) }
    }

    mutating func setEVMaxCurrent(_ limit: Double?, evseID: String) -> Bool {
        change(evseID) { $0.evMaxCurrent = Self.sanitized(limit) }
    }

    mutating func setExternalSetpoint(_ amps: Double, evseID: String) -> SetpointWriteResult {
        guard let evse = evseConfiguration(evseID), states[evseID] != nil else { return .rejected(.unknownEVSE) }
        guard configuration.setpoints.enabled else { return .rejected(.disabled) }
        guard amps.isFinite, amps >= 0 else { return .rejected(.invalidValue) }
        if evse.ac != nil, amps > PWMEncoding.maximumCurrent { return .rejected(.outOfRange(amps)) }
        let before = beginOperation()
        defer { endOperation(since: before) }
        states[evseID]?.externalSetpoint = amps
        states[evseID]?.externalSetpointExpiry = lastTime + configuration.setpoints.effectiveValidTime
        settle()
        guard let state = setpointState(evseID) else { return .rejected(.unknownEVSE) }
        return .accepted(state)
    }

    /// The external setpoint's state (registers 1206–1215), brought up to now (an expired setpoint
    /// is dropped, with its notifications, before the answer). Nil for an unknown EVSE.
    mutating func externalSetpointState(evseID: String) -> ExternalSetpointState? {
        guard states[evseID] != nil else { return nil }
        let before = beginOperation()
        defer { endOperation(since: before) }
        settle()
        return setpointState(evseID)
    }

    /// Requests 1- or 3-phase charging (register 1215). Idle (contactor open): switched at once.
    /// Charging (basic, PWM): the station runs the sequence itself, driven by `tick`: PWM off (C1) →
    /// the EV stops drawing (current under 0.5 A, or `currentDecayTimeout`) → contactor opens →
    /// `phaseSwitchDwell` → the phases switch → PWM on → the contactor closes once the EV is in C2
    /// again (IEC 61851-1: never before). `phases` reads the new value at once. The phases stay as
    /// requested across sessions and resets.
    mutating func setPhases(_ phases: Int, evseID: String) -> PhaseSwitchResult {
        guard let evse = evseConfiguration(evseID), states[evseID] != nil else { return .refused(.unknownEVSE) }
        guard phases == 1 || phases == 3 else { return .refused(.invalidPhases(phases)) }
        guard configuration.setpoints.allowPhaseSwitching else { return .refused(.notAllowed) }
        guard let ac = evse.ac else { return .refused(.notAC) }
        guard ac.phases >= 3 else { return .refused(.singlePhaseSupply) }
        let before = beginOperation()
        defer { endOperation(since: before) }
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

    /// Switches the hardware (the contactor is open) and ends a running sequence.
    mutating func completePhaseSwitch(_ evseID: String, to phases: Int) {
        states[evseID]?.phaseSwitch = nil
        guard states[evseID]?.activePhases != phases else { return }
        states[evseID]?.activePhases = phases
        hardware.setPhases(evseID: evseID, phases: phases)
    }

    /// How long a new switching sequence must still wait; nil when it may start now.
    func switchWait(_ state: EVSEState) -> Duration? {
        guard let last = state.lastPhaseSwitch else { return nil }
        let wait = configuration.setpoints.effectiveMinimumSwitchInterval - (lastTime - last)
        return wait > .zero ? wait : nil
    }

    func setpointState(_ evseID: String) -> ExternalSetpointState? {
        guard let evse = evseConfiguration(evseID), let state = states[evseID] else { return nil }
        let remaining = state.externalSetpointExpiry.map { max(.zero, $0 - lastTime) } ?? .zero
        return ExternalSetpointState(
            enabled: configuration.setpoints.enabled, setpoint: state.externalSetpoint, remaining: remaining,
            safeCurrent: evse.effectiveSafeCurrent, inEffect: state.externalSetpoint != nil,
            applied: StationLimits.appliedCurrent(evse, state: state), phases: state.phases, phaseSwitchInProgress: state.phaseSwitch != nil)
    }

}
