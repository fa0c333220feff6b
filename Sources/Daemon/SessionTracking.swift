import Basics
import Station
import Store

/// What the recorder decides about sessions: when one starts (a transaction, or energy flowing
/// without one), when it is linked, continued after a restart or closed, and when a charging period
/// ends. Every decision is taken under the `sessions` lock with the writes it makes, so the store
/// sees them in the order they were decided.
extension SessionRecorder {
    /// One look at an EVSE: what the session needs (`EVSEObservation`) and what starts one.
    struct Observed: Sendable {
        var observation: EVSEObservation
        var connectorID: Int
        var token: ChargingToken?
        var contactorClosed: Bool
    }

    /// The EVSE's meter snapshot and state, with its OCPP charging state derived.
    func observed(evseID: String) async -> Observed? {
        guard let snapshot = await station.meterValues(evseID: evseID), let state = await station.state(of: evseID) else { return nil }
        let connector = state.activeConnectorID.flatMap { state.connector($0) }
        let level = connector?.level
        let power = snapshot.quality.isKnown ? snapshot.activePower : .nan
        let chargingState = ChargingState.derive(
            plugged: connector != nil, evAsks: level == .c || level == .d, pwmOffers: connector?.signal.oscillating ?? false,
            contactorClosed: state.contactorClosed, offeredCurrent: snapshot.maxCurrentOffered, powerW: power)
        return Observed(
            observation: EVSEObservation(
                at: snapshot.timestamp, importWh: snapshot.energyImportedWh, exportWh: snapshot.energyExportedWh, powerW: power,
                offeredCurrent: snapshot.maxCurrentOffered, state: chargingState),
            connectorID: connector?.id ?? state.connectors.first?.id ?? 1,
            token: state.authorization.token ?? state.transaction?.token, contactorClosed: state.contactorClosed)
    }

    // MARK: Transactions

    /// Josev started a transaction: a new session, or the local session already charging gets it.
    func transactionStarted(evseID: String, transactionID: String, token: ChargingToken?) async {
        guard let observed = await observed(evseID: evseID) else { return }
        let now = time.unixMilliseconds()
        let instant = time.monotonic()
        sessions.withLock { sessions in
            if let active = sessions[evseID] {
                // The same transaction again (a redelivered update, or one continued after a restart).
                if active.transactionID == transactionID { return }
                if active.transactionID == nil {
                    sessions[evseID]?.transactionID = transactionID
                    write(
                        .link(
                            sessionID: active.sessionID, transactionID: transactionID, tokenUID: token?.id,
                            tokenType: token.map { SessionTokenType($0.type.rawValue) }, at: now))
                    logger.info(
                        "session \(active.sessionID) on \(evseID) belongs to transaction \(transactionID), which started late",
                        metadata: ["evse_id": "\(evseID)"])
                    return
                }
                // Another transaction replaces the running one: that one ends here.
                finish(&sessions, evseID: evseID, observation: adjusted(observed.observation, active), now: now, instant: instant)
            }
            begin(&sessions, evseID: evseID, transactionID: transactionID, token: token, observed: observed, now: now, instant: instant)
        }
    }

    /// Josev ended a transaction: its session (and only its) is completed with the meter's register.
    func transactionEnded(evseID: String, transactionID: String) async {
        let observed = await observed(evseID: evseID)
        let now = time.unixMilliseconds()
        let instant = time.monotonic()
        sessions.withLock { sessions in
            guard let active = sessions[evseID], active.transactionID == transactionID else { return }
            finish(&sessions, evseID: evseID, observation: observed.map { adjusted($0.observation, active) }, now: now, instant: instant)
        }
    }

    /// The EV reported its state of charge (`display_params`): part of the open period and the
    /// next ones until it reports another.
    func stateOfCharge(evseID: String, percent: Double) {
        guard percent.isFinite, (0...100).contains(percent) else { return }
        sessions.withLock { sessions in
            sessions[evseID]?.stateOfCharge = percent
            sessions[evseID]?.period.stateOfCharge = percent
        }
    }

    // MARK: Observations

    /// Notifications: a change of contactor, pilot or limits may change the charging state or the
    /// offered limit (a new period); the periodic meter values (once a minute) write the running
    /// energy and the open period; availability and limits are also the persistent state.
    func observe(_ notification: StationNotification) async {
        await countHardware(notification)
        switch notification {
        case .contactorChanged(let evseID, _), .cpStateChanged(let evseID, _, _, _):
            await evaluate(evseID: evseID, persist: false)
        case .meterValues(let evseID):
            await evaluate(evseID: evseID, persist: true)
        case .statusAndLimitsChanged(let evseIDs):
            for evseID in evseIDs { await evaluate(evseID: evseID, persist: false) }
            await persistState()
        case .availabilityChanged:
            await persistState()
        case .reservationChanged(let evseID, let connectorID, let reserved, _):
            reservationChanged(evseID: evseID, connectorID: connectorID, reserved: reserved)
        default:
            break
        }
    }

    /// From the daemon's tick: every meter sample counts for the minimum and maximum power, a
    /// change of the EV's draw is a change of charging state, and a period ends after 5 minutes.
    func sample() async {
        for evseID in await station.evseIDs { await evaluate(evseID: evseID, persist: false) }
    }

    /// Looks at an EVSE now: starts a local session when energy flows without one, ends a session
    /// the EV left, starts a new period when the state or the offered limit changed or the period
    /// is 5 minutes old. `persist`: write the running energy and the open period even when no
    /// period ended.
    func evaluate(evseID: String, persist: Bool) async {
        guard let observed = await observed(evseID: evseID) else { return }
        let now = time.unixMilliseconds()
        let instant = time.monotonic()
        sessions.withLock { sessions in
            guard var active = sessions[evseID] else {
                // Energy flows and no transaction runs (free vend, offline): a local session.
                guard observed.contactorClosed, observed.observation.state == .charging else { return }
                begin(&sessions, evseID: evseID, transactionID: nil, token: observed.token, observed: observed, now: now, instant: instant)
                logger.info("charging on \(evseID) without a transaction: recorded as a local session", metadata: ["evse_id": "\(evseID)"])
                return
            }
            if let last = active.lastObservation, observed.observation.at < last { return }
            let observation = adjusted(observed.observation, active)
            active.lastObservation = observation.at
            // Unplugged: a local session, or one continued after a restart (whose end Josev may
            // have sent while the daemon was down), ends here; a transaction's waits for its end.
            if observation.state == .idle, active.transactionID == nil || active.adopted {
                sessions[evseID] = active
                finish(&sessions, evseID: evseID, observation: observation, now: now, instant: instant)
                return
            }
            let age = active.period.startedAt.duration(to: instant)
            let changed = active.period.isChanged(by: observation)
            if changed, age < OpenPeriod.settlingTime {
                active.period.settle(to: observation)
                sessions[evseID] = active
                if persist { write(progress(active, now: now, instant: instant)) }
            } else if changed || age >= periodLength {
                active.period.advanceRegisters(to: observation)
                let closed = ChargingPeriod(
                    start: active.period.start, dimensions: active.period.dimensions(sessionStartWh: active.startWh, now: instant))
                active.period = OpenPeriod(
                    start: max(now, active.period.start + 1), startedAt: instant, observation: observation,
                    stateOfCharge: active.stateOfCharge)
                sessions[evseID] = active
                write(progress(active, now: now, instant: instant, closed: closed))
            } else {
                active.period.take(observation)
                sessions[evseID] = active
                if persist { write(progress(active, now: now, instant: instant)) }
            }
        }
    }

    // MARK: Session lifecycle

    /// A session that was ACTIVE when the daemon stopped: continued when its EV is still plugged in
    /// (a new period from now; the energy counted so far is kept even if the meter restarted),
    /// otherwise closed.
    func adoptOrClose(_ item: RecoveredSession) async {
        let session = item.session
        let observed = await observed(evseID: session.evseID)
        guard let observed, observed.observation.state != .idle else {
            // Closed with the meter's register when it is its own (a reading not below the last
            // recorded), else with the last energy recorded.
            var closing = item
            if let reading = observed?.observation.importWh, reading.isFinite, reading > session.energyLastWh {
                closing.suggestedEnergyWh = reading
            }
            storage.withLock { storage in
                if let store = storage.store { closeRecovered(closing, store: store) }
            }
            return
        }
        let now = time.unixMilliseconds()
        let instant = time.monotonic()
        var observation = observed.observation
        let offset = observation.importWh < session.energyLastWh ? session.energyLastWh - observation.importWh : 0
        observation.importWh += offset
        let start = max(now, (session.chargingPeriods.last?.start ?? session.start) + 1)
        let active = Active(
            sessionID: session.id, transactionID: session.transactionID, startWh: session.energyStartWh, offsetWh: offset,
            period: OpenPeriod(start: start, startedAt: instant, observation: observation), lastObservation: observation.at, adopted: true)
        sessions.withLock { sessions in
            sessions[session.evseID] = active
            write(progress(active, now: now, instant: instant))
        }
        logger.notice(
            "session \(session.id) on \(session.evseID) was running when the daemon stopped and its EV is still there: continued (\(session.kwh) kWh so far)",
            metadata: ["evse_id": "\(session.evseID)"])
    }

    /// Starts a session (its row first, then its first, open period).
    private func begin(
        _ sessions: inout [String: Active], evseID: String, transactionID: String?, token: ChargingToken?, observed: Observed, now: Int64,
        instant: ContinuousClock.Instant
    ) {
        let id = UUIDText.random()
        let observation = observed.observation
        write(
            .start(
                id: id, evseID: evseID, connectorID: observed.connectorID, transactionID: transactionID, tokenUID: token?.id ?? "",
                tokenType: SessionTokenType(token?.type.rawValue ?? "no_authorization"), start: now, energyWh: observation.importWh))
        let active = Active(
            sessionID: id, transactionID: transactionID, startWh: observation.importWh,
            period: OpenPeriod(start: now, startedAt: instant, observation: observation), lastObservation: observation.at)
        sessions[evseID] = active
        write(progress(active, now: now, instant: instant))
    }

    /// Ends the EVSE's session: its last period and energy, then COMPLETED.
    private func finish(
        _ sessions: inout [String: Active], evseID: String, observation: EVSEObservation?, now: Int64, instant: ContinuousClock.Instant
    ) {
        guard var active = sessions.removeValue(forKey: evseID) else { return }
        if let observation, active.lastObservation.map({ observation.at >= $0 }) ?? true { active.period.advanceRegisters(to: observation) }
        write(progress(active, now: now, instant: instant))
        write(
            .complete(
                sessionID: active.sessionID, evseID: evseID, stop: max(now, active.period.start), energyWh: active.period.lastImportWh,
                byRecovery: false))
    }

    /// The write of a session's running energy with the period that just closed (if any) and the open one.
    private func progress(_ active: Active, now: Int64, instant: ContinuousClock.Instant, closed: ChargingPeriod? = nil) -> Write {
        let open = ChargingPeriod(start: active.period.start, dimensions: active.period.dimensions(sessionStartWh: active.startWh, now: instant))
        return .progress(sessionID: active.sessionID, energyWh: active.period.lastImportWh, at: now, periods: (closed.map { [$0] } ?? []) + [open])
    }

    /// An observation with the session's register offset applied.
    private func adjusted(_ observation: EVSEObservation, _ active: Active) -> EVSEObservation {
        var adjusted = observation
        adjusted.importWh += active.offsetWh
        return adjusted
    }
}
