import Basics
import Foundation
import Station
import Store
import Testing
import TestSupport

@testable import Daemon

/// The push outbox (issue 19, point 3): every session change that owes the eMSP a push stores it in
/// the same transaction; items leave only when acknowledged; backoff and refusals survive a restart.
@Suite("push outbox", .timeLimit(.minutes(1)))
struct PushOutboxTests {
    static let ac = SessionRig.ac

    @Test("a session queues PUT at the start, PATCH per new period, PUT at the end; one item per session at a time, in order")
    func queuedInOrder() async throws {
        let directory = try TemporaryDirectory()
        let rig = try SessionRig(directory: directory, push: true)
        await rig.plugAndCharge()
        await rig.advance(.seconds(12 * 60))
        await rig.simulator.evStops(evseID: Self.ac)
        await rig.settle()
        await rig.endTransaction()
        let store = try #require(rig.recorder.store)
        let session = try #require(try rig.stored().first)
        // Start (PUT), the EV's draw starting a period, two 5-minute periods, the pause, end (PUT).
        var kinds: [PushItem.Kind] = []
        var seen: [Int64] = []
        while let item = try store.nextPushes().first {
            #expect(item.sessionID == session.id)
            #expect(try store.nextPushes().count == 1, "one item per session at a time")
            #expect(seen.last.map { item.seq > $0 } ?? true)
            seen.append(item.seq)
            kinds.append(item.kind)
            try store.acknowledgePush(item)
        }
        #expect(kinds.first == .put && kinds.last == .put, "\(kinds)")
        #expect(kinds.dropFirst().dropLast().allSatisfy { $0 == .patch }, "\(kinds)")
        #expect(kinds.filter { $0 == .patch }.count >= 3, "\(kinds)")
        #expect(try store.pushBacklog().count == 0)
    }

    @Test("without push nothing is queued")
    func offByDefault() async throws {
        let directory = try TemporaryDirectory()
        let rig = try SessionRig(directory: directory)
        await rig.plugAndCharge()
        await rig.advance(.seconds(6 * 60))
        #expect(try rig.recorder.store?.nextPushes().isEmpty == true)
        #expect(rig.recorder.pushBacklog == nil)
    }

    @Test("a change and its push are one transaction: a failing enqueue leaves the session unchanged")
    func sameTransaction() throws {
        let directory = try TemporaryDirectory()
        let store = try Store(path: directory.file("s.db"))
        let id = try store.startSession(evseID: "E1", connectorID: 1, tokenUID: "A", tokenType: .iso14443, start: 1_000, energyWh: 0)
        struct Refused: Error {}
        #expect(throws: StoreError.self) {
            try store.recordProgress(
                sessionID: id, energyWh: 500, at: 2_000, periods: [ChargingPeriod(start: 1_000, dimensions: [.init(.energy, 0.5)])],
                also: { (database) throws(StoreError) in
                    try Store.enqueuePush(sessionID: id, kind: .patch, at: 2_000, in: database)
                    throw .invalidArgument("refused")
                })
        }
        let record = try #require(try store.session(id: id))
        #expect(record.kwh == 0)
        #expect(record.chargingPeriods.isEmpty)
        #expect(try store.pushBacklog().count == 0)
        store.close()
    }

    @Test("backoff, attempts and refusals survive a restart; a refused item is kept, visible, and blocks nothing else")
    func survivesRestart() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("s.db")
        var store = try Store(path: path)
        for (id, start) in [("session-a", Int64(1_000)), ("session-b", Int64(2_000))] {
            try store.startSession(id: id, evseID: "E1", connectorID: 1, tokenUID: "A", tokenType: .iso14443, start: start, energyWh: 0) {
                (database) throws(StoreError) in try Store.enqueuePush(sessionID: id, kind: .put, at: start, in: database)
            }
            try store.recordProgress(sessionID: id, energyWh: 100, at: start + 60_000, periods: []) { (database) throws(StoreError) in
                try Store.enqueuePush(sessionID: id, kind: .patch, at: start + 60_000, in: database)
            }
        }
        let heads = try store.nextPushes()
        #expect(heads.map(\.sessionID) == ["session-a", "session-b"])
        #expect(heads.allSatisfy { $0.kind == .put })
        try store.deferPush(heads[0], until: 9_000, error: "connection refused")
        try store.holdPush(heads[1], error: "2001 invalid parameters")
        store.close()

        store = try Store(path: path)
        let backlog = try store.pushBacklog()
        #expect(backlog.count == 4)
        #expect(backlog.held == 1)
        #expect(backlog.oldestCreated == 1_000)
        #expect(backlog.lastError == "connection refused")
        let again = try store.nextPushes()
        // a's PUT again (with its backoff), and b's PATCH: the refused PUT is kept but blocks nothing.
        #expect(again.map(\.seq).count == 2)
        let retried = try #require(again.first { $0.sessionID == "session-a" })
        #expect(retried.attempts == 1 && retried.nextAttempt == 9_000 && retried.kind == .put)
        #expect(again.first { $0.sessionID == "session-b" }?.kind == .patch)
        store.close()
    }
}
