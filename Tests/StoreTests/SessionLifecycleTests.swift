import Foundation
import TestSupport
import Testing

@testable import Store

@Suite struct SessionLifecycleTests {
    @Test func sessionWithPeriodsFromStartToCompletion() throws {
        let (directory, store) = try makeStore()
        let id = try store.startSession(
            evseID: "DE*ABC*E1234*1", connectorID: 2, tokenUID: "04A2B3C4D5E6F7", tokenType: .iso14443, start: t0, energyWh: 12_000.5)
        #expect(id.count == 36)
        #expect(id.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12])

        var record = try #require(try store.session(id: id))
        #expect(record.status == .active)
        #expect(record.stop == nil && record.energyStopWh == nil)
        #expect(record.kwh == 0)
        #expect(record.lastUpdate == t0)
        #expect(try store.activeSessions().map(\.id) == [id])

        try store.setTransactionID(sessionID: id, transactionID: "tx-42", at: t0 + 1000)
        try store.addPeriod(sessionID: id, start: t0, dimensions: sampleDimensions(energyKWh: 0.9, powerKW: 11, soc: 40))
        try store.updateActive(sessionID: id, energyWh: 12_900.5, at: t0 + 5 * minute)
        try store.addPeriod(sessionID: id, start: t0 + 5 * minute, dimensions: [ChargingDimension(.parkingTime, 0.05), ChargingDimension(.energy, 0)])
        record = try #require(try store.session(id: id))
        #expect(record.transactionID == "tx-42")
        #expect(try store.session(transactionID: "tx-42")?.id == id)
        #expect(try store.session(transactionID: "tx-43") == nil)
        #expect(record.energyLastWh == 12_900.5)
        #expect(record.kwh == 0.9)
        #expect(record.lastUpdate == t0 + 5 * minute)
        #expect(record.chargingPeriods.count == 2)
        // Read back in DimensionType order.
        #expect(record.chargingPeriods[1].dimensions == [ChargingDimension(.energy, 0), ChargingDimension(.parkingTime, 0.05)])
        #expect(record.chargingPeriods[0].dimensions.count == 8)
        #expect(record.chargingPeriods[0].dimensions.first { $0.type == .stateOfCharge }?.volume == 40)

        // A period with the same start replaces the earlier one's dimensions.
        try store.addPeriod(sessionID: id, start: t0 + 5 * minute, dimensions: [ChargingDimension(.parkingTime, 0.1)])
        #expect(try store.session(id: id)?.chargingPeriods.last?.dimensions == [ChargingDimension(.parkingTime, 0.1)])

        let completed = try store.completeSession(id: id, stop: t0 + 12 * minute, energyWh: 23_345.9)
        #expect(completed.status == .completed)
        #expect(completed.stop == t0 + 12 * minute)
        #expect(completed.energyStopWh == 23_345.9)
        #expect(completed.kwh == 11.345)
        #expect(completed.lastUpdate == t0 + 12 * minute)
        #expect(!completed.closedByRecovery)
        #expect(try store.session(id: id) == completed)
        #expect(try store.activeSessions().isEmpty)
        // The stored kwh column matches.
        #expect(try store.withDatabase { (db) throws(StoreError) in try db.query("SELECT kwh FROM sessions") { $0.double(0) } } == [11.345])
        _ = directory
    }

    @Test func transitionsAndArgumentsAreChecked() throws {
        let (directory, store) = try makeStore()
        let id = try startSample(store)
        #expect(expectStoreError { () throws(StoreError) in try store.completeSession(id: id, stop: t0 - 1, energyWh: 2000) } != nil)
        #expect(expectStoreError { () throws(StoreError) in try store.updateActive(sessionID: id, energyWh: .nan, at: t0) } != nil)
        #expect(expectStoreError { () throws(StoreError) in try store.addPeriod(sessionID: id, start: t0, dimensions: []) } != nil)
        #expect(
            expectStoreError { () throws(StoreError) in
                try store.addPeriod(sessionID: id, start: t0, dimensions: [ChargingDimension(.power, 1), ChargingDimension(.power, 2)])
            } != nil)
        #expect(
            expectStoreError { () throws(StoreError) in try store.addPeriod(sessionID: id, start: t0 - 1, dimensions: [ChargingDimension(.power, 1)]) }
                != nil)
        try store.completeSession(id: id, stop: t0 + minute, energyWh: 2000)
        #expect(
            expectStoreError { () throws(StoreError) in try store.completeSession(id: id, stop: t0 + minute, energyWh: 2000) }
                == .invalidTransition(sessionID: id, status: .completed, operation: "complete"))
        #expect(expectStoreError { () throws(StoreError) in try store.updateActive(sessionID: id, energyWh: 3000, at: t0 + 2 * minute) } != nil)
        #expect(
            expectStoreError { () throws(StoreError) in try store.addPeriod(sessionID: id, start: t0 + minute, dimensions: [ChargingDimension(.power, 0)]) }
                != nil)
        #expect(expectStoreError { () throws(StoreError) in try store.updateActive(sessionID: "nope", energyWh: 1, at: t0) } == .sessionNotFound("nope"))
        // The same id twice is a constraint violation (not a storage problem).
        let duplicate = expectStoreError { () throws(StoreError) in try startSample(store, id: id) }
        guard case .sqlite(let failure) = duplicate else {
            Issue.record("expected .sqlite, got \(String(describing: duplicate))")
            return
        }
        #expect(failure.code == 19)  // SQLITE_CONSTRAINT
        #expect(failure.extendedCode == 1555)  // SQLITE_CONSTRAINT_PRIMARYKEY
        // Nothing of a failed call was applied.
        #expect(try store.sessions().count == 1)
        _ = directory
    }

    @Test func invalidation() throws {
        let (directory, store) = try makeStore()
        let active = try startSample(store)
        let done = try startSample(store, evse: "2", start: t0 + minute)
        try store.completeSession(id: done, stop: t0 + 2 * minute, energyWh: 1500)
        try store.invalidateSession(id: active, at: t0 + 3 * minute)
        try store.invalidateSession(id: done, at: t0 + 4 * minute)
        let a = try #require(try store.session(id: active))
        let d = try #require(try store.session(id: done))
        #expect(a.status == .invalid && a.stop == t0 + 3 * minute && a.lastUpdate == t0 + 3 * minute)
        #expect(d.status == .invalid && d.stop == t0 + 2 * minute && d.kwh == 0.5 && d.lastUpdate == t0 + 4 * minute)
        #expect(expectStoreError { () throws(StoreError) in try store.invalidateSession(id: "nope", at: t0) } == .sessionNotFound("nope"))
        _ = directory
    }

    @Test func sessionsSinceFiltersOnLastUpdate() throws {
        let (directory, store) = try makeStore()
        let old = try startSample(store, start: t0)
        try store.completeSession(id: old, stop: t0 + 10 * minute, energyWh: 2000)
        let spanning = try startSample(store, evse: "2", start: t0 + 20 * minute)
        try store.completeSession(id: spanning, stop: t0 + 90 * minute, energyWh: 5000)
        let recent = try startSample(store, start: t0 + 60 * minute)
        #expect(try store.sessions().map(\.id) == [old, spanning, recent])
        #expect(try store.sessions(since: t0 + 30 * minute).map(\.id) == [spanning, recent])
        #expect(try store.sessions(since: t0 + 61 * minute).map(\.id) == [spanning])
        #expect(try store.sessions(since: t0 + 91 * minute).isEmpty)
        _ = directory
    }

    @Test func settingsAndAvailability() throws {
        let (directory, store) = try makeStore()
        #expect(try store.setting("max_current") == nil)
        try store.setSetting("max_current", "32", at: t0)
        try store.setSetting("max_current", "16", at: t0 + 1)
        try store.setSetting("name", "Garage", at: t0)
        #expect(try store.setting("max_current") == "16")
        #expect(try store.settings() == ["max_current": "16", "name": "Garage"])
        try store.setSetting("name", nil)
        #expect(try store.settings() == ["max_current": "16"])

        #expect(try store.availability(scope: "evse:1") == nil)
        try store.setAvailability(scope: "station", operative: true)
        try store.setAvailability(scope: "evse:1", operative: false)
        try store.setAvailability(scope: "evse:1", operative: true)
        try store.setAvailability(scope: "evse:2", operative: false)
        #expect(try store.availability(scope: "evse:1") == true)
        #expect(try store.allAvailability() == ["station": true, "evse:1": true, "evse:2": false])
        _ = directory
    }

    @Test func concurrentWritersAreSerialized() async throws {
        let (directory, store) = try makeStore()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<10 {
                        let id = try startSample(store, evse: "\(task)", start: t0 + Int64(index))
                        try store.updateActive(sessionID: id, energyWh: 1500, at: t0 + Int64(index) + 1)
                        try store.completeSession(id: id, stop: t0 + Int64(index) + 2, energyWh: 2000)
                    }
                }
            }
            try await group.waitForAll()
        }
        let all = try store.sessions()
        #expect(all.count == 80)
        #expect(all.allSatisfy { $0.status == .completed && $0.kwh == 1 })
        #expect(try store.integrityCheck() == [])
        _ = directory
    }

    @Test func closedStoreThrows() throws {
        let (directory, store) = try makeStore()
        store.close()
        store.close()
        #expect(expectStoreError { () throws(StoreError) in try store.activeSessions() } == .closed)
        _ = directory
    }
}
