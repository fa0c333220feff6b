import JosevContract

/// The pilot and contactor engine: `cp_pwm`, the contactor rules and commands, HLC charging, what
/// the hardware reports, and `settle`, which brings the outputs in line with the state.
extension StationCore {

    /// `cp_pwm`: the signal Josev wants on the pilot. HLC → 5 %; a current → the IEC 61851-1 duty
    /// cycle of that current, lowered to the station's limits and rounded down to 0.1 A; 0 A → PWM
    /// off (100 %); under 6 A → PWM off (the PWM cannot offer it); no current → the station's own
    /// offered current; `error_state` → E; `fault_state` → F.
    mutating func applyPWM(evseID: String, hlc: Bool, current: Double? = nil, errorState: Bool = false, faultState: Bool = false)
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
        let before = beginOperation()
        defer { endOperation(since: before) }
        states[evseID]?.pilotRequest = request
        states[evseID]?.heldOpen = false
        settle()
        guard let evse = evseConfiguration(evseID), let state = states[evseID] else { return .rejected(.unknownEVSE) }
        let signal = StationLimits.pilotSignal(evse, state: state)
        if case .nominal(let requested) = request {
            let asked = requested ?? StationLimits.offeredCurrent(evse, state: state)
            if let requested, signal != .nominal(current: requested) { return .limited(signal, requested: requested) }
            if requested == nil, signal == .off { return .limited(signal, requested: asked) }
        }
        return .applied(signal)
    }

    // MARK: Contactor

    /// Closes the contactor if the rules allow it (else says why), or opens it. An opened contactor
    /// stays open until something asks for energy again (a new `cp_pwm`, `hlc_charging true`, a
    /// cable check, an authorization, a transaction, or `setContactor(close: true)`).
    mutating func setContactor(evseID: String, close: Bool) -> ContactorResult {
        guard states[evseID] != nil else { return .refused(.unknownEVSE) }
        let before = beginOperation()
        defer { endOperation(since: before) }
        if close {
            states[evseID]?.heldOpen = false
            if let refusal = contactorRefusal(evseID, automatic: false) { return .refused(refusal) }
            guard engageSocketLock(evseID) == .engaged else {
                settle()
                return .refused(contactorRefusal(evseID, automatic: false) ?? .socketNotLocked)
            }
            setContactorState(evseID, closed: true)
            settle()
            return states[evseID]?.contactorClosed == true ? .closed : .refused(contactorRefusal(evseID, automatic: false) ?? .heldOpen)
        } else {
            states[evseID]?.heldOpen = true
            settle()
            return .opened
        }
    }

    /// The rule that keeps the contactor open now, nil when it may close.
    func contactorRefusal(evseID: String) -> ContactorRefusal? { contactorRefusal(evseID, automatic: false) }

    /// `hlc_charging`: true in PowerDelivery start (the contactor closes once the CP is C2/D2), false
    /// in PowerDelivery stop (it opens at once). The CP state is announced again, as tux-evse does.
    mutating func hlcCharging(evseID: String, active: Bool) -> Bool {
        guard states[evseID] != nil else { return false }
        let before = beginOperation()
        defer { endOperation(since: before) }
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
        return true
    }

    /// `iso15118_state_info` `SessionStop`: the ISO 15118 session ended; open the contactor.
    mutating func sessionStopped(evseID: String) -> Bool {
        change(evseID) {
            $0.hlcCharging = false
            $0.cableCheck = .none
            $0.heldOpen = true
        }
    }

    // MARK: The engine

    /// Brings outputs in line with the state until nothing moves: handles what the hardware
    /// reported, derives status, pilot signals, current limits and the contactor, carries out
    /// scheduled changes whose session ended, and reads the meters.
    mutating func settle() {
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

    /// A change of the offered current on a running PWM (nominal to nominal).
    static func isAdjustment(from old: PilotSignal, to new: PilotSignal) -> Bool {
        if case .nominal = old, case .nominal = new { return true }
        return false
    }

    static func isIncrease(from old: PilotSignal, to new: PilotSignal) -> Bool {
        if case .nominal(let before) = old, case .nominal(let after) = new { return after > before }
        return false
    }

    /// Returns whether it commanded the hardware.
    mutating func applyOutputs(_ evseID: String) -> Bool {
        guard let evse = evseConfiguration(evseID), var state = states[evseID] else { return false }
        var commanded = false
        state.statusCode = StationLimits.derivedStatus(state)
        state.rcdError = state.faults.contains(.rcdTripped)
        // The external setpoint's valid time ran out: back to the safe current.
        if let expiry = state.externalSetpointExpiry, lastTime >= expiry {
            state.externalSetpoint = nil
            state.externalSetpointExpiry = nil
        }
        state.externalSetpointLimit = StationLimits.setpointLimit(evse, setpoints: configuration.setpoints, state: state)
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
        let signal = StationLimits.pilotSignal(evse, state: current)
        let active = current.activeConnectorID
        for connector in current.connectors {
            let wanted: PilotSignal = connector.id == active ? signal : (Self.isForced(signal) ? signal : .off)
            guard connector.signal != wanted, let index = current.connectors.firstIndex(where: { $0.id == connector.id }) else { continue }
            let adjustment = Self.isAdjustment(from: connector.signal, to: wanted)
            if adjustment, Self.isIncrease(from: connector.signal, to: wanted), let adjustedAt = connector.signalAdjustedAt,
               lastTime - adjustedAt < PWMEncoding.adjustmentInterval
            {
                // Coalesced: a later tick offers the higher current, at whatever it is then.
                continue
            }
            states[evseID]?.connectors[index].signal = wanted
            states[evseID]?.connectors[index].signalAdjustedAt = adjustment ? lastTime : nil
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
            let limit = StationLimits.offeredCurrent(evse, state: latest)
            if currentLimits[evseID] != limit {
                currentLimits[evseID] = limit
                hardware.setCurrentLimit(evseID: evseID, current: limit)
            }
        }

        // A socket that no session holds any more unlocks once the contactor is open.
        if releaseSocketLocks(evseID) { commanded = true }

        // Close last, once the pilot says so (a socket locked first).
        if states[evseID]?.contactorClosed == false, policy.autoCloseContactor, contactorRefusal(evseID, automatic: true) == nil {
            switch engageSocketLock(evseID) {
            case .engaged:
                setContactorState(evseID, closed: true)
                commanded = true
            case .commanded:
                commanded = true
            case .waiting:
                break
            }
        }
        return commanded
    }

    /// The contactor must open now: a rule keeps it open, unless a switching sequence waits for the
    /// EV to stop drawing current after the PWM went off.
    func mustOpen(_ evseID: String) -> Bool {
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
    func holdsForPhaseSwitch(_ evseID: String) -> Bool {
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
    /// F and E are shown on every connector of the EVSE.
    static func isForced(_ signal: PilotSignal) -> Bool { signal == .fault || signal == .error }

    mutating func setContactorState(_ evseID: String, closed: Bool) {
        guard states[evseID]?.contactorClosed != closed else { return }
        states[evseID]?.contactorClosed = closed
        hardware.setContactor(evseID: evseID, closed: closed)
        if !closed, states[evseID]?.dcOutput != nil {
            states[evseID]?.dcOutput = nil
            hardware.stopDCOutput(evseID: evseID)
        }
        if closed, meters[evseID]?.lastNotification == nil { meters[evseID]?.lastNotification = lastTime }
        if hardware.confirmsContactor {
            // Announced once the hardware confirms it (`contactorReported`), supervised until then.
            let confirmed = states[evseID]?.contactorConfirmed
            states[evseID]?.contactorCommandedAt = confirmed == closed ? nil : lastTime
        } else {
            announceContactor(evseID, closed: closed)
        }
    }

    /// `.contactorChanged`, remembering whether an opening came under load.
    mutating func announceContactor(_ evseID: String, closed: Bool) {
        if !closed, let state = states[evseID] {
            let level = state.activeConnectorID.flatMap { state.connector($0)?.level }
            states[evseID]?.lastOpeningUnderLoad = level == .c || level == .d
        }
        emit(.contactorChanged(evseID: evseID, closed: closed))
    }

    mutating func reportPilot(_ evseID: String, connectorID: Int) {
        guard let connector = states[evseID]?.connector(connectorID) else { return }
        let report = PilotReport(state: connector.pilotState, duty: connector.signal.dutyCycle)
        guard reportedPilots[evseID]?[connectorID] != report else { return }
        reportedPilots[evseID]?[connectorID] = report
        emit(.cpStateChanged(evseID: evseID, connectorID: connectorID, state: report.state, duty: report.duty))
    }

    /// The contactor rules. `automatic`: also honour an explicit "hold open".
    func contactorRefusal(_ evseID: String, automatic: Bool) -> ContactorRefusal? {
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
        let authorized = (policy.freeVend && !connector.reserved) || state.authorization.isAccepted
            || (state.transaction?.token != nil && !state.transactionStopped)
            || (policy.trustJosevAuthorization && (state.hlcCharging || dcPhase))
        guard authorized else { return .notAuthorized }
        if state.chargingStopped { return .chargingStopped }
        if automatic, state.heldOpen { return .heldOpen }
        return nil
    }

    mutating func process(_ event: HardwareEvent) {
        switch event {
        case .pilotLevel(let evseID, let connectorID, let level):
            guard let state = states[evseID], let index = state.connectors.firstIndex(where: { $0.id == connectorID }) else { return }
            let previousActive = state.activeConnectorID
            let wasPlugged = state.connectors[index].level != .a
            if state.connectors[index].level == .a, level == .b || level == .c || level == .d {
                states[evseID]?.connectors[index].plugIns &+= 1
            }
            states[evseID]?.connectors[index].level = level
            if wasPlugged, level == .a, previousActive == connectorID {
                // The EV left: the pilot goes off with it (A1, never an A2 blip).
                evSideDisconnected(evseID)
                for kind in states[evseID]?.faults.filter(\.endsWithSession).sorted() ?? [] { removeFault(kind, evseID: evseID) }
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
            // The cable left while the pilot is held at F (the CP cannot see it): the session's faults end too.
            if !connected, states[evseID]?.connector(connectorID)?.level == .f {
                for kind in states[evseID]?.faults.filter(\.endsWithSession).sorted() ?? [] { removeFault(kind, evseID: evseID) }
            }
        case .fault(let evseID, let kind):
            raiseFault(kind, evseID: evseID)
        case .faultCleared(let evseID, let kind):
            // A latched fault is never cleared by the hardware (only by a person: `clearLatchedFault`).
            guard !kind.isLatched else { return }
            removeFault(kind, evseID: evseID)
        case .card(let uid, let evseID):
            if let target = cardTarget(evseID) { _ = presentToken(.rfid(uid), evseID: target) }
        case .lock(let evseID, let connectorID, let lock):
            lockConfirmed(evseID, connectorID: connectorID, lock)
            updateCable(evseID, connectorID: connectorID) { $0.lock = lock }
            if lock == .error { raiseFault(.lockFailure, evseID: evseID) }
        case .contactor(let evseID, let closed):
            contactorReported(evseID, closed: closed)
        case .eventsQueued:
            break  // `settle` drains them
        }
    }

    static func request(for signal: PilotSignal) -> PilotRequest {
        switch signal {
        case .off: .off
        case .nominal(let current): .nominal(requested: current)
        case .digital: .digital
        case .error: .error
        case .fault: .fault
        }
    }

    mutating func updateCable(_ evseID: String, connectorID: Int, _ change: (inout CableInfo) -> Void) {
        guard let index = states[evseID]?.connectors.firstIndex(where: { $0.id == connectorID }),
              var cable = states[evseID]?.connectors[index].cable else { return }
        let before = cable
        change(&cable)
        guard cable != before else { return }
        states[evseID]?.connectors[index].cable = cable
        emit(.cableInfo(evseID: evseID, connectorID: connectorID, info: cable))
    }
}
