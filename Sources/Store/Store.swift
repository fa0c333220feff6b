import Basics

#if canImport(Glibc)
    import Glibc
#endif

/// Crash-safe persistence of the daemon: charging sessions with their charging periods, settings,
/// and availability, in one SQLite file.
///
/// **Concurrency.** One connection per `Store`, used under a pthread mutex: every method takes the
/// lock for its whole statement or transaction, so calls from any thread or task are serialized
/// and each is atomic. Methods block (a committed write waits for its fsync, typically a few ms on
/// eMMC), so call them from a context that may block. Readers in other processes (the
/// `cs-companion sessions` CLI) use their own read-only connection; in WAL mode they neither block
/// nor are blocked by the daemon's writes.
///
/// **Durability.** The connection runs in WAL mode with `synchronous=FULL`; every write method is
/// one `BEGIN IMMEDIATE … COMMIT` transaction, so when it returns the change survives a crash or a
/// power cut, and when it throws nothing of it was applied.
///
/// **Degrading.** A read-only, full or failing file system surfaces as
/// `StoreError.storageUnavailable` (from the open or from any write); the daemon can keep running
/// without persistence and try again later with a new `Store`.
///
/// Times are Unix milliseconds (UTC), energies meter readings in Wh.
public final class Store: Sendable {
    /// Where cs-companiond keeps its database.
    public static let defaultPath = "/var/lib/cs-companiond/cs-companion.db"

    public let path: String
    public let isReadOnly: Bool
    private let connection: Locked<Database?>

    /// Opens the database. Read-write (the daemon): creates the file if needed, sets WAL,
    /// `synchronous=FULL`, the busy timeout and foreign keys, and applies pending migrations.
    /// Read-only (tools): `SQLITE_OPEN_READONLY`, and the schema must be the current version.
    ///
    /// - Throws: `storageUnavailable` when the file cannot be opened or created (or, read-write,
    ///   the file system takes no writes); `unsupportedSchemaVersion` for a database of a newer
    ///   daemon; `schemaNotCurrent` (read-only) for an older or empty one; `corrupt` when it is not
    ///   a database.
    public init(path: String, readOnly: Bool = false, busyTimeoutMilliseconds: Int32 = 5000) throws(StoreError) {
        self.path = path
        self.isReadOnly = readOnly
        let database = try Database(path: path, mode: readOnly ? .readOnly : .readWriteCreate, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        if readOnly {
            try Schema.requireCurrent(database)
        } else {
            try Schema.migrate(database)
        }
        connection = Locked(database)
    }

    /// Closes the connection; later calls throw `StoreError.closed`. Idempotent.
    public func close() {
        connection.withLock { database in
            database?.close()
            database = nil
        }
    }

    /// Runs `body` with the connection, under the lock.
    func withDatabase<T>(_ body: (Database) throws(StoreError) -> T) throws(StoreError) -> T {
        try connection.withLock { (database: inout Database?) throws(StoreError) -> T in
            guard let database else { throw .closed }
            return try body(database)
        }
    }

    /// Runs `body` in one durable transaction, under the lock.
    func write<T>(_ body: (Database) throws(StoreError) -> T) throws(StoreError) -> T {
        try withDatabase { (database) throws(StoreError) -> T in
            try database.transaction { () throws(StoreError) -> T in try body(database) }
        }
    }

    // MARK: - Maintenance

    /// `PRAGMA user_version`.
    public func schemaVersion() throws(StoreError) -> Int64 {
        try withDatabase { (database) throws(StoreError) in try database.userVersion() }
    }

    /// `PRAGMA integrity_check` plus `PRAGMA foreign_key_check`: empty when the database is sound.
    public func integrityCheck() throws(StoreError) -> [String] {
        try withDatabase { (database) throws(StoreError) in
            try database.integrityCheck() + database.foreignKeyCheck()
        }
    }

    /// The journal mode in effect ("wal").
    public func journalMode() throws(StoreError) -> String {
        try withDatabase { database in database.journalMode }
    }

    // MARK: - Sessions

    /// Records a new ACTIVE session and returns its id (a new random UUID unless `id` is given,
    /// e.g. to make a retried call idempotent: the same id twice is a constraint error).
    @discardableResult
    public func startSession(
        id: String? = nil, evseID: String, connectorID: Int, transactionID: String? = nil, tokenUID: String,
        tokenType: SessionTokenType, contractID: String? = nil, authMethod: AuthMethod? = nil, start: Int64,
        energyWh: Double, also: (Database) throws(StoreError) -> Void = { _ in }
    ) throws(StoreError) -> String {
        let id = id ?? UUIDText.random()
        guard !id.isEmpty, id.utf8.count <= 36 else { throw .invalidArgument("session id must be 1…36 characters: \(id)") }
        guard !evseID.isEmpty else { throw .invalidArgument("empty EVSE id") }
        guard connectorID >= 0 else { throw .invalidArgument("connector id \(connectorID) < 0") }
        try Self.requireFinite(energyWh, "start energy")
        try write { (database) throws(StoreError) in
            try database.execute(
                """
                INSERT INTO sessions (id, evse_id, connector_id, transaction_id, token_uid, token_type, contract_id,
                    auth_method, status, start_ms, energy_start_wh, energy_last_wh, kwh, last_update_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?, 0, ?)
                """,
                [
                    .text(id), .text(evseID), .integer(Int64(connectorID)), .text(transactionID), .text(tokenUID),
                    .text(tokenType.rawValue), .text(contractID), .text(authMethod?.rawValue), .integer(start),
                    .real(energyWh), .real(energyWh), .integer(start),
                ])
            try also(database)
        }
        return id
    }

    /// Sets the OCPP transaction id of a session (Josev reports it after the session started).
    public func setTransactionID(sessionID: String, transactionID: String, at: Int64) throws(StoreError) {
        try write { (database) throws(StoreError) in
            _ = try Self.status(of: sessionID, in: database)
            try database.execute(
                "UPDATE sessions SET transaction_id = ?, last_update_ms = max(last_update_ms, ?) WHERE id = ?",
                [.text(transactionID), .integer(at), .text(sessionID)])
        }
    }

    /// Adds a charging period to an ACTIVE session (or replaces the dimensions of its period with
    /// the same start). `dimensions` must not be empty; one volume per type.
    public func addPeriod(sessionID: String, start: Int64, dimensions: [ChargingDimension]) throws(StoreError) {
        try Self.requireValid(dimensions)
        try write { (database) throws(StoreError) in
            try Self.upsertPeriod(sessionID: sessionID, start: start, dimensions: dimensions, in: database)
            try database.execute(
                "UPDATE sessions SET last_update_ms = max(last_update_ms, ?) WHERE id = ?", [.integer(start), .text(sessionID)])
        }
    }

    /// Records the latest meter reading of an ACTIVE session, taken at `at`.
    public func updateActive(sessionID: String, energyWh: Double, at: Int64) throws(StoreError) {
        try Self.requireFinite(energyWh, "energy")
        try write { (database) throws(StoreError) in
            let (status, startWh) = try Self.statusAndStartEnergy(of: sessionID, in: database)
            guard status == .active else { throw .invalidTransition(sessionID: sessionID, status: status, operation: "update") }
            try database.execute(
                "UPDATE sessions SET energy_last_wh = ?, kwh = ?, last_update_ms = max(last_update_ms, ?) WHERE id = ?",
                [.real(energyWh), .real(Self.kwh(from: startWh, to: energyWh)), .integer(at), .text(sessionID)])
        }
    }

    /// Completes an ACTIVE session: status COMPLETED, stop time and final meter reading. Durable
    /// when it returns. Returns the stored record.
    @discardableResult
    public func completeSession(
        id: String, stop: Int64, energyWh: Double, also: (Database) throws(StoreError) -> Void = { _ in }
    ) throws(StoreError) -> ChargingSessionRecord {
        try finish(id: id, stop: stop, energyWh: energyWh, byRecovery: false, also: also)
    }

    /// Completes a session returned by `recoverAfterCrash` (typically with its `suggestedStop` and
    /// `suggestedEnergyWh`); the record is flagged `closedByRecovery`.
    @discardableResult
    public func closeRecovered(
        id: String, stop: Int64, energyWh: Double, also: (Database) throws(StoreError) -> Void = { _ in }
    ) throws(StoreError) -> ChargingSessionRecord {
        try finish(id: id, stop: stop, energyWh: energyWh, byRecovery: true, also: also)
    }

    private func finish(
        id: String, stop: Int64, energyWh: Double, byRecovery: Bool, also: (Database) throws(StoreError) -> Void
    ) throws(StoreError) -> ChargingSessionRecord {
        try Self.requireFinite(energyWh, "stop energy")
        return try write { (database) throws(StoreError) -> ChargingSessionRecord in
            let (status, start) = try Self.statusAndStart(of: id, in: database)
            guard status == .active else { throw .invalidTransition(sessionID: id, status: status, operation: "complete") }
            guard stop >= start else { throw .invalidArgument("stop \(stop) before the start \(start) of session \(id)") }
            let (_, startWh) = try Self.statusAndStartEnergy(of: id, in: database)
            try database.execute(
                """
                UPDATE sessions SET status = 'COMPLETED', stop_ms = ?, energy_stop_wh = ?, energy_last_wh = ?, kwh = ?,
                    last_update_ms = max(last_update_ms, ?), closed_by_recovery = ?
                WHERE id = ?
                """,
                [
                    .integer(stop), .real(energyWh), .real(energyWh), .real(Self.kwh(from: startWh, to: energyWh)),
                    .integer(stop), .integer(byRecovery ? 1 : 0), .text(id),
                ])
            try also(database)
            guard let record = try Self.load(where: "s.id = ?", [.text(id)], in: database).first else { throw .sessionNotFound(id) }
            return record
        }
    }

    /// Declares a session INVALID (from any status; it will not be billed). A session that had not
    /// stopped gets `at` as its stop time.
    public func invalidateSession(id: String, at: Int64) throws(StoreError) {
        try write { (database) throws(StoreError) in
            let (_, start) = try Self.statusAndStart(of: id, in: database)
            try database.execute(
                """
                UPDATE sessions SET status = 'INVALID', stop_ms = coalesce(stop_ms, ?), last_update_ms = max(last_update_ms, ?)
                WHERE id = ?
                """, [.integer(max(at, start)), .integer(at), .text(id)])
        }
    }

    /// One session, or nil.
    public func session(id: String) throws(StoreError) -> ChargingSessionRecord? {
        try withDatabase { (database) throws(StoreError) in try Self.load(where: "s.id = ?", [.text(id)], in: database).first }
    }

    /// The session with this OCPP transaction id (the most recent when several), or nil.
    public func session(transactionID: String) throws(StoreError) -> ChargingSessionRecord? {
        try withDatabase { (database) throws(StoreError) in
            try Self.load(where: "s.transaction_id = ?", [.text(transactionID)], in: database).last
        }
    }

    /// The ACTIVE sessions, oldest first.
    public func activeSessions() throws(StoreError) -> [ChargingSessionRecord] {
        try withDatabase { (database) throws(StoreError) in try Self.load(where: "s.status = 'ACTIVE'", [], in: database) }
    }

    /// Sessions changed at or after `since` (their `lastUpdate`, as OCPI's `date_from` filters —
    /// so a session that started before but ran or ended after `since` is included); all sessions
    /// when nil. Oldest start first.
    public func sessions(since: Int64? = nil) throws(StoreError) -> [ChargingSessionRecord] {
        try withDatabase { (database) throws(StoreError) in
            if let since { return try Self.load(where: "s.last_update_ms >= ?", [.integer(since)], in: database) }
            return try Self.load(where: "1", [], in: database)
        }
    }

    /// After a start: the sessions still ACTIVE (the daemon crashed or lost power during them),
    /// with the current meter reading of their EVSE and a suggested stop and energy. Changes
    /// nothing: the daemon either continues a session (`updateActive` …) or closes it
    /// (`closeRecovered`). `meterReading` is called without the store's lock held.
    public func recoverAfterCrash(meterReading: (_ evseID: String) -> Double?) throws(StoreError) -> [RecoveredSession] {
        let active = try activeSessions()
        return active.map { session in
            let reading = meterReading(session.evseID)
            let plausible = reading.flatMap { $0.isFinite && $0 >= session.energyLastWh ? $0 : nil }
            return RecoveredSession(
                session: session, meterReadingWh: reading, suggestedEnergyWh: plausible ?? session.energyLastWh,
                suggestedStop: max(session.start, session.lastUpdate))
        }
    }

    // MARK: - Settings and availability

    /// A stored setting, or nil.
    public func setting(_ key: String) throws(StoreError) -> String? {
        try withDatabase { (database) throws(StoreError) in
            try database.query("SELECT value FROM settings WHERE key = ?", [.text(key)]) { row in row.string(0) }.first
        }
    }

    /// Stores (or, with nil, deletes) a setting.
    public func setSetting(_ key: String, _ value: String?, at: Int64 = WallClock.unixMilliseconds()) throws(StoreError) {
        try write { (database) throws(StoreError) in
            if let value {
                try database.execute(
                    """
                    INSERT INTO settings (key, value, updated_ms) VALUES (?, ?, ?)
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms
                    """, [.text(key), .text(value), .integer(at)])
            } else {
                try database.execute("DELETE FROM settings WHERE key = ?", [.text(key)])
            }
        }
    }

    /// All settings.
    public func settings() throws(StoreError) -> [String: String] {
        try withDatabase { (database) throws(StoreError) in
            let pairs = try database.query("SELECT key, value FROM settings") { row in (row.string(0), row.string(1)) }
            return Dictionary(pairs, uniquingKeysWith: { _, last in last })
        }
    }

    /// Whether `scope` (e.g. "station", "evse:1", "evse:1/connector:1") is operative; nil when
    /// never set.
    public func availability(scope: String) throws(StoreError) -> Bool? {
        try withDatabase { (database) throws(StoreError) in
            try database.query("SELECT operative FROM availability WHERE scope = ?", [.text(scope)]) { row in row.int64(0) != 0 }.first
        }
    }

    /// Stores the availability of `scope` (OCPP ChangeAvailability persists across reboots).
    public func setAvailability(scope: String, operative: Bool, at: Int64 = WallClock.unixMilliseconds()) throws(StoreError) {
        try write { (database) throws(StoreError) in
            try database.execute(
                """
                INSERT INTO availability (scope, operative, updated_ms) VALUES (?, ?, ?)
                ON CONFLICT (scope) DO UPDATE SET operative = excluded.operative, updated_ms = excluded.updated_ms
                """, [.text(scope), .integer(operative ? 1 : 0), .integer(at)])
        }
    }

    /// Every stored availability.
    public func allAvailability() throws(StoreError) -> [String: Bool] {
        try withDatabase { (database) throws(StoreError) in
            let pairs = try database.query("SELECT scope, operative FROM availability") { row in (row.string(0), row.int64(1) != 0) }
            return Dictionary(pairs, uniquingKeysWith: { _, last in last })
        }
    }

    // MARK: - Helpers

    /// kWh between two meter readings, rounded to the Wh, never negative.
    public static func kwh(from startWh: Double, to currentWh: Double) -> Double {
        let delta = currentWh - startWh
        guard delta.isFinite, delta > 0 else { return 0 }
        return delta.rounded() / 1000
    }

    static func requireFinite(_ value: Double, _ what: String) throws(StoreError) {
        guard value.isFinite else { throw .invalidArgument("\(what) is not a finite number") }
    }

    private static func status(of id: String, in database: Database) throws(StoreError) -> SessionStatus {
        try statusAndStart(of: id, in: database).0
    }

    static func statusAndStart(of id: String, in database: Database) throws(StoreError) -> (SessionStatus, Int64) {
        let rows = try database.query("SELECT status, start_ms FROM sessions WHERE id = ?", [.text(id)]) { row in
            (row.string(0), row.int64(1))
        }
        guard let row = rows.first else { throw .sessionNotFound(id) }
        return (SessionStatus(rawValue: row.0) ?? .invalid, row.1)
    }

    static func statusAndStartEnergy(of id: String, in database: Database) throws(StoreError) -> (SessionStatus, Double) {
        let rows = try database.query("SELECT status, energy_start_wh FROM sessions WHERE id = ?", [.text(id)]) { row in
            (row.string(0), row.double(1))
        }
        guard let row = rows.first else { throw .sessionNotFound(id) }
        return (SessionStatus(rawValue: row.0) ?? .invalid, row.1)
    }

    /// The dimensions of the periods of the sessions matching `condition` (on alias `s`): session
    /// id, period start, type, volume; by session, then period start. Driven from the matching
    /// sessions: their ids (by whatever index serves `condition`), then each one's periods by
    /// `charging_periods (session_id, start_ms)` and their dimensions by `period_dimensions
    /// (period_id, type)`, in that order without a sort. (Written as a join of the three tables, the
    /// planner read all of charging_periods in index order to spare the sort: 100 000 sessions cost
    /// over half a second for a week of them.)
    static func periodsQuery(where condition: String) -> String {
        """
        SELECT p.session_id, p.start_ms, d.type, d.volume
        FROM charging_periods p JOIN period_dimensions d ON d.period_id = p.id
        WHERE p.session_id IN (SELECT s.id FROM sessions s WHERE \(condition)) ORDER BY p.session_id, p.start_ms
        """
    }

    /// Sessions matching `condition` (on alias `s`), with their periods, by start.
    static func load(where condition: String, _ bindings: [SQLValue], in database: Database) throws(StoreError) -> [ChargingSessionRecord] {
        var records = try database.query(
            """
            SELECT s.id, s.evse_id, s.connector_id, s.transaction_id, s.token_uid, s.token_type, s.contract_id, s.auth_method,
                s.status, s.start_ms, s.stop_ms, s.energy_start_wh, s.energy_last_wh, s.energy_stop_wh, s.last_update_ms,
                s.closed_by_recovery
            FROM sessions s WHERE \(condition) ORDER BY s.start_ms, s.id
            """, bindings
        ) { row in
            ChargingSessionRecord(
                id: row.string(0), evseID: row.string(1), connectorID: Int(truncatingIfNeeded: row.int64(2)),
                transactionID: row.optionalString(3), tokenUID: row.string(4), tokenType: SessionTokenType(row.string(5)),
                contractID: row.optionalString(6), authMethod: row.optionalString(7).flatMap(AuthMethod.init(rawValue:)),
                status: SessionStatus(rawValue: row.string(8)) ?? .invalid, start: row.int64(9), stop: row.optionalInt64(10),
                energyStartWh: row.double(11), energyLastWh: row.double(12), energyStopWh: row.optionalDouble(13),
                lastUpdate: row.int64(14), closedByRecovery: row.int64(15) != 0, chargingPeriods: [])
        }
        guard !records.isEmpty else { return records }
        let dimensions = try database.query(periodsQuery(where: condition), bindings) { row in
            (row.string(0), row.int64(1), DimensionType(rawValue: row.string(2)), row.double(3))
        }
        // A session's rows are consecutive (by session, then period start): its periods are built in one go.
        var periods: [String: [ChargingPeriod]] = [:]
        var next = dimensions.startIndex
        while next < dimensions.endIndex {
            let sessionID = dimensions[next].0
            var list: [ChargingPeriod] = []
            while next < dimensions.endIndex, dimensions[next].0 == sessionID {
                let (_, start, type, volume) = dimensions[next]
                next += 1
                guard let type else { continue }
                if list.last?.start == start {
                    list[list.count - 1].dimensions.append(ChargingDimension(type, volume))
                } else {
                    list.append(ChargingPeriod(start: start, dimensions: [ChargingDimension(type, volume)]))
                }
            }
            periods[sessionID] = list
        }
        let order = Dictionary(uniqueKeysWithValues: DimensionType.allCases.enumerated().map { ($0.element, $0.offset) })
        for index in records.indices {
            records[index].chargingPeriods = (periods[records[index].id] ?? []).map { period in
                var sorted = period
                sorted.dimensions.sort { order[$0.type, default: 0] < order[$1.type, default: 0] }
                return sorted
            }
        }
        return records
    }
}
