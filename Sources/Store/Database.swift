import CSQLite

#if canImport(Glibc)
    import Glibc
#endif

/// A value bound to, or read from, an SQL statement.
public enum SQLValue: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByNilLiteral
{
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .real(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(nilLiteral: ()) { self = .null }

    /// `.text(value)`, or `.null` for nil.
    public static func text(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    /// `.integer(value)`, or `.null` for nil.
    public static func integer(_ value: Int64?) -> SQLValue { value.map { .integer($0) } ?? .null }
    /// `.real(value)`, or `.null` for nil.
    public static func real(_ value: Double?) -> SQLValue { value.map { .real($0) } ?? .null }
}

/// One SQLite connection over the C API (`sqlite3_open_v2` and friends).
///
/// Not thread-safe and not `Sendable`: one thread at a time. `Store` keeps its connection behind a
/// mutex; use `Database` directly only for tools and tests. Errors are `StoreError`s classified
/// from the extended result code.
public final class Database {
    /// How to open the file.
    public enum Mode: Sendable, Equatable {
        /// Read-write, creating the file if missing; configures WAL, `synchronous=FULL` and foreign
        /// keys.
        case readWriteCreate
        /// `SQLITE_OPEN_READONLY` plus `PRAGMA query_only`: any write fails with SQLITE_READONLY.
        /// Works while the daemon writes (WAL readers do not block the writer, nor it them).
        case readOnly
    }

    /// The path given to `init`.
    public let path: String
    public let mode: Mode
    private var handle: OpaquePointer?

    /// Opens (creating it for `.readWriteCreate`) the database at `path`.
    ///
    /// A read-only open of a database that no connection has open (no `-wal` file) on a file system
    /// that takes no writes (SQLite cannot create the `-shm` index there) falls back to SQLite's
    /// `immutable=1` mode: nobody can be writing to it, so it is read without locks or WAL index
    /// (`isImmutable` tells).
    ///
    /// - Parameter busyTimeoutMilliseconds: how long a statement waits for another connection's
    ///   lock before failing with SQLITE_BUSY.
    public init(path: String, mode: Mode = .readWriteCreate, busyTimeoutMilliseconds: Int32 = 5000) throws(StoreError) {
        self.path = path
        self.mode = mode
        do {
            try connect(path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        } catch {
            guard mode == .readOnly, let code = error.sqliteFailure?.code, code == SQLITE_CANTOPEN || code == SQLITE_READONLY,
                access(path, R_OK) == 0, access(path + "-wal", F_OK) != 0
            else { throw error }
            try connect("file:" + Self.uriEscaped(path) + "?immutable=1", uri: true, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            isImmutable = true
        }
    }

    private func connect(_ name: String, uri: Bool = false, busyTimeoutMilliseconds: Int32) throws(StoreError) {
        var connection: OpaquePointer?
        var flags: Int32 =
            switch mode {
            case .readWriteCreate: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
            case .readOnly: SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            }
        flags |= SQLITE_OPEN_EXRESCODE
        if uri { flags |= SQLITE_OPEN_URI }
        let status = sqlite3_open_v2(name, &connection, flags, nil)
        guard let connection else {
            throw .from(SQLiteFailure(code: status, extendedCode: status, message: "out of memory", operation: "open \(path)"))
        }
        handle = connection
        guard status == SQLITE_OK else {
            let failure = Self.failure(of: connection, status: status, operation: "open \(path)")
            close()
            throw .from(failure)
        }
        sqlite3_extended_result_codes(connection, 1)
        sqlite3_busy_timeout(connection, busyTimeoutMilliseconds)
        do {
            switch mode {
            case .readWriteCreate:
                // The first statement that touches the file: creation, permission and space problems
                // show up here.
                let journal = try query("PRAGMA journal_mode=WAL") { row in row.string(0) }
                journalMode = journal.first ?? ""
                try execute("PRAGMA synchronous=FULL")
                try execute("PRAGMA foreign_keys=ON")
            case .readOnly:
                try execute("PRAGMA query_only=1")
                try execute("PRAGMA foreign_keys=ON")
                journalMode = try query("PRAGMA journal_mode") { row in row.string(0) }.first ?? ""
                // Reading the schema is what needs the WAL index: fail here, not on the first query.
                _ = try userVersion()
                _ = try query("SELECT count(*) FROM sqlite_schema") { row in row.int64(0) }
            }
        } catch {
            close()
            throw error
        }
    }

    /// `path` with everything but unreserved characters and `/` percent-encoded, for a `file:` URI.
    static func uriEscaped(_ path: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// True when a read-only open fell back to `immutable=1` (see `init`).
    public private(set) var isImmutable = false

    deinit { close() }

    /// The journal mode after opening: "wal" normally. (A file system without shared memory
    /// support could leave it at "delete", still crash-safe with `synchronous=FULL`.)
    public private(set) var journalMode = ""

    /// Closes the connection (`sqlite3_close_v2`; a WAL checkpoint runs when it is the last one).
    /// Later calls throw `StoreError.closed`. Idempotent.
    public func close() {
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    public var isOpen: Bool { handle != nil }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { handle.map { Int(sqlite3_changes64($0)) } ?? 0 }

    /// Whether a transaction is open.
    public var inTransaction: Bool { handle.map { sqlite3_get_autocommit($0) == 0 } ?? false }

    /// Compiles one SQL statement.
    public func prepare(_ sql: String) throws(StoreError) -> Statement {
        guard let handle else { throw .closed }
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard status == SQLITE_OK, let statement else {
            if let statement { sqlite3_finalize(statement) }
            throw .from(Self.failure(of: handle, status: status, operation: "prepare: \(Self.abbreviated(sql))"))
        }
        return Statement(statement, database: self, sql: sql)
    }

    /// Runs one statement to completion, ignoring any rows.
    public func execute(_ sql: String, _ bindings: [SQLValue] = []) throws(StoreError) {
        let statement = try prepare(sql)
        try statement.bind(bindings)
        while try statement.step() {}
    }

    /// Runs several `;`-separated statements without bindings (`sqlite3_exec`): schema scripts.
    public func executeScript(_ sql: String) throws(StoreError) {
        guard let handle else { throw .closed }
        let status = sqlite3_exec(handle, sql, nil, nil, nil)
        guard status == SQLITE_OK else {
            throw .from(Self.failure(of: handle, status: status, operation: "exec: \(Self.abbreviated(sql))"))
        }
    }

    /// Runs a query and maps every row; `row` is valid only inside the closure.
    public func query<T>(_ sql: String, _ bindings: [SQLValue] = [], _ map: (Row) throws(StoreError) -> T) throws(StoreError) -> [T] {
        let statement = try prepare(sql)
        try statement.bind(bindings)
        var rows: [T] = []
        while try statement.step() {
            rows.append(try map(Row(statement: statement.pointer)))
        }
        return rows
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction (the write lock is taken up front, so a
    /// transaction never fails half-way for lack of it) and commits; rolls back and rethrows when
    /// `body` or the commit throws. With `synchronous=FULL` in WAL mode the commit is on disk
    /// (fsync of the WAL) when this returns. Called inside a transaction, `body` simply joins it.
    public func transaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        if inTransaction { return try body() }
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            // After SQLITE_FULL or an I/O error SQLite may have rolled back already.
            if inTransaction { try? execute("ROLLBACK") }
            throw error
        }
    }

    /// `PRAGMA user_version`.
    public func userVersion() throws(StoreError) -> Int64 {
        try query("PRAGMA user_version") { row in row.int64(0) }.first ?? 0
    }

    /// `PRAGMA integrity_check`: an empty array when the database is sound, otherwise SQLite's
    /// problem lines (at most `maxErrors`).
    public func integrityCheck(maxErrors: Int = 100) throws(StoreError) -> [String] {
        let lines = try query("PRAGMA integrity_check(\(max(1, maxErrors)))") { row in row.string(0) }
        return lines == ["ok"] ? [] : lines
    }

    /// `PRAGMA foreign_key_check`: one line per row whose parent is missing.
    public func foreignKeyCheck() throws(StoreError) -> [String] {
        try query("PRAGMA foreign_key_check") { row in
            "\(row.string(0)) rowid \(row.optionalInt64(1).map(String.init) ?? "?") → \(row.string(2))"
        }
    }

    fileprivate func failure(status: Int32, operation: String) -> StoreError {
        guard let handle else { return .closed }
        return .from(Self.failure(of: handle, status: status, operation: operation))
    }

    static func failure(of handle: OpaquePointer, status: Int32, operation: String) -> SQLiteFailure {
        let extended = sqlite3_extended_errcode(handle)
        // The handle's code is the one of the last failed API call; prefer it when it matches.
        let code = (extended & 0xFF) == (status & 0xFF) ? extended : status
        return SQLiteFailure(
            code: code & 0xFF, extendedCode: code, message: String(cString: sqlite3_errmsg(handle)),
            systemErrno: sqlite3_system_errno(handle), operation: operation)
    }

    static func abbreviated(_ sql: String) -> String {
        let flat = sql.split(whereSeparator: { $0 == "\n" || $0 == " " || $0 == "\t" }).joined(separator: " ")
        return flat.count > 80 ? String(flat.prefix(77)) + "..." : flat
    }
}

/// A prepared statement; finalized when released. Belongs to one `Database` and its thread.
public final class Statement {
    let pointer: OpaquePointer
    private let database: Database
    private let sql: String

    fileprivate init(_ pointer: OpaquePointer, database: Database, sql: String) {
        self.pointer = pointer
        self.database = database
        self.sql = sql
    }

    deinit { sqlite3_finalize(pointer) }

    /// Binds `values` to parameters 1…n (after clearing earlier bindings and resetting).
    public func bind(_ values: [SQLValue]) throws(StoreError) {
        sqlite3_reset(pointer)
        sqlite3_clear_bindings(pointer)
        for (offset, value) in values.enumerated() {
            try bind(value, at: Int32(offset + 1))
        }
    }

    /// Binds one value to the 1-based parameter `index`.
    public func bind(_ value: SQLValue, at index: Int32) throws(StoreError) {
        let status: Int32
        switch value {
        case .null: status = sqlite3_bind_null(pointer, index)
        case .integer(let integer): status = sqlite3_bind_int64(pointer, index, integer)
        case .real(let real): status = sqlite3_bind_double(pointer, index, real)
        case .text(let text):
            // SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
            let transient = unsafeBitCast(Int(-1), to: sqlite3_destructor_type.self)
            status = text.withCString { sqlite3_bind_text64(pointer, index, $0, sqlite3_uint64(text.utf8.count), transient, UInt8(SQLITE_UTF8)) }
        }
        guard status == SQLITE_OK else {
            throw database.failure(status: status, operation: "bind parameter \(index): \(Database.abbreviated(sql))")
        }
    }

    /// Advances: true when a row is available (read it with `row`), false when done.
    public func step() throws(StoreError) -> Bool {
        let status = sqlite3_step(pointer)
        switch status {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = database.failure(status: status, operation: "step: \(Database.abbreviated(sql))")
            sqlite3_reset(pointer)
            throw error
        }
    }

    /// The current row (valid until the next `step`).
    public var row: Row { Row(statement: pointer) }
}

/// The current row of a statement; column indexes are 0-based. Valid only until the statement
/// steps again.
public struct Row {
    fileprivate let statement: OpaquePointer

    public var columnCount: Int { Int(sqlite3_column_count(statement)) }
    public func isNull(_ column: Int) -> Bool { sqlite3_column_type(statement, Int32(column)) == SQLITE_NULL }

    public func int64(_ column: Int) -> Int64 { sqlite3_column_int64(statement, Int32(column)) }
    public func double(_ column: Int) -> Double { sqlite3_column_double(statement, Int32(column)) }
    public func string(_ column: Int) -> String {
        // sqlite3_column_text first, then sqlite3_column_bytes (the order SQLite documents).
        guard let text = sqlite3_column_text(statement, Int32(column)) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, Int32(column)))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    public func optionalInt64(_ column: Int) -> Int64? { isNull(column) ? nil : int64(column) }
    public func optionalDouble(_ column: Int) -> Double? { isNull(column) ? nil : double(column) }
    public func optionalString(_ column: Int) -> String? { isNull(column) ? nil : string(column) }

    /// The column as a typed value (BLOBs read as text).
    public func value(_ column: Int) -> SQLValue {
        switch sqlite3_column_type(statement, Int32(column)) {
        case SQLITE_NULL: .null
        case SQLITE_INTEGER: .integer(int64(column))
        case SQLITE_FLOAT: .real(double(column))
        default: .text(string(column))
        }
    }
}
