import JosevContract
import Logging
import Station

// Contract §2.3, the ISO 15118 session: iso15118_state_info, hlc_charging, cs_contactor_status,
// cable_check, power_electronics_setpoint, ev_rated_limits, display_params (the EV's state of
// charge, for the session's periods).

extension ISO15118StateInfoUpdate: UpdateHandling {
    func consume(in context: HandlerContext, _ message: IncomingMessage) async {
        context.logger.debug("ISO 15118 \(sessionStatus.rawValue) on \(evseID)")
        if sessionStatus == .sessionStop { await context.station.sessionStopped(evseID: evseID) }
    }
}

extension DisplayParamsUpdate: UpdateHandling {
    func consume(in context: HandlerContext, _ message: IncomingMessage) async {
        if let presentSOC { context.sessions?.stateOfCharge(evseID: evseID, percent: presentSOC) }
    }
}

extension HLCChargingUpdate: UpdateHandling {
    func consume(in context: HandlerContext, _ message: IncomingMessage) async {
        await context.station.hlcCharging(evseID: evseID, active: status)
    }
}

extension CsContactorStatusRequest: RequestHandling {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        guard let closed = await context.station.contactorClosed(evseID: evseID) else {
            return context.respond(CsContactorStatus(evseID: evseID, status: .error, info: "unknown EVSE"))
        }
        if closed { return context.respond(CsContactorStatus(evseID: evseID, status: .closed)) }
        let refusal = await context.station.contactorRefusal(evseID: evseID)
        return context.respond(CsContactorStatus(evseID: evseID, status: .opened, info: refusal.map { "\($0)" }))
    }
}

extension CableCheckRequest: RequestHandling {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        switch await context.station.cableCheck(evseID: evseID, action: cableCheckAction == .start ? .start : .status) {
        case .ongoing:
            return context.respond(CableCheckResponse(evseID: evseID, cableCheckStatus: .ongoing))
        case .finished(let isolation):
            return context.respond(CableCheckResponse(evseID: evseID, cableCheckStatus: .finished, isolationLevel: isolation))
        case .failed(let failure):
            context.logger.warning("cable_check on \(evseID) failed: \(failure)")
            return context.respond(CableCheckResponse(evseID: evseID, cableCheckStatus: .finished, isolationLevel: .fault))
        }
    }
}

extension PowerElectronicsSetpointRequest: RequestHandling {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        guard let dc else {
            // AC-BPT setpoints: the AC hardware follows the PWM; accept what the EVSE supports.
            let supportsBPT = await context.station.configuration.evses.first { $0.evseID == evseID }?.acBPT != nil
            return context.respond(PowerElectronicsSetpointResponse(evseID: evseID, status: supportsBPT ? .accepted : .rejected))
        }
        let target: DCTarget
        if let current = dc.chargeCurrent {
            target = .chargeCurrent(current)
        } else if let power = dc.chargePower {
            target = .chargePower(power)
        } else if let current = dc.dischargeCurrent {
            target = .dischargeCurrent(current)
        } else if let power = dc.dischargePower {
            target = .dischargePower(power)
        } else {
            target = .chargeCurrent(0)
        }
        let decision = await context.station.powerElectronicsSetpoint(
            evseID: evseID, voltage: dc.voltage, target: target, isPrecharge: isPrecharge ?? false,
            evMaximumVoltage: evLimits.maximumVoltage)
        if case .rejected(let reason) = decision {
            context.logger.notice("power_electronics_setpoint on \(evseID) rejected: \(reason)")
            return context.respond(PowerElectronicsSetpointResponse(evseID: evseID, status: .rejected))
        }
        return context.respond(PowerElectronicsSetpointResponse(evseID: evseID, status: .accepted))
    }
}

extension EVRatedLimitsUpdate: UpdateHandling {
    func consume(in context: HandlerContext, _ message: IncomingMessage) async {
        if let current = acRatedLimits?.maxCurrent ?? dcRatedLimits?.maxChargeCurrent {
            await context.station.setEVMaxCurrent(current, evseID: evseID)
        }
    }
}
