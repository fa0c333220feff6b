import Daemon
import Foundation
import Modbus
import ModbusNIOClient
import Testing
import TestSupport

/// Issue 13 §3: `--modbus-port` on a file without a `modbus:` block gives the same server as the
/// smallest block. Before, it started a server whose setpoints the station ignored: a write of
/// register 1210 was acknowledged and dropped.
@Suite("--modbus-port without a modbus: block", .timeLimit(.minutes(1)))
struct ModbusOverrideTests {
    static func options(file: String, modbusPort: Int?) -> DaemonOptions {
        var options = DaemonOptions()
        options.configFile = file
        options.schemaDirectory = Repository.schemas
        options.modbusPort = modbusPort
        return options
    }

    @Test("the override gives the configuration of the smallest modbus: block")
    func sameConfiguration() throws {
        let directory = try TemporaryDirectory()
        let base = stationConfigYAML(port: 1883, logLevel: "info")
        let bare = try directory.write("bare.yaml", base, permissions: 0o644)
        let smallest = try directory.write("smallest.yaml", base + "\nmodbus:\n  port: 15020\n", permissions: 0o644)
        let overridden = try CompanionDaemon.loadConfiguration(
            Self.options(file: bare, modbusPort: 15020), schemaDirectory: Repository.schemas)
        let written = try CompanionDaemon.loadConfiguration(
            Self.options(file: smallest, modbusPort: nil), schemaDirectory: Repository.schemas)
        #expect(overridden == written)
        #expect(overridden.station.setpoints.enabled, "a writable server: the station takes its setpoints")
        let none = try CompanionDaemon.loadConfiguration(Self.options(file: bare, modbusPort: nil), schemaDirectory: Repository.schemas)
        #expect(none.modbus == nil)
        #expect(!none.station.setpoints.enabled)
    }

    @Test("evses[].safe_current counts with the override as with a block")
    func perEVSESafeCurrent() throws {
        let directory = try TemporaryDirectory()
        let base = stationConfigYAML(port: 1883, logLevel: "info").replacingOccurrences(
            of: "network_interface: eth1", with: "network_interface: eth1\n    safe_current: 10")
        let bare = try directory.write("bare.yaml", base, permissions: 0o644)
        let overridden = try CompanionDaemon.loadConfiguration(
            Self.options(file: bare, modbusPort: 15020), schemaDirectory: Repository.schemas)
        #expect(overridden.station.evses.map(\.safeCurrent) == [10, 6])
    }

    @Test("mbpoll writes 10 A to 1210 of the overridden server: applied, read back, offered")
    func writeApplied() async throws {
        guard let mbpoll = try? Command.find("mbpoll") else {
            Issue.record("mbpoll is not installed (scripts/install-deps.sh installs it)")
            return
        }
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let modbusPort = try freeLoopbackPort()
        let daemon = try DaemonProcess(
            config: stationConfigYAML(port: broker.port, logLevel: "info"), directory: directory,
            arguments: ["--modbus-port", "\(modbusPort)"])
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")

        let write = try await Self.run(mbpoll, ["-0", "-B", "-1", "-p", "\(modbusPort)", "-a", "1", "-r", "1210", "-t", "4:float", "127.0.0.1", "10"])
        #expect(write.status == 0, "\(write.output)")
        let client = try await ModbusClient.connect(host: "127.0.0.1", port: modbusPort)
        #expect(try await client.readFloat32(unit: 1, address: 1210) == 10, "the setpoint reads back as written")
        #expect(try await client.readFloat32(unit: 1, address: 1206) == 10, "the socket offers the setpoint")
        #expect(try await client.readHoldingRegisters(unit: 1, address: 1214, count: 1) == [1], "the setpoint is valid")
        await client.close()
        let read = try await Self.run(mbpoll, ["-0", "-B", "-1", "-p", "\(modbusPort)", "-a", "1", "-r", "1210", "-c", "1", "-t", "4:float", "127.0.0.1"])
        #expect(read.status == 0, "\(read.output)")
        #expect(read.output.contains("[1210]: \t10"), "\(read.output)")
        #expect(await daemon.stop() == 0)
    }

    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Command.capture(executable, arguments, timeout: .seconds(20))
    }
}
