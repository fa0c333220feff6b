import Daemon
import Foundation
import JSONSchema
import JosevContract
import Testing
import TestSupport

/// Configuration keys against the real daemon, a real broker and the real SQLite file: served in
/// device_model, judged on set_variable_validate, applied in order and announced with
/// device_model_update, restart-pending changes paced and applied at the next start, Josev's refused
/// values announced back, every change recorded.
@Suite("configuration keys (device model) end to end", .timeLimit(.minutes(2)))
struct ConfigKeysTests {
    static let secret = "initial-secret-value-16"

    static func config(port: Int, confirmTimeout: Double = 30) -> String {
        stationConfigYAML(port: port, logLevel: "debug") + """

            device_model:
              confirm_timeout: \(confirmTimeout)
              variables:
                - component: OCPPCommCtrlr
                  variable: HeartbeatInterval
                  value: 300
                  unit: s
                  data_type: integer
                  min: 10
                  max: 86400
                - component: OCPPCommCtrlr
                  variable: WebSocketPingInterval
                  value: 30
                  data_type: integer
                  min: 0
                  max: 3600
                  requires_restart: true
                - component: ChargingStation
                  variable: Model
                  value: Test Model
                  mutability: ReadOnly
                - component: EVSE
                  evse_id: "DE*TST*E0001*1"
                  variable: Power
                  value: 22000
                  unit: W
                  data_type: decimal
                  min: 0
                  max: 22000
                - component: SampledDataCtrlr
                  variable: TxUpdatedMeasurands
                  value: "Energy.Active.Import.Register"
                  data_type: MemberList
                  values_list: [Energy.Active.Import.Register, Power.Active.Import, Voltage]
                - component: SecurityCtrlr
                  variable: BasicAuthPassword
                  value: "\(secret)"
                  mutability: WriteOnly
                  min: 16
                - component: OCPPCommCtrlr
                  variable: RetryBackOffWaitMinimum
                  value: 30
                  data_type: integer
                  min: 0
                  max: 3600
                  requires_restart: true
            """
    }

    static func validate(
        _ josev: JosevTestClient, component: JSONObject, variable: String, value: String
    ) async throws -> String? {
        let answer = try await josev.ask(
            "set_variable_validate",
            data: ["component": .object(component), "variable": ["name": .string(variable)], "attribute_value": .string(value)])
        return answer?["data"]?["result"]?.stringValue
    }

    static func variable(_ model: JSONValue?, component: String, name: String) -> JSONValue? {
        model?["data"]?["components"]?.arrayValue?.first { $0["name"]?.stringValue == component }?["variables"]?.arrayValue?
            .first { $0["name"]?.stringValue == name }
    }

    /// Whether `cs-companion config pending` still lists a change awaiting Josev's confirmation.
    static func awaitingConfirmation(_ daemon: DaemonProcess) async -> Bool {
        ((try? await daemon.companion(["config", "pending"]))?.output ?? "awaiting").contains("awaiting Josev's confirmation")
    }

    /// The reason the control socket's `config-set` gives for refusing `value` for `key` (nil: not refused).
    /// Each call that is not refused changes the variable: only for values that are.
    static func rejection(_ daemon: DaemonProcess, key: String, value: String) -> String? {
        let answer = try? ControlClient.request(["command": "config-set", "key": .string(key), "value": .string(value)], path: daemon.controlSocket)
        return answer?["ok"] == false ? answer?["reason"]?.stringValue : nil
    }

    static func announced(_ josev: JosevTestClient, variable: String, value: String) -> Bool {
        josev.messages(name: "device_model_update", type: "update").contains { message in
            message["data"]?["components"]?.arrayValue?.contains { component in
                component["variables"]?.arrayValue?.contains { $0["name"]?.stringValue == variable && $0["value"]?.stringValue == value } ?? false
            } ?? false
        }
    }

    @Test("set_variable_validate judges every rule; changes in a row are applied in order and announced; the history records them")
    func validateApplyAnnouncePace() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: Self.config(port: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        let comm: JSONObject = ["name": "OCPPCommCtrlr"]

        let model = try #require(try await josev.ask("device_model"))
        #expect(try schemaErrors(model, name: "device_model", type: .response).isEmpty)
        let heartbeat = try #require(Self.variable(model, component: "OCPPCommCtrlr", name: "HeartbeatInterval"))
        #expect(heartbeat["value"] == "300" && heartbeat["mutability"] == "ReadWrite" && heartbeat["data_type"] == "integer")
        #expect(heartbeat["unit"] == "s")
        let measurands = Self.variable(model, component: "SampledDataCtrlr", name: "TxUpdatedMeasurands")
        #expect(measurands?["values_list"] == "Energy.Active.Import.Register,Power.Active.Import,Voltage")
        let power = model["data"]?["components"]?.arrayValue?.first { $0["name"] == "EVSE" }
        #expect(power?["evse_id"] == .int(1), "device-model components carry the OCPP EVSE id")

        // Each rule rejects Josev's change; the same change through the control socket names the
        // rule (Josev's and the technician's changes are judged by the same rules).
        let rules: [(component: JSONObject, key: String, variable: String, value: String, reason: String)] = [
            (comm, "OCPPCommCtrlr.HeartbeatInterval", "HeartbeatInterval", "often", "wrong type"),
            (comm, "OCPPCommCtrlr.HeartbeatInterval", "HeartbeatInterval", "5", "out of range"),
            (["name": "ChargingStation"], "ChargingStation.Model", "Model", "X", "read-only"),
            (comm, "OCPPCommCtrlr.NoSuchVariable", "NoSuchVariable", "maybe-a-secret-42", "unknown"),
            (["name": "SampledDataCtrlr"], "SampledDataCtrlr.TxUpdatedMeasurands", "TxUpdatedMeasurands", "SoC", "not in the list"),
        ]
        for rule in rules {
            #expect(try await Self.validate(josev, component: rule.component, variable: rule.variable, value: rule.value) == "rejected", "\(rule.key)")
            #expect(Self.rejection(daemon, key: rule.key, value: rule.value) == rule.reason, "\(rule.key) = \(rule.value)")
        }
        #expect(!daemon.log.contains("maybe-a-secret-42"), "the value of an unknown variable is not logged")
        #expect(try await Self.validate(josev, component: ["name": "EVSE", "evse_id": "DE*TST*E0001*1"], variable: "Power", value: "30000") == "rejected")
        // Nothing rejected was applied or recorded.
        #expect(try await daemon.companion(["config", "history"]).output.contains("no changes recorded"))
        #expect(josev.messages(name: "device_model_update", type: "update").isEmpty, "nothing rejected is announced")

        // Accepted: applied at once and announced.
        #expect(try await Self.validate(josev, component: comm, variable: "HeartbeatInterval", value: "120") == "accepted")
        #expect(await waitUntil { Self.announced(josev, variable: "HeartbeatInterval", value: "120") }, "\(josev.messages)")
        for update in josev.messages(name: "device_model_update", type: "update") {
            #expect(try schemaErrors(update, name: "device_model_update", type: .update).isEmpty)
        }
        // Several changes in a row (an OCPP SetVariables with several keys reaches the station as
        // several set_variable_validate, sent without waiting for the answers): each is applied in
        // order, none answered busy.
        let burst = [
            Envelope.request(name: "set_variable_validate", data: [
                "component": ["name": "SecurityCtrlr"], "variable": ["name": "BasicAuthPassword"], "attribute_value": "second-secret-value-16",
            ]),
            Envelope.request(name: "set_variable_validate", data: [
                "component": .object(comm), "variable": ["name": "HeartbeatInterval"], "attribute_value": "150",
            ]),
        ]
        for request in burst { try josev.send(request) }
        #expect(await waitUntil {
            let answered = josev.messages(name: "set_variable_validate", type: "response").filter { answer in
                burst.contains { $0.id == answer["id"]?.stringValue }
            }
            return answered.count == burst.count && answered.allSatisfy { $0["data"]?["result"] == "accepted" }
        }, "\(josev.messages(name: "set_variable_validate", type: "response"))")
        // A technician's change takes the same path (source local) and is announced too.
        let set = try await daemon.companion(["config", "set", "EVSE@DE*TST*E0001*1.Power", "11000"])
        #expect(set.status == 0, "\(set.output)")
        #expect(await waitUntil { Self.announced(josev, variable: "Power", value: "11000") })
        let order = josev.messages(name: "device_model_update", type: "update").compactMap {
            $0["data"]?["components"]?.arrayValue?.first?["variables"]?.arrayValue?.first?["value"]?.stringValue
        }
        #expect(order == ["120", "second-secret-value-16", "150", "11000"], "announced in the order they were applied")
        let pending = try await daemon.companion(["config", "pending"])
        #expect(pending.output.contains("OCPPCommCtrlr.HeartbeatInterval = 150 (by josev): applied, awaiting Josev's confirmation"), "\(pending.output)")
        // Josev's echo of the first change, arriving after the second one, confirms it and is not
        // taken for a change back to 120.
        for value in ["120", "150"] {
            try josev.send(Envelope.update(name: "device_model_update", data: [
                "components": [["name": "OCPPCommCtrlr", "variables": [["name": "HeartbeatInterval", "value": .string(value)]]]]
            ]))
        }
        #expect(await waitUntil(interval: .milliseconds(100)) {
            !((try? await daemon.companion(["config", "pending"]))?.output ?? "HeartbeatInterval").contains("HeartbeatInterval")
        }, "\(daemon.log)")
        let tooLow = try await daemon.companion(["config", "set", "OCPPCommCtrlr.HeartbeatInterval", "1"])
        #expect(tooLow.status == 1 && tooLow.output.contains("out of range"), "\(tooLow.output)")

        let served = try #require(try await josev.ask("device_model"))
        #expect(Self.variable(served, component: "OCPPCommCtrlr", name: "HeartbeatInterval")?["value"] == "150")

        // Every change recorded: old, new, source, time; WriteOnly values never shown.
        let history = try await daemon.companion(["config", "history"])
        #expect(history.status == 0)
        #expect(history.output.contains("OCPPCommCtrlr.HeartbeatInterval: '300' → '120'  applied by josev"), "\(history.output)")
        #expect(history.output.contains("OCPPCommCtrlr.HeartbeatInterval: '120' → '150'  applied by josev"), "\(history.output)")
        #expect(!history.output.contains("'150' → '120'"), "Josev's late echo was not taken for a change: \(history.output)")
        #expect(history.output.contains("SecurityCtrlr.BasicAuthPassword: '(write-only)' → '(write-only)'  applied by josev"))
        #expect(history.output.contains("EVSE@DE*TST*E0001*1.Power: '22000' → '11000'  applied by local"))
        let json = try await daemon.companion(["config", "history", "--json"])
        let changes = try JSONValue.parse(Array(json.output.utf8))["changes"]?.arrayValue ?? []
        #expect(changes.count == 4, "\(json.output)")
        #expect(changes.allSatisfy { DateTimeText.parse($0["at"]?.stringValue ?? "") != nil }, "every change has its time: \(json.output)")
        let get = try await daemon.companion(["config", "get"])
        #expect(get.output.contains("SecurityCtrlr.BasicAuthPassword = (write-only)"), "\(get.output)")
        for output in [history.output, json.output, get.output, daemon.log] {
            #expect(!output.contains(Self.secret) && !output.contains("second-secret-value-16"), "a WriteOnly value leaked: \(output)")
        }
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    @Test("pacing holds only changes that need a restart: another one is busy until confirm_timeout passed")
    func restartPacing() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: Self.config(port: broker.port, confirmTimeout: 1), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        let comm: JSONObject = ["name": "OCPPCommCtrlr"]
        #expect(try await Self.validate(josev, component: comm, variable: "WebSocketPingInterval", value: "45") == "accepted")
        // Another variable that needs a restart is refused while the first one holds the turn …
        #expect(Self.rejection(daemon, key: "OCPPCommCtrlr.RetryBackOffWaitMinimum", value: "10") == "busy")
        // … changes applied at once are not paced, and the same variable may be changed again.
        #expect(try await Self.validate(josev, component: comm, variable: "HeartbeatInterval", value: "60") == "accepted")
        #expect(try await Self.validate(josev, component: comm, variable: "WebSocketPingInterval", value: "50") == "accepted")
        // Taken once the turn is free again (no claim on how fast).
        #expect(await waitUntil(timeout: .seconds(10), interval: .milliseconds(200)) {
            (try? await daemon.companion(["config", "set", "OCPPCommCtrlr.RetryBackOffWaitMinimum", "10"]).status) == 0
        })
        let pending = try await daemon.companion(["config", "pending"])
        #expect(pending.output.contains("OCPPCommCtrlr.WebSocketPingInterval = 50 (by josev): pending, applied at the next start"), "\(pending.output)")
        #expect(pending.output.contains("OCPPCommCtrlr.RetryBackOffWaitMinimum = 10 (by local): pending, applied at the next start"), "\(pending.output)")
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    @Test("a value Josev pushes that the station refuses is announced back with the value in force")
    func refusedUpdateAnnouncedBack() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: Self.config(port: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        // Out of range, and a ReadOnly variable: both refused, both answered with the value in force.
        try josev.send(Envelope.update(name: "device_model_update", data: [
            "components": [
                ["name": "OCPPCommCtrlr", "variables": [["name": "HeartbeatInterval", "value": "5"]]],
                ["name": "ChargingStation", "variables": [["name": "Model", "value": "Other Model"]]],
            ]
        ]))
        #expect(await waitUntil { Self.announced(josev, variable: "HeartbeatInterval", value: "300") }, "\(josev.messages)")
        #expect(await waitUntil { Self.announced(josev, variable: "Model", value: "Test Model") }, "\(josev.messages)")
        for update in josev.messages(name: "device_model_update", type: "update") {
            #expect(try schemaErrors(update, name: "device_model_update", type: .update).isEmpty)
        }
        // A value it accepts is applied (and not announced back as another value).
        try josev.send(Envelope.update(name: "device_model_update", data: [
            "components": [["name": "OCPPCommCtrlr", "variables": [["name": "HeartbeatInterval", "value": "600"]]]]
        ]))
        #expect(await waitUntil {
            Self.variable(try? await josev.ask("device_model"), component: "OCPPCommCtrlr", name: "HeartbeatInterval")?["value"] == "600"
        })
        #expect(try await daemon.companion(["config", "history"]).output.contains("OCPPCommCtrlr.HeartbeatInterval: '300' → '600'  applied by josev"))
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    @Test("a change that needs a restart stays pending, then is applied, recorded and announced at the next start")
    func restartPending() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let josev = try await JosevTestClient(broker: broker)
        do {
            let daemon = try DaemonProcess(config: Self.config(port: broker.port), directory: directory)
            #expect(await daemon.waitUntilReady(), "\(daemon.log)")
            #expect(try await Self.validate(josev, component: ["name": "OCPPCommCtrlr"], variable: "WebSocketPingInterval", value: "45") == "accepted")
            let stored = "OCPPCommCtrlr.WebSocketPingInterval = 45 (by josev): pending, applied at the next start"
            #expect(await waitUntil(interval: .milliseconds(100)) {
                ((try? await daemon.companion(["config", "pending"]))?.output ?? "").contains(stored)
            }, "\(daemon.log)")
            let pending = try await daemon.companion(["config", "pending"])
            #expect(pending.output.contains(stored), "\(pending.output)")
            // Still the running value; nothing announced; no turn taken.
            let model = try await josev.ask("device_model")
            #expect(Self.variable(model, component: "OCPPCommCtrlr", name: "WebSocketPingInterval")?["value"] == "30")
            #expect(josev.messages(name: "device_model_update", type: "update").isEmpty)
            #expect(try await Self.validate(josev, component: ["name": "OCPPCommCtrlr"], variable: "HeartbeatInterval", value: "600") == "accepted")
            #expect(await daemon.stop() == 0)
        }
        let daemon = try DaemonProcess(config: Self.config(port: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        #expect(await waitUntil { Self.announced(josev, variable: "WebSocketPingInterval", value: "45") }, "\(josev.messages)")
        let model = try await josev.ask("device_model")
        #expect(Self.variable(model, component: "OCPPCommCtrlr", name: "WebSocketPingInterval")?["value"] == "45")
        #expect(Self.variable(model, component: "OCPPCommCtrlr", name: "HeartbeatInterval")?["value"] == "600", "stored values survive the restart")
        #expect(try await daemon.companion(["config", "pending"]).output.contains("nothing pending"))
        let history = try await daemon.companion(["config", "history"])
        #expect(history.output.contains("OCPPCommCtrlr.WebSocketPingInterval: '30' → '45'  pending_restart by josev"), "\(history.output)")
        #expect(history.output.contains("OCPPCommCtrlr.WebSocketPingInterval: '30' → '45'  applied_at_start by josev"), "\(history.output)")
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    @Test("a bad device_model block is refused with its key path")
    func badConfiguration() async throws {
        let directory = try TemporaryDirectory()
        let text = Self.config(port: 1883).replacingOccurrences(of: "      value: 300\n", with: "      value: 5\n")
            .replacingOccurrences(of: "data_type: MemberList", with: "data_type: Sometimes")
        let file = try directory.write("bad.yaml", text, permissions: 0o644)
        let (status, output) = try await Repository.run("cs-companiond", ["--check-config", "--config", file, "--schema-dir", Repository.schemas])
        #expect(status == 78, "\(output)")
        #expect(output.contains("device_model.variables[4].data_type"), "\(output)")
        let fixed = try directory.write(
            "range.yaml", Self.config(port: 1883).replacingOccurrences(of: "      value: 300\n", with: "      value: 5\n"), permissions: 0o644)
        let (rangeStatus, rangeOutput) = try await Repository.run(
            "cs-companiond", ["--check-config", "--config", fixed, "--schema-dir", Repository.schemas])
        #expect(rangeStatus == 78)
        #expect(rangeOutput.contains("device_model.variables[0].value: the default is refused by its own declaration: out of range"), "\(rangeOutput)")
    }
}
