import Foundation
import JosevContract
import Logging
import Store
import Synchronization
import Testing
import TestSupport

@testable import Daemon

/// The rules a value must pass, for each OCPP data type.
@Suite("device-model rules")
struct DeviceModelRulesTests {
    static func variable(
        _ type: DeviceVariableDataType, _ mutability: DeviceVariableMutability = .readWrite, list: [String]? = nil, min: Double? = nil,
        max: Double? = nil
    ) -> DeviceVariableRecord {
        DeviceVariableRecord(
            key: DeviceVariableKey(component: "C", variable: "V"), value: "", mutability: mutability, dataType: type, valuesList: list,
            minimum: min, maximum: max)
    }

    @Test func integers() {
        let record = Self.variable(.integer, min: 10, max: 100)
        #expect(DeviceModelRules.check("10", for: record) == nil)
        #expect(DeviceModelRules.check("+100", for: record) == nil)
        #expect(DeviceModelRules.check("101", for: record)?.reason == "out of range")
        #expect(DeviceModelRules.check("9", for: record)?.reason == "out of range")
        #expect(DeviceModelRules.check("12.5", for: record)?.reason == "wrong type")
        #expect(DeviceModelRules.check("", for: record)?.reason == "wrong type")
        #expect(DeviceModelRules.check("0x20", for: record)?.reason == "wrong type")
        #expect(DeviceModelRules.check("99999999999999999999", for: record)?.reason == "wrong type")
    }

    @Test func decimals() {
        let record = Self.variable(.decimal, min: 0, max: 22000)
        #expect(DeviceModelRules.check("11000.5", for: record) == nil)
        #expect(DeviceModelRules.check("1e3", for: record) == nil)
        #expect(DeviceModelRules.check("-0.1", for: record)?.reason == "out of range")
        for bad in ["nan", "inf", "0x1p3", "12,5", "eleven"] {
            #expect(DeviceModelRules.check(bad, for: record)?.reason == "wrong type", "\(bad)")
        }
    }

    @Test func booleansAndDates() {
        let flag = Self.variable(.boolean)
        #expect(DeviceModelRules.check("true", for: flag) == nil)
        #expect(DeviceModelRules.check("false", for: flag) == nil)
        #expect(DeviceModelRules.check("True", for: flag)?.reason == "wrong type")
        #expect(DeviceModelRules.check("1", for: flag)?.reason == "wrong type")
        let date = Self.variable(.dateTime)
        #expect(DeviceModelRules.check("2026-11-22T03:00:00.000Z", for: date) == nil)
        #expect(DeviceModelRules.check("22.11.2026", for: date)?.reason == "wrong type")
    }

    @Test func lists() {
        let option = Self.variable(.optionList, list: ["Central", "Local"])
        #expect(DeviceModelRules.check("Local", for: option) == nil)
        #expect(DeviceModelRules.check("Remote", for: option)?.reason == "not in the list")
        #expect(DeviceModelRules.check("Central,Local", for: option)?.reason == "not in the list")
        let members = Self.variable(.memberList, list: ["A", "B", "C"], max: 2)
        #expect(DeviceModelRules.check("A,C", for: members) == nil)
        #expect(DeviceModelRules.check("", for: members) == nil)
        #expect(DeviceModelRules.check("A,D", for: members)?.reason == "not in the list")
        #expect(DeviceModelRules.check("A,A", for: members)?.reason == "wrong type")
        #expect(DeviceModelRules.check("A,B,C", for: members)?.reason == "out of range")
        let sequence = Self.variable(.sequenceList, list: ["x", "y"])
        #expect(DeviceModelRules.check("y,x", for: sequence) == nil)
        #expect(DeviceModelRules.check("y,,x", for: sequence)?.reason == "not in the list")
    }

    @Test func stringsAndWriteOnlySecrets() {
        let text = Self.variable(.string, min: 2, max: 5)
        #expect(DeviceModelRules.check("abc", for: text) == nil)
        #expect(DeviceModelRules.check("abcdef", for: text)?.reason == "out of range")
        let secret = Self.variable(.string, .writeOnly, min: 16)
        let rejection = DeviceModelRules.check("hunter2", for: secret)
        #expect(rejection?.reason == "out of range")
        #expect(rejection?.description.contains("hunter2") == false, "\(rejection?.description ?? "")")
    }

    @Test func keysRoundTrip() throws {
        let keys = [
            DeviceVariableKey(component: "OCPPCommCtrlr", variable: "HeartbeatInterval"),
            DeviceVariableKey(component: "EVSE", evseID: "DE*PNX*E12345*1", variable: "Power"),
            DeviceVariableKey(component: "Connector", componentInstance: "left", evseID: "DE*PNX*E12345*1", connectorID: 2, variable: "Type"),
            DeviceVariableKey(component: "SampledDataCtrlr", variable: "TxEndedInterval", variableInstance: "a.b"),
        ]
        for key in keys { #expect(DeviceModelRules.parseKey(key.description) == key, "\(key)") }
        #expect(DeviceModelRules.parseKey("NoVariable") == nil)
        #expect(DeviceModelRules.parseKey("C@.V") == nil)
        #expect(DeviceModelRules.parseKey("C@E/x.V") == nil)
    }
}

/// Pacing, restart-pending changes and the history, on a real SQLite file.
@Suite("device-model store (pacing, restart, history)")
struct DeviceModelStoreTests {
    static let heartbeat = DeviceVariableKey(component: "OCPPCommCtrlr", variable: "HeartbeatInterval")
    static let ping = DeviceVariableKey(component: "OCPPCommCtrlr", variable: "WebSocketPingInterval")
    static let model = DeviceVariableKey(component: "ChargingStation", variable: "Model")
    static let password = DeviceVariableKey(component: "SecurityCtrlr", variable: "BasicAuthPassword")

    static var settings: DeviceModelSettings {
        DeviceModelSettings(
            variables: [
                DeviceVariableRecord(key: heartbeat, value: "300", unit: "s", dataType: .integer, minimum: 10, maximum: 86400),
                DeviceVariableRecord(key: ping, value: "30", dataType: .integer, minimum: 0, maximum: 3600, requiresRestart: true),
                DeviceVariableRecord(key: model, value: "CS-22", mutability: .readOnly),
                DeviceVariableRecord(key: password, value: "initial-password-16", mutability: .writeOnly, minimum: 16),
            ], confirmTimeout: 10)
    }

    static func open(
        _ path: String, clock: ManualTime, settings: DeviceModelSettings = settings, ocppEVSEIDs: [String: Int] = [:],
        announce: @escaping @Sendable (DeviceModelUpdate) -> Bool = { _ in false }
    ) throws -> (Store, DeviceModelStore) {
        let store = try Store(path: path)
        return (
            store,
            DeviceModelStore(
                settings: settings, store: store, logger: Logger(label: "test"), time: clock, ocppEVSEIDs: ocppEVSEIDs, announce: announce)
        )
    }

    @Test func oneChangeAtATimeUntilJosevConfirms() throws {
        let directory = try TemporaryDirectory(prefix: "device-model")
        let clock = ManualTime()
        let announced = Box<[DeviceModelUpdate]>([])
        let (store, model) = try Self.open(directory.file("cs.db"), clock: clock) { update in
            announced.value.append(update)
            return true
        }

        guard case .applied(let record) = model.propose(Self.heartbeat, value: "120", source: .josev) else {
            Issue.record("the first change is applied")
            return
        }
        #expect(record.value == "120")
        #expect(announced.value.first?.components.first?.variables?.first?.value == "120")
        // A second change, even of another variable, waits for the first one's confirmation.
        #expect(model.propose(Self.password, value: "another-password-16", source: .local) == .rejected(.busy(
            "OCPPCommCtrlr.HeartbeatInterval waits for Josev's confirmation (at most 10 s more)")))
        #expect(model.inFlight?.key == Self.heartbeat)
        // Josev's device_model_update with another value does not confirm it.
        model.consume(DeviceModelUpdate(components: [
            DeviceModelUpdateComponent(name: "OCPPCommCtrlr", variables: [DeviceModelUpdateVariable(name: "HeartbeatInterval", value: "121")])
        ]))
        #expect(model.inFlight != nil)
        #expect(model.record(Self.heartbeat)?.value == "120")
        // The same value does.
        model.consume(model.announcement(record))
        #expect(model.inFlight == nil)
        #expect(model.propose(Self.password, value: "another-password-16", source: .local).accepted)
        // Without a confirmation the next change is taken once the timeout passed.
        #expect(model.propose(Self.heartbeat, value: "60", source: .local).accepted == false)
        clock.advance(by: .seconds(10))
        #expect(model.propose(Self.heartbeat, value: "60", source: .local).accepted)
        #expect(try store.deviceVariables().first { $0.key == Self.heartbeat }?.value == "60")

        let history = try store.deviceVariableHistory()
        #expect(history.map(\.key) == [Self.heartbeat, Self.password, Self.heartbeat])
        #expect(history[0].oldValue == "300" && history[0].newValue == "120" && history[0].source == .josev)
        #expect(history[2].oldValue == "120" && history[2].newValue == "60" && history[2].source == .local)
        // WriteOnly values never reach the history.
        #expect(history[1].redacted && history[1].oldValue == nil && history[1].newValue == nil)
    }

    @Test func rejectionsChangeNothing() throws {
        let directory = try TemporaryDirectory(prefix: "device-model")
        let (store, model) = try Self.open(directory.file("cs.db"), clock: ManualTime())
        #expect(model.propose(Self.model, value: "X", source: .josev) == .rejected(.readOnly))
        #expect(model.propose(DeviceVariableKey(component: "Nope", variable: "Nothing"), value: "1", source: .josev) == .rejected(.unknown))
        #expect(model.propose(Self.heartbeat, value: "5", source: .josev).accepted == false)
        #expect(model.propose(Self.heartbeat, value: "soon", source: .local).accepted == false)
        #expect(model.inFlight == nil)
        #expect(try store.deviceVariableHistory().isEmpty)
        // The current value again is accepted without a change or a turn.
        guard case .unchanged = model.propose(Self.heartbeat, value: "300", source: .josev) else {
            Issue.record("unchanged")
            return
        }
        #expect(model.inFlight == nil)
    }

    @Test func aChangeThatNeedsARestartIsAppliedAtTheNextStart() throws {
        let directory = try TemporaryDirectory(prefix: "device-model")
        let path = directory.file("cs.db")
        do {
            let (store, model) = try Self.open(path, clock: ManualTime())
            guard case .pendingRestart(let record) = model.propose(Self.ping, value: "45", source: .josev) else {
                Issue.record("pending")
                return
            }
            #expect(record.value == "30" && record.pendingValue == "45")
            // A pending change takes no turn, and the served value stays the running one.
            #expect(model.inFlight == nil)
            #expect(model.components().flatMap { $0.variables ?? [] }.first { $0.name == "WebSocketPingInterval" }?.value == "30")
            store.close()
        }
        let announced = Box<[DeviceModelUpdate]>([])
        let (store, model) = try Self.open(path, clock: ManualTime()) { update in
            announced.value.append(update)
            return true
        }
        #expect(model.record(Self.ping)?.value == "45")
        #expect(model.record(Self.ping)?.pendingValue == nil)
        #expect(try store.deviceVariableHistory().map(\.event) == [.pendingRestart, .appliedAtStart])
        // It is announced once the broker is there, not before.
        #expect(announced.value.isEmpty)
        model.announceStartChanges()
        #expect(announced.value.map { $0.components.first?.variables?.first?.value } == ["45"])
        model.announceStartChanges()
        #expect(announced.value.count == 1)
    }

    @Test func storedValuesSurviveAndFollowTheDeclaration() throws {
        let directory = try TemporaryDirectory(prefix: "device-model")
        let path = directory.file("cs.db")
        do {
            let (store, model) = try Self.open(path, clock: ManualTime())
            #expect(model.propose(Self.heartbeat, value: "5000", source: .local).accepted)
            store.close()
        }
        do {
            let (store, model) = try Self.open(path, clock: ManualTime())
            #expect(model.record(Self.heartbeat)?.value == "5000")  // the stored value wins over the default
            store.close()
        }
        // A narrower declaration no longer allows 5000: back to the default, recorded.
        var narrower = Self.settings
        narrower.variables[0].maximum = 3600
        narrower.variables.removeLast()  // an undeclared variable disappears
        let (store, model) = try Self.open(path, clock: ManualTime(), settings: narrower)
        #expect(model.record(Self.heartbeat)?.value == "300")
        #expect(model.record(Self.password) == nil)
        #expect(try store.deviceVariableHistory().last?.event == .resetToDefault)
        #expect(try store.deviceVariables().count == 3)
    }
}

/// What the configuration says wins for ReadOnly variables; components of EVSEs the station does
/// not have never reach a variable.
@Suite("device-model store (ReadOnly values, unknown EVSEs)")
struct DeviceModelDeclarationTests {
    static let power = DeviceVariableKey(component: "EVSE", variable: "Power")
    static let evsePower = DeviceVariableKey(component: "EVSE", evseID: "DE*TST*E0001*1", variable: "Power")

    @Test func aNewReadOnlyValueInTheConfigurationWinsAndIsRecorded() throws {
        let directory = try TemporaryDirectory(prefix: "device-model")
        let path = directory.file("cs.db")
        do {
            let (store, model) = try DeviceModelStoreTests.open(path, clock: ManualTime())
            #expect(model.record(DeviceModelStoreTests.model)?.value == "CS-22")
            store.close()
        }
        // New firmware: the configuration declares another model.
        var updated = DeviceModelStoreTests.settings
        updated.variables[2].value = "CS-22 rev B"
        let announced = Box<[String]>([])
        let (store, model) = try DeviceModelStoreTests.open(path, clock: ManualTime(), settings: updated) { update in
            announced.value += update.components.flatMap { $0.variables ?? [] }.map(\.value)
            return true
        }
        #expect(model.record(DeviceModelStoreTests.model)?.value == "CS-22 rev B")
        #expect(try store.deviceVariables().first { $0.key == DeviceModelStoreTests.model }?.value == "CS-22 rev B")
        let change = try #require(try store.deviceVariableHistory(key: DeviceModelStoreTests.model).last)
        #expect(change.oldValue == "CS-22" && change.newValue == "CS-22 rev B")
        #expect(change.source == .config && change.event == .appliedAtStart)
        // Announced once the broker is there; ReadWrite values keep what was stored.
        #expect(announced.value.isEmpty)
        model.announceStartChanges()
        #expect(announced.value == ["CS-22 rev B"])
        // The same configuration again: nothing more recorded.
        store.close()
        let (again, _) = try DeviceModelStoreTests.open(path, clock: ManualTime(), settings: updated)
        #expect(try again.deviceVariableHistory(key: DeviceModelStoreTests.model).count == 1)
        again.close()
    }

    @Test func anUnknownOCPPEVSEDoesNotReachTheStationWideVariable() throws {
        let directory = try TemporaryDirectory(prefix: "device-model")
        let settings = DeviceModelSettings(variables: [
            DeviceVariableRecord(key: Self.power, value: "44000", dataType: .decimal, minimum: 0, maximum: 44000),
            DeviceVariableRecord(key: Self.evsePower, value: "22000", dataType: .decimal, minimum: 0, maximum: 22000),
        ])
        let (store, model) = try DeviceModelStoreTests.open(
            directory.file("cs.db"), clock: ManualTime(), settings: settings, ocppEVSEIDs: ["DE*TST*E0001*1": 1])
        model.consume(DeviceModelUpdate(components: [
            DeviceModelUpdateComponent(name: "EVSE", evseID: 7, variables: [DeviceModelUpdateVariable(name: "Power", value: "11000")])
        ]))
        #expect(model.record(Self.power)?.value == "44000")
        #expect(model.record(Self.evsePower)?.value == "22000")
        #expect(model.inFlight == nil)
        #expect(try store.deviceVariableHistory().isEmpty)
        // The known EVSE's variable does change.
        model.consume(DeviceModelUpdate(components: [
            DeviceModelUpdateComponent(name: "EVSE", evseID: 1, variables: [DeviceModelUpdateVariable(name: "Power", value: "11000")])
        ]))
        #expect(model.record(Self.evsePower)?.value == "11000")
        #expect(model.record(Self.power)?.value == "44000")
        store.close()
    }
}

/// A change's SQLite write does not hold the lock readers need; no other change comes between.
@Suite("device-model store (writes outside the lock)", .timeLimit(.minutes(1)))
struct DeviceModelWriteTests {
    @Test func readersDoNotWaitForAChangesWrite() async throws {
        let directory = try TemporaryDirectory(prefix: "device-model")
        let path = directory.file("cs.db")
        try Store(path: path).close()
        // The daemon's case: the file is opened for each write.
        let model = DeviceModelStore(
            settings: DeviceModelStoreTests.settings, store: nil, path: path, logger: Logger(label: "test"), time: ManualTime())
        // Another connection holds the write lock: the change's write waits for it (busy timeout 5 s).
        let blocker = try Database(path: path)
        try blocker.execute("BEGIN IMMEDIATE")
        let outcome = Mutex<VariableChangeOutcome?>(nil)
        let thread = Thread {
            let result = model.propose(DeviceModelStoreTests.heartbeat, value: "120", source: .local)
            outcome.withLock { $0 = result }
        }
        thread.start()
        // The change was decided and its write started (it waits for the other connection's lock).
        #expect(await waitUntil(timeout: .seconds(10)) { model.writing == DeviceModelStoreTests.heartbeat })
        // Readers get the records while the write waits, and another change is busy, not blocked.
        #expect(model.record(DeviceModelStoreTests.heartbeat)?.value == "300")
        #expect(outcome.withLock { $0 } == nil, "the record was read while the write still waited")
        let other = model.propose(DeviceModelStoreTests.password, value: "another-password-16", source: .local)
        #expect(other == .rejected(.busy("OCPPCommCtrlr.HeartbeatInterval is being stored")), "\(other)")
        #expect(outcome.withLock { $0 } == nil)
        try blocker.execute("COMMIT")
        blocker.close()
        #expect(await waitUntil(timeout: .seconds(10)) { outcome.withLock { $0 } != nil })
        guard case .applied(let record)? = outcome.withLock({ $0 }) else {
            Issue.record("applied once the lock was released: \(String(describing: outcome.withLock { $0 }))")
            return
        }
        #expect(record.value == "120" && model.record(DeviceModelStoreTests.heartbeat)?.value == "120")
        #expect(model.inFlight?.key == DeviceModelStoreTests.heartbeat)
        let stored = try Store(path: path)
        #expect(try stored.deviceVariables().first { $0.key == DeviceModelStoreTests.heartbeat }?.value == "120")
        stored.close()
    }
}
