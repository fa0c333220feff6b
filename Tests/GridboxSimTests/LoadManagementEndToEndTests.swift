import Foundation
import JSONSchema
import JosevContract
import Modbus
import ModbusNIOClient
import Testing
import TestSupport

/// gridbox-sim shares a site limit among the daemon's two EVSEs over Modbus; a priority set
/// through its HTTP API moves the current; Josev hears every applied limit.
@Suite("load management end to end (gridbox-sim ↔ cs-companiond)", .timeLimit(.minutes(2)))
struct LoadManagementEndToEndTests {
    static let evse1 = "DE*TST*E0001*1"
    static let evse2 = "DE*TST*E0002*1"

    static func config(brokerPort: Int, modbusPort: Int) -> String {
        """
        station:
          serial_number: "TWIN-0001"
          vendor: "Test Vendor"
          model: "Twin"
          firmware_version: "1.0"
          hardware_version: "A"
        mqtt:
          host: 127.0.0.1
          port: \(brokerPort)
        evses:
          - evse_id: "\(evse1)"
            network_interface: eth1
            ac: {nominal_voltage: 230, max_current: 32, phases: 3}
            connectors: [{id: 1, connector_type: AC_three_phase_core}]
          - evse_id: "\(evse2)"
            network_interface: eth2
            ac: {nominal_voltage: 230, max_current: 32, phases: 3}
            connectors: [{id: 1, connector_type: AC_three_phase_core}]
        authorization:
          free_vend: true
        modbus:
          bind: 127.0.0.1
          port: \(modbusPort)
        log_level: info
        """
    }

    @Test("a site limit of 40 A is shared 20/20, then 32/8 after a priority PUT; unknown connectors get 404")
    func sharesByPriority() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let modbusPort = try freeLoopbackPort()
        let httpPort = try freeLoopbackPort()
        let daemon = try DaemonProcess(config: Self.config(brokerPort: broker.port, modbusPort: modbusPort), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        for evse in [Self.evse1, Self.evse2] {
            #expect(try await daemon.companion(["plug", "--evse", evse]).status == 0)
            let pwm = try await josev.ask(
                "cp_pwm", data: ["evse_id": .string(evse), "hlc": false, "current": 32, "error_state": false, "fault_state": false])
            #expect(pwm?["data"]?["status"] == "valid")
            #expect(try await daemon.companion(["ev", "--evse", evse, "32"]).status == 0)
        }

        let gridbox = try ChildProcess(
            executable: try Repository.product("gridbox-sim"),
            arguments: [
                "--station", "127.0.0.1:\(modbusPort)", "--site-limit", "40", "--interval", "0.5", "--http-port", "\(httpPort)",
                "--cycles", "200", "--json",
            ])
        defer { gridbox.send(SIGKILL) }
        let modbus = try await ModbusClient.connect(host: "127.0.0.1", port: modbusPort)
        func applied(_ unit: UInt8) async -> Float? { try? await modbus.readFloat32(unit: unit, address: 1206) }
        #expect(await waitUntil(timeout: .seconds(15)) {
            let (first, second) = (await applied(1), await applied(2))
            return first == 20 && second == 20
        }, "\(daemon.log)")

        let put = try await Command.capture("curl", [
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-H", "Content-Type: application/json",
            "--data", #"{"serial_number":"TWIN-0001","connector":1,"priority":5}"#, "http://127.0.0.1:\(httpPort)/evcs-user-priorities",
        ])
        #expect(put.output == "200", "\(put.output)")
        #expect(await waitUntil(timeout: .seconds(15)) {
            let (first, second) = (await applied(1), await applied(2))
            return first == 32 && second == 8
        }, "\(daemon.log)")
        // Josev hears the applied limits.
        #expect(await waitUntil(timeout: .seconds(5)) {
            let last = josev.messages(name: "cs_status_and_limits", type: "update").last?["data"]?["evses"]?.arrayValue
            return last?.first?["ac"]?["max_current"]?["l1"] == .double(32) && last?.last?["ac"]?["max_current"]?["l1"] == .double(8)
        })

        let list = try await Command.capture("curl", ["-s", "http://127.0.0.1:\(httpPort)/evcs-user-priorities"])
        #expect(list.output.contains("\"priority\":5"), "\(list.output)")
        let unknown = try await Command.capture("curl", [
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "--data", #"{"serial_number":"NOPE","connector":1,"priority":1}"#,
            "http://127.0.0.1:\(httpPort)/evcs-user-priorities",
        ])
        #expect(unknown.output == "404")
        let bad = try await Command.capture("curl", [
            "-s", "-X", "PUT", "--data", #"{"serial_number":"TWIN-0001","connector":1,"priority":"high"}"#,
            "http://127.0.0.1:\(httpPort)/evcs-user-priorities",
        ])
        #expect(bad.output.contains("\"field\":\"priority\""), "\(bad.output)")
        await modbus.close()
        await josev.close()
        #expect(await daemon.stop() == 0)
    }
}
