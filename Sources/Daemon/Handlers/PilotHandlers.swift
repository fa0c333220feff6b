import JosevContract
import Logging
import Station

// Contract §2.2, control pilot, SLAC, connector: cp_pwm, slac_status, cs_connector,
// connector_and_charging.

extension CPPWMRequest: RequestHandling {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        let result = await context.station.applyPWM(
            evseID: evseID, hlc: hlc, current: current, errorState: errorState, faultState: faultState)
        let response: CPPWMResponse
        switch result {
        case .applied(let signal):
            response = CPPWMResponse(evseID: evseID, status: .valid, info: "\(signal)")
        case .limited(let signal, let requested):
            response = CPPWMResponse(evseID: evseID, status: .valid, info: "requested \(requested) A, applied \(signal)")
        case .rejected(.unknownEVSE):
            response = CPPWMResponse(evseID: evseID, status: .invalid, info: "unknown EVSE")
        case .rejected(.invalidCurrent(let current)):
            response = CPPWMResponse(evseID: evseID, status: .invalid, info: "current \(current) A cannot be signalled")
        case .rejected(.faulted(let kind)):
            response = CPPWMResponse(evseID: evseID, status: .error, info: "fault: \(kind.rawValue)")
        }
        return context.respond(response)
    }
}

extension SLACStatusUpdate: UpdateHandling {
    func consume(in context: HandlerContext, _ message: IncomingMessage) async {
        context.logger.info("SLAC \(status.rawValue) on \(evseID)", metadata: ["evse_id": "\(evseID)"])
    }
}

extension CsConnectorRequest: RequestHandling {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        let lockAction: ConnectorLockAction =
            switch action {
            case .lock: .lock
            case .unlock: .unlock
            case .status: .status
            }
        let result = await context.station.connectorLock(evseID: evseID, connectorID: connectorID, action: lockAction)
        let status = LockStatus(rawValue: result.state.rawValue) ?? .unknown
        switch result {
        case .done:
            return context.respond(CsConnectorResponse(evseID: evseID, connectorID: connectorID, status: status))
        case .refusedWhileEnergized:
            return context.respond(
                CsConnectorResponse(evseID: evseID, connectorID: connectorID, status: status, info: "refused while the contactor is closed"))
        case .refusedWhileSessionRuns:
            return context.respond(
                CsConnectorResponse(
                    evseID: evseID, connectorID: connectorID, status: status,
                    info: "refused while a session runs on the connector (stop it first)"))
        case .unknownConnector:
            return context.respond(CsConnectorResponse(evseID: evseID, connectorID: connectorID, status: .error, info: "unknown connector"))
        }
    }
}

/// Reservations (OCPP ReserveNow / CancelReservation) reach the CS only as the connector status
/// Josev reports in `connector_and_charging`: `reserved` marks the connector reserved; any other
/// status (`available` after a cancellation or expiry, `occupied` when the reservation's driver
/// arrived, `unavailable`, `faulted`) ends it. The contract carries no expiry time: Josev expires
/// reservations itself, and the station drops one it never heard the end of after
/// `authorization.reservation_timeout` (see docs/BACKOFFICE.md). Reserved connectors are stored
/// and restored after a restart (`StatePersistence`), since Josev does not report them again.
extension ConnectorAndChargingUpdate: UpdateHandling {
    func consume(in context: HandlerContext, _ message: IncomingMessage) async {
        let logger = context.logger
        guard let status = connectorStatus else {
            logger.debug("connector_and_charging \(evseID)/\(connectorID): charging \(chargingStatus?.rawValue ?? "-")")
            return
        }
        if connectorID == 0 {
            await reserveWholeEVSE(status, in: context)
            return
        }
        switch await context.station.setReserved(status == .reserved, evseID: evseID, connectorID: connectorID) {
        case nil:
            logger.notice("connector_and_charging for unknown connector \(evseID)/\(connectorID) ignored")
        case false?:
            logger.debug("connector_and_charging \(evseID)/\(connectorID): \(status.rawValue)")
            if status != .reserved { context.sessions?.reservationNotHeld(evseID: evseID, connectorID: connectorID) }
        case true?:
            break  // logged with the station's notification (JosevAnnouncer)
        }
    }

    /// Connector 0 (OCPP 1.6 ReserveNow on connector 0, an EVSE reserved as a whole): every
    /// connector of the EVSE is reserved (or freed) the same way, so the reservation's driver finds
    /// whichever connector free and no one else starts there.
    private func reserveWholeEVSE(_ status: ConnectorStatus, in context: HandlerContext) async {
        let connectors = await context.station.state(of: evseID)?.connectors.map(\.id) ?? []
        guard !connectors.isEmpty else {
            context.logger.notice("connector_and_charging for unknown EVSE \(evseID) (connector 0) ignored")
            return
        }
        context.logger.info(
            "connector_and_charging \(evseID)/0 \(status.rawValue): the whole EVSE (connectors \(connectors.map(String.init).joined(separator: ", ")))",
            metadata: ["evse_id": "\(evseID)"])
        for id in connectors {
            let changed = await context.station.setReserved(status == .reserved, evseID: evseID, connectorID: id)
            if changed == false, status != .reserved { context.sessions?.reservationNotHeld(evseID: evseID, connectorID: id) }
        }
    }
}
