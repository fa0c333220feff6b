import Foundation
import JSONSchema
import Modbus
import ModbusNIOClient
import Testing
import TestSupport

/// The daemon's Modbus server, bound to the station, against a real client over TCP.
@Suite("Modbus TCP end to end", .timeLimit(.minutes(1)))
struct ModbusEndToEndTests {
    /// The test station plus a Modbus block with a short valid time (a test bench).
    static func config(brokerPort: Int, modbusPort: Int, validTime: Double = 2, extra: String = "") -> String {
        stationConfigYAML(port: brokerPort, logLevel: "info") + """

            modbus:
              bind: 127.0.0.1
              port: \(modbusPort)
              setpoint_valid_time: \(validTime)
              test_bench: true
              safe_current: 8
            \(extra)
            """
    }

    @Test("a setpoint write limits the offered current, reaches Josev, expires to the safe current")
    func setpointAndFailSafe() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let modbusPort = try freeLoopbackPort()
        let daemon = try DaemonProcess(config: Self.config(brokerPort: broker.port, modbusPort: modbusPort), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        let client = try await ModbusClient.connect(host: "127.0.0.1", port: modbusPort)

        // Station block: serial number and socket count.
        #expect(try await client.readString(unit: 200, address: 157, count: 11) == "TEST-0001")
        #expect(try await client.readHoldingRegisters(unit: 200, address: 1105, count: 1) == [2])
        // At start: no setpoint, the socket runs at the safe current.
        #expect(try await client.readFloat32(unit: 1, address: 1206) == 8)
        #expect(try await client.readHoldingRegisters(unit: 1, address: 1214, count: 1) == [0])
        // The whole meter block in one request.
        #expect(try await client.readHoldingRegisters(unit: 1, address: 300, count: 125).count == 125)

        try await client.writeFloat32(unit: 1, address: 1210, value: 10.45)
        #expect(try await client.readFloat32(unit: 1, address: 1206) == 10.4, "rounded down to what the PWM can represent")
        #expect(try await client.readHoldingRegisters(unit: 1, address: 1214, count: 1) == [1])
        let remaining = try await client.readHoldingRegisters(unit: 1, address: 1208, count: 2)
        #expect(ModbusRegisters.uint32(remaining) ?? 0 >= 1)
        #expect(await waitUntil(timeout: .seconds(5)) {
            josev.messages(name: "cs_status_and_limits", type: "update").last?["data"]?["evses"]?.arrayValue?.first?["ac"]?["max_current"]?["l1"] == .double(10.4)
        }, "\(josev.messages(name: "cs_status_and_limits", type: "update"))")
        #expect(daemon.log.contains("register=1210 unit=1 value=\"10.45 A\""), "every changed write is logged: \(daemon.log)")

        // Stop writing: after the valid time the socket falls back to the safe current by itself.
        #expect(await waitUntil(timeout: .seconds(6)) { (try? await client.readFloat32(unit: 1, address: 1206)) == 8 })
        #expect(try await client.readHoldingRegisters(unit: 1, address: 1214, count: 1) == [0])
        #expect(await waitUntil(timeout: .seconds(5)) {
            josev.messages(name: "cs_status_and_limits", type: "update").last?["data"]?["evses"]?.arrayValue?.first?["ac"]?["max_current"]?["l1"] == .double(8)
        })

        // Bad values and read-only registers are refused with the profile's exception codes.
        await #expect(throws: ModbusError.self) { try await client.writeFloat32(unit: 1, address: 1210, value: -1) }
        await #expect(throws: ModbusError.self) { try await client.writeSingleRegister(unit: 1, address: 1206, value: 1) }
        await client.close()
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    @Test("mbpoll, a client nobody on the team wrote, reads the station and writes the setpoint")
    func mbpollInterop() async throws {
        guard let mbpoll = try? Command.find("mbpoll") else {
            Issue.record("mbpoll is not installed (scripts/install-deps.sh installs it)")
            return
        }
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let modbusPort = try freeLoopbackPort()
        let daemon = try DaemonProcess(
            config: Self.config(brokerPort: broker.port, modbusPort: modbusPort, validTime: 60), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")

        let write = try await Self.run(mbpoll, ["-0", "-B", "-1", "-p", "\(modbusPort)", "-a", "1", "-r", "1210", "-t", "4:float", "127.0.0.1", "16"])
        #expect(write.status == 0, "\(write.output)")
        let read = try await Self.run(mbpoll, ["-0", "-B", "-1", "-p", "\(modbusPort)", "-a", "1", "-r", "1206", "-c", "1", "-t", "4:float", "127.0.0.1"])
        #expect(read.status == 0, "\(read.output)")
        #expect(read.output.contains("[1206]: \t16"), "\(read.output)")
        let bad = try await Self.run(mbpoll, ["-0", "-1", "-p", "\(modbusPort)", "-a", "1", "-r", "1215", "127.0.0.1", "2"])
        #expect(bad.status != 0)
        #expect(bad.output.contains("Illegal data value"), "\(bad.output)")
        #expect(await daemon.stop() == 0)
    }

    /// pymodbus (PyPI), a third-party client in another language: reads the station block and a
    /// whole meter block, writes the setpoint as float32 and reads it back, and gets the profile's
    /// exception for a value out of range. The script prints one line per fact.
    static let pymodbusScript = #"""
        import sys
        from pymodbus.client import ModbusTcpClient
        client = ModbusTcpClient("127.0.0.1", port=int(sys.argv[1]))
        assert client.connect(), "no connection"
        FLOAT = ModbusTcpClient.DATATYPE.FLOAT32
        serial = client.read_holding_registers(157, count=11, device_id=200)
        print("serial", client.convert_from_registers(serial.registers, ModbusTcpClient.DATATYPE.STRING).strip("\x00 "))
        meter = client.read_holding_registers(300, count=125, device_id=1)
        print("meter-registers", len(meter.registers))
        written = client.write_registers(1210, client.convert_to_registers(10.0, FLOAT), device_id=1)
        print("write-error", written.isError())
        offered = client.read_holding_registers(1206, count=2, device_id=1)
        print("offered", client.convert_from_registers(offered.registers, FLOAT))
        refused = client.write_registers(1210, client.convert_to_registers(-1.0, FLOAT), device_id=1)
        print("refused-exception", getattr(refused, "exception_code", None))
        client.close()
        """#

    @Test("pymodbus, a Python client nobody on the team wrote, reads the station and writes the setpoint")
    func pymodbusInterop() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let modbusPort = try freeLoopbackPort()
        let daemon = try DaemonProcess(
            config: Self.config(brokerPort: broker.port, modbusPort: modbusPort, validTime: 60), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let python = try Command.find("python3")
        let result = try await Self.run(python, ["-c", Self.pymodbusScript, "\(modbusPort)"])
        #expect(result.status == 0, "\(result.output)")
        let facts = Dictionary(
            result.output.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: " ", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }, uniquingKeysWith: { _, last in last })
        #expect(facts["serial"] == "TEST-0001", "\(result.output)")
        #expect(facts["meter-registers"] == "125")
        #expect(facts["write-error"] == "False")
        #expect(facts["offered"] == "10.0")
        #expect(facts["refused-exception"] == "3", "illegal data value: \(result.output)")
        #expect(await daemon.stop() == 0)
    }

    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Command.capture(executable, arguments, timeout: .seconds(20))
    }
}
