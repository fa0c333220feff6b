/// The simulator's entry points: what a person at the control socket, a demo or a test does to
/// the EV on a station: plug it in, ask for power, stop, unplug, short the pilot or raise a fault.
///
/// On `SimulatedHardware` the simulated EV and board act, queue what a board would report, and
/// the station collects it at once (`Station.handle(.eventsQueued)`), as it would from any driver.
/// On other hardware (`NullHardware`) the levels and the cable a board would measure are reported
/// directly with `Station.handle(_:)`. Either way the station hears of it only as hardware events.
public struct EVSimulator: Sendable {
    public let station: Station
    /// The simulated board; nil when the station runs on other hardware.
    public let board: SimulatedHardware?

    /// Drives the station's own `SimulatedHardware`, if it has one.
    public init(station: Station) {
        self.station = station
        board = station.hardware.boardDriver as? SimulatedHardware
    }

    /// An EV plugs into a connector (the simulated EV, or a level-B report on other hardware).
    @discardableResult
    public func plug(evseID: String, connectorID: Int = 1, ev: SimulatedEV = SimulatedEV()) async -> Bool {
        if let board {
            return await collect(board.plug(evseID: evseID, connectorID: connectorID, ev: ev))
        }
        guard await station.state(of: evseID)?.connector(connectorID) != nil else { return false }
        await station.handle([
            .cable(evseID: evseID, connectorID: connectorID, connected: true, ratedCurrent: ev.cableRating),
            .pilotLevel(evseID: evseID, connectorID: connectorID, level: .b),
        ])
        return true
    }

    /// The EV unplugs.
    @discardableResult
    public func unplug(evseID: String) async -> Bool {
        if let board { return await collect(board.unplug(evseID: evseID)) }
        guard let connectorID = await station.state(of: evseID)?.activeConnectorID else { return false }
        await station.handle([
            .pilotLevel(evseID: evseID, connectorID: connectorID, level: .a),
            .cable(evseID: evseID, connectorID: connectorID, connected: false, ratedCurrent: nil),
        ])
        return true
    }

    /// The EV wants energy (level C once the pilot oscillates), drawing at most `maxCurrent`.
    @discardableResult
    public func evRequestsPower(evseID: String, maxCurrent: Double? = nil) async -> Bool {
        if let board { return await collect(board.requestEnergy(evseID: evseID, maxCurrent: maxCurrent)) }
        return await reportLevel(.c, evseID: evseID)
    }

    /// The EV stops asking for energy (back to level B).
    @discardableResult
    public func evStops(evseID: String) async -> Bool {
        if let board { return await collect(board.stopRequestingEnergy(evseID: evseID)) }
        return await reportLevel(.b, evseID: evseID)
    }

    /// A fault occurs (`.pilotError` with a simulated EV: the EV shorts the pilot, state E).
    @discardableResult
    public func fault(_ kind: HardwareFaultKind, evseID: String) async -> Bool {
        if let board { return await collect(board.inject(kind, evseID: evseID)) }
        return await station.fault(kind, evseID: evseID)
    }

    /// A fault is gone (the EV no longer shorts the pilot). The pilot stays off until Josev asks
    /// for a PWM again.
    @discardableResult
    public func clearFault(_ kind: HardwareFaultKind, evseID: String) async -> Bool {
        if let board { return await collect(board.clear(kind, evseID: evseID)) }
        return await station.clearFault(kind, evseID: evseID)
    }

    /// Has the station collect what the board queued, when the board acted.
    private func collect(_ acted: Bool) async -> Bool {
        guard acted else { return false }
        await station.handle(.eventsQueued)
        return true
    }

    private func reportLevel(_ level: PilotLevel, evseID: String) async -> Bool {
        guard let connectorID = await station.state(of: evseID)?.activeConnectorID else { return false }
        await station.handle(.pilotLevel(evseID: evseID, connectorID: connectorID, level: level))
        return true
    }
}
