/// The running state of a session written as one change: its latest meter reading, the period that
/// just closed and the open one, so that a reader (an export, the push) always finds the periods'
/// ENERGY adding up to the session's `kwh`.
extension Store {
    /// Records, in one durable transaction, the latest meter reading of an ACTIVE session taken at
    /// `at` and the given periods (each inserted, or its dimensions replaced when the session
    /// already has a period with that start: the open period is rewritten as it grows). `also`
    /// runs inside the same transaction (the push outbox: a change and its push are stored
    /// together or not at all). `last_update_ms` never goes back (a clock stepped backwards).
    public func recordProgress(
        sessionID: String, energyWh: Double, at: Int64, periods: [ChargingPeriod],
        also: (Database) throws(StoreError) -> Void = { _ in }
    ) throws(StoreError) {
        try Self.requireFinite(energyWh, "energy")
        for period in periods { try Self.requireValid(period.dimensions) }
        try write { (database) throws(StoreError) in
            let (status, startWh) = try Self.statusAndStartEnergy(of: sessionID, in: database)
            guard status == .active else { throw .invalidTransition(sessionID: sessionID, status: status, operation: "update") }
            for period in periods {
                try Self.upsertPeriod(sessionID: sessionID, start: period.start, dimensions: period.dimensions, in: database)
            }
            try database.execute(
                "UPDATE sessions SET energy_last_wh = ?, kwh = ?, last_update_ms = max(last_update_ms, ?) WHERE id = ?",
                [.real(energyWh), .real(Self.kwh(from: startWh, to: energyWh)), .integer(at), .text(sessionID)])
            try also(database)
        }
    }

    /// A local session (charging without a transaction) gets the OCPP transaction that started
    /// late, and its token when the transaction names one.
    public func linkTransaction(
        sessionID: String, transactionID: String, tokenUID: String?, tokenType: SessionTokenType?, at: Int64,
        also: (Database) throws(StoreError) -> Void = { _ in }
    ) throws(StoreError) {
        try write { (database) throws(StoreError) in
            _ = try Self.statusAndStart(of: sessionID, in: database)
            try database.execute(
                """
                UPDATE sessions SET transaction_id = ?, token_uid = coalesce(?, token_uid), token_type = coalesce(?, token_type),
                    last_update_ms = max(last_update_ms, ?)
                WHERE id = ?
                """, [.text(transactionID), .text(tokenUID), .text(tokenType?.rawValue), .integer(at), .text(sessionID)])
            try also(database)
        }
    }

    /// Dimensions a period may have: at least one, finite, one per type.
    static func requireValid(_ dimensions: [ChargingDimension]) throws(StoreError) {
        guard !dimensions.isEmpty else { throw .invalidArgument("a charging period needs at least one dimension") }
        var seen = Set<DimensionType>()
        for dimension in dimensions {
            try requireFinite(dimension.volume, dimension.type.rawValue)
            guard seen.insert(dimension.type).inserted else { throw .invalidArgument("dimension \(dimension.type.rawValue) given twice") }
        }
    }

    /// Inserts a period of an ACTIVE session, or replaces the dimensions of its period with the same start.
    static func upsertPeriod(sessionID: String, start: Int64, dimensions: [ChargingDimension], in database: Database) throws(StoreError) {
        let (status, sessionStart) = try statusAndStart(of: sessionID, in: database)
        guard status == .active else { throw .invalidTransition(sessionID: sessionID, status: status, operation: "add a charging period to") }
        guard start >= sessionStart else { throw .invalidArgument("period start \(start) before the session start \(sessionStart)") }
        let periodID =
            try database.query(
                """
                INSERT INTO charging_periods (session_id, start_ms) VALUES (?, ?)
                ON CONFLICT (session_id, start_ms) DO UPDATE SET start_ms = excluded.start_ms
                RETURNING id
                """, [.text(sessionID), .integer(start)]
            ) { row in row.int64(0) }.first ?? 0
        try database.execute("DELETE FROM period_dimensions WHERE period_id = ?", [.integer(periodID)])
        let insert = try database.prepare("INSERT INTO period_dimensions (period_id, type, volume) VALUES (?, ?, ?)")
        for dimension in dimensions {
            try insert.bind([.integer(periodID), .text(dimension.type.rawValue), .real(dimension.volume)])
            while try insert.step() {}
        }
    }
}
