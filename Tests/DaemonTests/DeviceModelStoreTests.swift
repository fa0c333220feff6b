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
@Suite("device-model store (order, restart pacing, history)")
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

    @Test func changesInARowAreAppliedInOrderAndEchoesConfirmThem() throws {
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
        // A second change, of another variable, is applied at once after it (no pacing).
        #expect(model.propose(Self.password, value: "another-password-16", source: .local).accepted)
        // A third one, of the first variable again, too; both applied changes await confirmation.
        #expect(model.propose(Self.heartbeat, value: "60", source: .local).accepted)
        #expect(model.awaitingConfirmation.map(\.key) == [Self.heartbeat, Self.password, Self.heartbeat])
        #expect(announced.value.count == 3)
        // Josev's echo of the first value, arriving after the third change, confirms it (and the
        // older ones of that variable): it is not taken for a change back to 120.
        model.consume(model.announcement(record))
        #expect(model.record(Self.heartbeat)?.value == "60")
        #expect(model.awaitingConfirmation.map(\.key) == [Self.password, Self.heartbeat])
        // Josev's device_model_update with another value is a change of Josev's.
        model.consume(DeviceModelUpdate(components: [
            DeviceModelUpdateComponent(name: "OCPPCommCtrlr", variables: [DeviceModelUpdateVariable(name: "HeartbeatInterval", value: "61")])
        ]))
        #expect(model.record(Self.heartbeat)?.value == "61")
        // Unconfirmed changes are forgotten after the timeout.
        clock.advance(by: .seconds(10))
        #expect(model.awaitingConfirmation.isEmpty)
        #expect(try store.deviceVariables().first { $0.key == Self.heartbeat }?.value == "61")

        let history = try store.deviceVariableHistory()
        #expect(history.map(\.key) == [Self.heartbeat, Self.password, Self.heartbeat, Self.heartbeat])
        #expect(history[0].oldValue == "300" && history[0].newValue == "120" && history[0].source == .josev)
        #expect(history[2].oldValue == "120" && history[2].newValue == "60" && history[2].source == .local)
        #expect(history[3].oldValue == "60" && history[3].newValue == "61" && history[3].source == .josev)
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

    @Test func onlyChangesThatNeedARestartArePaced() throws {
        let directory = try TemporaryDirectory(prefix: "device-model")
        let clock = ManualTime()
        var settings = Self.settings
        let backOff = DeviceVariableKey(component: "OCPPCommCtrlr", variable: "RetryBackOffWaitMinimum")
        settings.variables.append(
            DeviceVariableRecord(key: backOff, value: "30", dataType: .integer, minimum: 0, maximum: 3600, requiresRestart: true))
        let (store, model) = try Self.open(directory.file("cs.db"), clock: clock, settings: settings)
        #expect(model.propose(Self.ping, value: "45", source: .josev).accepted && model.record(Self.ping)?.pendingValue == "45")
        #expect(model.propose(backOff, value: "10", source: .josev) == .rejected(.busy(
            "OCPPCommCtrlr.WebSocketPingInterval needs a restart too and was changed less than 10 s ago (at most 10 s more)")))
        #expect(model.propose(Self.heartbeat, value: "60", source: .josev).accepted, "changes applied at once are not paced")
        #expect(model.propose(Self.ping, value: "50", source: .josev).accepted, "the same variable again replaces its pending value")
        clock.advance(by: .seconds(10))
        #expect(model.propose(backOff, value: "10", source: .josev).accepted)
        #expect(model.record(backOff)?.pendingValue == "10" && model.record(Self.ping)?.pendingValue == "50")
        store.close()
    }

    @Test func aValueJosevPushesThatIsRefusedIsAnnouncedBack() throws {
        let directory = try TemporaryDirectory(prefix: "device-model")
        let announced = Box<[DeviceModelUpdate]>([])
        let (store, model) = try Self.open(directory.file("cs.db"), clock: ManualTime()) { update in
            announced.value.append(update)
            return true
        }
        model.consume(DeviceModelUpdate(components: [
            DeviceModelUpdateComponent(name: "OCPPCommCtrlr", variables: [DeviceModelUpdateVariable(name: "HeartbeatInterval", value: "5")]),
            DeviceModelUpdateComponent(name: "ChargingStation", variables: [DeviceModelUpdateVariable(name: "Model", value: "CS-99")]),
            DeviceModelUpdateComponent(name: "Nope", variables: [DeviceModelUpdateVariable(name: "Nothing", value: "1")]),
        ]))
        let values = announced.value.flatMap { $0.components }.map { "\($0.name).\($0.variables?.first?.name ?? "")=\($0.variables?.first?.value ?? "")" }
        #expect(values == ["OCPPCommCtrlr.HeartbeatInterval=300", "ChargingStation.Model=CS-22"], "the values in force; nothing for an unknown variable")
        #expect(model.record(Self.heartbeat)?.value == "300")
        #expect(try store.deviceVariableHistory().isEmpty)
        store.close()
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

/// A change's SQLite write does not hold the lock readers need; the next change waits for it.
@Suite("device-model store (writes outside the lock)", .timeLimit(.minutes(1)))
struct DeviceModelWriteTests {
    @Test func readersDoNotWaitForAChangesWriteAndTheNextChangeComesAfterIt() async throws {
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
        // Readers get the records while the write waits; another change waits for its turn and is
        // applied after the first one, in order (never answered busy).
        #expect(model.record(DeviceModelStoreTests.heartbeat)?.value == "300")
        #expect(outcome.withLock { $0 } == nil, "the record was read while the write still waited")
        let second = Mutex<VariableChangeOutcome?>(nil)
        let other = Thread {
            let result = model.propose(DeviceModelStoreTests.heartbeat, value: "150", source: .local)
            second.withLock { $0 = result }
        }
        other.start()
        #expect(outcome.withLock { $0 } == nil && second.withLock { $0 } == nil)
        try blocker.execute("COMMIT")
        blocker.close()
        #expect(await waitUntil(timeout: .seconds(10)) { outcome.withLock { $0 } != nil && second.withLock { $0 } != nil })
        guard case .applied(let record)? = outcome.withLock({ $0 }), case .applied(let next)? = second.withLock({ $0 }) else {
            Issue.record("both applied once the lock was released: \(String(describing: outcome.withLock { $0 })), \(String(describing: second.withLock { $0 }))")
            return
        }
        #expect(record.value == "120" && next.value == "150" && model.record(DeviceModelStoreTests.heartbeat)?.value == "150")
        #expect(model.awaitingConfirmation.map(\.value) == ["120", "150"])
        let stored = try Store(path: path)
        #expect(try stored.deviceVariables().first { $0.key == DeviceModelStoreTests.heartbeat }?.value == "150")
        stored.close()
    }
}
