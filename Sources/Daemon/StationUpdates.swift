import JSONSchema
import JosevContract
import Logging
import Station

extension OCPPIdentity {
    /// What `device_model` says when the configuration has no `ocpp` block.
    public static let defaults = OCPPIdentity(
        identity: "", csmsURL: "ws://localhost:9000/", securityProfile: 1, basicAuthPassword: "", configured: false)
}

/// From the station's notifications to the contract's updates (CS → Josev), and the requests
/// the CS makes of Josev.
extension ContractRouter {
    /// Sends a request of the CS and remembers it until Josev answers (or 60 s pass).
    @discardableResult
    func sendRequest(_ payload: some ContractPayload, context: PendingRequest.Context) -> Bool {
        guard let data = encode(payload) else { return false }
        let request = Envelope.request(name: type(of: payload).messageName, data: data)
        let now = ContinuousClock.now
        state.withLock { state in
            state.pending = state.pending.filter { now - $0.value.sentAt < .seconds(60) }
            state.pending[request.id] = PendingRequest(name: request.name, context: context, sentAt: now)
        }
        let sent = send(request)
        if !sent { _ = state.withLock { $0.pending.removeValue(forKey: request.id) } }
        return sent
    }

    /// Publishes an update of the CS.
    @discardableResult
    func sendUpdate(_ payload: some ContractPayload) -> Bool {
        guard let data = encode(payload) else { return false }
        return send(.update(name: type(of: payload).messageName, data: data))
    }

    private func encode(_ payload: some ContractPayload) -> JSONObject? {
        do {
            return try payload.encodedData()
        } catch {
            logger.error("cannot encode \(type(of: payload)): \(error)")
            return nil
        }
    }

    /// One station notification → what Josev must hear.
    public func publish(_ notification: StationNotification) async {
        await handlers.sessions?.observe(notification)
        switch notification {
        case .statusAndLimitsChanged(let evseIDs):
            await publishStatusAndLimits(reason: "changed on \(evseIDs.joined(separator: ", "))")
        case .cpStateChanged(let evseID, let connectorID, let pilot, let duty):
            let previous = state.withLock { state in
                defer { state.pilots[evseID, default: [:]][connectorID] = (pilot, duty) }
                return state.pilots[evseID]?[connectorID]
            }
            // The station re-announces an unchanged state (e.g. on every hlc_charging update):
            // Josev hears it again, the log only when something changed.
            if previous?.0 != pilot || previous?.1 != duty {
                logger.info("CP \(pilot.rawValue) on \(evseID)/\(connectorID), duty \(duty) %", metadata: ["evse_id": "\(evseID)"])
            }
            sendCPStatus(evseID: evseID, connectorID: connectorID, pilot: pilot, duty: duty)
        case .contactorChanged(let evseID, let closed):
            logger.info("contactor \(closed ? "closed" : "opened") on \(evseID)", metadata: ["evse_id": "\(evseID)"])
            sendUpdate(CsContactorStatus(evseID: evseID, status: closed ? .closed : .opened))
        case .authorizationRequested(let evseID, let token):
            logger.info("asking Josev to authorize \(token.redacted) on \(evseID)", metadata: ["evse_id": "\(evseID)"])
            let tokenType = AuthorizationRequestTokenType(rawValue: token.type.rawValue) ?? .local
            sendRequest(
                AuthorizationRequest(tokenType: tokenType, evseID: evseID, idToken: token.id),
                context: .authorization(evseID: evseID, token: token))
        case .authorizationChanged(let evseID, let authorization, let local):
            guard local, let token = authorization.token else { return }
            let status: AuthorizationStatus
            switch authorization {
            case .accepted: status = .accepted
            case .rejected: status = .rejected
            default: return
            }
            logger.info("local authorization of \(token.redacted) on \(evseID): \(status.rawValue)", metadata: ["evse_id": "\(evseID)"])
            sendUpdate(AuthorizationUpdate(
                evseID: evseID, tokenType: TokenType(rawValue: token.type.rawValue) ?? .local, status: status, idToken: token.id))
        case .meterValues(let evseID):
            if let values = await handlers.meterValues(evseID: evseID) { sendUpdate(values) }
        case .hardwareFault(let evseID, let kind):
            logger.warning("hardware fault \(kind.rawValue) on \(evseID)", metadata: ["evse_id": "\(evseID)"])
            sendUpdate(HardwareFaultUpdate(
                evseID: evseID, componentName: "EVSE", faultName: HardwareFault(rawValue: kind.faultName) ?? .other))
        case .hardwareFaultCleared(let evseID, let kind):
            logger.info("hardware fault \(kind.rawValue) cleared on \(evseID)", metadata: ["evse_id": "\(evseID)"])
        case .cableInfo(let evseID, _, let info):
            sendUpdate(CableInfoUpdate(
                evseID: evseID, connectionStatus: info.connected ? .connected : .disconnected,
                ratedCableCurrent: info.ratedCurrent.map { Int($0) }, lock: LockStatus(rawValue: info.lock.rawValue)))
        case .availabilityChanged(let evseID, let connectorID, let operative):
            logger.info(
                "\(evseID)\(connectorID.map { "/\($0)" } ?? "") is now \(operative ? "operative" : "inoperative")",
                metadata: ["evse_id": "\(evseID)"])
            sendUpdate(ChangeAvailabilityUpdate(
                operationalStatus: operative ? .operative : .inoperative, evseID: evseID, connectorID: connectorID))
        case .resetPerformed(let evseIDs):
            logger.info("reset performed on \(evseIDs.joined(separator: ", "))")
        case .reservationChanged(let evseID, let connectorID, let reserved, let expired):
            logReservation(evseID: evseID, connectorID: connectorID, reserved: reserved, expired: expired)
        }
    }

    func sendCPStatus(evseID: String, connectorID: Int, pilot: ControlPilotState, duty: Double?) {
        sendUpdate(CPStatusUpdate(
            evseID: evseID, connectorID: connectorID, state: CPState(rawValue: pilot.rawValue) ?? .f,
            dutyCycle: duty.map { ($0 * 100).rounded() / 100 }))
    }

    /// After every (re)connect: nothing is retained, so Josev hears the whole state again.
    public func republishState(reason: String) async {
        let configuration = await station.configuration
        for evse in configuration.evses {
            for connector in evse.connectors {
                let known = state.withLock { $0.pilots[evse.evseID]?[connector.id] }
                if let known {
                    sendCPStatus(evseID: evse.evseID, connectorID: connector.id, pilot: known.0, duty: known.1)
                } else if let pilot = await station.controlPilot(evseID: evse.evseID, connectorID: connector.id) {
                    sendCPStatus(evseID: evse.evseID, connectorID: connector.id, pilot: pilot, duty: nil)
                }
            }
            if let closed = await station.contactorClosed(evseID: evse.evseID) {
                sendUpdate(CsContactorStatus(evseID: evse.evseID, status: closed ? .closed : .opened))
            }
        }
        await publishStatusAndLimits(force: true, reason: reason)
        handlers.deviceModel?.announceStartChanges()
    }
}
