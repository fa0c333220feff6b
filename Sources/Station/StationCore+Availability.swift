import JosevContract

/// Availability (`change_availability`), resets, and the reservations Josev reports; changes
/// that wait for a session to end are carried out by the engine (`applyScheduled`).
extension StationCore {
    /// `change_availability`. Going inoperative while a session runs on an affected EVSE is
    /// scheduled until it ends (as OCPP does); going operative is immediate.
    mutating func changeAvailability(_ scope: AvailabilityScope, operative: Bool) -> AvailabilityChangeResult {
        let affected: [String]
        switch scope {
        case .station:
            affected = evseIDs
        case .evse(let id):
            guard states[id] != nil else { return .rejected }
            affected = [id]
        case .connector(let id, let connectorID):
            guard states[id]?.connector(connectorID) != nil else { return .rejected }
            affected = [id]
        }
        let before = beginOperation()
        defer { endOperation(since: before) }
        if case .station = scope { stationOperative = operative }
        var scheduled = false
        for id in affected {
            guard let state = states[id] else { continue }
            let change = PendingAvailability(scope: scope, operative: operative)
            if !operative, state.sessionActive {
                states[id]?.pendingAvailability.append(change)
                scheduled = true
            } else {
                states[id]?.pendingAvailability.removeAll { $0.scope == scope }
                apply(change, evseID: id)
            }
        }
        settle()
        return scheduled ? .scheduled : .accepted
    }

    /// `reset`: resets the dynamic state (pilot, contactor, authorization, transaction, limits set
    /// from outside, HLC and DC session state) of one EVSE or all. Scheduled while a session runs
    /// that Josev has not stopped (`EVSEState.idleForReset`), unless `immediate`; a stopped
    /// session's rest (the contactor opening, the pilot going off) ends with the reset. The meter
    /// register, availability, faults, reservations and plugged cables stay.
    mutating func reset(evseID: String? = nil, immediate: Bool = false) -> StationResetResult {
        if let evseID, states[evseID] == nil { return .rejected }
        let before = beginOperation()
        defer { endOperation(since: before) }
        let scope = evseID.map { [$0] } ?? evseIDs
        let busy = scope.contains { states[$0]?.idleForReset == false }
        if busy, !immediate {
            if let evseID { states[evseID]?.resetPending = true } else { stationResetPending = true }
            return .scheduled
        }
        performReset(scope, keepingTransactions: !immediate)
        settle()
        return .accepted
    }

    // MARK: Reservations

    /// Josev reports a connector reserved (`true`) or no longer reserved (`false`: available,
    /// occupied, unavailable, faulted; the reservation was used, cancelled or expired). Nil when
    /// the connector is unknown; false when nothing changed.
    mutating func setReserved(_ reserved: Bool, evseID: String, connectorID: Int) -> Bool? {
        guard let index = states[evseID]?.connectors.firstIndex(where: { $0.id == connectorID }) else { return nil }
        guard states[evseID]?.connectors[index].reserved != reserved else { return false }
        let before = beginOperation()
        defer { endOperation(since: before) }
        states[evseID]?.connectors[index].reserved = reserved
        states[evseID]?.connectors[index].reservedSince = reserved ? lastTime : nil
        emit(.reservationChanged(evseID: evseID, connectorID: connectorID, reserved: reserved, expired: false))
        return true
    }

    /// At start: a reservation the previous run of the daemon kept, reported `age` ago (Josev
    /// does not report it again). Restored without a notification (nothing changed for Josev), its
    /// `reservationTimeout` counted from the original report; false, and nothing restored, when
    /// that time already passed; nil when the connector is unknown. A connector already reserved
    /// keeps its (newer) reservation.
    mutating func restoreReservation(evseID: String, connectorID: Int, age: Duration) -> Bool? {
        guard let index = states[evseID]?.connectors.firstIndex(where: { $0.id == connectorID }) else { return nil }
        if let timeout = policy.reservationTimeout, age >= timeout { return false }
        guard states[evseID]?.connectors[index].reserved == false else { return true }
        let before = beginOperation()
        defer { endOperation(since: before) }
        states[evseID]?.connectors[index].reserved = true
        states[evseID]?.connectors[index].reservedSince = lastTime + (.zero - max(.zero, age))
        return true
    }

    /// Drops reservations older than `policy.reservationTimeout`.
    mutating func expireReservations() {
        guard let timeout = policy.reservationTimeout else { return }
        for id in evseIDs {
            for (index, connector) in (states[id]?.connectors ?? []).enumerated() {
                guard connector.reserved, let since = connector.reservedSince, lastTime - since >= timeout else { continue }
                states[id]?.connectors[index].reserved = false
                states[id]?.connectors[index].reservedSince = nil
                emit(.reservationChanged(evseID: id, connectorID: connector.id, reserved: false, expired: true))
            }
        }
    }

    /// `keepingTransactions`: a transaction Josev stopped but has not ended yet stays recorded
    /// (Josev's `transaction_status ended` still closes it) without authorizing anything.
    mutating func performReset(_ evseIDs: [String], keepingTransactions: Bool = true) {
        for id in evseIDs {
            guard var state = states[id] else { continue }
            state.endSession()
            if keepingTransactions, state.transaction != nil {
                state.transactionStopped = true
                state.chargingStopped = true  // still stopped: a later reset need not wait for Josev's end of it
            } else {
                state.transaction = nil
            }
            state.awaitingPlugInSince = nil
            state.externalCurrentLimit = nil
            state.externalSetpoint = nil
            state.externalSetpointExpiry = nil
            state.resetPending = false
            // A running phase switch goes on (the contactor opens, the dwell passes, the phases
            // switch); with the pilot request reset, nothing resumes after it.
            if state.dcOutput != nil {
                state.dcOutput = nil
                hardware.stopDCOutput(evseID: id)
            }
            states[id] = state
        }
        emit(.resetPerformed(evseIDs: evseIDs))
    }

    /// Carries out availability changes and resets whose session ended. Returns whether it did something.
    mutating func applyScheduled() -> Bool {
        var did = false
        for id in evseIDs {
            guard let state = states[id] else { continue }
            if !state.sessionActive, !state.pendingAvailability.isEmpty {
                states[id]?.pendingAvailability = []
                for change in state.pendingAvailability { apply(change, evseID: id) }
                did = true
            }
            if state.resetPending, state.idleForReset {
                performReset([id])
                did = true
            }
        }
        if stationResetPending, !evseIDs.contains(where: { states[$0]?.idleForReset == false }) {
            stationResetPending = false
            performReset(evseIDs)
            did = true
        }
        return did
    }

    mutating func apply(_ change: PendingAvailability, evseID: String) {
        guard let state = states[evseID] else { return }
        switch change.scope {
        case .station:
            guard state.stationOperative != change.operative else { return }
            states[evseID]?.stationOperative = change.operative
            emit(.availabilityChanged(evseID: evseID, connectorID: nil, operative: change.operative))
        case .evse:
            guard state.operative != change.operative else { return }
            states[evseID]?.operative = change.operative
            emit(.availabilityChanged(evseID: evseID, connectorID: nil, operative: change.operative))
        case .connector(_, let connectorID):
            guard let index = state.connectors.firstIndex(where: { $0.id == connectorID }),
                  state.connectors[index].operative != change.operative else { return }
            states[evseID]?.connectors[index].operative = change.operative
            emit(.availabilityChanged(evseID: evseID, connectorID: connectorID, operative: change.operative))
        }
    }

}
