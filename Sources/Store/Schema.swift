/// The versioned schema: `PRAGMA user_version` is the number of migrations applied.
///
/// Migrations only ever get appended; an applied one is never edited. Each runs with the
/// `user_version` bump in one `BEGIN IMMEDIATE` transaction, so a crash leaves the database at the
/// old or the new version, never in between.
public enum Schema {
    public struct Migration: Sendable {
        /// The `user_version` after this migration.
        public let version: Int64
        public let summary: String
        public let sql: String
    }

    /// The version this code reads and writes.
    public static var currentVersion: Int64 { migrations.last?.version ?? 0 }

    public static let migrations: [Migration] = [
        Migration(
            version: 1,
            summary: "sessions, charging periods with dimensions, settings, availability",
            sql: """
                CREATE TABLE sessions (
                    id TEXT PRIMARY KEY NOT NULL,
                    evse_id TEXT NOT NULL,
                    connector_id INTEGER NOT NULL,
                    transaction_id TEXT,
                    token_uid TEXT NOT NULL,
                    token_type TEXT NOT NULL,
                    contract_id TEXT,
                    auth_method TEXT CHECK (auth_method IN ('AUTH_REQUEST', 'COMMAND', 'WHITELIST')),
                    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'COMPLETED', 'INVALID')),
                    start_ms INTEGER NOT NULL,
                    stop_ms INTEGER,
                    energy_start_wh REAL NOT NULL,
                    energy_last_wh REAL NOT NULL,
                    energy_stop_wh REAL,
                    kwh REAL NOT NULL DEFAULT 0,
                    last_update_ms INTEGER NOT NULL,
                    closed_by_recovery INTEGER NOT NULL DEFAULT 0,
                    CHECK (status <> 'COMPLETED' OR (stop_ms IS NOT NULL AND energy_stop_wh IS NOT NULL)),
                    CHECK (stop_ms IS NULL OR stop_ms >= start_ms)
                ) STRICT;
                CREATE INDEX sessions_by_last_update ON sessions (last_update_ms);
                CREATE INDEX sessions_active ON sessions (status) WHERE status = 'ACTIVE';
                CREATE INDEX sessions_by_transaction ON sessions (transaction_id) WHERE transaction_id IS NOT NULL;

                CREATE TABLE charging_periods (
                    id INTEGER PRIMARY KEY,
                    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                    start_ms INTEGER NOT NULL,
                    UNIQUE (session_id, start_ms)
                ) STRICT;

                CREATE TABLE period_dimensions (
                    period_id INTEGER NOT NULL REFERENCES charging_periods (id) ON DELETE CASCADE,
                    type TEXT NOT NULL CHECK (type IN (
                        'CURRENT', 'ENERGY', 'ENERGY_EXPORT', 'ENERGY_IMPORT', 'MAX_CURRENT', 'MIN_CURRENT',
                        'MAX_POWER', 'MIN_POWER', 'PARKING_TIME', 'POWER', 'RESERVATION_TIME',
                        'STATE_OF_CHARGE', 'TIME')),
                    volume REAL NOT NULL,
                    PRIMARY KEY (period_id, type)
                ) STRICT, WITHOUT ROWID;

                CREATE TABLE settings (
                    key TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL,
                    updated_ms INTEGER NOT NULL
                ) STRICT;

                CREATE TABLE availability (
                    scope TEXT PRIMARY KEY NOT NULL,
                    operative INTEGER NOT NULL CHECK (operative IN (0, 1)),
                    updated_ms INTEGER NOT NULL
                ) STRICT;
                """
        ),
        Migration(
            version: 2,
            summary: "device-model variables (configuration keys) with restart-pending values, and their change history",
            sql: """
                CREATE TABLE device_variables (
                    component TEXT NOT NULL,
                    component_instance TEXT NOT NULL DEFAULT '',
                    evse_id TEXT NOT NULL DEFAULT '',
                    connector_id INTEGER NOT NULL DEFAULT 0,
                    variable TEXT NOT NULL,
                    variable_instance TEXT NOT NULL DEFAULT '',
                    value TEXT NOT NULL,
                    unit TEXT,
                    mutability TEXT NOT NULL CHECK (mutability IN ('ReadOnly', 'ReadWrite', 'WriteOnly')),
                    data_type TEXT NOT NULL CHECK (data_type IN (
                        'string', 'decimal', 'integer', 'dateTime', 'boolean', 'OptionList', 'SequenceList', 'MemberList')),
                    values_list TEXT,
                    min_value REAL,
                    max_value REAL,
                    requires_restart INTEGER NOT NULL DEFAULT 0 CHECK (requires_restart IN (0, 1)),
                    pending_value TEXT,
                    pending_source TEXT CHECK (pending_source IN ('josev', 'local')),
                    pending_ms INTEGER,
                    updated_ms INTEGER NOT NULL,
                    CHECK ((pending_value IS NULL) = (pending_source IS NULL)),
                    PRIMARY KEY (component, component_instance, evse_id, connector_id, variable, variable_instance)
                ) STRICT, WITHOUT ROWID;

                CREATE TABLE device_variable_changes (
                    id INTEGER PRIMARY KEY,
                    component TEXT NOT NULL,
                    component_instance TEXT NOT NULL DEFAULT '',
                    evse_id TEXT NOT NULL DEFAULT '',
                    connector_id INTEGER NOT NULL DEFAULT 0,
                    variable TEXT NOT NULL,
                    variable_instance TEXT NOT NULL DEFAULT '',
                    old_value TEXT,
                    new_value TEXT,
                    redacted INTEGER NOT NULL DEFAULT 0 CHECK (redacted IN (0, 1)),
                    source TEXT NOT NULL CHECK (source IN ('josev', 'local', 'config')),
                    event TEXT NOT NULL CHECK (event IN ('applied', 'pending_restart', 'applied_at_start', 'reset_to_default')),
                    at_ms INTEGER NOT NULL,
                    CHECK (redacted = 0 OR (old_value IS NULL AND new_value IS NULL))
                ) STRICT;
                CREATE INDEX device_variable_changes_by_time ON device_variable_changes (at_ms);
                """
        ),
        Migration(
            version: 3,
            summary: "the push outbox: the OCPI Session pushes owed to the eMSP, in order, until acknowledged",
            sql: """
                CREATE TABLE session_pushes (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    session_id TEXT NOT NULL REFERENCES sessions (id),
                    kind TEXT NOT NULL CHECK (kind IN ('PUT', 'PATCH')),
                    created_ms INTEGER NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT,
                    held INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1))
                ) STRICT;
                CREATE INDEX session_pushes_by_session ON session_pushes (session_id, seq);
                """
        ),
    ]

    /// Brings `database` to `currentVersion`. Throws `unsupportedSchemaVersion` (and changes
    /// nothing) when the file is newer than this code. Returns the versions applied.
    @discardableResult
    static func migrate(_ database: Database) throws(StoreError) -> [Int64] {
        try database.transaction { () throws(StoreError) -> [Int64] in
            let found = try database.userVersion()
            guard found <= currentVersion else {
                throw .unsupportedSchemaVersion(found: found, supported: currentVersion)
            }
            var applied: [Int64] = []
            for migration in migrations where migration.version > found {
                try database.executeScript(migration.sql)
                // PRAGMA takes no bound parameters; the version is our own integer.
                try database.execute("PRAGMA user_version = \(migration.version)")
                applied.append(migration.version)
            }
            return applied
        }
    }

    /// For read-only opens: the file must be exactly at `currentVersion`.
    static func requireCurrent(_ database: Database) throws(StoreError) {
        let found = try database.userVersion()
        if found > currentVersion { throw .unsupportedSchemaVersion(found: found, supported: currentVersion) }
        if found < currentVersion { throw .schemaNotCurrent(found: found, required: currentVersion) }
    }
}
