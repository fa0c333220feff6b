import JSONSchema
import JosevContract
import Logging
import Station
import Synchronization

/// From the station's notifications to what Josev must hear (the CS's updates and requests on
/// `cs/josev`). It keeps the one copy of what was last published: the `cs_status_and_limits`
/// snapshot (an unchanged one is not sent again) and the CP state per connector.
///
/// Changes of the snapshot reach Josev at most once per `statusInterval` (issue 18: two Modbus
/// masters racing 10 A / 20 A writes made ~886 updates a second): a change inside the interval is
/// published at its end, with whatever the station says then, so the last value always goes out.
final class JosevAnnouncer: Sendable {
    let station: Station
    let outbox: Outbox
    let deviceModel: DeviceModelStore?
    let logger: Logger
    let statusInterval: Duration
    private let state = Mutex(Published())

    private struct Published {
        var statusAndLimits: CsStatusAndLimits?
        /// The last CP state and duty cycle published per EVSE and connector.
        var pilots: [String: [Int: (ControlPilotState, Double)]] = [:]
        /// When the last `cs_status_and_limits` went out, and whether a deferred one is on its way.
        var statusSentAt: ContinuousClock.Instant?
        var statusDeferred = false
        /// A publish is reading the station and sending; `statusAgain` (forced or not): another
        /// was asked for meanwhile, so that publisher reads the station once more when it is done.
        var statusPublishing = false
        var statusAgain: Bool?
    }

    init(
        station: Station, outbox: Outbox, deviceModel: DeviceModelStore?, logger: Logger,
        statusInterval: Duration = .milliseconds(250)
    ) {
        self.statusInterval = statusInterval
        self.station = station
        self.outbox = outbox
        self.deviceModel = deviceModel
        self.logger = logger
    }

    /// One station notification → what Josev must hear.
    func announce(_ notification: StationNotification) async {
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
            outbox.sendUpdate(CsContactorStatus(evseID: evseID, status: closed ? .closed : .opened))
        case .authorizationRequested(let evseID, let token):
            logger.info("asking Josev to authorize \(token.redacted) on \(evseID)", metadata: ["evse_id": "\(evseID)"])
            let tokenType = AuthorizationRequestTokenType(rawValue: token.type.rawValue) ?? .local
            outbox.sendRequest(
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
            outbox.sendUpdate(
                AuthorizationUpdate(evseID: evseID, tokenType: TokenType(rawValue: token.type.rawValue) ?? .local, status: status, idToken: token.id))
        case .meterValues(let evseID):
            // An unknown meter sends nothing: the schema has no way to say "unknown", and zeros would be a lie.
            if case .known(let values) = await MeterValues.reading(of: station, evseID: evseID) { outbox.sendUpdate(values) }
        case .hardwareFault(let evseID, let kind):
            logger.warning("hardware fault \(kind.rawValue) on \(evseID)", metadata: ["evse_id": "\(evseID)"])
            outbox.sendUpdate(
                HardwareFaultUpdate(evseID: evseID, componentName: "EVSE", faultName: HardwareFault(rawValue: kind.faultName) ?? .other))
        case .hardwareFaultCleared(let evseID, let kind):
            logger.info("hardware fault \(kind.rawValue) cleared on \(evseID)", metadata: ["evse_id": "\(evseID)"])
        case .cableInfo(let evseID, _, let info):
            outbox.sendUpdate(
                CableInfoUpdate(
                    evseID: evseID, connectionStatus: info.connected ? .connected : .disconnected,
                    ratedCableCurrent: info.ratedCurrent.map { Int($0) }, lock: LockStatus(rawValue: info.lock.rawValue)))
        case .availabilityChanged(let evseID, let connectorID, let operative):
            logger.info(
                "\(evseID)\(connectorID.map { "/\($0)" } ?? "") is now \(operative ? "operative" : "inoperative")",
                metadata: ["evse_id": "\(evseID)"])
            outbox.sendUpdate(
                ChangeAvailabilityUpdate(operationalStatus: operative ? .operative : .inoperative, evseID: evseID, connectorID: connectorID))
        case .resetPerformed(let evseIDs):
            logger.info("reset performed on \(evseIDs.joined(separator: ", "))")
        case .reservationChanged(let evseID, let connectorID, let reserved, let expired):
            logReservation(evseID: evseID, connectorID: connectorID, reserved: reserved, expired: expired)
        case .connectionTimedOut(let evseID, let token, let transactionID):
            await announceConnectionTimeout(evseID: evseID, token: token, transactionID: transactionID)
        }
    }

    /// The station dropped an authorization no EV came for: Josev hears `authorization`
    /// `deauthorized` for its token (OCPP then ends the transaction, reason timeout).
    private func announceConnectionTimeout(evseID: String, token: ChargingToken?, transactionID: String?) async {
        let timeout = await station.policy.connectionTimeout.map { " within \($0.components.seconds) s" } ?? ""
        let what = token.map { " of \($0.redacted)" } ?? ""
        let transaction = transactionID.map { "; transaction \($0) no longer authorizes charging" } ?? ""
        logger.notice(
            "authorization\(what) on \(evseID) dropped: no EV plugged in\(timeout) (connection timeout)\(transaction)",
            metadata: ["evse_id": "\(evseID)"])
        outbox.sendUpdate(
            AuthorizationUpdate(
                evseID: evseID, tokenType: token.flatMap { TokenType(rawValue: $0.type.rawValue) } ?? .central, status: .deauthorized,
                idToken: token?.id))
    }

    private func logReservation(evseID: String, connectorID: Int, reserved: Bool, expired: Bool) {
        let metadata: Logger.Metadata = ["evse_id": "\(evseID)"]
        if reserved {
            logger.info("\(evseID)/\(connectorID) reserved: free vend and local cards wait for Josev's authorization there", metadata: metadata)
        } else if expired {
            logger.notice("\(evseID)/\(connectorID): reservation dropped, Josev never ended it (reservation_timeout)", metadata: metadata)
        } else {
            logger.info("\(evseID)/\(connectorID) no longer reserved", metadata: metadata)
        }
    }

    private func sendCPStatus(evseID: String, connectorID: Int, pilot: ControlPilotState, duty: Double?) {
        outbox.sendUpdate(
            CPStatusUpdate(
                evseID: evseID, connectorID: connectorID, state: CPState(rawValue: pilot.rawValue) ?? .f,
                dutyCycle: duty.map { ($0 * 100).rounded() / 100 }))
    }

    /// Publishes a `cs_status_and_limits` update when the station's answer differs from the last
    /// one published, or always with `force` (after every reconnect: nothing is retained). Within
    /// `statusInterval` of the previous one, an unforced update is deferred to the interval's end.
    @discardableResult
    func publishStatusAndLimits(force: Bool = false, reason: String) async -> Bool {
        if !force, let wait = deferral() {
            if let wait {
                Task {
                    try? await Task.sleep(for: wait)
                    state.withLock { $0.statusDeferred = false }
                    await publishStatusAndLimits(reason: reason)
                }
            }
            return false
        }
        // One publisher at a time: two reading the station concurrently could send in the other
        // order, leaving Josev with the older snapshot as the last word. A request that comes while
        // one runs makes it read the station again when done.
        let first = state.withLock { state in
            guard !state.statusPublishing else {
                state.statusAgain = (state.statusAgain ?? false) || force
                return false
            }
            state.statusPublishing = true
            return true
        }
        guard first else { return false }
        var force = force
        var sent = false
        while true {
            if await sendStatusAndLimits(force: force, reason: reason) { sent = true }
            let again = state.withLock { state -> Bool? in
                defer { state.statusAgain = nil }
                if state.statusAgain == nil { state.statusPublishing = false }
                return state.statusAgain
            }
            guard let forced = again else { return sent }
            force = forced
        }
    }

    /// Reads the station and sends its snapshot if it changed (or `force`); true when sent.
    private func sendStatusAndLimits(force: Bool, reason: String) async -> Bool {
        let snapshot = await station.statusAndLimits()
        let changed = state.withLock { $0.statusAndLimits != snapshot }
        guard force || changed else { return false }
        guard let data = outbox.encode(snapshot) else { return false }
        let sent = outbox.send(.update(name: CsStatusAndLimits.messageName, data: data))
        if sent {
            state.withLock {
                $0.statusAndLimits = snapshot
                $0.statusSentAt = .now
            }
            logger.info("published cs_status_and_limits update (\(reason))")
        }
        return sent
    }

    /// nil: publish now. Otherwise the update waits: `.some(wait)` schedules the deferred publish,
    /// `.some(nil)` means one is already scheduled (it will read the station's latest state).
    private func deferral() -> Duration?? {
        state.withLock { state in
            guard let sentAt = state.statusSentAt else { return nil }
            let wait = ContinuousClock.now.duration(to: sentAt + statusInterval)
            guard wait > .zero else { return nil }
            if state.statusDeferred { return .some(nil) }
            state.statusDeferred = true
            return .some(wait)
        }
    }

    /// After every (re)connect: nothing is retained, so Josev hears the whole state again.
    func republishState(reason: String) async {
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
                outbox.sendUpdate(CsContactorStatus(evseID: evse.evseID, status: closed ? .closed : .opened))
            }
        }
        await publishStatusAndLimits(force: true, reason: reason)
        deviceModel?.announceStartChanges()
        // Whether OCPP reaches the back office (Modbus 1104) is Josev's to say; its updates come
        // only on a change, so after a (re)start the station asks (contract §2.1, CS → J request).
        if outbox.sendRequest(WebsocketStatusRequest(), context: .other) { logger.info("asked Josev for websocket_status") }
    }
}
