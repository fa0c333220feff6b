import CSQLite

/// What SQLite said when a call failed: the result codes and `sqlite3_errmsg`.
public struct SQLiteFailure: Sendable, Equatable, CustomStringConvertible {
    /// The primary result code (`SQLITE_FULL`, `SQLITE_IOERR`, …): `extendedCode & 0xFF`.
    public let code: Int32
    /// The extended result code (`SQLITE_IOERR_FSYNC`, `SQLITE_READONLY_DBMOVED`, …).
    public let extendedCode: Int32
    /// `sqlite3_errmsg` at the time of the failure.
    public let message: String
    /// The `errno` of the last failed system call SQLite made (`sqlite3_system_errno`), 0 if none.
    public let systemErrno: Int32
    /// What the store was doing: "open /var/lib/…", "step: INSERT INTO sessions …".
    public let operation: String

    public init(code: Int32, extendedCode: Int32, message: String, systemErrno: Int32 = 0, operation: String) {
        self.code = code
        self.extendedCode = extendedCode
        self.message = message
        self.systemErrno = systemErrno
        self.operation = operation
    }

    /// SQLite's English name of the extended code (`sqlite3_errstr`).
    public var codeDescription: String { String(cString: sqlite3_errstr(extendedCode)) }

    public var description: String {
        var text = "\(operation): \(message) (SQLite code \(code), extended \(extendedCode)"
        if systemErrno != 0 { text += ", errno \(systemErrno)" }
        return text + ")"
    }
}

/// Errors of the store. Match `storageUnavailable` to degrade gracefully: the file system is
/// read-only, full, or failing, or the database file cannot be opened at all.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// SQLITE_READONLY, SQLITE_FULL, SQLITE_IOERR or SQLITE_CANTOPEN (any extended variant): the
    /// storage cannot take writes (or be opened). Nothing of the failed call was committed.
    case storageUnavailable(SQLiteFailure)
    /// SQLITE_CORRUPT or SQLITE_NOTADB: the file is damaged or not a database.
    case corrupt(SQLiteFailure)
    /// Any other SQLite failure (constraint, busy after the timeout, misuse, …).
    case sqlite(SQLiteFailure)
    /// The database was written by a newer cs-companiond (`PRAGMA user_version` above what this code
    /// knows); it is not touched.
    case unsupportedSchemaVersion(found: Int64, supported: Int64)
    /// A read-only open found a database whose schema is older than this code reads (or none at
    /// all: version 0 — not a cs-companiond database, or never opened by the daemon).
    case schemaNotCurrent(found: Int64, required: Int64)
    /// No session with this id.
    case sessionNotFound(String)
    /// The session is not in a status that allows the operation (e.g. completing a COMPLETED one).
    case invalidTransition(sessionID: String, status: SessionStatus, operation: String)
    /// A caller's argument was out of range (a stop before the start, a non-finite reading, …).
    case invalidArgument(String)
    /// The store was closed.
    case closed

    /// True for `.storageUnavailable`.
    public var isStorageUnavailable: Bool {
        if case .storageUnavailable = self { return true }
        return false
    }

    /// The SQLite details, for the three SQLite cases.
    public var sqliteFailure: SQLiteFailure? {
        switch self {
        case .storageUnavailable(let failure), .corrupt(let failure), .sqlite(let failure): failure
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .storageUnavailable(let failure): "storage unavailable: \(failure)"
        case .corrupt(let failure): "database corrupt: \(failure)"
        case .sqlite(let failure): "SQLite error: \(failure)"
        case .unsupportedSchemaVersion(let found, let supported):
            "database schema version \(found) is newer than this program supports (\(supported)); refusing to use it"
        case .schemaNotCurrent(let found, let required):
            found == 0
                ? "the database has no cs-companiond schema (user_version 0)"
                : "database schema version \(found) is older than the \(required) this program reads; start cs-companiond once to migrate it"
        case .sessionNotFound(let id): "no session \(id)"
        case .invalidTransition(let id, let status, let operation): "cannot \(operation) session \(id): it is \(status.rawValue)"
        case .invalidArgument(let text): "invalid argument: \(text)"
        case .closed: "the store is closed"
        }
    }

    /// Classifies a failed SQLite call.
    static func from(_ failure: SQLiteFailure) -> StoreError {
        switch failure.code {
        case SQLITE_READONLY, SQLITE_FULL, SQLITE_IOERR, SQLITE_CANTOPEN: .storageUnavailable(failure)
        case SQLITE_CORRUPT, SQLITE_NOTADB: .corrupt(failure)
        default: .sqlite(failure)
        }
    }
}
