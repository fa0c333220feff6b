/// The connection timeout (OCPP `TxCtrlr.EVConnectionTimeOut`, classic `ConnectionTimeOut`): an
/// authorization given before any EV is plugged in — a remote start, a card at the reader, a
/// transaction Josev started on authorization — waits at most `StationPolicy.connectionTimeout`
/// for the EV. After it the authorization is dropped (the next car does not charge on that token),
/// a transaction started for it no longer authorizes charging, and `.connectionTimedOut` tells the
/// daemon, which tells Josev (`authorization` update `deauthorized`).
extension StationCore {
    /// An authorization was accepted or a transaction started on `evseID`: with no EV plugged in,
    /// the connection timer starts; with one, nothing waits.
    mutating func armConnectionTimer(_ evseID: String) {
        guard let state = states[evseID] else { return }
        states[evseID]?.transactionStopped = false
        states[evseID]?.awaitingPlugInSince = state.activeConnectorID == nil ? lastTime : nil
    }

    /// Drops the authorizations whose EV did not come within the timeout. Called by `tick`.
    mutating func expireConnectionTimeouts() {
        for id in evseIDs {
            guard let state = states[id], let since = state.awaitingPlugInSince else { continue }
            let stillWanted = state.authorization.isAccepted || (state.transaction != nil && !state.transactionStopped)
            if state.activeConnectorID != nil || !stillWanted {
                states[id]?.awaitingPlugInSince = nil
                continue
            }
            guard let timeout = policy.connectionTimeout, lastTime - since >= timeout else { continue }
            states[id]?.awaitingPlugInSince = nil
            states[id]?.authorization = .none
            if state.transaction != nil { states[id]?.transactionStopped = true }
            emit(.connectionTimedOut(evseID: id, token: state.authorization.token ?? state.transaction?.token, transactionID: state.transaction?.id))
        }
    }

    /// The EV left (pilot back to A). StopTxOnEVSideDisconnect (default): the session's
    /// authorization ends with it and its transaction no longer authorizes charging; otherwise
    /// the authorization stays and the EV has the connection timeout to come back.
    mutating func evSideDisconnected(_ evseID: String) {
        guard let state = states[evseID] else { return }
        let authorization = state.authorization
        states[evseID]?.endSession()
        if policy.stopTransactionOnEVSideDisconnect {
            if state.transaction != nil { states[evseID]?.transactionStopped = true }
            states[evseID]?.awaitingPlugInSince = nil
        } else {
            if authorization.isAccepted { states[evseID]?.authorization = authorization }
            if authorization.isAccepted || state.transaction != nil { states[evseID]?.awaitingPlugInSince = lastTime }
        }
    }
}
