import Basics
import JosevContract
import Logging
import Store
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The `device_model:` block: the configuration keys the back office may read and change.
public struct DeviceModelSettings: Sendable, Equatable {
    /// The declared variables with their default values.
    public var variables: [DeviceVariableRecord] = []
    /// How long an applied change is remembered as awaiting Josev's confirming `device_model_update`
    /// (an echo of it is a confirmation, not a new change), and how long a change that needs a
    /// restart keeps the turn of restart-requiring changes (pacing).
    public var confirmTimeout: Double = 10

    public init(variables: [DeviceVariableRecord] = [], confirmTimeout: Double = 10) {
        self.variables = variables
        self.confirmTimeout = confirmTimeout
    }
}

/// What became of a proposed change.
public enum VariableChangeOutcome: Sendable, Equatable {
    /// Applied now and announced to Josev (the next change is applied after it, in order).
    case applied(DeviceVariableRecord)
    /// Accepted and kept for the next start (the variable needs a restart).
    case pendingRestart(DeviceVariableRecord)
    /// The value is already the current one: accepted, nothing to do.
    case unchanged(DeviceVariableRecord)
    case rejected(VariableRejection)

    public var accepted: Bool {
        if case .rejected = self { return false }
        return true
    }
}

/// The station's device-model variables (OCPP configuration keys): declared in the configuration,
/// kept in the store, judged by `DeviceModelRules`, changed one at a time.
///
/// **Order.** Changes (from Josev's `set_variable_validate`, a `device_model_update` of Josev's,
/// or `cs-companion config set`) are serialized: one that arrives while another is being decided
/// and written waits for it, then is judged and applied, so several changes in a row (an OCPP
/// SetVariables with several keys) are applied in the order they came. Each applied change is
/// announced with a `device_model_update` (CS → Josev) and remembered as awaiting Josev's
/// confirmation for `confirmTimeout`: Josev's echo of it (a `device_model_update` naming the
/// variable with that value) confirms it and is never taken for a new change, even after a later
/// change of the same variable.
///
/// **Pacing** protects only changes that need a restart: such a change is stored as pending,
/// applied, recorded and announced at the next start; a change of another variable that needs a
/// restart is rejected as busy for `confirmTimeout` after it (one restart-requiring change at a
/// time; a station restarted with several new network settings at once may not come back).
///
/// A change Josev pushes in its `device_model_update` that the station refuses is announced back
/// with the value in force, so the two device models never silently disagree.
///
/// Every change is recorded in the store's history (old value, new value, source, time); the
/// values of WriteOnly variables are never stored in the history, logged or shown.
public final class DeviceModelStore: Sendable {
    /// An applied change waiting for its confirmation.
    public struct InFlight: Sendable, Equatable {
        public var key: DeviceVariableKey
        public var value: String
        public var source: DeviceVariableSource
        public var deadline: ContinuousClock.Instant
    }

    struct State {
        var records: [DeviceVariableKey: DeviceVariableRecord]
        /// Applied and announced, not yet confirmed by Josev (oldest first).
        var awaiting: [InFlight] = []
        /// The last change that needs a restart, holding the turn of such changes until its deadline.
        var restartTurn: InFlight?
        /// Applied at start, not yet announced (the broker was not connected yet).
        var unannounced: [DeviceVariableKey] = []
        /// A change being written to the store (outside the lock); the next change waits for it.
        var writing: DeviceVariableKey?
    }

    /// The store given at init (tests); nil when the daemon keeps only the path (see `withStore`).
    let store: Store?
    /// The database file, opened for each write and closed right after (the daemon's case).
    let path: String?
    let confirmTimeout: Duration
    /// The monotonic clock paces the changes; the wall clock dates them in the history.
    let time: any TimeSource
    let logger: Logger
    private let state: Mutex<State>
    /// Held by one change from its decision to its commit (across the store's write): changes are
    /// taken one after the other, in the order they came. Readers never take it.
    private let turn = Locked(())
    /// Told of every change in force now (applied, or applied at start): the station follows the
    /// variables it owns (`StationOwnedKeys`).
    private let applied: @Sendable (DeviceVariableRecord) -> Void
    /// Where announcements go (the outbox's `sendUpdate`); false when not sent.
    private let announcer: @Sendable (DeviceModelUpdate) -> Bool
    /// OCPP EVSE ids by ISO 15118 EVSE id (device-model components carry the OCPP integer).
    private let ocppEVSEIDs: [String: Int]

    /// Declares the variables in `store` (nil: kept in memory only), resets stored values the
    /// declarations no longer allow, and applies the changes left pending for this start.
    public init(
        settings: DeviceModelSettings, store: Store?, path: String? = nil, logger: Logger,
        time: any TimeSource = SystemTime(), ocppEVSEIDs: [String: Int] = [:],
        announce: @escaping @Sendable (DeviceModelUpdate) -> Bool = { _ in false },
        applied: @escaping @Sendable (DeviceVariableRecord) -> Void = { _ in }
    ) {
        self.ocppEVSEIDs = ocppEVSEIDs
        announcer = announce
        self.applied = applied
        let path = store == nil ? path : nil
        self.store = store
        self.path = path
        self.logger = logger
        self.time = time
        confirmTimeout = .milliseconds(Int64((max(0, settings.confirmTimeout) * 1000).rounded()))
        var records = Dictionary(settings.variables.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var unannounced: [DeviceVariableKey] = []
        if store != nil || path != nil {
            do {
                try Self.withStore(store, path) { store throws(StoreError) in
                let replaced = try store.declareDeviceVariables(settings.variables, at: time.unixMilliseconds())
                let declared = Dictionary(settings.variables.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
                for (key, old) in replaced.sorted(by: { $0.key < $1.key }) {
                    logger.notice("\(key) = '\(declared[key]?.value ?? "")' from the configuration (ReadOnly; was '\(old)')")
                    unannounced.append(key)
                }
                for var record in try store.deviceVariables() {
                    let redacted = record.mutability == .writeOnly
                    if DeviceModelRules.check(record.value, for: record) != nil, let fallback = declared[record.key]?.value {
                        try store.setDeviceVariable(record.key, value: fallback, source: .config, event: .resetToDefault, redacted: redacted, at: time.unixMilliseconds())
                        logger.notice("\(record.key): the stored value no longer fits its declaration; reset to the configured default")
                        record.value = fallback
                        record.pendingValue = nil
                    }
                    if let pending = record.pendingValue {
                        let source = record.pendingSource ?? .local
                        if DeviceModelRules.check(pending, for: record) == nil, record.mutability != .readOnly {
                            try store.setDeviceVariable(record.key, value: pending, source: source, event: .appliedAtStart, redacted: redacted, at: time.unixMilliseconds())
                            logger.notice(
                                "\(record.key)\(redacted ? "" : " = '\(pending)'") applied at start (changed by \(source.rawValue) before the restart)")
                            record.value = pending
                            unannounced.append(record.key)
                        } else {
                            try store.setDeviceVariable(record.key, value: record.value, source: .config, event: .resetToDefault, redacted: redacted, at: time.unixMilliseconds())
                            logger.notice("\(record.key): the change pending for this start no longer fits its declaration; dropped")
                        }
                        record.pendingValue = nil
                        record.pendingSource = nil
                        record.pendingAt = nil
                    }
                    records[record.key] = record
                }
                }
            } catch {
                logger.error("device-model variables cannot be stored (\(error)); changes last until the daemon stops")
            }
        }
        state = Mutex(State(records: records, unannounced: unannounced))
    }

    /// Runs `body` on the database: the store given at init, or the file at `path` opened for this
    /// operation only. Changes are rare, and holding no write handle between them lets an
    /// administrator remount a full or failing state directory read-only (the session recorder
    /// closes its connection on a storage failure for the same reason). Nil without a database.
    @discardableResult
    func withStore<T>(_ body: (Store) throws(StoreError) -> T) throws(StoreError) -> T? {
        try Self.withStore(store, path, body)
    }

    @discardableResult
    static func withStore<T>(_ store: Store?, _ path: String?, _ body: (Store) throws(StoreError) -> T) throws(StoreError) -> T? {
        if let store { return try body(store) }
        guard let path else { return nil }
        let opened = try Store(path: path)
        defer { opened.close() }
        return try body(opened)
    }

    /// Opens the store in `stateDirectory` (its own connection; sessions use another one).
    public static func open(
        settings: DeviceModelSettings, stateDirectory: String, logger: Logger, ocppEVSEIDs: [String: Int],
        announce: @escaping @Sendable (DeviceModelUpdate) -> Bool,
        applied: @escaping @Sendable (DeviceVariableRecord) -> Void = { _ in }
    ) -> DeviceModelStore {
        mkdir(stateDirectory, 0o700)
        let path = stateDirectory + "/cs-companion.db"
        do {
            try Store(path: path).close()  // creates or migrates the file; each change opens it again
            let model = DeviceModelStore(
                settings: settings, store: nil, path: path, logger: logger, ocppEVSEIDs: ocppEVSEIDs, announce: announce,
                applied: applied)
            logger.info("\(settings.variables.count) device-model variable(s) kept in \(path)")
            return model
        } catch {
            logger.error("cannot open \(path) for the device-model variables: \(error); changes last until the daemon stops")
            return DeviceModelStore(
                settings: settings, store: nil, logger: logger, ocppEVSEIDs: ocppEVSEIDs, announce: announce, applied: applied)
        }
    }

    // MARK: Reading

    public var records: [DeviceVariableRecord] { state.withLock { $0.records.values.sorted { $0.key < $1.key } } }

    public func record(_ key: DeviceVariableKey) -> DeviceVariableRecord? { state.withLock { $0.records[key] } }

    /// The applied changes awaiting Josev's confirmation, oldest first (confirmed or timed-out ones
    /// are gone).
    public var awaitingConfirmation: [InFlight] {
        let instant = time.monotonic()
        return state.withLock { state in state.awaiting.filter { instant < $0.deadline } }
    }

    /// The newest applied change awaiting its confirmation.
    public var inFlight: InFlight? { awaitingConfirmation.last }

    /// The variable whose change is being written to the store right now, if any.
    var writing: DeviceVariableKey? { state.withLock { $0.writing } }

    /// The recorded changes, oldest first (the newest `limit`).
    public func history(limit: Int? = nil) throws(StoreError) -> [DeviceVariableChange] {
        try withStore { store throws(StoreError) in try store.deviceVariableHistory(limit: limit) } ?? []
    }

    /// The components of the `device_model` answer.
    public func components() -> [DeviceModelComponent] {
        let ids = ocppEVSEIDs
        var order: [ComponentKey] = []
        var grouped: [ComponentKey: [DeviceModelVariable]] = [:]
        for record in records {
            let component = ComponentKey(record.key)
            if grouped[component] == nil { order.append(component) }
            grouped[component, default: []].append(
                DeviceModelVariable(
                    name: record.key.variable, value: record.value, instance: record.key.variableInstance.nonEmpty, unit: record.unit,
                    valuesList: record.valuesListText, mutability: VariableMutability(rawValue: record.mutability.rawValue),
                    dataType: VariableDataType(rawValue: record.dataType.rawValue)))
        }
        return order.map { component in
            DeviceModelComponent(
                name: component.name, instance: component.instance.nonEmpty,
                evseID: component.evseID.nonEmpty.flatMap { ids[$0] }, connectorID: component.connectorID == 0 ? nil : component.connectorID,
                variables: grouped[component])
        }
    }

    // MARK: Changing

    /// Judges and, when accepted, makes a change (see the type's description for the order and
    /// the pacing).
    ///
    /// Decided under the state's lock, written to the store without it (opening the file and
    /// syncing it can take long on a slow card; readers of the records must not wait for it), then
    /// committed in memory under the lock. The whole runs holding the turn, so a change that comes
    /// meanwhile waits and is judged against the committed result of this one.
    @discardableResult
    public func propose(_ key: DeviceVariableKey, value: String, source: DeviceVariableSource) -> VariableChangeOutcome {
        let outcome = turn.withLock { _ in decideAndWrite(key, value: value, source: source) }
        log(outcome, key: key, value: value, source: source)
        switch outcome {
        case .applied(let record):
            announce(record)
            applied(record)
        default: break
        }
        return outcome
    }

    private func decideAndWrite(_ key: DeviceVariableKey, value: String, source: DeviceVariableSource) -> VariableChangeOutcome {
        let decision = state.withLock { state -> Decision in
            guard let record = state.records[key] else { return .decided(.rejected(.unknown)) }
            if record.mutability == .readOnly { return .decided(.rejected(.readOnly)) }
            if let problem = DeviceModelRules.check(value, for: record) { return .decided(.rejected(problem)) }
            let instant = time.monotonic()
            state.awaiting.removeAll { $0.deadline <= instant }
            if record.value == value, record.pendingValue == nil { return .decided(.unchanged(record)) }
            if record.requiresRestart, let turn = state.restartTurn, turn.key != key, instant < turn.deadline {
                let left = turn.deadline - instant
                return .decided(.rejected(.busy(
                    "\(turn.key) needs a restart too and was changed less than \(Self.seconds(confirmTimeout)) s ago (at most \(Self.seconds(left)) s more)")))
            }
            state.writing = key
            return .write(record)
        }
        guard case .write(let record) = decision else {
            if case .decided(let outcome) = decision { return outcome }
            return .rejected(.unknown)
        }
        let written = write(record, value: value, source: source)
        return state.withLock { state -> VariableChangeOutcome in
            state.writing = nil
            if let problem = written { return .rejected(problem) }
            var changed = state.records[key] ?? record
            let deadline = time.monotonic() + confirmTimeout
            if record.requiresRestart {
                changed.pendingValue = value
                changed.pendingSource = source
                state.records[key] = changed
                state.restartTurn = InFlight(key: key, value: value, source: source, deadline: deadline)
                return .pendingRestart(changed)
            }
            changed.value = value
            changed.pendingValue = nil
            changed.pendingSource = nil
            state.records[key] = changed
            state.awaiting.append(InFlight(key: key, value: value, source: source, deadline: deadline))
            return .applied(changed)
        }
    }

    /// What the lock decided: an outcome without a write, or a change to write.
    private enum Decision {
        case decided(VariableChangeOutcome)
        case write(DeviceVariableRecord)
    }

    /// Writes an accepted change (pending for a variable that needs a restart); nil when stored
    /// (or, for a change applied now, when there is no database: kept in memory).
    private func write(_ record: DeviceVariableRecord, value: String, source: DeviceVariableSource) -> VariableRejection? {
        let redacted = record.mutability == .writeOnly
        do {
            if record.requiresRestart {
                let kept: Void? = try withStore { store throws(StoreError) in
                    try store.setPendingDeviceVariable(record.key, value: value, source: source, redacted: redacted, at: time.unixMilliseconds())
                }
                return kept == nil ? .storeFailed("no store to keep it for the restart") : nil
            }
            try withStore { store throws(StoreError) in
                try store.setDeviceVariable(record.key, value: value, source: source, redacted: redacted, at: time.unixMilliseconds())
            }
            return nil
        } catch {
            return .storeFailed("\(error)")
        }
    }

    /// A `device_model_update` from Josev: it confirms the change in flight when it names that
    /// variable with that value; other values for known variables are changes of Josev's, judged
    /// like any other (a rejection is logged: updates get no answer).
    public func consume(_ update: DeviceModelUpdate) {
        let ids = ocppEVSEIDs
        var unknownEVSEs: [String] = []
        defer {
            if !unknownEVSEs.isEmpty {
                logger.notice(
                    "device_model_update names an OCPP EVSE the station does not have; ignored: \(unknownEVSEs.joined(separator: ", "))")
            }
        }
        for component in update.components {
            var evseID = ""
            if let ocppID = component.evseID {
                // Never the station-wide variable of the same name: an EVSE the station does not know is skipped.
                guard let known = ids.first(where: { $0.value == ocppID })?.key else {
                    unknownEVSEs.append("\(component.name) on EVSE \(ocppID)")
                    continue
                }
                evseID = known
            }
            for variable in component.variables ?? [] {
                let key = DeviceVariableKey(
                    component: component.name, componentInstance: component.instance ?? "", evseID: evseID,
                    connectorID: component.connectorID ?? 0, variable: variable.name, variableInstance: variable.instance ?? "")
                let instant = time.monotonic()
                let confirmed = state.withLock { state -> Bool in
                    guard let index = state.awaiting.firstIndex(where: { $0.key == key && $0.value == variable.value && instant < $0.deadline })
                    else { return false }
                    // This change and the older ones of the same variable are confirmed.
                    state.awaiting = state.awaiting.enumerated().filter { $0.offset > index || $0.element.key != key }.map(\.element)
                    return true
                }
                if confirmed {
                    logger.info("\(key): Josev confirmed the change")
                    continue
                }
                guard let record = record(key) else {
                    logger.debug("device_model_update names \(key), which the station does not keep")
                    continue
                }
                if record.value == variable.value { continue }
                if case .rejected = propose(key, value: variable.value, source: .josev), let inForce = self.record(key) {
                    // Josev's model holds a value the station refused: tell it the one in force.
                    if announce(inForce) { logger.notice("\(key): Josev's value refused; announced the value in force back") }
                }
            }
        }
    }

    /// Announces the changes applied at start (after the broker connection is up).
    public func announceStartChanges() {
        let keys = state.withLock { state in
            defer { state.unannounced = [] }
            return state.unannounced
        }
        for key in keys {
            guard let record = record(key) else { continue }
            if !announce(record) { state.withLock { $0.unannounced.append(key) } }
        }
    }

    /// Tells the `applied` observer the value in force of every variable (at start).
    public func applyAll() {
        for record in records { applied(record) }
    }

    /// The `device_model_update` for one variable.
    public func announcement(_ record: DeviceVariableRecord) -> DeviceModelUpdate {
        let ids = ocppEVSEIDs
        return DeviceModelUpdate(components: [
            DeviceModelUpdateComponent(
                name: record.key.component, instance: record.key.componentInstance.nonEmpty,
                evseID: record.key.evseID.nonEmpty.flatMap { ids[$0] }, connectorID: record.key.connectorID == 0 ? nil : record.key.connectorID,
                variables: [
                    DeviceModelUpdateVariable(
                        name: record.key.variable, value: record.value, instance: record.key.variableInstance.nonEmpty, unit: record.unit,
                        mutability: VariableMutability(rawValue: record.mutability.rawValue))
                ])
        ])
    }

    @discardableResult
    private func announce(_ record: DeviceVariableRecord) -> Bool {
        let sent = announcer(announcement(record))
        if sent { logger.info("announced \(record.key) with device_model_update") }
        return sent
    }

    private func log(_ outcome: VariableChangeOutcome, key: DeviceVariableKey, value: String, source: DeviceVariableSource) {
        // Only the values of known variables that are not WriteOnly are logged: an unknown one
        // may be a secret of a variable the station does not keep.
        let readable = record(key).map { $0.mutability != .writeOnly } ?? false
        let shown = readable ? " = '\(value)'" : ""
        switch outcome {
        case .applied:
            logger.info("\(key)\(shown) applied (by \(source.rawValue))")
        case .pendingRestart:
            logger.notice("\(key)\(shown) accepted (by \(source.rawValue)); needs a restart: pending until the next start")
        case .unchanged:
            logger.info("\(key)\(shown) accepted (by \(source.rawValue)): already the value")
        case .rejected(let why):
            logger.notice("\(key)\(shown) rejected (by \(source.rawValue)): \(why)")
        }
    }

    static func seconds(_ duration: Duration) -> String {
        DeviceModelRules.format((Double(duration.wholeMilliseconds) / 100).rounded() / 10)
    }

    private struct ComponentKey: Hashable {
        var name: String
        var instance: String
        var evseID: String
        var connectorID: Int

        init(_ key: DeviceVariableKey) {
            name = key.component
            instance = key.componentInstance
            evseID = key.evseID
            connectorID = key.connectorID
        }
    }
}

extension String {
    /// nil for "", else self (optional contract fields are omitted, never empty).
    var nonEmpty: String? { isEmpty ? nil : self }
}
