import Basics
import Foundation
import Station
import Store
import Testing
import TestSupport

@testable import Daemon

/// The data of a recorded session (issue 19, point 1): periods on every change of charging state
/// and of the offered limit and at most every 5 minutes, every dimension, the open period in an
/// ACTIVE session, Σ ENERGY = kwh, local sessions, a restart that continues the session.
@Suite("session data", .timeLimit(.minutes(2)))
struct SessionDataTests {
    static let ac = SessionRig.ac

    @Test("a 3-hour session (injected clocks): periods ≤ 5 min and on each state and limit change, every dimension, Σ ENERGY = kwh")
    func threeHours() async throws {
        let directory = try TemporaryDirectory()
        let rig = try SessionRig(directory: directory)
        let start = rig.time.unixMilliseconds()
        await rig.plugAndCharge()
        await rig.advance(.seconds(40 * 60))
        // The gridBox lowers the limit: 16 A → 8 A (the PWM follows).
        _ = await rig.station.setExternalCurrentLimit(8, evseID: Self.ac)
        await rig.settle()
        let limitChanged = rig.time.unixMilliseconds()
        await rig.advance(.seconds(20 * 60))
        // The EV pauses (SuspendedEV) for half an hour, reports its state of charge, resumes.
        await rig.simulator.evStops(evseID: Self.ac)
        await rig.settle()
        let paused = rig.time.unixMilliseconds()
        await rig.advance(.seconds(30 * 60))
        rig.recorder.stateOfCharge(evseID: Self.ac, percent: 40)
        await rig.simulator.evRequestsPower(evseID: Self.ac)
        await rig.settle()
        let resumed = rig.time.unixMilliseconds()
        await rig.advance(.seconds(90 * 60))

        // ACTIVE: the open period is stored with the energy, and adds up.
        let running = try #require(try rig.stored().first)
        #expect(running.status == .active)
        #expect(running.transactionID == "tx-1")
        #expect(abs(total(.energy, running.chargingPeriods) - running.kwh) < 1e-9, "\(running.chargingPeriods.count) periods, kwh \(running.kwh)")
        #expect(running.kwh > 0)

        await rig.simulator.evStops(evseID: Self.ac)
        await rig.settle()
        await rig.endTransaction()
        let session = try #require(try rig.stored().first)
        #expect(session.status == .completed)
        let periods = session.chargingPeriods
        // Σ ENERGY = kwh, and kwh is what the meter counted: 40 min at 11.04 kW, 20 + 90 min at
        // 5.52 kW (the limit stays at 8 A) = 7.36 + 1.84 + 8.28 kWh.
        #expect(abs(total(.energy, periods) - session.kwh) < 1e-9)
        #expect(abs(session.kwh - 17.48) < 0.01, "\(session.kwh)")
        // Periods at most 5 minutes (and one tick) apart.
        for (earlier, later) in zip(periods, periods.dropFirst()) {
            #expect(later.start - earlier.start <= 310_000, "\(earlier.start - start) → \(later.start - start)")
            #expect(later.start > earlier.start)
        }
        #expect(periods.count >= 180 / 5)
        print("3-hour session: \(periods.count) periods, \(session.kwh) kWh, parking \(total(.parkingTime, periods)) h")
        // A period starts at each change: the limit, the pause, the resumption.
        for change in [limitChanged, paused, resumed] {
            #expect(periods.contains { $0.start == change }, "no period starts at +\((change - start) / 1000) s")
        }
        // Every period has every dimension (the state of charge once reported).
        let always: [DimensionType] = [.energy, .energyImport, .energyExport, .power, .minPower, .maxPower, .parkingTime]
        for period in periods {
            for type in always { #expect(period.volume(type) != nil, "\(type) missing at +\((period.start - start) / 1000) s") }
            #expect((period.volume(.stateOfCharge) != nil) == (period.start >= resumed), "SOC at +\((period.start - start) / 1000) s")
        }
        // Power from the samples: 11.04 kW at 16 A, 5.52 kW at 8 A, 0 while paused (parking).
        let first = try #require(periods.first { $0.start > start && $0.start < limitChanged })
        #expect(first.volume(.maxPower) == 11.04)
        #expect(first.volume(.minPower) == 11.04)
        #expect(first.volume(.power) == 11.04)
        #expect(first.volume(.parkingTime) == 0)
        let lowered = try #require(periods.first { $0.start == limitChanged })
        #expect(lowered.volume(.maxPower) == 5.52)
        let pause = try #require(periods.first { $0.start == paused })
        #expect(pause.volume(.maxPower) == 0)
        #expect(pause.volume(.energy) == 0)
        #expect(abs((pause.volume(.parkingTime) ?? 0) - 5.0 / 60) < 1e-3, "\(pause)")
        #expect(total(.parkingTime, periods) > 0.49 && total(.parkingTime, periods) < 0.51)
        let afterSOC = try #require(periods.first { $0.start == resumed })
        #expect(afterSOC.volume(.stateOfCharge) == 40)
    }

    @Test("charging without a transaction is a local session; a transaction arriving late is linked to it")
    func localSessionLinked() async throws {
        let directory = try TemporaryDirectory()
        let rig = try SessionRig(directory: directory, freeVend: true)
        await rig.plugAndCharge(transaction: nil)
        await rig.advance(.seconds(60))
        let local = try #require(try rig.stored().first)
        #expect(local.transactionID == nil)
        #expect(local.status == .active)
        #expect(local.kwh > 0.18)

        _ = await rig.station.startTransaction(evseID: Self.ac, transactionID: "tx-late", token: .rfid("CAFE"))
        await rig.recorder.transactionStarted(evseID: Self.ac, transactionID: "tx-late", token: .rfid("CAFE"))
        await rig.advance(.seconds(60))
        await rig.simulator.evStops(evseID: Self.ac)
        await rig.settle()
        await rig.endTransaction("tx-late")
        let sessions = try rig.stored()
        #expect(sessions.count == 1)
        let session = try #require(sessions.first)
        #expect(session.id == local.id)
        #expect(session.transactionID == "tx-late")
        #expect(session.tokenUID == "CAFE")
        #expect(session.status == .completed)
        #expect(abs(session.kwh - 11.04 * 2 / 60) < 0.002, "\(session.kwh)")
        #expect(abs(total(.energy, session.chargingPeriods) - session.kwh) < 1e-9)
    }

    @Test("a local session without any transaction ends when the EV unplugs")
    func localSessionEndsAtUnplug() async throws {
        let directory = try TemporaryDirectory()
        let rig = try SessionRig(directory: directory, freeVend: true)
        await rig.plugAndCharge(transaction: nil)
        await rig.advance(.seconds(15 * 60))
        await rig.simulator.evStops(evseID: Self.ac)
        await rig.settle()
        await rig.simulator.unplug(evseID: Self.ac)
        await rig.settle()
        let session = try #require(try rig.stored().first)
        #expect(session.status == .completed)
        #expect(session.transactionID == nil)
        #expect(abs(session.kwh - 2.76) < 0.01, "\(session.kwh)")
        #expect(abs(total(.energy, session.chargingPeriods) - session.kwh) < 1e-9)
    }

    @Test("a restart during a transaction continues the same session; the meter tells the energy")
    func restartContinues() async throws {
        let directory = try TemporaryDirectory()
        let first = try SessionRig(directory: directory)
        await first.plugAndCharge()
        await first.advance(.seconds(5 * 60 + 30))
        let before = try #require(try first.stored().first)
        #expect(before.status == .active)
        // The daemon dies (nothing closes the session); the EV stays plugged and charging.
        first.recorder.store?.close()

        let clock = ManualClock(first.clock.now())
        let second = try SessionRig(directory: directory, clock: clock)
        await second.simulator.plug(evseID: Self.ac, connectorID: 1, ev: SimulatedEV(maxCurrent: 32, phases: 3))
        _ = await second.station.rfid(uid: "CAFE", evseID: Self.ac)
        _ = await second.station.applyPWM(evseID: Self.ac, hlc: false, current: 16)
        await second.simulator.evRequestsPower(evseID: Self.ac)
        await second.recorder.recover()
        _ = await second.station.startTransaction(evseID: Self.ac, transactionID: "tx-1", token: .rfid("CAFE"))
        await second.recorder.transactionStarted(evseID: Self.ac, transactionID: "tx-1", token: .rfid("CAFE"))
        await second.settle()
        await second.advance(.seconds(10 * 60))
        await second.simulator.evStops(evseID: Self.ac)
        await second.settle()
        await second.endTransaction()

        let sessions = try second.stored()
        #expect(sessions.count == 1, "\(sessions.map(\.id))")
        let session = try #require(sessions.first)
        #expect(session.id == before.id)
        #expect(session.status == .completed)
        #expect(!session.closedByRecovery)
        // What was recorded before the restart (to the last minute's write) plus 10 minutes at 11.04 kW.
        #expect(abs(session.kwh - (before.kwh + 1.84)) < 0.01, "\(before.kwh) then \(session.kwh)")
        #expect(abs(total(.energy, session.chargingPeriods) - session.kwh) < 1e-9)
    }

    @Test("a session whose EV left while the daemon was down is closed at the next start")
    func restartUnplugged() async throws {
        let directory = try TemporaryDirectory()
        let first = try SessionRig(directory: directory)
        await first.plugAndCharge()
        await first.advance(.seconds(120))
        first.recorder.store?.close()
        let second = try SessionRig(directory: directory)
        await second.recorder.recover()
        let session = try #require(try second.stored().first)
        #expect(session.status == .completed)
        #expect(session.closedByRecovery)
        #expect(abs(session.kwh - 11.04 * 2 / 60) < 0.002, "\(session.kwh)")
    }
}

@Suite("session data: a transaction before the plug", .timeLimit(.minutes(1)))
struct TransactionFirstTests {
    @Test("a transaction started before the EV plugs in: plugging in starts a new period (EVConnected)")
    func transactionFirst() async throws {
        let directory = try TemporaryDirectory()
        let rig = try SessionRig(directory: directory)
        _ = await rig.station.startTransaction(evseID: SessionRig.ac, transactionID: "tx-0", token: .rfid("CAFE"))
        await rig.recorder.transactionStarted(evseID: SessionRig.ac, transactionID: "tx-0", token: .rfid("CAFE"))
        await rig.advance(.seconds(20))
        await rig.simulator.plug(evseID: SessionRig.ac, connectorID: 1, ev: SimulatedEV(maxCurrent: 32, phases: 3))
        await rig.settle()
        // The next periodic meter values (a minute) store the open period as it grew.
        await rig.advance(.seconds(70))
        let session = try #require(try rig.stored().first)
        #expect(session.chargingPeriods.count == 2, "\(session.chargingPeriods)")
        #expect(session.chargingPeriods.last?.volume(.parkingTime).map { $0 > 0 } == true, "\(session.chargingPeriods)")
    }
}

@Suite("session data: the wall clock stepped back", .timeLimit(.minutes(1)))
struct ClockSteppedBackTests {
    @Test("the wall clock stepped back an hour mid-session: last_updated never goes back, periods stay in order")
    func steppedBack() async throws {
        let directory = try TemporaryDirectory()
        let time = SteppableTime()
        let rig = try SessionRig(directory: directory, time: time, push: true)
        await rig.plugAndCharge()
        await rig.advance(.seconds(7 * 60))
        let before = try #require(try rig.stored().first)
        time.stepWall(by: -3_600_000)
        await rig.advance(.seconds(7 * 60))
        let after = try #require(try rig.stored().first)
        #expect(after.lastUpdate >= before.lastUpdate)
        await rig.simulator.evStops(evseID: SessionRig.ac)
        await rig.settle()
        await rig.endTransaction()
        let session = try #require(try rig.stored().first)
        #expect(session.status == .completed)
        #expect(session.lastUpdate >= after.lastUpdate)
        let starts = session.chargingPeriods.map(\.start)
        #expect(starts == starts.sorted() && Set(starts).count == starts.count, "\(starts)")
        #expect((session.stop ?? 0) >= starts.last ?? 0)
        #expect(abs(total(.energy, session.chargingPeriods) - session.kwh) < 1e-9)
        // What a push sends is built from the stored session: its last_updated is the stored one.
        let body = SessionPusher.body(.patch, session, OCPIParameters(countryCode: "DE", partyID: "CSC", locationID: "L", currency: "EUR"))
        #expect(body["last_updated"]?.stringValue == DateTimeText.wholeSeconds(unixMilliseconds: session.lastUpdate))
    }
}
