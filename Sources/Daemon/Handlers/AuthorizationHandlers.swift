import JosevContract
import Logging
import Station

// Contract §2.4, authorization, transactions, stop: authorization (update, and the response to the
// CS's request), process_authorized_token, transaction_status, stop_charging. (cost_updated and
// display_and_personal_msg are consumed without action.)

extension AuthorizationUpdate: UpdateHandling {
    /// Josev's decision on a token (OCPP's, or a remote start).
    func consume(in context: HandlerContext, _ message: IncomingMessage) async {
        let token = ChargingToken(josevID: idToken, josevType: tokenType.rawValue)
        let decision = AuthorizationDecision(rawValue: status.rawValue) ?? .rejected
        await context.station.authorize(evseID: evseID, token: token, decision: decision)
    }
}

extension AuthorizationResponse: ResponseHandling {
    /// Josev's answer to an `authorization` request the CS sent for a local token.
    func consume(in context: HandlerContext, answering pending: PendingRequest) async {
        guard case .authorization(let evseID, let token) = pending.context else { return }
        let decision = AuthorizationDecision(rawValue: status.rawValue) ?? .rejected
        context.logger.info("authorization of \(token.redacted) on \(evseID): \(status.rawValue)", metadata: ["evse_id": "\(evseID)"])
        await context.station.authorize(evseID: evseID, token: token, decision: decision)
    }
}

extension ProcessAuthorizedTokenRequest: RequestHandling {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        let token = ChargingToken(josevID: idToken, josevType: tokenType.rawValue)
        let taken = await context.station.authorize(evseID: evseID, token: token, decision: .accepted)
        return context.respond(ProcessAuthorizedTokenResponse(status: taken ? .accepted : .discarded, evseID: evseID))
    }
}

extension TransactionStatusUpdate: UpdateHandling {
    func consume(in context: HandlerContext, _ message: IncomingMessage) async {
        let station = context.station
        let evse: String
        if let evseID {
            evse = evseID
        } else if let first = await station.configuration.evses.first?.evseID {
            evse = first
        } else {
            return
        }
        // Matched by transaction id: an update about a transaction that is not the EVSE's running
        // one changes nothing (a foreign or stale id must not end the running session).
        let running = await station.state(of: evse)?.transaction?.id
        switch status {
        case .started:
            guard running != transactionID else {
                context.logger.info("transaction \(transactionID) already running on \(evse): repeated start ignored", metadata: ["evse_id": "\(evse)"])
                return
            }
            let token = idToken.map { ChargingToken(josevID: $0, josevType: tokenType?.rawValue) }
            await station.startTransaction(evseID: evse, transactionID: transactionID, token: token)
            await context.sessions?.transactionStarted(evseID: evse, transactionID: transactionID, token: token)
            context.logger.info("transaction \(transactionID) started on \(evse)", metadata: ["evse_id": "\(evse)"])
        case .inProgress:
            if running != transactionID { logUnknown(transactionID, evse, running, in: context) }
        case .ended:
            // The recorder matches the id itself: a session continued after a restart has a
            // transaction the station no longer runs.
            await context.sessions?.transactionEnded(evseID: evse, transactionID: transactionID)
            guard running == transactionID else {
                logUnknown(transactionID, evse, running, in: context)
                return
            }
            let ended = await station.endTransaction(transactionID: transactionID, evseID: evse)
            let energy = ended.flatMap { t in t.energyAtEndWh.map { $0 - t.energyAtStartWh } }
            let delivered = energy.map { $0 < 1000 ? ", \(($0 * 10).rounded() / 10) Wh" : ", \(($0 / 100).rounded() / 10) kWh" } ?? ""
            context.logger.info("transaction \(transactionID) ended on \(evse)\(delivered)", metadata: ["evse_id": "\(evse)"])
        }
    }

    private func logUnknown(_ transactionID: String, _ evse: String, _ running: String?, in context: HandlerContext) {
        let current = running.map { "the running one is \($0)" } ?? "none is running"
        context.logger.notice(
            "ignored transaction_status \(status.rawValue) for transaction \(transactionID) on \(evse): \(current)", metadata: ["evse_id": "\(evse)"])
    }
}

extension StopChargingRequest: RequestHandling {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        let outcome = await context.station.stopCharging(evseID: evseID)
        return context.respond(StopChargingResponse(evseID: evseID, status: outcome == .accepted ? .accepted : .rejected))
    }
}
