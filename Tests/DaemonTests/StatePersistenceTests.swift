import Basics
import Foundation
import Logging
import Station
import Store
import Testing
import TestSupport

@testable import Daemon

/// The recorder and the persistent state in-process, on real SQLite files: what a restart finds
/// again, and what a store that cannot be written catches up.
@Suite("persistent state and catch-up", .timeLimit(.minutes(1)))
struct StatePersistenceTests {
    static let acEVSE = "DE*TST*E0001*1"

    /// The test configuration, with Modbus (safe current 10 A, phase switching allowed) or without.
    static func configuration(in directory: TemporaryDirectory, modbus: Bool) throws -> DaemonConfiguration {
        var yaml = stationConfigYAML(port: 1883, logLevel: "info")
        if modbus { yaml += "\nmodbus:\n  port: 1502\n  safe_current: 10\n  allow_phase_switching: true\n" }
        let file = try directory.write("config-\(modbus).yaml", yaml, permissions: 0o644)
        return try ConfigLoader(schemaDirectory: Repository.schemas).load(file: file)
    }

    static func recorder(
        _ configuration: DaemonConfiguration, state: String, queueLimit: Int = 100, time: any TimeSource = SystemTime()
    ) -> (Station, SessionRecorder) {
        let station = CompanionDaemon.makeStation(configuration)
        let recorder = SessionRecorder.open(
            stateDirectory: state, station: station, logger: Logger(label: "test"), queueLimit: queueLimit, time: time)
        return (station, recorder)
    }

    @Test("availability set by change_availability and the phases to use survive a restart; the safe current is stored")
    func availabilityAndPhasesSurvive() async throws {
        let directory = try TemporaryDirectory()
        let state = directory.file("state")
        let configuration = try Self.configuration(in: directory, modbus: true)

        let (station, recorder) = Self.recorder(configuration, state: state)
        await recorder.restoreState()
        #expect(await station.changeAvailability(.evse(Self.acEVSE), operative: false) == .accepted)
        #expect(await station.changeAvailability(.connector(evseID: "DE*TST*E0001*2", connectorID: 1), operative: false) == .accepted)
        #expect(await station.setPhases(1, evseID: Self.acEVSE) == .accepted)
        await recorder.observe(.availabilityChanged(evseID: Self.acEVSE, connectorID: nil, operative: false))
        recorder.store?.close()

        let database = try Store(path: state + "/cs-companion.db", readOnly: true)
        #expect(try database.availability(scope: "evse:\(Self.acEVSE)") == false)
        #expect(try database.availability(scope: "evse:DE*TST*E0001*2/connector:1") == false)
        #expect(try database.availability(scope: "station") == true)
        #expect(try database.setting("phases/\(Self.acEVSE)") == "1")
        #expect(try database.setting("safe_current/\(Self.acEVSE)") == "10.0")
        #expect(try database.setting("external_setpoints_enabled") == "true")
        database.close()

        // A new daemon on the same state directory.
        let (restarted, again) = Self.recorder(configuration, state: state)
        #expect(await restarted.state(of: Self.acEVSE)?.operative == true)
        await again.restoreState()
        #expect(await restarted.state(of: Self.acEVSE)?.operative == false)
        #expect(await restarted.state(of: "DE*TST*E0001*2")?.connectors.first?.operative == false)
        #expect(await restarted.state(of: "DE*TST*E0001*2")?.operative == true)
        #expect(await restarted.externalSetpointState(evseID: Self.acEVSE)?.phases == 1)

        // Operative again: stored as such, and the next start leaves it operative.
        #expect(await restarted.changeAvailability(.evse(Self.acEVSE), operative: true) == .accepted)
        await again.persistState()
        again.store?.close()
        let (third, last) = Self.recorder(configuration, state: state)
        await last.restoreState()
        #expect(await third.state(of: Self.acEVSE)?.operative == true)
        last.store?.close()
    }

    @Test("a stored safe current applies where the configuration names none; a configured one wins")
    func safeCurrentRestored() async throws {
        let directory = try TemporaryDirectory()
        let state = directory.file("state")
        let withModbus = try Self.configuration(in: directory, modbus: true)
        let (_, first) = Self.recorder(withModbus, state: state)
        await first.restoreState()
        first.store?.close()

        let without = try Self.configuration(in: directory, modbus: false)
        #expect(without.station.evses.first?.safeCurrent == nil)
        let (station, second) = Self.recorder(without, state: state)
        await second.restoreState()
        #expect(await station.configuration.evses.first?.safeCurrent == 10)
        second.store?.close()

        var lower = withModbus
        lower.station.evses[0].safeCurrent = 8
        let (configured, third) = Self.recorder(lower, state: state)
        await third.restoreState()
        #expect(await configured.configuration.evses.first?.safeCurrent == 8)
        third.store?.close()
        let database = try Store(path: state + "/cs-companion.db", readOnly: true)
        #expect(try database.setting("safe_current/\(Self.acEVSE)") == "8.0")
        database.close()
    }

    @Test("a store that cannot be opened at start: the stored inoperative state is restored when it opens, not overwritten")
    func availabilityKeptWhileTheStoreIsAway() async throws {
        let directory = try TemporaryDirectory()
        let parent = directory.file("parent")
        let state = parent + "/state"
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let configuration = try Self.configuration(in: directory, modbus: false)
        do {
            let (station, recorder) = Self.recorder(configuration, state: state)
            await recorder.restoreState()
            #expect(await station.changeAvailability(.evse(Self.acEVSE), operative: false) == .accepted)
            await recorder.observe(.availabilityChanged(evseID: Self.acEVSE, connectorID: nil, operative: false))
            #expect(try recorder.store?.availability(scope: "evse:\(Self.acEVSE)") == false)
            recorder.store?.close()
        }

        // The state directory is away at start (its file system not mounted yet).
        try FileManager.default.moveItem(atPath: parent, toPath: directory.file("away"))
        let (station, recorder) = Self.recorder(configuration, state: state)
        #expect(recorder.store == nil)
        await recorder.restoreState()
        #expect(await station.state(of: Self.acEVSE)?.operative == true)
        // Status changes while the store is away queue nothing of the configuration's state.
        await recorder.observe(.statusAndLimitsChanged(evseIDs: [Self.acEVSE]))
        await recorder.persistState()
        #expect(recorder.pendingWrites == 0)

        // Back: the stored state is read and applied, and stays in the store.
        try FileManager.default.moveItem(atPath: directory.file("away"), toPath: parent)
        #expect(await waitUntil(timeout: .seconds(5)) {
            recorder.retryPending()
            return await station.state(of: Self.acEVSE)?.operative == false
        })
        #expect(await waitUntil(timeout: .seconds(5)) { recorder.restoration.withLock { $0.done } })
        #expect(try recorder.store?.availability(scope: "evse:\(Self.acEVSE)") == false)
        // And later changes are stored again.
        #expect(await station.changeAvailability(.evse(Self.acEVSE), operative: true) == .accepted)
        await recorder.observe(.availabilityChanged(evseID: Self.acEVSE, connectorID: nil, operative: true))
        #expect(try recorder.store?.availability(scope: "evse:\(Self.acEVSE)") == true)
        recorder.store?.close()
    }

    @Test("writes the store refuses wait in order and are caught up; a full queue drops the oldest")
    func catchUp() async throws {
        let directory = try TemporaryDirectory()
        // The state directory's parent does not exist yet: the store cannot be opened.
        let state = directory.file("missing") + "/state"
        let configuration = try Self.configuration(in: directory, modbus: false)
        let time = ManualTime()
        let (station, recorder) = Self.recorder(configuration, state: state, queueLimit: 6, time: time)
        #expect(recorder.store == nil)

        let simulator = EVSimulator(station: station)
        #expect(await simulator.plug(evseID: Self.acEVSE, connectorID: 1, ev: SimulatedEV()))
        await recorder.transactionStarted(evseID: Self.acEVSE, transactionID: "tx-late", token: nil)
        time.advance(by: .seconds(1))
        // The EV charges: a new charging state, a new period.
        #expect(await station.authorize(evseID: Self.acEVSE, token: .rfid("04AA"), decision: .accepted))
        _ = await station.applyPWM(evseID: Self.acEVSE, hlc: false, current: 16)
        #expect(await simulator.evRequestsPower(evseID: Self.acEVSE))
        await recorder.observe(.contactorChanged(evseID: Self.acEVSE, closed: true))
        time.advance(by: .milliseconds(5))
        await recorder.transactionEnded(evseID: Self.acEVSE, transactionID: "tx-late")
        // start + its open period, the closed and the new period (contactor), the last period + complete (end)
        #expect(recorder.pendingWrites == 5)
        recorder.retryPending()  // the directory is still missing
        #expect(recorder.pendingWrites == 5)

        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        recorder.retryPending()  // at most once a second: not within the same second
        #expect(recorder.pendingWrites == 5)
        time.advance(by: .seconds(1))
        recorder.retryPending()
        #expect(recorder.pendingWrites == 0)
        let record = try #require(try recorder.store?.session(transactionID: "tx-late"))
        #expect(record.status == .completed)
        #expect(!record.closedByRecovery)
        #expect(record.chargingPeriods.count == 2)

        // The queue holds 6: with the disk gone again, 8 settings keep the newest 6.
        let (_, bounded) = Self.recorder(configuration, state: directory.file("gone") + "/state", queueLimit: 6, time: ManualTime())
        for index in 0..<8 { bounded.write(.setting(key: "k\(index)", value: "\(index)", at: 0)) }
        #expect(bounded.pendingWrites == 6)
        try FileManager.default.createDirectory(atPath: directory.file("gone") + "/state", withIntermediateDirectories: true)
        bounded.retryPending()  // the first try since the start
        #expect(bounded.pendingWrites == 0)
        let settings = try #require(try bounded.store?.settings())
        #expect(settings["k0"] == nil && settings["k1"] == nil)
        #expect((2..<8).allSatisfy { settings["k\($0)"] == "\($0)" })
        bounded.store?.close()
        recorder.store?.close()
    }
}
