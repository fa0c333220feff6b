import Foundation
import TestSupport
import Testing

@testable import Store

/// Copies the database and its WAL as they are on disk right now, while the writer still has them
/// open: what a power cut at this moment would leave behind.
func crashImage(of path: String, into directory: TemporaryDirectory) throws -> String {
    let target = directory.file("crashed.db")
    for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
        try FileManager.default.copyItem(atPath: path + suffix, toPath: target + suffix)
    }
    return target
}

@Suite struct DurabilityTests {
    @Test func completedSessionSurvivesCloseAndReopen() throws {
        let directory = try TemporaryDirectory(prefix: "store-test")
        let path = directory.file("cs.db")
        let expected: ChargingSessionRecord
        do {
            let store = try Store(path: path)
            let id = try startSample(store)
            try store.addPeriod(sessionID: id, start: t0, dimensions: sampleDimensions(energyKWh: 2, powerKW: 7.4, soc: 55))
            expected = try store.completeSession(id: id, stop: t0 + 20 * minute, energyWh: 3000)
            store.close()
        }
        let reopened = try Store(path: path)
        #expect(try reopened.sessions() == [expected])
        #expect(try reopened.integrityCheck() == [])
    }

    @Test func committedWritesAreInTheFilesBeforeTheCallReturns() throws {
        let directory = try TemporaryDirectory(prefix: "store-test")
        let path = directory.file("cs.db")
        let store = try Store(path: path)
        let id = try startSample(store)
        let completed = try store.completeSession(id: id, stop: t0 + minute, energyWh: 1800)
        // Without closing (no checkpoint): the WAL holds the commit.
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        let image = try crashImage(of: path, into: directory)
        let recovered = try Store(path: image)
        #expect(try recovered.sessions() == [completed])
        #expect(try recovered.integrityCheck() == [])
        // A read-only reader (the CLI) sees it while the writer is open too.
        let reader = try Store(path: path, readOnly: true)
        #expect(try reader.session(id: id) == completed)
        #expect(try reader.withDatabase { db in db.isImmutable } == false)
        store.close()
    }

    @Test func readOnlyStoreRefusesWritesAsStorageUnavailable() throws {
        let directory = try TemporaryDirectory(prefix: "store-test")
        let path = directory.file("cs.db")
        let writer = try Store(path: path)
        let id = try startSample(writer)
        let reader = try Store(path: path, readOnly: true)
        let error = expectStoreError { () throws(StoreError) in try reader.updateActive(sessionID: id, energyWh: 2000, at: t0 + 1) }
        #expect(error?.isStorageUnavailable == true)
        #expect(error?.sqliteFailure?.code == 8)  // SQLITE_READONLY
        #expect(try writer.session(id: id)?.energyLastWh == 1000)
    }
}

@Suite struct RecoveryTests {
    @Test func activeSessionAfterACrashCanBeClosed() throws {
        let directory = try TemporaryDirectory(prefix: "store-test")
        let path = directory.file("cs.db")
        let store = try Store(path: path)
        let running = try startSample(store, evse: "1", energyWh: 1000)
        try store.addPeriod(sessionID: running, start: t0, dimensions: sampleDimensions(energyKWh: 4, powerKW: 11))
        try store.updateActive(sessionID: running, energyWh: 5000, at: t0 + 10 * minute)
        let finished = try startSample(store, evse: "2", start: t0 + minute, energyWh: 0)
        try store.completeSession(id: finished, stop: t0 + 5 * minute, energyWh: 700)
        let image = try crashImage(of: path, into: directory)
        store.close()

        let restarted = try Store(path: image)
        var asked: [String] = []
        let recovered = try restarted.recoverAfterCrash { evse in
            asked.append(evse)
            return evse == "1" ? 5600 : nil
        }
        #expect(asked == ["1"])
        #expect(recovered.count == 1)
        let item = try #require(recovered.first)
        #expect(item.session.id == running)
        #expect(item.session.status == .active)
        #expect(item.session.chargingPeriods.count == 1)
        #expect(item.meterReadingWh == 5600)
        #expect(item.suggestedEnergyWh == 5600)
        #expect(item.suggestedStop == t0 + 10 * minute)
        // recoverAfterCrash changes nothing by itself.
        #expect(try restarted.activeSessions().map(\.id) == [running])

        let closed = try restarted.closeRecovered(id: running, stop: item.suggestedStop, energyWh: item.suggestedEnergyWh)
        #expect(closed.status == .completed)
        #expect(closed.closedByRecovery)
        #expect(closed.kwh == 4.6)
        #expect(try restarted.activeSessions().isEmpty)
        #expect(try restarted.recoverAfterCrash { _ in nil }.isEmpty)
        #expect(try restarted.session(id: finished)?.closedByRecovery == false)
    }

    @Test func implausibleOrMissingReadingsFallBackToTheLastRecordedOne() throws {
        let (directory, store) = try makeStore()
        let a = try startSample(store, evse: "1", energyWh: 1000)
        try store.updateActive(sessionID: a, energyWh: 3000, at: t0 + minute)
        let b = try startSample(store, evse: "2", start: t0 + 1, energyWh: 500)
        let c = try startSample(store, evse: "3", start: t0 + 2, energyWh: 500)
        let recovered = try store.recoverAfterCrash { evse in
            switch evse {
            case "1": 10  // the meter was replaced or reset
            case "2": .infinity
            default: nil
            }
        }
        #expect(recovered.map(\.session.id) == [a, b, c])
        #expect(recovered.map(\.suggestedEnergyWh) == [3000, 500, 500])
        #expect(recovered.map(\.suggestedStop) == [t0 + minute, t0 + 1, t0 + 2])
        _ = directory
    }

    @Test func aRecoveredSessionCanContinue() throws {
        let directory = try TemporaryDirectory(prefix: "store-test")
        let path = directory.file("cs.db")
        let store = try Store(path: path)
        let id = try startSample(store)
        let image = try crashImage(of: path, into: directory)
        store.close()
        let restarted = try Store(path: image)
        let recovered = try restarted.recoverAfterCrash { _ in 1200 }
        #expect(recovered.map(\.session.id) == [id])
        try restarted.updateActive(sessionID: id, energyWh: 1200, at: t0 + 3 * minute)
        let done = try restarted.completeSession(id: id, stop: t0 + 4 * minute, energyWh: 1400)
        #expect(done.kwh == 0.4 && !done.closedByRecovery)
    }
}
