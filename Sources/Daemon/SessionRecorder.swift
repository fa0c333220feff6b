import Logging
import Station
import Store
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Records charging sessions in the store: one per transaction Josev (OCPP) runs, with a charging
/// period per change of charging state (contactor) and at most every 5 minutes, energy from the
/// EVSE's meter. Storage problems never stop the station serving Josev: they are logged (at most
/// once a minute) and the recorder retries with the next event.
public final class SessionRecorder: Sendable {
    static let periodLength: Duration = .seconds(300)

    let store: Store
    let station: Station
    let logger: Logger
    private let state = Mutex<[String: Active]>([:])
    private let lastProblem = Mutex<ContinuousClock.Instant?>(nil)

    /// The session running on an EVSE.
    struct Active: Sendable {
        var sessionID: String
        var transactionID: String
        var periodStart: Int64
        var periodStartedAt: ContinuousClock.Instant
        var periodEnergyWh: Double
        var maxPowerW: Double = 0
        var charging: Bool
    }

    init(store: Store, station: Station, logger: Logger) {
        self.store = store
        self.station = station
        self.logger = logger
    }

    /// Opens (creates) the database under the state directory; nil, with the reason logged,
    /// when it cannot be opened: the station then runs without recording.
    static func open(stateDirectory: String, station: Station, logger: Logger) -> SessionRecorder? {
        mkdir(stateDirectory, 0o700)
        let path = stateDirectory + "/cs-companion.db"
        do {
            let store = try Store(path: path)
            logger.info("sessions recorded in \(path)")
            return SessionRecorder(store: store, station: station, logger: logger)
        } catch {
            logger.error("cannot open the session store \(path): \(error); sessions are not recorded")
            return nil
        }
    }

    /// At start: a session still ACTIVE was cut by a crash or a power loss. The meter restarted
    /// with the daemon, so it is closed with the last energy recorded for it.
    func recover() async {
        do {
            let recovered = try store.recoverAfterCrash { _ in nil }
            for item in recovered {
                let record = try store.closeRecovered(
                    id: item.session.id, stop: item.suggestedStop, energyWh: item.suggestedEnergyWh)
                logger.notice(
                    "session \(record.id) on \(record.evseID) was running when the daemon stopped; closed with \(record.kwh) kWh",
                    metadata: ["evse_id": "\(record.evseID)"])
            }
        } catch {
            problem("cannot recover sessions", error)
        }
    }

    func transactionStarted(evseID: String, transactionID: String, token: ChargingToken?) async {
        let energy = await station.meterValues(evseID: evseID)?.energyImportedWh ?? 0
        let connectorID = await station.configuration.evses.first { $0.evseID == evseID }?.connectors.first?.id ?? 1
        let charging = await station.contactorClosed(evseID: evseID) ?? false
        let now = WallClock.unixMilliseconds()
        do {
            let id = try store.startSession(
                evseID: evseID, connectorID: connectorID, transactionID: transactionID, tokenUID: token?.id ?? "",
                tokenType: SessionTokenType(token?.type.rawValue ?? "no_authorization"), start: now, energyWh: energy)
            state.withLock {
                $0[evseID] = Active(
                    sessionID: id, transactionID: transactionID, periodStart: now, periodStartedAt: .now, periodEnergyWh: energy,
                    charging: charging)
            }
        } catch {
            problem("cannot record the start of transaction \(transactionID)", error)
        }
    }

    func transactionEnded(evseID: String, transactionID: String) async {
        guard let active = state.withLock({ $0.removeValue(forKey: evseID) }) else { return }
        let energy = await station.meterValues(evseID: evseID)?.energyImportedWh ?? active.periodEnergyWh
        let now = WallClock.unixMilliseconds()
        closePeriod(active, energyWh: energy)
        do {
            let record = try store.completeSession(id: active.sessionID, stop: now, energyWh: energy)
            logger.info("session \(record.id) recorded: \(record.kwh) kWh", metadata: ["evse_id": "\(evseID)"])
        } catch {
            problem("cannot record the end of transaction \(transactionID)", error)
        }
    }

    /// Contactor changes and periodic meter values: periods and the running energy.
    func observe(_ notification: StationNotification) async {
        switch notification {
        case .contactorChanged(let evseID, let closed):
            await newPeriod(evseID: evseID, charging: closed, force: true)
        case .meterValues(let evseID):
            await newPeriod(evseID: evseID, charging: nil, force: false)
        default:
            break
        }
    }

    private func newPeriod(evseID: String, charging: Bool?, force: Bool) async {
        guard let snapshot = await station.meterValues(evseID: evseID) else { return }
        let now = WallClock.unixMilliseconds()
        let closing: Active? = state.withLock { sessions in
            guard var active = sessions[evseID] else { return nil }
            active.maxPowerW = max(active.maxPowerW, snapshot.activePower)
            let due = force || active.periodStartedAt.duration(to: .now) >= Self.periodLength
            guard due else {
                sessions[evseID] = active
                return nil
            }
            let finished = active
            active.periodStart = now
            active.periodStartedAt = .now
            active.periodEnergyWh = snapshot.energyImportedWh
            active.maxPowerW = snapshot.activePower
            if let charging { active.charging = charging }
            sessions[evseID] = active
            return finished
        }
        guard let closing else { return }
        closePeriod(closing, energyWh: snapshot.energyImportedWh)
        do {
            try store.updateActive(sessionID: closing.sessionID, energyWh: snapshot.energyImportedWh, at: now)
        } catch {
            problem("cannot update session \(closing.sessionID)", error)
        }
    }

    /// Stores the period that ends now: its energy, its maximum power and, when the EV did not
    /// charge, its length as parking time.
    private func closePeriod(_ active: Active, energyWh: Double) {
        let hours = Double(active.periodStartedAt.duration(to: .now).components.seconds) / 3600
        var dimensions = [
            ChargingDimension(.energy, max(0, (energyWh - active.periodEnergyWh) / 1000)),
            ChargingDimension(.maxPower, max(0, active.maxPowerW / 1000)),
        ]
        if !active.charging { dimensions.append(ChargingDimension(.parkingTime, hours)) }
        do {
            try store.addPeriod(sessionID: active.sessionID, start: active.periodStart, dimensions: dimensions)
        } catch {
            problem("cannot record a charging period of \(active.sessionID)", error)
        }
    }

    /// Logs a storage problem at most once a minute (a full or read-only disk would otherwise
    /// flood the journal); the station keeps serving Josev.
    private func problem(_ what: String, _ error: any Error) {
        let now = ContinuousClock.now
        let due = lastProblem.withLock { last in
            guard last.map({ $0.duration(to: now) >= .seconds(60) }) ?? true else { return false }
            last = now
            return true
        }
        if due { logger.error("\(what): \(error) (the station keeps serving; next report in a minute at the earliest)") }
    }
}
