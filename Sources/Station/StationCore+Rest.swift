/// At rest: nothing the station does on its own with time (no session, no timer, no command
/// awaiting confirmation, no EV, nothing reserved, no fault) and hardware that is at rest too. The
/// daemon's ticker then sleeps until an operation takes the station out of rest (`Station.enterRest`).
extension StationCore {
    var isAtRest: Bool {
        guard hardware.isAtRest else { return false }
        return states.values.allSatisfy(Self.isAtRest)
    }

    /// Conservative: any state that a tick might move on, or that is out of the ordinary, keeps the tick.
    static func isAtRest(_ state: EVSEState) -> Bool {
        guard state.faults.isEmpty, !state.rcdError, state.transaction == nil, !state.transactionStopped,
            state.authorization == .none, state.awaitingPlugInSince == nil,
            !state.contactorClosed, state.contactorConfirmed != true, state.contactorCommandedAt == nil,
            !state.hlcCharging, state.cableCheck == .none, state.dcOutput == nil, state.pilotRequest == .off,
            state.externalSetpointExpiry == nil, state.phaseSwitch == nil, state.pendingAvailability.isEmpty,
            !state.resetPending, !state.heldOpen
        else { return false }
        return state.connectors.allSatisfy { connector in
            connector.level == .a && connector.signal == .off && !connector.cable.connected && !connector.reserved
                && connector.lockCommandedAt == nil && !connector.lockedByStation
        }
    }
}
