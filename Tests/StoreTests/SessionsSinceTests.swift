import Foundation
import TestSupport
import Testing

@testable import Store

/// `sessions(since:)` over a database of many sessions: exactly the sessions changed at or after
/// `since`, each with its own periods, and the periods read from the sessions in range only.
@Suite struct SessionsSinceTests {
    /// Deterministic numbers (SplitMix64) for the generated sessions.
    struct Numbers {
        var state: UInt64
        mutating func next(_ range: ClosedRange<Int64>) -> Int64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return range.lowerBound + Int64(z % UInt64(range.upperBound - range.lowerBound + 1))
        }
    }

    /// `count` sessions on two EVSEs, starts a few minutes apart (some equal), all three statuses,
    /// zero to three periods each, and a `lastUpdate` that is not in start order (a long session, or
    /// one declared invalid much later, changed after sessions that started after it).
    static func generate(_ count: Int) -> [ChargingSessionRecord] {
        var numbers = Numbers(state: 20)
        var records: [ChargingSessionRecord] = []
        var start = t0
        for index in 0..<count {
            start += numbers.next(0...3) * minute  // 0: the same start as the previous session
            let status: SessionStatus = [.completed, .completed, .completed, .active, .invalid][Int(numbers.next(0...4))]
            let length = numbers.next(1...600) * minute
            let startWh = Double(numbers.next(0...5_000_000))
            let lastWh = startWh + Double(numbers.next(0...80_000))
            var periods: [ChargingPeriod] = []
            for period in 0..<Int(numbers.next(0...3)) {
                let energy = Double(numbers.next(0...40_000)) / 1000
                let types = DimensionType.allCases.filter { _ in numbers.next(0...2) > 0 }
                let dimensions = (types.isEmpty ? [.energy] : types).map { ChargingDimension($0, energy) }
                periods.append(ChargingPeriod(start: start + Int64(period) * 7 * minute, dimensions: dimensions))
            }
            let stop: Int64? = status == .active ? nil : start + length
            let id = String(format: "%08llx-0000-4000-8000-%012llx", numbers.next(0...0xFFFF_FFFF), Int64(index))
            records.append(
                ChargingSessionRecord(
                    id: id, evseID: index % 2 == 0 ? "1" : "2",
                    connectorID: 1, transactionID: index % 3 == 0 ? nil : "tx-\(index)", tokenUID: "04A2B3C4D5E6F7", tokenType: .iso14443,
                    authMethod: .whitelist, status: status, start: start, stop: stop, energyStartWh: startWh, energyLastWh: lastWh,
                    energyStopWh: status == .completed ? lastWh : nil, lastUpdate: start + length + numbers.next(0...2) * 24 * 60 * minute,
                    chargingPeriods: periods))
        }
        return records
    }

    /// Writes `records` as the recorder would have left them, in one transaction.
    static func insert(_ records: [ChargingSessionRecord], into store: Store) throws(StoreError) {
        try store.write { (database) throws(StoreError) in
            let session = try database.prepare(
                """
                INSERT INTO sessions (id, evse_id, connector_id, transaction_id, token_uid, token_type, auth_method, status, start_ms,
                    stop_ms, energy_start_wh, energy_last_wh, energy_stop_wh, kwh, last_update_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let period = try database.prepare("INSERT INTO charging_periods (session_id, start_ms) VALUES (?, ?) RETURNING id")
            let dimension = try database.prepare("INSERT INTO period_dimensions (period_id, type, volume) VALUES (?, ?, ?)")
            for record in records {
                try session.bind([
                    .text(record.id), .text(record.evseID), .integer(Int64(record.connectorID)), .text(record.transactionID),
                    .text(record.tokenUID), .text(record.tokenType.rawValue), .text(record.authMethod?.rawValue), .text(record.status.rawValue),
                    .integer(record.start), .integer(record.stop), .real(record.energyStartWh), .real(record.energyLastWh),
                    .real(record.energyStopWh), .real(record.kwh), .integer(record.lastUpdate),
                ])
                while try session.step() {}
                for charging in record.chargingPeriods {
                    try period.bind([.text(record.id), .integer(charging.start)])
                    var periodID: Int64 = 0
                    while try period.step() { periodID = period.row.int64(0) }
                    for item in charging.dimensions {
                        try dimension.bind([.integer(periodID), .text(item.type.rawValue), .real(item.volume)])
                        while try dimension.step() {}
                    }
                }
            }
        }
    }

    @Test func sinceOverManySessionsReturnsExactlyThoseInRangeWithTheirPeriods() throws {
        let (directory, store) = try makeStore()
        let written = Self.generate(5000)
        try Self.insert(written, into: store)
        let byStart = written.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
        #expect(Set(written.map(\.start)).count < written.count)  // some starts are shared: the id orders them
        #expect(written.contains { $0.chargingPeriods.isEmpty } && written.contains { $0.chargingPeriods.count == 3 })

        #expect(try store.sessions() == byStart)
        let updates = written.map(\.lastUpdate).sorted()
        // Before everything, at a lastUpdate (inclusive), between two, near the end, after everything.
        for since in [t0 - 1, updates[1234], updates[2500] + 1, updates[4990], updates[4999] + 1] {
            let expected = byStart.filter { $0.lastUpdate >= since }
            let found = try store.sessions(since: since)
            #expect(found.count == expected.count, "since \(since)")
            #expect(found == expected, "since \(since)")
        }
        // In range by lastUpdate, not by start: some session that started before `since` is in.
        let since = updates[2500]
        #expect(try store.sessions(since: since).contains { $0.start < since })

        // The other readers of the same loader.
        #expect(try store.activeSessions() == byStart.filter { $0.status == .active })
        let sample = written[777]
        #expect(try store.session(id: sample.id) == sample)
        if let transactionID = written[778].transactionID {
            #expect(try store.session(transactionID: transactionID) == written[778])
        }
        _ = directory
    }

    /// The periods are looked up by the sessions that match (`charging_periods` by `session_id`),
    /// never read in full, whatever selects the sessions.
    @Test func periodsAreReadFromTheMatchingSessionsOnly() throws {
        let (directory, store) = try makeStore()
        try Self.insert(Self.generate(200), into: store)
        let conditions: [(String, [SQLValue])] = [
            ("s.last_update_ms >= ?", [.integer(t0)]), ("s.status = 'ACTIVE'", []), ("s.id = ?", [.text("x")]),
            ("s.transaction_id = ?", [.text("tx-1")]), ("1", []),
        ]
        for (condition, bindings) in conditions {
            let plan = try store.withDatabase { (database) throws(StoreError) in
                try database.query("EXPLAIN QUERY PLAN " + Store.periodsQuery(where: condition), bindings) { row in row.string(3) }
            }
            #expect(plan.contains { $0.hasPrefix("SEARCH p ") && $0.contains("(session_id=?)") }, "\(condition): \(plan)")
            #expect(!plan.contains { $0.hasPrefix("SCAN p") || $0.hasPrefix("SCAN d") }, "\(condition): \(plan)")
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(condition): \(plan)")
        }
        _ = directory
    }
}
