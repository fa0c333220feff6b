import Basics

/// The station's OCPP device-model variables (configuration keys) and their change history
/// (schema version 2). The store only keeps them durable; the rules (which value is valid, who may
/// change what, pacing) live with the daemon.

/// Which variable: component (with instance, EVSE and connector) and variable (with instance).
/// Absent parts are "" / 0, so the key is a plain primary key.
public struct DeviceVariableKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var component: String
    public var componentInstance: String
    /// The ISO 15118 EVSE id ("" = station level).
    public var evseID: String
    /// 0 = no connector.
    public var connectorID: Int
    public var variable: String
    public var variableInstance: String

    public init(
        component: String, componentInstance: String = "", evseID: String = "", connectorID: Int = 0, variable: String,
        variableInstance: String = ""
    ) {
        self.component = component
        self.componentInstance = componentInstance
        self.evseID = evseID
        self.connectorID = connectorID
        self.variable = variable
        self.variableInstance = variableInstance
    }

    /// `Component[instance]@EVSE/connector.Variable[instance]`, as technicians type it.
    public var description: String {
        var text = component
        if !componentInstance.isEmpty { text += "[\(componentInstance)]" }
        if !evseID.isEmpty { text += "@\(evseID)" }
        if connectorID != 0 { text += "/\(connectorID)" }
        text += ".\(variable)"
        if !variableInstance.isEmpty { text += "[\(variableInstance)]" }
        return text
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.component, lhs.componentInstance, lhs.evseID, lhs.connectorID, lhs.variable, lhs.variableInstance)
            < (rhs.component, rhs.componentInstance, rhs.evseID, rhs.connectorID, rhs.variable, rhs.variableInstance)
    }

    var bindings: [SQLValue] {
        [.text(component), .text(componentInstance), .text(evseID), .integer(Int64(connectorID)), .text(variable), .text(variableInstance)]
    }

    /// The key from six columns of a row, starting at `first` (in the order of `bindings`).
    static func read(_ row: Row, from first: Int) -> DeviceVariableKey {
        DeviceVariableKey(
            component: row.string(first), componentInstance: row.string(first + 1), evseID: row.string(first + 2),
            connectorID: Int(truncatingIfNeeded: row.int64(first + 3)), variable: row.string(first + 4),
            variableInstance: row.string(first + 5))
    }

    static let whereClause =
        "component = ? AND component_instance = ? AND evse_id = ? AND connector_id = ? AND variable = ? AND variable_instance = ?"
}

/// OCPP MutabilityEnum.
public enum DeviceVariableMutability: String, Sendable, CaseIterable {
    case readOnly = "ReadOnly", readWrite = "ReadWrite", writeOnly = "WriteOnly"
}

/// OCPP DataEnum.
public enum DeviceVariableDataType: String, Sendable, CaseIterable {
    case string, decimal, integer, dateTime, boolean
    case optionList = "OptionList", sequenceList = "SequenceList", memberList = "MemberList"
}

/// Who asked for a change.
public enum DeviceVariableSource: String, Sendable, CaseIterable {
    /// Josev (the back office through OCPP).
    case josev
    /// A technician on the control socket.
    case local
    /// The configuration file (a stored value its new declaration no longer allows).
    case config
}

/// What happened in a recorded change.
public enum DeviceVariableEvent: String, Sendable, CaseIterable {
    case applied
    /// Accepted; waits for the next start (the variable needs a restart).
    case pendingRestart = "pending_restart"
    /// A pending value applied when the daemon started.
    case appliedAtStart = "applied_at_start"
    /// The stored value no longer fits the configured declaration.
    case resetToDefault = "reset_to_default"
}

/// A variable's declaration (from the configuration) and its current value.
public struct DeviceVariableRecord: Sendable, Equatable {
    public var key: DeviceVariableKey
    public var value: String
    public var unit: String?
    public var mutability: DeviceVariableMutability
    public var dataType: DeviceVariableDataType
    /// The allowed values of OptionList, SequenceList and MemberList (and of a string that has one).
    public var valuesList: [String]?
    /// Numbers: the range; strings and lists: the length.
    public var minimum: Double?
    public var maximum: Double?
    public var requiresRestart: Bool
    /// A change accepted for the next start.
    public var pendingValue: String?
    public var pendingSource: DeviceVariableSource?
    public var pendingAt: Int64?
    public var updated: Int64

    public init(
        key: DeviceVariableKey, value: String, unit: String? = nil, mutability: DeviceVariableMutability = .readWrite,
        dataType: DeviceVariableDataType = .string, valuesList: [String]? = nil, minimum: Double? = nil, maximum: Double? = nil,
        requiresRestart: Bool = false, pendingValue: String? = nil, pendingSource: DeviceVariableSource? = nil, pendingAt: Int64? = nil,
        updated: Int64 = 0
    ) {
        self.key = key
        self.value = value
        self.unit = unit
        self.mutability = mutability
        self.dataType = dataType
        self.valuesList = valuesList
        self.minimum = minimum
        self.maximum = maximum
        self.requiresRestart = requiresRestart
        self.pendingValue = pendingValue
        self.pendingSource = pendingSource
        self.pendingAt = pendingAt
        self.updated = updated
    }

    /// Same declaration (everything the configuration says, not the value).
    public func sameDeclaration(as other: DeviceVariableRecord) -> Bool {
        key == other.key && unit == other.unit && mutability == other.mutability && dataType == other.dataType
            && valuesList == other.valuesList && minimum == other.minimum && maximum == other.maximum
            && requiresRestart == other.requiresRestart
    }

    /// The values list as stored and as OCPP writes it: comma-separated.
    public var valuesListText: String? { valuesList?.joined(separator: ",") }
}

/// One recorded change. The values of WriteOnly variables are never stored here (`redacted`).
public struct DeviceVariableChange: Sendable, Equatable {
    public var id: Int64
    public var key: DeviceVariableKey
    public var oldValue: String?
    public var newValue: String?
    public var redacted: Bool
    public var source: DeviceVariableSource
    public var event: DeviceVariableEvent
    public var at: Int64
}

extension Store {
    /// Every stored variable, by key.
    public func deviceVariables() throws(StoreError) -> [DeviceVariableRecord] {
        try withDatabase { (database) throws(StoreError) in
            try database.query(
                """
                SELECT component, component_instance, evse_id, connector_id, variable, variable_instance, value, unit, mutability,
                    data_type, values_list, min_value, max_value, requires_restart, pending_value, pending_source, pending_ms, updated_ms
                FROM device_variables
                ORDER BY component, component_instance, evse_id, connector_id, variable, variable_instance
                """
            ) { row in
                DeviceVariableRecord(
                    key: DeviceVariableKey.read(row, from: 0), value: row.string(6), unit: row.optionalString(7),
                    mutability: DeviceVariableMutability(rawValue: row.string(8)) ?? .readOnly,
                    dataType: DeviceVariableDataType(rawValue: row.string(9)) ?? .string,
                    valuesList: row.optionalString(10).map { Self.splitList($0) }, minimum: row.optionalDouble(11),
                    maximum: row.optionalDouble(12), requiresRestart: row.int64(13) != 0, pendingValue: row.optionalString(14),
                    pendingSource: row.optionalString(15).flatMap(DeviceVariableSource.init(rawValue:)), pendingAt: row.optionalInt64(16),
                    updated: row.int64(17))
            }
        }
    }

    /// Makes the stored variables match the declarations: new ones are inserted with their
    /// declared value, known ones keep their value (and pending value) and take the new
    /// declaration, and undeclared ones are deleted (their history stays). One transaction.
    ///
    /// A ReadOnly variable (firmware version, model) is the configuration's to say: its declared
    /// value replaces a different stored one, and the change is recorded (`applied_at_start` by
    /// `config`). Returns the old values of the ReadOnly variables changed this way.
    @discardableResult
    public func declareDeviceVariables(
        _ declarations: [DeviceVariableRecord], at: Int64 = WallClock.unixMilliseconds()
    ) throws(StoreError) -> [DeviceVariableKey: String] {
        var seen = Set<DeviceVariableKey>()
        for declaration in declarations where !seen.insert(declaration.key).inserted {
            throw .invalidArgument("variable \(declaration.key) declared twice")
        }
        return try write { (database) throws(StoreError) -> [DeviceVariableKey: String] in
            let existing = try database.query(
                "SELECT component, component_instance, evse_id, connector_id, variable, variable_instance, value FROM device_variables"
            ) { row in (DeviceVariableKey.read(row, from: 0), row.string(6)) }
            let stored = Dictionary(existing, uniquingKeysWith: { first, _ in first })
            var replaced: [DeviceVariableKey: String] = [:]
            for key in stored.keys where !seen.contains(key) {
                try database.execute("DELETE FROM device_variables WHERE \(DeviceVariableKey.whereClause)", key.bindings)
            }
            for declaration in declarations {
                try database.execute(
                    """
                    INSERT INTO device_variables (component, component_instance, evse_id, connector_id, variable, variable_instance,
                        value, unit, mutability, data_type, values_list, min_value, max_value, requires_restart, updated_ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT DO UPDATE SET unit = excluded.unit, mutability = excluded.mutability, data_type = excluded.data_type,
                        values_list = excluded.values_list, min_value = excluded.min_value, max_value = excluded.max_value,
                        requires_restart = excluded.requires_restart
                    """,
                    declaration.key.bindings + [
                        .text(declaration.value), .text(declaration.unit), .text(declaration.mutability.rawValue),
                        .text(declaration.dataType.rawValue), .text(declaration.valuesListText), .real(declaration.minimum),
                        .real(declaration.maximum), .integer(declaration.requiresRestart ? 1 : 0), .integer(at),
                    ])
                if declaration.mutability == .readOnly, let old = stored[declaration.key], old != declaration.value {
                    try database.execute(
                        """
                        UPDATE device_variables SET value = ?, pending_value = NULL, pending_source = NULL, pending_ms = NULL,
                            updated_ms = ?
                        WHERE \(DeviceVariableKey.whereClause)
                        """, [.text(declaration.value), .integer(at)] + declaration.key.bindings)
                    try Self.record(
                        declaration.key, old: old, new: declaration.value, redacted: false, source: .config, event: .appliedAtStart,
                        at: at, in: database)
                    replaced[declaration.key] = old
                }
            }
            return replaced
        }
    }

    /// Sets the value of a variable and records the change, in one transaction; clears a pending
    /// value. Returns the old value. `redacted`: the history keeps neither value (WriteOnly).
    @discardableResult
    public func setDeviceVariable(
        _ key: DeviceVariableKey, value: String, source: DeviceVariableSource, event: DeviceVariableEvent = .applied, redacted: Bool,
        at: Int64 = WallClock.unixMilliseconds()
    ) throws(StoreError) -> String {
        try write { (database) throws(StoreError) -> String in
            let old = try Self.currentValue(key, in: database)
            try database.execute(
                """
                UPDATE device_variables SET value = ?, pending_value = NULL, pending_source = NULL, pending_ms = NULL, updated_ms = ?
                WHERE \(DeviceVariableKey.whereClause)
                """, [.text(value), .integer(at)] + key.bindings)
            try Self.record(key, old: old, new: value, redacted: redacted, source: source, event: event, at: at, in: database)
            return old
        }
    }

    /// Keeps a value for the next start (a variable that needs a restart) and records it.
    public func setPendingDeviceVariable(
        _ key: DeviceVariableKey, value: String, source: DeviceVariableSource, redacted: Bool, at: Int64 = WallClock.unixMilliseconds()
    ) throws(StoreError) {
        guard source != .config else { throw .invalidArgument("a pending change comes from josev or local") }
        try write { (database) throws(StoreError) in
            let old = try Self.currentValue(key, in: database)
            try database.execute(
                """
                UPDATE device_variables SET pending_value = ?, pending_source = ?, pending_ms = ?
                WHERE \(DeviceVariableKey.whereClause)
                """, [.text(value), .text(source.rawValue), .integer(at)] + key.bindings)
            try Self.record(key, old: old, new: value, redacted: redacted, source: source, event: .pendingRestart, at: at, in: database)
        }
    }

    /// The recorded changes, oldest first; the newest `limit` when given, of one variable when `key` is given.
    public func deviceVariableHistory(key: DeviceVariableKey? = nil, limit: Int? = nil) throws(StoreError) -> [DeviceVariableChange] {
        try withDatabase { (database) throws(StoreError) in
            var sql = """
                SELECT id, component, component_instance, evse_id, connector_id, variable, variable_instance, old_value, new_value,
                    redacted, source, event, at_ms
                FROM device_variable_changes
                """
            var bindings: [SQLValue] = []
            if let key {
                sql += " WHERE \(DeviceVariableKey.whereClause)"
                bindings = key.bindings
            }
            sql += " ORDER BY id DESC"
            if let limit {
                sql += " LIMIT ?"
                bindings.append(.integer(Int64(max(0, limit))))
            }
            let newestFirst = try database.query(sql, bindings) { row in
                DeviceVariableChange(
                    id: row.int64(0), key: DeviceVariableKey.read(row, from: 1),
                    oldValue: row.optionalString(7), newValue: row.optionalString(8), redacted: row.int64(9) != 0,
                    source: DeviceVariableSource(rawValue: row.string(10)) ?? .local,
                    event: DeviceVariableEvent(rawValue: row.string(11)) ?? .applied, at: row.int64(12))
            }
            return newestFirst.reversed()
        }
    }

    /// A comma-separated OCPP list as its members (spaces around members dropped, empty ones too).
    public static func splitList(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: false).map { member in
            String(member.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        }.filter { !$0.isEmpty }
    }

    private static func currentValue(_ key: DeviceVariableKey, in database: Database) throws(StoreError) -> String {
        let rows = try database.query("SELECT value FROM device_variables WHERE \(DeviceVariableKey.whereClause)", key.bindings) {
            $0.string(0)
        }
        guard let value = rows.first else { throw .invalidArgument("no variable \(key)") }
        return value
    }

    private static func record(
        _ key: DeviceVariableKey, old: String, new: String, redacted: Bool, source: DeviceVariableSource, event: DeviceVariableEvent,
        at: Int64, in database: Database
    ) throws(StoreError) {
        try database.execute(
            """
            INSERT INTO device_variable_changes (component, component_instance, evse_id, connector_id, variable, variable_instance,
                old_value, new_value, redacted, source, event, at_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            key.bindings + [
                redacted ? .null : .text(old), redacted ? .null : .text(new), .integer(redacted ? 1 : 0), .text(source.rawValue),
                .text(event.rawValue), .integer(at),
            ])
    }
}
