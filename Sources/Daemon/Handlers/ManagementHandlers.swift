import JosevContract
import Logging
import Station
import Store

// Contract §2.6, OCPP-driven management: change_availability, reset, set_variable_validate,
// generate_csr. (update_firmware and upload_logs: BackOfficeHandlers.swift; data_transfer and
// ocpp_message: OCPPHandlers.swift; certificate_installation_status is consumed without action.)

extension ChangeAvailabilityRequest: RequestHandling {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        let scope: AvailabilityScope
        if let evseID {
            guard !message.foreignEVSE else { return context.respond(ChangeAvailabilityResponse(status: .rejected)) }
            scope = connectorID.map { .connector(evseID: evseID, connectorID: $0) } ?? .evse(evseID)
        } else {
            scope = .station
        }
        let result = await context.station.changeAvailability(scope, operative: operationalStatus == .operative)
        context.logger.info("change_availability \(scope) → \(operationalStatus.rawValue): \(result.rawValue)")
        return context.respond(ChangeAvailabilityResponse(status: result == .rejected ? .rejected : .accepted))
    }
}

/// The contract's `reset` carries `evse_id` only (OCPP's Immediate / OnIdle stays in Josev): a
/// session Josev has stopped (`stop_charging`, `transaction_status ended`, a deauthorization) is
/// ended with the reset at once (Immediate); one still running schedules it until idle (OnIdle,
/// answered `accepted`: the contract has no `scheduled`). Then `reset.command` /
/// `reset.evse_command` runs (`StationResetter`, docs/BACKOFFICE.md).
extension ResetRequest: RequestHandling {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        if evseID != nil, message.foreignEVSE { return context.respond(ResetResponse(status: .rejected)) }
        let result: StationResetResult
        if let resetter = context.backOffice?.reset {
            result = await resetter.reset(evseID: evseID)
        } else {
            result = await context.station.reset(evseID: evseID, immediate: false)
        }
        context.logger.info("reset \(evseID ?? "station"): \(result.rawValue)")
        return context.respond(ResetResponse(status: result == .rejected ? .rejected : .accepted))
    }
}

extension SetVariableValidateRequest: RequestHandling {
    /// Judged by the device-model store's rules and pacing; accepted changes are applied (or kept
    /// for the restart) before the answer goes out. The store logs the outcome with its reason.
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        context.respond(SetVariableValidateResponse(result: await validate(context)))
    }

    private func validate(_ context: HandlerContext) async -> AcceptanceStatus {
        let logger = context.logger
        let key = DeviceVariableKey(
            component: component.name, componentInstance: component.instance ?? "",
            evseID: component.evseID ?? "", connectorID: component.connectorID ?? 0,
            variable: variable.name, variableInstance: variable.instance ?? "")
        if let evseID = component.evseID, await !context.station.owns(evseID: evseID) {
            logger.notice("set_variable_validate \(key) rejected: unknown EVSE \(evseID)")
            return .rejected
        }
        if let attribute = attributeType, attribute != .actual {
            logger.notice(
                "set_variable_validate \(key) rejected: \(VariableRejection.unsupportedAttribute("only Actual values are kept, not \(attribute.rawValue)"))")
            return .rejected
        }
        guard let deviceModel = context.deviceModel else {
            logger.notice("set_variable_validate \(key) rejected: unknown (no device_model variables are configured)")
            return .rejected
        }
        return deviceModel.propose(key, value: attributeValue, source: .josev).accepted ? .accepted : .rejected
    }
}

extension GenerateCSRRequest: RequestHandling {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        context.logger.notice("generate_csr rejected: the station has no key store for CSRs yet")
        return context.respond(GenerateCSRResponse(status: .rejected, csr: ""))
    }
}
