import Foundation
import JSONSchema
import JosevContract
import Testing
import Daemon
import TestSupport

/// The OCPP 2.0.1 counterparts of the keys operators set (issue 16, point 4): declared in the
/// example configuration, and the one the station owns — `SampledDataCtrlr.TxUpdatedInterval`,
/// the period of the `meter_values` updates — honoured by the running daemon.
@Suite("operator configuration keys end to end", .timeLimit(.minutes(2)))
struct OperatorKeysTests {
    static let evse = "DE*TST*E0001*1"

    static func config(port: Int, interval: Int) -> String {
        stationConfigYAML(port: port, logLevel: "debug") + """

            device_model:
              variables:
                - component: SampledDataCtrlr
                  variable: TxUpdatedInterval
                  value: \(interval)
                  unit: s
                  data_type: integer
                  min: 0
                  max: 3600
            """
    }

    /// Plug, PWM, a card Josev accepts, the EV draws: the contactor closes.
    static func charge(_ daemon: DaemonProcess, _ josev: JosevTestClient) async throws {
        #expect(try await daemon.companion(["plug", "--evse", evse]).status == 0)
        let pwm = try await josev.ask(
            "cp_pwm", data: ["evse_id": .string(evse), "hlc": false, "current": 16, "error_state": false, "fault_state": false])
        #expect(pwm?["data"]?["status"] == "valid", "\(String(describing: pwm))")
        let requestsBefore = josev.messages(name: "authorization", type: "request").count
        #expect(try await daemon.companion(["rfid", "--evse", evse, "04AABBCC"]).status == 0)
        #expect(await waitUntil { josev.messages(name: "authorization", type: "request").count > requestsBefore })
        let request = try #require(josev.messages(name: "authorization", type: "request").last)
        try josev.send(
            .init(
                id: try #require(request["id"]?.stringValue), name: "authorization", type: .response,
                data: ["status": "accepted", "evse_id": .string(evse)]))
        #expect(try await daemon.companion(["ev", "--evse", evse, "16"]).status == 0)
        #expect(
            await waitUntil { josev.messages(name: "cs_contactor_status", type: "update").contains { $0["data"]?["status"] == "closed" } },
            "\(daemon.log)")
    }

    /// The arrival times of the `meter_values` updates of the test EVSE seen so far.
    static func meterUpdates(_ josev: JosevTestClient) -> Int {
        josev.messages(name: "meter_values", type: "update").filter { $0["data"]?["evse_id"]?.stringValue == evse }.count
    }

    @Test("meter_values updates follow TxUpdatedInterval: changed by Josev while charging, and kept across a restart")
    func meterValuesFollowTheInterval() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let josev = try await JosevTestClient(broker: broker)
        do {
            // Declared at one hour: while that holds, a test of a few seconds sees no periodic update.
            let daemon = try DaemonProcess(config: Self.config(port: broker.port, interval: 3600), directory: directory)
            #expect(await daemon.waitUntilReady(), "\(daemon.log)")
            try await Self.charge(daemon, josev)
            let before = Self.meterUpdates(josev)
            let answer = try await josev.ask(
                "set_variable_validate",
                data: [
                    "component": ["name": "SampledDataCtrlr"], "variable": ["name": "TxUpdatedInterval"], "attribute_value": "1",
                ])
            #expect(answer?["data"]?["result"] == "accepted")
            // Every second now: three more within ten seconds (an hour's interval would give none).
            #expect(await waitUntil(timeout: .seconds(10)) { Self.meterUpdates(josev) >= before + 3 }, "\(daemon.log)")
            for update in josev.messages(name: "meter_values", type: "update") {
                #expect(try schemaErrors(update, name: "meter_values", type: .update).isEmpty)
            }
            #expect(await daemon.stop() == 0)
        }
        // The stored value (1 s) is in force after a restart, although the configuration still
        // declares 3600 as the default.
        let daemon = try DaemonProcess(config: Self.config(port: broker.port, interval: 3600), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let before = Self.meterUpdates(josev)
        try await Self.charge(daemon, josev)
        #expect(await waitUntil(timeout: .seconds(10)) { Self.meterUpdates(josev) >= before + 3 }, "\(daemon.log)")
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    @Test("the example configuration declares the OCPP 2.0.1 counterparts of the operators' keys, and is valid")
    func exampleDeclaresTheKeys() async throws {
        let configuration = try ConfigLoader(schemaDirectory: Repository.schemas).load(file: Repository.exampleConfig)
        let declared = Set(configuration.deviceModel.variables.map { "\($0.key)" })
        let expected = [
            "OCPPCommCtrlr.HeartbeatInterval", "SampledDataCtrlr.TxUpdatedInterval", "OCPPCommCtrlr.WebSocketPingInterval",
            "SampledDataCtrlr.TxUpdatedMeasurands", "SampledDataCtrlr.TxEndedMeasurands", "AlignedDataCtrlr.Interval",
            "OCPPCommCtrlr.MessageAttempts[TransactionEvent]", "OCPPCommCtrlr.MessageAttemptInterval[TransactionEvent]",
            "AuthCtrlr.LocalAuthorizeOffline", "AuthCtrlr.AuthorizeRemoteStart", "AuthCtrlr.OfflineTxForUnknownIdEnabled",
            "AuthCacheCtrlr.Enabled",
        ]
        #expect(expected.filter { !declared.contains($0) } == [], "declared: \(declared.sorted())")
        let measurands = configuration.deviceModel.variables.first { $0.key.variable == "TxUpdatedMeasurands" }
        #expect(measurands?.value.contains("Energy.Active.Import.Interval") == true)
        let (status, output) = try await Repository.run(
            "cs-companiond", ["--check-config", "--config", Repository.exampleConfig, "--schema-dir", Repository.schemas])
        #expect(status == 0, "\(output)")
    }
}
