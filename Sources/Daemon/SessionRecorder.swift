import Basics
import Logging
import Station
import Store
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Records charging sessions in the store: every energy delivery is a session, with the OCPP
/// transaction Josev runs or a local one (linked when the transaction arrives late), charging
/// periods on every change of charging state or offered limit and at most every 5 minutes, energy
/// from the EVSE's meter (`SessionTracking.swift`). It also keeps the persistent settings and the
/// availability (`StatePersistence`).
///
/// Storage problems never stop the station serving Josev. A write the store refuses because the
/// disk is full, read-only or failing is kept, in order, in a bounded queue in memory (the oldest
/// is dropped when it is full, and the drops are counted); the connection is closed so that
/// nothing holds the file system, and `retryPending()` — called from the daemon's tick — opens the
/// store again and replays the queue at most once a second until the disk takes writes again.
/// While the queue is not empty, new writes join its end, so the store sees them in the order they
/// happened. Problems are logged at most once a minute; a recovery once, with the writes it caught up.
public final class SessionRecorder: Sendable {
    /// The longest a charging period runs (OCPI platforms ask for at least every 5 minutes).
    static let periodLength: Duration = .seconds(300)
    /// Writes kept while the disk refuses them (a session writes about one a minute; this holds
    /// days of a busy station). Beyond it the oldest are dropped.
    static let defaultQueueLimit = 20_000
    /// How often a failing store is retried.
    static let retryInterval: Duration = .seconds(1)

    let path: String
    /// Sessions are pushed to an eMSP (`ocpi.push`): every change queues its push in the outbox.
    let push: Bool
    /// The longest a period runs here: 5 minutes, or `ocpi.update_interval` when shorter (each
    /// new period is a PATCH).
    let periodLength: Duration
    /// What the push (`SessionPusher`) did since the start.
    let pushStatistics = PushStatistics()
    /// Rung after every write (and every replay of queued ones): the push may have work.
    let pushBell = Doorbell()
    let station: Station
    let logger: Logger
    /// The wall clock (what is recorded) and the monotonic one (period lengths, retry pacing).
    let time: any TimeSource
    /// The session running on each EVSE. Held across the writes a decision makes (so the store sees
    /// them in the order they were decided), hence a `Locked`; always taken before `storage`.
    let sessions = Locked<[String: Active]>([:])
    /// Held across the store's blocking writes (SQLite, fsync), hence a `Locked` (Basics.swift).
    let storage: Locked<Storage>
    private let lastProblem = Mutex<ContinuousClock.Instant?>(nil)
    /// Storage problems met (refused writes, failed opens), logged or not.
    private let problemCount = Mutex(0)
    /// The persistent values last written, to write only changes (`StatePersistence`).
    let persisted = Mutex<[String: String]>([:])
    /// Whether the stored state was read (`StatePersistence`).
    let restoration = Mutex(Restoration())

    /// The session running on an EVSE.
    struct Active: Sendable {
        var sessionID: String
        /// The OCPP transaction; nil for a local session (charging without one, so far).
        var transactionID: String?
        /// The session's meter reading at its start (Wh, as stored).
        var startWh: Double
        /// Added to the meter's import register: a meter that restarted (or was replaced) while
        /// the daemon was down reads less than what the session already counted.
        var offsetWh = 0.0
        var period: OpenPeriod
        /// The station time of the last observation taken (older ones, overtaken, are ignored).
        var lastObservation: StationInstant?
        /// Continued after a restart: Josev's end of the transaction may have been lost while the
        /// daemon was down, so unplugging ends it too.
        var adopted = false
        /// The last state of charge the EV reported (carried into the next period).
        var stateOfCharge: Double?
    }

    /// One write to the store, kept until the store took it.
    enum Write: Sendable {
        case start(
            id: String, evseID: String, connectorID: Int, transactionID: String?, tokenUID: String, tokenType: SessionTokenType,
            start: Int64, energyWh: Double)
        /// The latest reading with the periods that changed (the closed one, the open one).
        case progress(sessionID: String, energyWh: Double, at: Int64, periods: [ChargingPeriod])
        /// A local session's transaction arrived.
        case link(sessionID: String, transactionID: String, tokenUID: String?, tokenType: SessionTokenType?, at: Int64)
        case complete(sessionID: String, evseID: String, stop: Int64, energyWh: Double, byRecovery: Bool)
        case setting(key: String, value: String?, at: Int64)
        case availability(scope: String, operative: Bool, at: Int64)

        var summary: String {
            switch self {
            case .start(let id, _, _, let transactionID, _, _, _, _): "the start of session \(id)\(transactionID.map { " (transaction \($0))" } ?? "")"
            case .progress(let sessionID, _, _, _): "the energy and periods of session \(sessionID)"
            case .link(let sessionID, let transactionID, _, _, _): "transaction \(transactionID) of session \(sessionID)"
            case .complete(let sessionID, _, _, _, _): "the end of session \(sessionID)"
            case .setting(let key, _, _): "setting \(key)"
            case .availability(let scope, _, _): "the availability of \(scope)"
            }
        }
    }

    /// The connection and what waits for it.
    struct Storage {
        var store: Store?
        var pending: [Write] = []
        /// Index of the first pending write (the queue is consumed from the front).
        var head = 0
        var dropped = 0
        /// A write failed since the store last took everything.
        var failing = false
        var lastAttempt: ContinuousClock.Instant?
        let limit: Int
        /// Crash recovery ran on an open store (once per start).
        var recovered = false
        /// Writes wait for the disk (queued, or the last one failed).
        var hasPending: Bool { failing || count > 0 }

        var count: Int { pending.count - head }

        mutating func enqueue(_ write: Write) {
            pending.append(write)
            if count > limit {
                head += 1
                dropped += 1
            }
            if head > 1024, head * 2 > pending.count {
                pending.removeFirst(head)
                head = 0
            }
        }
    }

    init(
        path: String, store: Store?, station: Station, logger: Logger, queueLimit: Int = SessionRecorder.defaultQueueLimit,
        time: any TimeSource = SystemTime(), push: Bool = false, periodLength: Duration = SessionRecorder.periodLength
    ) {
        self.path = path
        self.push = push
        self.periodLength = min(periodLength, Self.periodLength)
        self.station = station
        self.logger = logger
        self.time = time
        storage = Locked(Storage(store: store, failing: store == nil, limit: max(1, queueLimit)))
    }

    /// Opens (creates) the database under the state directory. When it cannot be opened now, the
    /// reason is logged and the recorder keeps what happens in memory until it can.
    static func open(
        stateDirectory: String, station: Station, logger: Logger, queueLimit: Int = SessionRecorder.defaultQueueLimit,
        time: any TimeSource = SystemTime(), push: Bool = false, periodLength: Duration = SessionRecorder.periodLength
    ) -> SessionRecorder {
        mkdir(stateDirectory, 0o700)
        let path = stateDirectory + "/cs-companion.db"
        do {
            let store = try Store(path: path)
            logger.info("sessions recorded in \(path)")
            return SessionRecorder(path: path, store: store, station: station, logger: logger, queueLimit: queueLimit, time: time, push: push, periodLength: periodLength)
        } catch {
            logger.error("cannot open the session store \(path): \(error); sessions are kept in memory until it can be opened")
            return SessionRecorder(path: path, store: nil, station: station, logger: logger, queueLimit: queueLimit, time: time, push: push, periodLength: periodLength)
        }
    }

    /// At start: a session still ACTIVE was running when the daemon stopped (a crash, a power
    /// loss). When its EV is still plugged in, the session continues (`adopt`: the meter register
    /// tells the energy, Josev's end of the transaction closes it); otherwise it is closed with the
    /// last energy recorded. Runs when the store opens.
    func recover() async {
        let found = storage.withLock { storage -> [RecoveredSession] in
            guard let store = storage.store, !storage.recovered else { return [] }
            storage.recovered = true
            do {
                return try store.recoverAfterCrash { _ in nil }
            } catch {
                problem("cannot recover sessions", error)
                return []
            }
        }
        for item in found { await adoptOrClose(item) }
    }

    /// The store opened only later (the disk was away at start): what was running is closed, as
    /// nothing can tell any more whether it went on.
    private func recover(_ store: Store) {
        do {
            for item in try store.recoverAfterCrash(meterReading: { _ in nil }) { closeRecovered(item, store: store) }
        } catch {
            problem("cannot recover sessions", error)
        }
    }

    /// Closes a session found ACTIVE at start with the last energy recorded for it.
    func closeRecovered(_ item: RecoveredSession, store: Store) {
        do {
            let record = try store.closeRecovered(
                id: item.session.id, stop: item.suggestedStop, energyWh: item.suggestedEnergyWh,
                also: owed(item.session.id, .put, at: item.suggestedStop))
            logger.notice(
                "session \(record.id) on \(record.evseID) was running when the daemon stopped and its EV is gone; closed with \(record.kwh) kWh",
                metadata: ["evse_id": "\(record.evseID)"])
        } catch {
            problem("cannot close session \(item.session.id)", error)
        }
    }

    /// The open store, for reads at start (nil while it cannot be opened).
    var store: Store? { storage.withLock { $0.store } }

    /// The push outbox (nil without `push`, or while the store is not open).
    var pushBacklog: PushBacklog? {
        guard push else { return nil }
        return storage.withLock { storage in try? storage.store?.pushBacklog() }
    }

    /// How many writes wait for the disk.
    var pendingWrites: Int { storage.withLock { $0.count } }

    /// For `cs-companion status`: whether the store takes writes (nothing failed since it last took
    /// everything), how many writes wait, how many storage problems were met since the start.
    var storageState: (writable: Bool, queuedWrites: Int, problems: Int) {
        let (failing, queued) = storage.withLock { ($0.failing, $0.count) }
        return (!failing && queued == 0, queued, problemCount.withLock { $0 })
    }

    // MARK: The write queue

    /// Writes now, or queues behind earlier writes that still wait for the disk; rings `pushBell`.
    func write(_ write: Write) {
        storage.withLock { storage in
            guard storage.count == 0, let store = storage.store else {
                storage.enqueue(write)
                return
            }
            if !apply(write, to: store, storage: &storage) { storage.enqueue(write) }
        }
        pushBell.ring()
    }

    /// Writes the disk refused wait for `retryPending` (the ticker keeps ticking for them).
    var hasPendingWrites: Bool { storage.withLock { $0.hasPending } }

    /// From the daemon's tick: while writes wait, opens the store again (at most once a second) and
    /// replays them in order. Logs the recovery once when the queue is empty again.
    func retryPending() {
        let replayed = storage.withLock { storage -> Bool in
            guard storage.hasPending else { return false }
            let now = time.monotonic()
            if let last = storage.lastAttempt, last.duration(to: now) < Self.retryInterval { return false }
            storage.lastAttempt = now
            if storage.store == nil {
                do {
                    storage.store = try Store(path: path)
                } catch {
                    problem("cannot open the session store \(path)", error)
                    return false
                }
                if !storage.recovered, let store = storage.store {
                    recover(store)
                    storage.recovered = true
                }
            }
            var caughtUp = 0
            while storage.count > 0, let store = storage.store {
                let write = storage.pending[storage.head]
                guard apply(write, to: store, storage: &storage) else { break }
                storage.head += 1
                caughtUp += 1
            }
            if storage.count == 0, storage.store != nil {
                let dropped = storage.dropped
                storage.pending = []
                storage.head = 0
                storage.dropped = 0
                storage.failing = false
                let lost = dropped > 0 ? "; \(dropped) older writes were dropped while the queue was full" : ""
                logger.notice("store writable again, \(caughtUp) writes caught up\(lost)")
            }
            return caughtUp > 0
        }
        if replayed { pushBell.ring() }
        restoreWhenOpen()
    }

    /// One write. False when the disk refused it (it stays queued and the connection is closed);
    /// true when it was done or cannot ever be done (then it is logged and dropped).
    private func apply(_ write: Write, to store: Store, storage: inout Storage) -> Bool {
        do {
            try perform(write, on: store)
            return true
        } catch let error where error.isStorageUnavailable {
            // Close, so nothing of the daemon holds the file system (it may be remounted), and
            // open again for the next try.
            store.close()
            storage.store = nil
            storage.failing = true
            let queued = storage.count + (storage.count == 0 ? 1 : 0)
            let dropped = storage.dropped > 0 ? ", \(storage.dropped) oldest dropped" : ""
            problem("cannot record \(write.summary) (\(queued) writes wait for the disk\(dropped))", error)
            return false
        } catch {
            logger.error("dropped a write to the session store: \(write.summary): \(error)")
            return true
        }
    }

    /// Performs a write; with `push` on, the push it owes the eMSP is queued in the same
    /// transaction: the whole object (PUT) at the start, when a transaction is linked and at the
    /// end; the changed fields (PATCH) with every new period.
    private func perform(_ write: Write, on store: Store) throws(StoreError) {
        switch write {
        case .start(let id, let evseID, let connectorID, let transactionID, let tokenUID, let tokenType, let start, let energyWh):
            try store.startSession(
                id: id, evseID: evseID, connectorID: connectorID, transactionID: transactionID, tokenUID: tokenUID,
                tokenType: tokenType, start: start, energyWh: energyWh, also: owed(id, .put, at: start))
        case .progress(let sessionID, let energyWh, let at, let periods):
            // A closed period comes with the new open one.
            try store.recordProgress(
                sessionID: sessionID, energyWh: energyWh, at: at, periods: periods,
                also: periods.count > 1 ? owed(sessionID, .patch, at: at) : { _ in })
        case .link(let sessionID, let transactionID, let tokenUID, let tokenType, let at):
            try store.linkTransaction(
                sessionID: sessionID, transactionID: transactionID, tokenUID: tokenUID, tokenType: tokenType, at: at,
                also: owed(sessionID, .put, at: at))
        case .complete(let sessionID, let evseID, let stop, let energyWh, let byRecovery):
            let record =
                byRecovery
                ? try store.closeRecovered(id: sessionID, stop: stop, energyWh: energyWh, also: owed(sessionID, .put, at: stop))
                : try store.completeSession(id: sessionID, stop: stop, energyWh: energyWh, also: owed(sessionID, .put, at: stop))
            logger.info("session \(record.id) recorded: \(record.kwh) kWh", metadata: ["evse_id": "\(evseID)"])
        case .setting(let key, let value, let at):
            try store.setSetting(key, value, at: at)
        case .availability(let scope, let operative, let at):
            try store.setAvailability(scope: scope, operative: operative, at: at)
        }
    }

    /// What a session change owes the eMSP, to run in the change's transaction (nothing without `push`).
    func owed(_ sessionID: String, _ kind: PushItem.Kind, at: Int64) -> (Database) throws(StoreError) -> Void {
        let push = self.push
        return { (database) throws(StoreError) in
            if push { try Store.enqueuePush(sessionID: sessionID, kind: kind, at: at, in: database) }
        }
    }

    /// Logs a storage problem at most once a minute (a full or read-only disk would otherwise
    /// flood the journal); the station keeps serving Josev.
    private func problem(_ what: String, _ error: any Error) {
        problemCount.withLock { $0 += 1 }
        let now = time.monotonic()
        let due = lastProblem.withLock { last in
            guard last.map({ $0.duration(to: now) >= .seconds(60) }) ?? true else { return false }
            last = now
            return true
        }
        if due { logger.error("\(what): \(error) (the station keeps serving; next report in a minute at the earliest)") }
    }
}
