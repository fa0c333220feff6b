import JosevContract

/// The pure derivations: configuration + dynamic state → status, pilot signal and limits. No
/// time, no hardware, no notifications; the engine (`StationCore.settle`) applies what they say.
enum StationLimits {
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
