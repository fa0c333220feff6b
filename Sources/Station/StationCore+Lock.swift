/// The socket lock during a session. On a connector configured as a socket (not a tethered cable)
/// the station locks the cable in before the contactor closes, keeps it locked while the session
/// runs (a pause of the EV, a transaction waiting for its EV to ask again), and unlocks it once the
/// contactor is open and the session is over (stopped, ended, the EV left). A lock the hardware
/// does not confirm is not assumed: the contactor waits for the confirmation, and one that does
/// not come within `contactorConfirmationTimeout` (or an `error`) is a `lock_failure`, which keeps
/// the contactor open and is reported like any fault.
extension StationCore {
    enum SocketLockProgress: Equatable {
        /// Locked (confirmed), or no lock to engage: the contactor may close.
        case engaged
        /// The lock was commanded now (or failed now): something changed.
        case commanded
        /// A command waits for the hardware's confirmation.
        case waiting
    }

    /// The index of the connector in use on `evseID` when it is a socket.
    func socketInUse(_ evseID: String) -> Int? {
        guard let evse = evseConfiguration(evseID), let state = states[evseID], let id = state.activeConnectorID,
              evse.connectors.first(where: { $0.id == id })?.socket == true else { return nil }
        return state.connectors.firstIndex { $0.id == id }
    }

    /// Locks the socket in use before the contactor closes.
    mutating func engageSocketLock(_ evseID: String) -> SocketLockProgress {
        guard let index = socketInUse(evseID), let connector = states[evseID]?.connectors[index] else { return .engaged }
        if connector.cable.lock == .locked {
            states[evseID]?.connectors[index].lockedByStation = true
            return .engaged
        }
        if connector.lockCommandedAt != nil { return .waiting }
        states[evseID]?.connectors[index].lockedByStation = true
        let reached = hardware.setConnectorLock(evseID: evseID, connectorID: connector.id, locked: true)
        switch reached {
        case .locked:
            updateCable(evseID, connectorID: connector.id) { $0.lock = .locked }
            return .engaged
        case .error:
            updateCable(evseID, connectorID: connector.id) { $0.lock = .error }
            raiseFault(.lockFailure, evseID: evseID)
            return .commanded
        case .unlocked, .unknown:
            states[evseID]?.connectors[index].lockCommandedAt = lastTime
            return .commanded
        }
    }

    /// The hardware reported a lock state: a pending command is answered.
    mutating func lockConfirmed(_ evseID: String, connectorID: Int, _ lock: ConnectorLockState) {
        guard let index = states[evseID]?.connectors.firstIndex(where: { $0.id == connectorID }),
              states[evseID]?.connectors[index].lockCommandedAt != nil, lock == .locked || lock == .error else { return }
        states[evseID]?.connectors[index].lockCommandedAt = nil
    }

    /// A lock command the hardware did not confirm within `contactorConfirmationTimeout`: a
    /// `lock_failure` (the contactor stays open). Called by `tick`.
    mutating func superviseSocketLocks() {
        for id in evseIDs {
            for (index, connector) in (states[id]?.connectors ?? []).enumerated() {
                guard let since = connector.lockCommandedAt, lastTime - since >= policy.contactorConfirmationTimeout else { continue }
                states[id]?.connectors[index].lockCommandedAt = nil
                updateCable(id, connectorID: connector.id) { $0.lock = .error }
                raiseFault(.lockFailure, evseID: id)
            }
        }
    }

    /// Whether the session still holds the socket `connector` of `state` locked.
    func sessionHoldsLock(_ connector: ConnectorState, of state: EVSEState) -> Bool {
        // Commanded closed, or not yet confirmed open: the pins may be live.
        if state.contactorClosed || state.contactorConfirmed == true { return true }
        if connector.level != .a, connector.id == state.activeConnectorID {
            return !state.chargingStopped
                && ((state.transaction != nil && !state.transactionStopped) || state.authorization.isAccepted || policy.freeVend)
        }
        // The EV left with the cable still in the socket (UnlockConnectorOnEVSideDisconnect false).
        return !policy.unlockConnectorOnEVSideDisconnect && connector.cable.connected && state.transaction != nil
    }

    /// Unlocks the sockets the station locked for a session that no longer holds them. Returns
    /// whether it commanded the hardware.
    mutating func releaseSocketLocks(_ evseID: String) -> Bool {
        guard let state = states[evseID] else { return false }
        var commanded = false
        for (index, connector) in state.connectors.enumerated() where connector.lockedByStation {
            guard !sessionHoldsLock(connector, of: state) else { continue }
            states[evseID]?.connectors[index].lockedByStation = false
            states[evseID]?.connectors[index].lockCommandedAt = nil
            let reached = hardware.setConnectorLock(evseID: evseID, connectorID: connector.id, locked: false)
            // Unconfirmed (`unknown`): the state stays what the hardware last reported until it reports the change.
            if reached != .unknown { updateCable(evseID, connectorID: connector.id) { $0.lock = reached } }
            commanded = true
        }
        return commanded
    }
}
