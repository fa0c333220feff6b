import Foundation
import JSONSchema
import Testing
import TestSupport

/// A Modbus TCP meter (meter-sim.py --tcp) read through the project's own Modbus client with a
/// user profile from the YAML.
@Suite("an energy meter over Modbus TCP with a user profile", .timeLimit(.minutes(1)))
struct MeterTCPTests {
    @Test("tcp: host:port and meter_profiles (FC4 as the issue's example, FC3): values reach meter_values; a silent meter raises meter_communication; a restarted meter is reconnected")
    func tcpMeter() async throws {
        let port = try freeLoopbackPort()
        let directory = try TemporaryDirectory(prefix: "cs-meter-tcp")
        let control = directory.file("control.json")
        try #"{"static_energy": true}"#.write(toFile: control, atomically: true, encoding: .utf8)
        let arguments = [Repository.root + "/scripts/meter-sim.py", "--tcp", "\(port)", "--unit", "3", "--import-kwh", "42", "--amps", "8", "--control", control]
        var simulator = try ChildProcess(executable: "python3", arguments: arguments)
        #expect(await waitUntil(timeout: .seconds(10)) { loopbackPortAcceptsConnections(port) })
        let broker = try await TestBroker()
        let evse = MeterBench.evse
        let config = stationConfigYAML(port: broker.port, logLevel: "info") + """

            hardware:
              driver: none
              meters:
                - { evse_id: "\(evse)", tcp: "127.0.0.1:\(port)", unit_id: 3, profile: tcp_meter, poll_interval: 0.5 }
              meter_profiles:
                tcp_meter:
                  voltage_l1: { fc: 4, address: 0x0000, type: float32, word_order: big, scale: 1 }
                  voltage_l2: { fc: 4, address: 0x0002, type: float32 }
                  voltage_l3: { fc: 4, address: 0x0004, type: float32 }
                  current_l1: { fc: 4, address: 0x0006, type: float32 }
                  current_l2: { fc: 4, address: 0x0008, type: float32 }
                  current_l3: { fc: 4, address: 0x000A, type: float32 }
                  frequency: { fc: 3, address: 0x0046, type: float32 }
                  energy_import_wh: { fc: 3, address: 0x0048, type: float32, word_order: big, scale: 1000 }
            """
        let daemon = try DaemonProcess(config: config, directory: try TemporaryDirectory())
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        #expect(await waitUntil(timeout: .seconds(10)) { (try? await MeterBench.communication(daemon)) == "ok" }, "\(daemon.log)")
        let values = try #require(try await josev.ask("meter_values", data: ["evse_id": .string(evse), "timestamp": "2026-12-06T10:00:00.000Z"]))
        #expect(values["data"]?["current"]?["l3"]?.numberValue == 8)
        #expect(values["data"]?["frequency"]?.numberValue == 50)
        #expect(values["data"]?["total_active_energy_imported"]?.numberValue == 42_000)

        try #"{"static_energy": true, "fault": "silent"}"#.write(toFile: control, atomically: true, encoding: .utf8)
        #expect(await waitUntil(timeout: .seconds(10)) { !josev.messages(name: "hardware_fault", type: "update").isEmpty }, "\(daemon.log)")
        #expect(try await MeterBench.value(daemon, "energy_import_wh") == 42_000)

        // The meter (or its gateway) restarts: the connection broke, the next poll connects again.
        try #"{"static_energy": true}"#.write(toFile: control, atomically: true, encoding: .utf8)
        await simulator.terminate()
        simulator = try ChildProcess(executable: "python3", arguments: arguments)
        #expect(await waitUntil(timeout: .seconds(10)) { loopbackPortAcceptsConnections(port) })
        #expect(await waitUntil(timeout: .seconds(15)) { (try? await MeterBench.communication(daemon)) == "ok" }, "\(daemon.log)")
        await josev.close()
        #expect(await daemon.stop() == 0)
        await simulator.terminate()
    }
}
