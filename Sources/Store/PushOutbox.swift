/// What the eMSP is owed: an OCPI Session `PUT` (the whole object: at the start and at the end)
/// or `PATCH` (the changed fields: a new period, the energy), per session in the order the
/// changes were stored. The item names the session and the kind only: the body is the session as
/// stored when it is sent, so a repeated push sends the same or newer data, never older.
public struct PushItem: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case put = "PUT"
        case patch = "PATCH"
    }

    public var seq: Int64
    public var sessionID: String
    public var kind: Kind
    /// When the change was stored (Unix ms).
    public var created: Int64
    /// Failed attempts so far.
    public var attempts: Int
    /// Not before this (Unix ms): the backoff after a failure.
    public var nextAttempt: Int64
    public var lastError: String?
    /// Refused by the eMSP (an OCPI 2xxx client error): kept for a person, not retried.
    public var held: Bool
}

/// The outbox's state for `cs-companion status` and the STATUS= line.
public struct PushBacklog: Sendable, Equatable {
    /// Items not yet acknowledged (held ones included).
    public var count: Int
    /// When the oldest of them was stored (Unix ms), if any.
    public var oldestCreated: Int64?
    /// Items the eMSP refused, kept for a person.
    public var held: Int
    /// The last error of the oldest unsent item, if it failed.
    public var lastError: String?
}

extension Store {
    /// Queues a push inside the caller's transaction (`recordProgress(also:)` and friends).
    public static func enqueuePush(sessionID: String, kind: PushItem.Kind, at: Int64, in database: Database) throws(StoreError) {
        try database.execute(
            "INSERT INTO session_pushes (session_id, kind, created_ms) VALUES (?, ?, ?)", [.text(sessionID), .text(kind.rawValue), .integer(at)])
    }

    /// The next item of every session with something to send, oldest first: a session's later
    /// items wait behind its first (in order per session); held items block nothing but their own.
    public func nextPushes(limit: Int = 16) throws(StoreError) -> [PushItem] {
        try withDatabase { (database) throws(StoreError) in
            try database.query(
                """
                SELECT p.seq, p.session_id, p.kind, p.created_ms, p.attempts, p.next_attempt_ms, p.last_error, p.held
                FROM session_pushes p
                WHERE p.held = 0 AND p.seq = (SELECT min(q.seq) FROM session_pushes q WHERE q.session_id = p.session_id AND q.held = 0)
                ORDER BY p.seq LIMIT ?
                """, [.integer(Int64(limit))]
            ) { row in
                PushItem(
                    seq: row.int64(0), sessionID: row.string(1), kind: PushItem.Kind(rawValue: row.string(2)) ?? .put, created: row.int64(3),
                    attempts: Int(truncatingIfNeeded: row.int64(4)), nextAttempt: row.int64(5), lastError: row.optionalString(6),
                    held: row.int64(7) != 0)
            }
        }
    }

    /// The eMSP acknowledged `item`: it is removed (the only way an item leaves the outbox).
    public func acknowledgePush(_ item: PushItem) throws(StoreError) {
        try write { (database) throws(StoreError) in
            try database.execute("DELETE FROM session_pushes WHERE seq = ?", [.integer(item.seq)])
        }
    }

    /// A failed attempt: counted, with the error and the time before which it is not tried again.
    public func deferPush(_ item: PushItem, until: Int64, error: String) throws(StoreError) {
        try write { (database) throws(StoreError) in
            try database.execute(
                "UPDATE session_pushes SET attempts = attempts + 1, next_attempt_ms = ?, last_error = ? WHERE seq = ?",
                [.integer(until), .text(error), .integer(item.seq)])
        }
    }

    /// Refused by the eMSP: kept (not retried) for a person to look at.
    public func holdPush(_ item: PushItem, error: String) throws(StoreError) {
        try write { (database) throws(StoreError) in
            try database.execute(
                "UPDATE session_pushes SET attempts = attempts + 1, held = 1, last_error = ? WHERE seq = ?", [.text(error), .integer(item.seq)])
        }
    }

    /// How much waits, since when, and how much was refused.
    public func pushBacklog() throws(StoreError) -> PushBacklog {
        try withDatabase { (database) throws(StoreError) in
            let counts = try database.query("SELECT count(*), min(created_ms), coalesce(sum(held), 0) FROM session_pushes") { row in
                (Int(truncatingIfNeeded: row.int64(0)), row.optionalInt64(1), Int(truncatingIfNeeded: row.int64(2)))
            }.first ?? (0, nil, 0)
            let lastError = try database.query(
                "SELECT last_error FROM session_pushes WHERE held = 0 ORDER BY seq LIMIT 1"
            ) { row in row.optionalString(0) }.first ?? nil
            return PushBacklog(count: counts.0, oldestCreated: counts.1, held: counts.2, lastError: lastError)
        }
    }
}
