import Foundation
import JSONSchema
import JosevContract
import Modbus
import ModbusNIOClient
import Testing
import TestSupport

/// One identity for Josev, OCPP and the gridBox (issue 16, point 6): the serial number fits
/// Modbus register 157 and stays until a restart, OCPP EVSE ids agree with the Modbus socket
/// units, register 1104 is right at once after a start, and the installed firmware version is the
/// one `device_model` reports.
@Suite("station identity end to end", .timeLimit(.minutes(2)))
struct IdentityTests {
    static func config(brokerPort: Int, modbusPort: Int, serial: String = "TEST-0001") -> String {
        stationConfigYAML(port: brokerPort, logLevel: "info").replacingOccurrences(
            of: "serial_number: \"TEST-0001\"", with: "serial_number: \"\(serial)\"")
            + """

            modbus:
              bind: 127.0.0.1
              port: \(modbusPort)
            """
    }

    static func check(_ yaml: String, in directory: TemporaryDirectory) async throws -> (status: Int32, output: String) {
        let file = try directory.write("check.yaml", yaml, permissions: 0o644)
        return try await Repository.run("cs-companiond", ["--check-config", "--config", file, "--schema-dir", Repository.schemas])
    }

    @Test("--check-config refuses a serial number register 157 cannot hold, and OCPP EVSE ids that are not the Modbus socket units")
    func checkConfig() async throws {
        let directory = try TemporaryDirectory()
        let fits = try await Self.check(Self.config(brokerPort: 1883, modbusPort: 5020, serial: String(repeating: "A", count: 21)), in: directory)
        #expect(fits.status == 0, "21 ASCII characters fit: \(fits.output)")
        let long = try await Self.check(Self.config(brokerPort: 1883, modbusPort: 5020, serial: String(repeating: "A", count: 22)), in: directory)
        #expect(long.status == 78, "\(long.output)")
        #expect(long.output.contains("station.serial_number: 22 characters; Modbus register 157 holds at most 21"), "\(long.output)")
        let accented = try await Self.check(Self.config(brokerPort: 1883, modbusPort: 5020, serial: "TÉST-0001"), in: directory)
        #expect(accented.status == 78, "\(accented.output)")
        #expect(accented.output.contains("station.serial_number: only printable ASCII"), "\(accented.output)")

        // Socket unit 1 is the first EVSE: OCPP EVSE 2 there would be another connector for the gridBox.
        let swapped = Self.config(brokerPort: 1883, modbusPort: 5020).replacingOccurrences(
            of: "network_interface: eth1\n", with: "network_interface: eth1\n    ocpp_evse_id: 2\n")
        let mismatch = try await Self.check(swapped, in: directory)
        #expect(mismatch.status == 78, "\(mismatch.output)")
        #expect(mismatch.output.contains("evses[0].ocpp_evse_id: OCPP EVSE 2 is Modbus socket unit 1"), "\(mismatch.output)")
        let agreeing = Self.config(brokerPort: 1883, modbusPort: 5020).replacingOccurrences(
            of: "network_interface: eth1\n", with: "network_interface: eth1\n    ocpp_evse_id: 1\n")
        #expect(try await Self.check(agreeing, in: directory).status == 0)
        // Without Modbus there are no socket units to disagree with.
        let withoutModbus = stationConfigYAML(port: 1883).replacingOccurrences(
            of: "network_interface: eth1\n", with: "network_interface: eth1\n    ocpp_evse_id: 2\n")
        #expect(try await Self.check(withoutModbus, in: directory).status == 0)
    }

    @Test("the serial number is not changed by a reload; after every start the station asks websocket_status and 1104 follows the answer")
    func serialAndWebsocketStatus() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let modbusPort = try freeLoopbackPort()
        // Josev is there before the station starts (as on a board).
        let josev = try await JosevTestClient(broker: broker)
        do {
            let daemon = try DaemonProcess(config: Self.config(brokerPort: broker.port, modbusPort: modbusPort), directory: directory)
            #expect(await daemon.waitUntilReady(), "\(daemon.log)")
            let client = try await ModbusClient.connect(host: "127.0.0.1", port: modbusPort)
            #expect(try await client.readHoldingRegisters(unit: 200, address: 1104, count: 1) == [0])
            #expect(await waitUntil { !josev.messages(name: "websocket_status", type: "request").isEmpty }, "\(daemon.log)")
            let request = try #require(josev.messages(name: "websocket_status", type: "request").last)
            #expect(try schemaErrors(request, name: "websocket_status", type: .request).isEmpty)
            try josev.send(
                .init(id: try #require(request["id"]?.stringValue), name: "websocket_status", type: .response, data: ["status": "connected"]))
            #expect(await waitUntil { (try? await client.readHoldingRegisters(unit: 200, address: 1104, count: 1)) == [1] })

            // A reload with another serial: the identity stays until a restart.
            try String(Self.config(brokerPort: broker.port, modbusPort: modbusPort, serial: "OTHER-0002"))
                .write(toFile: daemon.configFile, atomically: true, encoding: .utf8)
            daemon.signal(SIGHUP)
            #expect(await daemon.waitUntilReady(count: 2), "\(daemon.log)")
            let model = try #require(try await josev.ask("device_model"))
            #expect(model["data"]?["serial_number"] == "TEST-0001", "\(model)")
            #expect(model["data"]?["identity"] == "TEST-0001", "the OCPP identity defaults to the serial, which did not change")
            #expect(try await client.readString(unit: 200, address: 157, count: 11) == "TEST-0001")
            await client.close()
            #expect(await daemon.stop() == 0)
        }
        // After the restart: the new serial, and the station asks again; 1104 is right at once.
        let asked = josev.messages(name: "websocket_status", type: "request").count
        let daemon = try DaemonProcess(config: Self.config(brokerPort: broker.port, modbusPort: modbusPort, serial: "OTHER-0002"), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        #expect(await waitUntil { josev.messages(name: "websocket_status", type: "request").count > asked }, "\(daemon.log)")
        let request = try #require(josev.messages(name: "websocket_status", type: "request").last)
        try josev.send(
            .init(id: try #require(request["id"]?.stringValue), name: "websocket_status", type: .response, data: ["status": "connected"]))
        let client = try await ModbusClient.connect(host: "127.0.0.1", port: modbusPort)
        #expect(await waitUntil { (try? await client.readHoldingRegisters(unit: 200, address: 1104, count: 1)) == [1] })
        #expect(try await client.readString(unit: 200, address: 157, count: 11) == "OTHER-0002")
        await client.close()
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    @Test("after a firmware update device_model reports the installed version, and Josev hears it at once")
    func installedFirmwareVersion() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        try server.serve("fw-2.0.img", bytes: Array(repeating: 0x5A, count: 4096))
        let versionFile = directory.file("sw-version")
        try "1.0.0\n".write(toFile: versionFile, atomically: true, encoding: .utf8)
        // The board's updater: installs the image, whose version file now says 2.0.0.
        let install = try directory.script("install.sh", "[ -s \"$1\" ] && echo 2.0.0 > \(versionFile)")
        let config = stationConfigYAML(port: broker.port, logLevel: "info") + """

            firmware:
              install_command: ["\(install)", "{image}"]
              version_file: \(versionFile)
              retries: 0
              retry_interval: 0
            """
        let daemon = try DaemonProcess(config: config, directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        let before = try #require(try await josev.ask("device_model"))
        #expect(before["data"]?["firmware_version"] == "1.0.0", "the version file replaces station.firmware_version (9.8.7)")

        let answer = try await josev.ask(
            "update_firmware",
            data: ["request_id": 7, "location": .string(server.baseURL + "/fw-2.0.img"), "retrieve_datetime": "2026-01-01T00:00:00.000Z"])
        #expect(answer?["data"]?["status"] == "accepted", "\(String(describing: answer))")
        #expect(await waitUntil(timeout: .seconds(30)) {
            josev.messages(name: "firmware_status", type: "update").contains { $0["data"]?["status"] == "installed" }
        }, "\(daemon.log)")
        #expect(await waitUntil {
            josev.messages(name: "device_model_update", type: "update").contains { $0["data"]?["firmware_version"] == "2.0.0" }
        }, "\(josev.messages(name: "device_model_update", type: "update"))")
        for update in josev.messages(name: "device_model_update", type: "update") {
            #expect(try schemaErrors(update, name: "device_model_update", type: .update).isEmpty)
        }
        let after = try #require(try await josev.ask("device_model"))
        #expect(after["data"]?["firmware_version"] == "2.0.0", "\(after)")
        let parameters = try #require(try await josev.ask("cs_parameters"))
        #expect(parameters["data"]?["sw_version"] == "2.0.0", "\(parameters)")
        await josev.close()
        #expect(await daemon.stop() == 0)
    }
}
