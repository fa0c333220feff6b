import JosevContract

/// The connector lock and DC: `cable_check` (the insulation test) and `power_electronics_setpoint`.
extension StationCore {
    /// `cs_connector`: locks, unlocks or reads a socket lock. Unlocking while the contactor is closed is refused.
    mutating func connectorLock(evseID: String, connectorID: Int, action: ConnectorLockAction) -> ConnectorLockResult {
        guard let connector = states[evseID]?.connector(connectorID) else { return .unknownConnector }
        if action == .status { return .done(connector.cable.lock) }
        if action == .unlock, pinsMayBeLive(evseID) { return .refusedWhileEnergized(connector.cable.lock) }
        if action == .unlock, let state = states[evseID], connector.lockedByStation, connector.level != .a,
            connector.id == state.activeConnectorID, sessionHoldsLock(connector, of: state)
        {
            return .refusedWhileSessionRuns(connector.cable.lock)
        }
        let before = beginOperation()
        defer { endOperation(since: before) }
        if action == .unlock, let index = states[evseID]?.connectors.firstIndex(where: { $0.id == connectorID }) {
            states[evseID]?.connectors[index].lockedByStation = false
            states[evseID]?.connectors[index].lockCommandedAt = nil
        }
        let reached = hardware.setConnectorLock(evseID: evseID, connectorID: connectorID, locked: action == .lock)
        updateCable(evseID, connectorID: connectorID) { $0.lock = reached }
        if reached == .error, action == .lock { raiseFault(.lockFailure, evseID: evseID) }
        return .done(reached)
    }

    /// `cable_check` (DC): `start` closes the contactor for the insulation test and starts it;
    /// `status` reports progress. `valid`/`warning` keep the contactor closed for pre-charge; any other
    /// result opens it. Without an isolation monitor the result is `no_imd`.
    mutating func cableCheck(evseID: String, action: CableCheckAction) -> CableCheckProgress {
        guard let evse = evseConfiguration(evseID), states[evseID] != nil else { return .failed(.unknownEVSE) }
        guard let dc = evse.dc else { return .failed(.notDC) }
        let before = beginOperation()
        defer { endOperation(since: before) }
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

    /// `power_electronics_setpoint` (DC): the output the EV asks for, within the EVSE's limits.
    mutating func powerElectronicsSetpoint(
        evseID: String, voltage: Double, target: DCTarget, isPrecharge: Bool = false, evMaximumVoltage: Double? = nil
    ) -> SetpointDecision {
        guard let evse = evseConfiguration(evseID), let state = states[evseID] else { return .rejected(.unknownEVSE) }
        guard let dc = evse.dc else { return .rejected(.notDC) }
        guard voltage.isFinite, voltage >= 0, voltage <= dc.maxVoltage, voltage <= (evMaximumVoltage ?? .infinity) else {
            return .rejected(.voltageOutOfRange(voltage))
        }
        guard state.contactorClosed else { return .rejected(.contactorOpen) }
        let maxCurrent = StationLimits.dcMaxCurrent(dc, state: state)
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
        let before = beginOperation()
        defer { endOperation(since: before) }
        states[evseID]?.dcOutput = output
        hardware.setDCOutput(evseID: evseID, voltage: voltage, current: current)
        settle()
        return .accepted(voltage: voltage, current: current)
    }

    // MARK: Cable check

    mutating func pollCableCheck(_ evseID: String) -> CableCheckProgress {
        guard let result = hardware.isolationTestResult(evseID: evseID) else { return .ongoing }
        return finishCableCheck(evseID, result: result)
    }

    mutating func finishCableCheck(_ evseID: String, result: IsolationStatus) -> CableCheckProgress {
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

}
