import JosevContract

/// What a safety controller confirms: the contactor's real state against the command, faults that
/// latch or end with the session, and the RCD reset rule.
extension StationCore {
    /// The hardware reports the contactor's state. The station announces it (`.contactorChanged`)
    /// when it changed; a state that differs from the command (the controller opened by itself,
    /// or the contact stays closed) is supervised from now on.
    mutating func contactorReported(_ evseID: String, closed: Bool) {
        guard let state = states[evseID] else { return }
        let previous = state.contactorConfirmed
        states[evseID]?.contactorConfirmed = closed
        if closed == state.contactorClosed {
            states[evseID]?.contactorCommandedAt = nil
        } else if state.contactorCommandedAt == nil {
            states[evseID]?.contactorCommandedAt = lastTime
        }
        if previous != closed, previous != nil || closed {
            announceContactor(evseID, closed: closed)
        }
    }

    /// A command not confirmed within `contactorConfirmationTimeout`: a close becomes
    /// `contactor_stuck_open` (the session never counts as charging), an open becomes the latched
    /// `contactor_welded`. Called by `tick`.
    mutating func superviseContactors() {
        guard hardware.confirmsContactor else { return }
        for id in evseIDs {
            guard let state = states[id], let since = state.contactorCommandedAt, !state.faults.contains(.boardLink),
                  lastTime - since >= policy.contactorConfirmationTimeout else { continue }
            states[id]?.contactorCommandedAt = nil
            if state.contactorClosed {
                raiseFault(.contactorStuckOpen, evseID: id)
            } else if state.contactorConfirmed == true {
                raiseFault(.contactorWelded, evseID: id)
            }
        }
    }

    mutating func raiseFault(_ kind: HardwareFaultKind, evseID: String) {
        guard states[evseID] != nil, states[evseID]?.faults.contains(kind) == false else { return }
        states[evseID]?.faults.insert(kind)
        if kind == .boardLink {
            // Nothing the controller reported holds any more; no confirmation can come to supervise.
            states[evseID]?.contactorConfirmed = nil
            states[evseID]?.contactorCommandedAt = nil
        }
        emit(.hardwareFault(evseID: evseID, kind: kind))
    }

    mutating func removeFault(_ kind: HardwareFaultKind, evseID: String) {
        guard states[evseID]?.faults.contains(kind) == true else { return }
        states[evseID]?.faults.remove(kind)
        if states[evseID]?.faults.isEmpty == true { states[evseID]?.pilotRequest = .off }
        emit(.hardwareFaultCleared(evseID: evseID, kind: kind))
    }

    /// A person cleared a latched fault (the cause was repaired): refused while the hardware still
    /// reports the contactor closed against an open command.
    mutating func clearLatchedFault(_ kind: HardwareFaultKind, evseID: String) -> Bool {
        guard let state = states[evseID], state.faults.contains(kind) else { return false }
        if kind == .contactorWelded, state.contactorConfirmed == true, !state.contactorClosed { return false }
        let before = beginOperation()
        defer { endOperation(since: before) }
        removeFault(kind, evseID: evseID)
        return true
    }

    /// The pins of the EVSE may be live: commanded closed, or the hardware reports (or last
    /// reported, welded) the contactor closed. A socket stays locked then.
    func pinsMayBeLive(_ evseID: String) -> Bool {
        guard let state = states[evseID] else { return false }
        return state.contactorClosed || state.contactorConfirmed == true || state.faults.contains(.contactorWelded)
    }

    /// Resets a tripped RCD. The rule: only with no EV connected and the contactor open; the
    /// `rcd_tripped` fault clears when the hardware then reports the RCD armed again.
    mutating func resetRCD(evseID: String) -> RCDResetResult {
        guard let state = states[evseID] else { return .unknownEVSE }
        guard state.faults.contains(.rcdTripped) else { return .notTripped }
        // While the pilot is held at F the CP cannot see an EV: the proximity pilot (cable) still can.
        let plugged = state.connectors.contains { $0.cable.connected || ($0.level != .a && $0.level != .f) }
        if plugged { return .refusedWhilePlugged }
        if pinsMayBeLive(evseID) { return .refusedWhileEnergized }
        let before = beginOperation()
        defer { endOperation(since: before) }
        return hardware.resetRCD(evseID: evseID) ? .requested : .notSupported
    }
}

/// The answer to `Station.resetRCD`.
public enum RCDResetResult: String, Sendable, Equatable {
    /// Sent to the hardware; the fault clears when it reports the RCD armed again.
    case requested
    case notTripped
    /// An EV is connected: unplug first.
    case refusedWhilePlugged
    case refusedWhileEnergized
    /// The hardware has no remote RCD reset (reset it at the device).
    case notSupported
    case unknownEVSE
}
