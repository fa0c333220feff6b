import JosevContract

/// Tokens, Josev's authorization decisions, OCPP transactions and `stop_charging`.
extension StationCore {
    /// A token was presented for an EVSE: accepted at once when it is on the local list, otherwise
    /// Josev is asked (`.authorizationRequested`).
    mutating func requestAuthorization(evseID: String, token: ChargingToken) -> AuthorizationOutcome {
        guard states[evseID] != nil else { return .unknownEVSE }
        let before = beginOperation()
        defer { endOperation(since: before) }
        return presentToken(token, evseID: evseID)
    }

    /// An RFID card was read (on the EVSE's reader; nil: the station's shared reader picks the EVSE
    /// waiting for one).
    mutating func rfid(uid: String, evseID: String? = nil) -> AuthorizationOutcome {
        guard let target = cardTarget(evseID) else { return .unknownEVSE }
        let before = beginOperation()
        defer { endOperation(since: before) }
        return presentToken(.rfid(uid), evseID: target)
    }

    /// Josev's decision about a token (`authorization` response or update). Without an EVSE id it
    /// applies to the EVSE that waits for that token. False when no EVSE fits.
    mutating func authorize(evseID: String?, token: ChargingToken?, decision: AuthorizationDecision) -> Bool {
        let target: String?
        if let evseID {
            target = states[evseID] != nil ? evseID : nil
        } else {
            target = evseIDs.first { id in
                guard case .pending(let pending) = states[id]?.authorization else { return false }
                return token == nil || token?.id == pending.id
            } ?? (evseIDs.count == 1 ? evseIDs.first : nil)
        }
        guard let target else { return false }
        let before = beginOperation()
        defer { endOperation(since: before) }
        let known = token ?? states[target]?.authorization.token ?? ChargingToken(id: "", type: .central)
        let state: EVSEAuthorization
        switch decision {
        case .accepted:
            state = .accepted(known)
            states[target]?.chargingStopped = false
            states[target]?.heldOpen = false
        case .rejected:
            state = .rejected(known)
        case .deauthorized:
            state = .none
            stopCharging(target)
        }
        states[target]?.authorization = state
        if decision == .accepted { armConnectionTimer(target) }
        emit(.authorizationChanged(evseID: target, state: state, local: false))
        return true
    }

    /// `transaction_status` `started` / `in_progress`: records the transaction (idempotent for the same id).
    mutating func startTransaction(evseID: String, transactionID: String, token: ChargingToken? = nil) -> Bool {
        guard states[evseID] != nil else { return false }
        let before = beginOperation()
        defer { endOperation(since: before) }
        if states[evseID]?.transaction?.id == transactionID {
            if let token { states[evseID]?.transaction?.token = token }
            return true
        }
        let energy = meters[evseID]?.energyImportedWh ?? 0
        states[evseID]?.transaction = StationTransaction(
            id: transactionID, evseID: evseID, startedAt: lastTime, token: token, energyAtStartWh: energy)
        states[evseID]?.chargingStopped = false
        states[evseID]?.heldOpen = false
        armConnectionTimer(evseID)
        return true
    }

    /// `transaction_status` `ended`: opens the contactor, ends the session's authorization, and
    /// returns the ended transaction (nil when unknown).
    mutating func endTransaction(transactionID: String, evseID: String? = nil) -> StationTransaction? {
        guard let target = evseIDs.first(where: { id in
            states[id]?.transaction?.id == transactionID && (evseID == nil || evseID == id)
        }) else { return nil }
        let before = beginOperation()
        defer { endOperation(since: before) }
        guard var transaction = states[target]?.transaction else { return nil }
        transaction.endedAt = lastTime
        transaction.energyAtEndWh = meters[target]?.energyImportedWh
        states[target]?.transaction = nil
        states[target]?.authorization = .none
        stopCharging(target)
        return transaction
    }

    /// `stop_charging`: opens the contactor and pauses a basic-charging PWM; stays stopped until a
    /// new authorization, transaction, HLC request or plug-in.
    mutating func stopCharging(evseID: String) -> StopChargingOutcome {
        guard states[evseID] != nil else { return .rejected }
        let before = beginOperation()
        defer { endOperation(since: before) }
        stopCharging(evseID)
        return .accepted
    }

    mutating func stopCharging(_ evseID: String) {
        states[evseID]?.chargingStopped = true
        if case .nominal = states[evseID]?.pilotRequest { states[evseID]?.pilotRequest = .off }
    }

    mutating func presentToken(_ token: ChargingToken, evseID: String) -> AuthorizationOutcome {
        if policy.localTokens.contains(token.id), states[evseID]?.reservationApplies != true {
            states[evseID]?.authorization = .accepted(token)
            states[evseID]?.chargingStopped = false
            states[evseID]?.heldOpen = false
            armConnectionTimer(evseID)
            emit(.authorizationChanged(evseID: evseID, state: .accepted(token), local: true))
            return .acceptedLocally
        }
        states[evseID]?.authorization = .pending(token)
        emit(.authorizationRequested(evseID: evseID, token: token))
        return .pending
    }

    /// The EVSE a card on a reader belongs to: the given one, the only one, or the first with a
    /// vehicle and no accepted authorization.
    func cardTarget(_ evseID: String?) -> String? {
        if let evseID { return states[evseID] != nil ? evseID : nil }
        if evseIDs.count == 1 { return evseIDs.first }
        return evseIDs.first { id in
            guard let state = states[id] else { return false }
            return state.activeConnectorID != nil && !state.authorization.isAccepted
        } ?? evseIDs.first
    }
}
