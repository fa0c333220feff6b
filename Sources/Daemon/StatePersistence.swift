import Basics
import Logging
import Station
import Store

/// What the station keeps across restarts, in the store's `settings` and `availability` tables:
///
/// - the availability set with `change_availability` (OCPP ChangeAvailability persists across
///   reboots): scopes `station`, `evse:<EVSE id>` and `evse:<EVSE id>/connector:<n>`;
/// - the safe current of each EVSE (`safe_current/<EVSE id>`, A; PROFILE §4.1: the safe current is
///   persistent) and whether external (Modbus) control is on (`external_setpoints_enabled`);
/// - the phases to use of each AC EVSE (`phases/<EVSE id>`, register 1215; the station keeps them
///   across sessions and resets, and now across restarts).
///
/// - the connectors Josev reported reserved (`reservation/<EVSE id>/<connector>`: the Unix ms of
///   the report; Josev does not report a reservation again after a restart of the CS), deleted
///   when the reservation ends. A restored reservation still ends `reservation_timeout` after the
///   original report.
///
/// - the latched faults of each EVSE (`latched_fault/<EVSE id>/<kind>`: "true" while latched; a
///   welded contactor stays a fault across restarts until a person clears it).
///
/// Restored at start, before READY=1. The configuration file wins over a stored safe current: the
/// stored one applies only to an EVSE whose configuration names none. The external setpoint and
/// its valid time are never stored (PROFILE §4.1): after a restart the station runs at the safe
/// current until the energy manager writes again. Writes go through the recorder's queue, so a
/// full or read-only disk delays them but does not lose them.
enum PersistentKey {
    static let setpointsEnabled = "external_setpoints_enabled"
    static func safeCurrent(_ evseID: String) -> String { "safe_current/\(evseID)" }
    static func phases(_ evseID: String) -> String { "phases/\(evseID)" }
    static func reservation(_ evseID: String, _ connectorID: Int) -> String { "reservation/\(evseID)/\(connectorID)" }
    static func latchedFault(_ evseID: String, _ kind: HardwareFaultKind) -> String { "latched_fault/\(evseID)/\(kind.rawValue)" }

    static let station = "station"
    static func evse(_ evseID: String) -> String { "evse:\(evseID)" }
    static func connector(_ evseID: String, _ connectorID: Int) -> String { "evse:\(evseID)/connector:\(connectorID)" }

    /// The in-memory cache tells the two tables apart by a prefix.
    static func cacheKey(setting key: String) -> String { "s:" + key }
    static func cacheKey(availability scope: String) -> String { "a:" + scope }
}

extension SessionRecorder {
    /// Whether the stored state was read. Until it was, nothing of `persistState` is written: the
    /// station's state then is the configuration's, and writing it would overwrite what the store
    /// keeps (an EVSE the back office made inoperative) once the disk is back.
    struct Restoration: Sendable {
        var done = false
        var running = false
        var lastAttempt: ContinuousClock.Instant?
    }

    /// At start: applies the stored availability, phases, reservations and (where the
    /// configuration names none) safe currents to the station, and logs what it restored. Without
    /// an open store nothing is restored (logged); the station then starts operative, as
    /// configured, persists nothing of its state, and restores it when the store opens
    /// (`restoreWhenOpen`, from `retryPending`), after the queued writes were caught up.
    func restoreState() async {
        let claimed = restoration.withLock { restoration in
            guard !restoration.done, !restoration.running else { return false }
            restoration.running = true
            restoration.lastAttempt = time.monotonic()
            return true
        }
        guard claimed else { return }
        guard let (settings, availability) = readStoredState() else {
            restoration.withLock { $0.running = false }
            return
        }
        var restored: [String] = []
        var configuration = await station.configuration
        var reconfigure = false
        for index in configuration.evses.indices {
            let evse = configuration.evses[index]
            guard let text = settings[PersistentKey.safeCurrent(evse.evseID)], let stored = Double(text), stored.isFinite, stored >= 0 else {
                continue
            }
            if evse.safeCurrent == nil, stored != evse.effectiveSafeCurrent {
                configuration.evses[index].safeCurrent = stored
                reconfigure = true
                restored.append("safe current \(stored) A on \(evse.evseID)")
            } else if evse.safeCurrent != nil, evse.effectiveSafeCurrent != stored {
                logger.notice(
                    "safe current on \(evse.evseID): \(evse.effectiveSafeCurrent) A from the configuration (was \(stored) A)",
                    metadata: ["evse_id": "\(evse.evseID)"])
            }
        }
        if reconfigure { await station.reconfigure(configuration) }

        var scopes: [(String, AvailabilityScope)] = [(PersistentKey.station, .station)]
        for evse in configuration.evses {
            scopes.append((PersistentKey.evse(evse.evseID), .evse(evse.evseID)))
            for connector in evse.connectors {
                scopes.append((PersistentKey.connector(evse.evseID, connector.id), .connector(evseID: evse.evseID, connectorID: connector.id)))
            }
        }
        for (key, scope) in scopes where availability[key] == false {
            _ = await station.changeAvailability(scope, operative: false)
            restored.append("\(key) inoperative")
        }

        for evse in configuration.evses where evse.ac != nil {
            guard let text = settings[PersistentKey.phases(evse.evseID)], let phases = Int(text),
                let current = await station.externalSetpointState(evseID: evse.evseID)?.phases, phases != current
            else { continue }
            switch await station.setPhases(phases, evseID: evse.evseID) {
            case .accepted, .switching:
                restored.append("\(phases) phase(s) on \(evse.evseID)")
            case .refused(let reason):
                logger.info("stored \(phases) phase(s) on \(evse.evseID) not restored: \(reason)", metadata: ["evse_id": "\(evse.evseID)"])
            }
        }
        for evse in configuration.evses {
            for kind in HardwareFaultKind.allCases where kind.isLatched && settings[PersistentKey.latchedFault(evse.evseID, kind)] == "true" {
                await station.fault(kind, evseID: evse.evseID)
                restored.append("latched \(kind.rawValue) on \(evse.evseID)")
            }
        }
        let now = time.unixMilliseconds()
        for evse in configuration.evses {
            for connector in evse.connectors {
                let key = PersistentKey.reservation(evse.evseID, connector.id)
                guard let text = settings[key], let at = Int64(text) else { continue }
                let age = Duration.milliseconds(max(0, now - at))
                switch await station.restoreReservation(evseID: evse.evseID, connectorID: connector.id, age: age) {
                case true?:
                    restored.append("reservation of \(evse.evseID)/\(connector.id) (reported \(age.components.seconds) s ago)")
                case false?:
                    logger.notice(
                        "\(evse.evseID)/\(connector.id): reservation dropped, Josev never ended it (reservation_timeout)",
                        metadata: ["evse_id": "\(evse.evseID)"])
                    reservationChanged(evseID: evse.evseID, connectorID: connector.id, reserved: false)
                case nil:
                    break
                }
            }
        }
        if !restored.isEmpty { logger.info("restored from the store: \(restored.joined(separator: ", "))") }
        restoration.withLock {
            $0.done = true
            $0.running = false
        }
        await persistState()
    }

    /// The stored settings and availability, also kept as the last written values; nil (logged)
    /// when the store is not open or cannot be read.
    private func readStoredState() -> ([String: String], [String: Bool])? {
        guard let store else {
            logger.warning(
                "no stored settings, availability or reservations restored yet: the session store is not open; restored when it opens, nothing of them is stored until then"
            )
            return nil
        }
        let settings: [String: String]
        let availability: [String: Bool]
        do {
            settings = try store.settings()
            availability = try store.allAvailability()
        } catch {
            logger.error("cannot read the stored settings and availability: \(error); running with the configuration's until it can")
            return nil
        }
        persisted.withLock { cache in
            for (key, value) in settings { cache[PersistentKey.cacheKey(setting: key)] = value }
            for (scope, operative) in availability { cache[PersistentKey.cacheKey(availability: scope)] = String(operative) }
        }
        return (settings, availability)
    }

    /// From `retryPending`: once the store is open and the queued writes are caught up, restores
    /// the stored state that could not be read at start (at most once a second).
    func restoreWhenOpen() {
        let due = restoration.withLock { restoration in
            guard !restoration.done, !restoration.running else { return false }
            return restoration.lastAttempt.map { $0.duration(to: time.monotonic()) >= Self.retryInterval } ?? true
        }
        guard due, pendingWrites == 0, store != nil else { return }
        Task { await self.restoreState() }
    }

    /// A connector reserved (stored with the time of the report) or no longer reserved (deleted).
    func reservationChanged(evseID: String, connectorID: Int, reserved: Bool) {
        let key = PersistentKey.reservation(evseID, connectorID)
        let now = time.unixMilliseconds()
        let value: String? = reserved ? String(now) : nil
        persisted.withLock { cache in cache[PersistentKey.cacheKey(setting: key)] = value }
        write(.setting(key: key, value: value, at: now))
    }

    /// Josev reported a connector not reserved that the station did not hold reserved: deletes a
    /// stored reservation that may still be there (or that the store, not read yet, may hold).
    func reservationNotHeld(evseID: String, connectorID: Int) {
        let key = PersistentKey.reservation(evseID, connectorID)
        let stored = persisted.withLock { $0[PersistentKey.cacheKey(setting: key)] != nil }
        if stored || !restoration.withLock({ $0.done }) { reservationChanged(evseID: evseID, connectorID: connectorID, reserved: false) }
    }

    /// Writes the persistent values that changed since they were last written (nothing before the
    /// stored state was read, see `Restoration`).
    func persistState() async {
        guard restoration.withLock({ $0.done }) else { return }
        let configuration = await station.configuration
        var values: [String: String] = [
            PersistentKey.cacheKey(setting: PersistentKey.setpointsEnabled): String(configuration.setpoints.enabled)
        ]
        var stationOperative = true
        for evse in configuration.evses {
            guard let state = await station.state(of: evse.evseID) else { continue }
            values[PersistentKey.cacheKey(setting: PersistentKey.safeCurrent(evse.evseID))] = String(evse.effectiveSafeCurrent)
            if evse.ac != nil { values[PersistentKey.cacheKey(setting: PersistentKey.phases(evse.evseID))] = String(state.phases) }
            stationOperative = stationOperative && state.stationOperative
            for kind in HardwareFaultKind.allCases where kind.isLatched {
                // Written once latched; "false" only over a stored "true".
                let key = PersistentKey.cacheKey(setting: PersistentKey.latchedFault(evse.evseID, kind))
                if state.faults.contains(kind) || persisted.withLock({ $0[key] != nil }) { values[key] = String(state.faults.contains(kind)) }
            }
            values[PersistentKey.cacheKey(availability: PersistentKey.evse(evse.evseID))] = String(state.operative)
            for connector in state.connectors {
                values[PersistentKey.cacheKey(availability: PersistentKey.connector(evse.evseID, connector.id))] = String(connector.operative)
            }
        }
        values[PersistentKey.cacheKey(availability: PersistentKey.station)] = String(stationOperative)
        let changes = persisted.withLock { cache in
            let changed = values.filter { cache[$0.key] != $0.value }
            for (key, value) in changed { cache[key] = value }
            return changed.sorted { $0.key < $1.key }
        }
        let now = time.unixMilliseconds()
        for (key, value) in changes {
            if key.hasPrefix("a:") {
                write(.availability(scope: String(key.dropFirst(2)), operative: value == "true", at: now))
            } else {
                write(.setting(key: String(key.dropFirst(2)), value: value, at: now))
            }
        }
    }
}
