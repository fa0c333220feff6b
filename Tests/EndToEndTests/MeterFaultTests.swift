import Foundation
import JSONSchema
import JosevContract
import Store
import Testing
import TestSupport

/// An SDM630 simulator (scripts/meter-sim.py) on one end of a socat pty pair; the daemon reads
/// it through libmodbus on the other end. Faults go through the simulator's control file.
struct MeterBench: Sendable {
    static let evse = "DE*TST*E0001*1"
    let directory: TemporaryDirectory
    let socat: ChildProcess
    let simulator: ChildProcess
    let control: String
    let daemonEnd: String

    static func start(serial: Int = 22_123_456, importKWh: Double = 1000, amps: Double = 16) async throws -> MeterBench {
        let directory = try TemporaryDirectory(prefix: "cs-meter")
        let meterEnd = directory.file("meter"), daemonEnd = directory.file("daemon")
        let socat = try ChildProcess(
            executable: "socat", arguments: ["-d", "-d", "pty,raw,echo=0,link=\(meterEnd)", "pty,raw,echo=0,link=\(daemonEnd)"])
        guard await waitUntil(timeout: .seconds(10), { FileManager.default.fileExists(atPath: meterEnd) && FileManager.default.fileExists(atPath: daemonEnd) })
        else {
            await socat.terminate()
            throw TestSupportError("socat made no pty pair within 10 s")
        }
        let control = directory.file("control.json")
        try #"{"static_energy": true}"#.write(toFile: control, atomically: true, encoding: .utf8)
        let simulator = try ChildProcess(
            executable: "python3",
            arguments: [
                Repository.root + "/scripts/meter-sim.py", "--port", meterEnd, "--unit", "11", "--serial", "\(serial)",
                "--import-kwh", "\(importKWh)", "--amps", "\(amps)", "--control", control,
            ])
        return MeterBench(directory: directory, socat: socat, simulator: simulator, control: control, daemonEnd: daemonEnd)
    }

    /// Replaces the simulator's control file (atomically: it re-reads it before every answer).
    func set(_ json: String) throws {
        try json.write(toFile: control, atomically: true, encoding: .utf8)
    }

    /// The station configuration with this meter beside the simulated board.
    func config(broker: Int, expectSerial: String = "22123456") -> String {
        stationConfigYAML(port: broker, logLevel: "info") + """

            authorization:
              free_vend: true
            hardware:
              driver: simulated
              buses:
                - { name: rs485-1, port: \(daemonEnd), baud: 9600, response_timeout: 0.5, gap: 0.01 }
              meters:
                - { evse_id: "\(Self.evse)", bus: rs485-1, unit_id: 11, profile: eastron_sdm630, poll_interval: 0.5,
                    offline_after_failed_cycles: 2, expect_serial: "\(expectSerial)" }
            """
    }

    func stop() async {
        await simulator.terminate()
        await socat.terminate()
    }

    /// The meter block of `cs-companion status --json`.
    static func meter(_ daemon: DaemonProcess) async throws -> JSONValue? {
        let answer = try await daemon.companion(["status", "--json", "--evse", evse])
        guard answer.status == 0 else { return nil }
        return try JSONValue.parse(answer.output)["evses"]?.arrayValue?.first?["meter"]
    }

    static func statistic(_ daemon: DaemonProcess, _ name: String) async throws -> Int64 {
        try await meter(daemon)?["statistics"]?[name]?.integerValue ?? -1
    }

    static func value(_ daemon: DaemonProcess, _ name: String) async throws -> Double? {
        try await meter(daemon)?["values"]?[name]?.numberValue
    }

    static func communication(_ daemon: DaemonProcess) async throws -> String? {
        try await meter(daemon)?["communication"]?.stringValue
    }
}

@Suite("energy meters over a real serial line (pty, libmodbus, meter-sim.py)", .serialized, .timeLimit(.minutes(3)))
struct MeterFaultTests {
    let evse = MeterBench.evse

    /// Plugs the simulated EV, has Josev ask for 16 A and the EV draw 10 A (free vend).
    func charge(_ daemon: DaemonProcess, _ josev: JosevTestClient) async throws {
        #expect(try await daemon.companion(["plug", "--evse", evse]).status == 0)
        _ = try await josev.ask("cp_pwm", data: ["evse_id": .string(evse), "hlc": false, "current": 16, "error_state": false, "fault_state": false])
        #expect(try await daemon.companion(["ev", "--evse", evse, "10"]).status == 0)
    }

    func contactor(_ josev: JosevTestClient) async throws -> String? {
        try await josev.ask("cs_contactor_status", data: ["evse_id": .string(evse)])?["data"]?["status"]?.stringValue
    }

    @Test("done: meter_values shows the meter's values and the session's energy is the register difference")
    func sessionEnergyIsTheRegisterDifference() async throws {
        let bench = try await MeterBench.start(importKWh: 1000, amps: 16)
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: bench.config(broker: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        let database = directory.file("state") + "/cs-companion.db"
        #expect(await waitUntil(timeout: .seconds(10)) { (try? await MeterBench.communication(daemon)) == "ok" }, "\(daemon.log)")
        try await charge(daemon, josev)
        #expect(await waitUntil { (try? await contactor(josev)) == "closed" }, "\(daemon.log)")

        let values = try #require(try await josev.ask("meter_values", data: ["evse_id": .string(evse), "timestamp": "2026-12-06T10:00:00.000Z"]))
        #expect(values["data"]?["voltage"]?["l1"]?.numberValue == 230)
        #expect(values["data"]?["current"]?["l2"]?.numberValue == 16, "the meter's 16 A, not the simulated EV's 10 A")
        #expect(values["data"]?["frequency"]?.numberValue == 50)
        #expect(values["data"]?["total_active_energy_imported"]?.numberValue == 1_000_000)
        #expect(values["data"]?["power_active_import"]?.numberValue == 11_040)
        // Commissioning: serial, values and bus statistics; exit 0 on a healthy meter.
        let check = try await daemon.companion(["hardware", "check", "--json"])
        #expect(check.status == 0, "\(check.output)")
        let report = try JSONValue.parse(check.output)
        #expect(report["meters"]?.arrayValue?.first?["serial_number"] == "22123456")
        #expect(report["meters"]?.arrayValue?.first?["values"]?["current_l3"]?.numberValue == 16)
        #expect((report["meters"]?.arrayValue?.first?["statistics"]?["requests"]?.integerValue ?? 0) > 0)

        try josev.send(.update(name: "transaction_status", data: [
            "transaction_id": "tx-meter", "status": "started", "evse_id": .string(evse), "id_token": "04AA", "token_type": "ISO14443",
        ]))
        #expect(await waitUntil { SessionRecordTests.session("tx-meter", database)?.status == .active }, "\(daemon.log)")
        try bench.set(#"{"static_energy": true, "import_kwh": 1002.5}"#)
        #expect(await waitUntil { (try? await MeterBench.value(daemon, "energy_import_wh")) == 1_002_500 }, "\(daemon.log)")
        try josev.send(.update(name: "transaction_status", data: ["transaction_id": "tx-meter", "status": "ended", "evse_id": .string(evse)]))
        #expect(await waitUntil { SessionRecordTests.session("tx-meter", database)?.status == .completed }, "\(daemon.log)")
        let session = try #require(SessionRecordTests.session("tx-meter", database))
        #expect(session.energyStartWh == 1_000_000)
        #expect(session.energyStopWh == 1_002_500)
        #expect((session.energyStopWh ?? 0) - session.energyStartWh == 2_500)
        await josev.close()
        #expect(await daemon.stop() == 0)
        await bench.stop()
    }

    @Test("silent meter: cycle ≤ 1.5 s, meter_communication after 2 cycles, unknown values, register kept, no new session; one good cycle recovers")
    func silentMeter() async throws {
        let bench = try await MeterBench.start(importKWh: 500)
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: bench.config(broker: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        #expect(await waitUntil(timeout: .seconds(10)) { (try? await MeterBench.communication(daemon)) == "ok" }, "\(daemon.log)")

        try bench.set(#"{"static_energy": true, "fault": "silent"}"#)
        #expect(await waitUntil { !josev.messages(name: "hardware_fault", type: "update").isEmpty }, "\(daemon.log)")
        #expect(josev.messages(name: "hardware_fault", type: "update").first?["data"]?["fault_name"] == "other")
        #expect(try await MeterBench.communication(daemon) == "offline")
        let cycle = try #require(try await MeterBench.meter(daemon)?["statistics"]?["last_cycle_ms"]?.numberValue)
        #expect(cycle <= 1500, "a dead meter's cycle took \(cycle) ms")
        #expect(try await MeterBench.statistic(daemon, "timeouts") >= 2)
        #expect(try await MeterBench.value(daemon, "energy_import_wh") == 500_000, "the last register is kept")
        #expect(await waitUntil {
            josev.messages(name: "cs_status_and_limits", type: "update").last?["data"]?["evses"]?.arrayValue?.first?["status_code"] == "evse_malfunction"
        })
        // Unknown is never sent as zeros: meter_values gets no answer.
        #expect(try await josev.ask("meter_values", data: ["evse_id": .string(evse), "timestamp": "2026-12-06T10:00:00.000Z"], timeout: .seconds(1)) == nil)
        // No new session: the contactor stays open whatever the EV asks.
        try await charge(daemon, josev)
        #expect(try await contactor(josev) == "opened")

        try bench.set(#"{"static_energy": true}"#)
        #expect(await waitUntil(timeout: .seconds(10)) { (try? await MeterBench.communication(daemon)) == "ok" }, "\(daemon.log)")
        #expect(await waitUntil {
            josev.messages(name: "cs_status_and_limits", type: "update").last?["data"]?["evses"]?.arrayValue?.first?["status_code"] == "evse_ready"
        }, "\(daemon.log)")
        await josev.close()
        #expect(await daemon.stop() == 0)
        await bench.stop()
    }

    @Test("bad CRC, noise, wrong unit id, late reply: no value from that frame, counted, flushed, retried once, no fault", arguments: ["crc", "noise", "wrong_unit", "late"])
    func framingFault(_ fault: String) async throws {
        let bench = try await MeterBench.start(importKWh: 700)
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: bench.config(broker: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        #expect(await waitUntil(timeout: .seconds(10)) { (try? await MeterBench.communication(daemon)) == "ok" }, "\(daemon.log)")
        let retries = try await MeterBench.statistic(daemon, "retries")
        let good = try await MeterBench.statistic(daemon, "good_cycles")

        try bench.set(#"{"static_energy": true, "fault": "\#(fault)", "count": 1}"#)
        #expect(await waitUntil(timeout: .seconds(10)) { (try? await MeterBench.statistic(daemon, "framing_errors")) == 1 }, "\(daemon.log)")
        #expect(try await MeterBench.statistic(daemon, "retries") == retries + 1)
        // The cycles go on good, with the right values: nothing from the bad frame or from another request.
        #expect(await waitUntil { (try? await MeterBench.statistic(daemon, "good_cycles")) ?? 0 >= good + 2 })
        #expect(try await MeterBench.value(daemon, "voltage_l1") == 230)
        #expect(try await MeterBench.value(daemon, "current_l1") == 16)
        #expect(try await MeterBench.value(daemon, "energy_import_wh") == 700_000)
        #expect(try await MeterBench.communication(daemon) == "ok")
        #expect(josev.messages(name: "hardware_fault", type: "update").isEmpty)
        await josev.close()
        #expect(await daemon.stop() == 0)
        await bench.stop()
    }

    @Test("implausible values (NaN, an energy register going backwards) are dropped, counted, logged")
    func implausibleValues() async throws {
        let bench = try await MeterBench.start(importKWh: 800)
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: bench.config(broker: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        #expect(await waitUntil(timeout: .seconds(10)) { (try? await MeterBench.communication(daemon)) == "ok" }, "\(daemon.log)")

        try bench.set(#"{"static_energy": true, "fault": "nan", "count": 1}"#)
        #expect(await waitUntil(timeout: .seconds(10)) { (try? await MeterBench.statistic(daemon, "implausible")) == 1 }, "\(daemon.log)")
        #expect(try await MeterBench.value(daemon, "voltage_l1") == 230, "the last good voltage stays")
        try bench.set(#"{"static_energy": true, "fault": "backwards", "count": 1}"#)
        #expect(await waitUntil(timeout: .seconds(10)) { (try? await MeterBench.statistic(daemon, "implausible")) == 2 }, "\(daemon.log)")
        #expect(try await MeterBench.value(daemon, "energy_import_wh") == 800_000, "never backwards")
        #expect(try await MeterBench.communication(daemon) == "ok")
        #expect(await daemon.stop() == 0)
        await bench.stop()
    }

    @Test("expect_serial mismatch: the meter is refused, the EVSE unavailable for billing")
    func wrongMeter() async throws {
        let bench = try await MeterBench.start(serial: 33_333_333)
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: bench.config(broker: broker.port, expectSerial: "22123456"), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        #expect(await waitUntil(timeout: .seconds(10)) { (try? await MeterBench.communication(daemon)) == "refused" }, "\(daemon.log)")
        #expect(try await MeterBench.meter(daemon)?["refusal"]?.stringValue?.contains("33333333") == true)
        #expect(try await daemon.companion(["hardware", "check"]).status == 1, "commissioning fails on the wrong meter")
        #expect(await waitUntil {
            josev.messages(name: "cs_status_and_limits", type: "update").last?["data"]?["evses"]?.arrayValue?.first?["status_code"] == "evse_malfunction"
        }, "\(daemon.log)")
        try await charge(daemon, josev)
        #expect(try await contactor(josev) == "opened")
        await josev.close()
        #expect(await daemon.stop() == 0)
        await bench.stop()
    }

    @Test("meter replaced while running: fault, and the session's energy stays the first meter's")
    func meterReplaced() async throws {
        let bench = try await MeterBench.start(importKWh: 1000)
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        // No expect_serial: the first serial read is the meter's.
        let config = bench.config(broker: broker.port).replacingOccurrences(of: #", expect_serial: "22123456""#, with: "")
        let daemon = try DaemonProcess(config: config, directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        let database = directory.file("state") + "/cs-companion.db"
        #expect(await waitUntil(timeout: .seconds(10)) { (try? await MeterBench.communication(daemon)) == "ok" }, "\(daemon.log)")
        try josev.send(.update(name: "transaction_status", data: [
            "transaction_id": "tx-swap", "status": "started", "evse_id": .string(evse), "id_token": "04AA", "token_type": "ISO14443",
        ]))
        #expect(await waitUntil { SessionRecordTests.session("tx-swap", database)?.status == .active }, "\(daemon.log)")
        try bench.set(#"{"static_energy": true, "import_kwh": 1001}"#)
        #expect(await waitUntil { (try? await MeterBench.value(daemon, "energy_import_wh")) == 1_001_000 }, "\(daemon.log)")
        // Another meter (another serial, its own register) answers on the same unit id.
        try bench.set(#"{"static_energy": true, "import_kwh": 5, "fault": "serial"}"#)
        #expect(await waitUntil(timeout: .seconds(10)) { (try? await MeterBench.communication(daemon)) == "refused" }, "\(daemon.log)")
        #expect(await waitUntil { !josev.messages(name: "hardware_fault", type: "update").isEmpty }, "\(daemon.log)")
        try josev.send(.update(name: "transaction_status", data: ["transaction_id": "tx-swap", "status": "ended", "evse_id": .string(evse)]))
        #expect(await waitUntil { SessionRecordTests.session("tx-swap", database)?.status == .completed }, "\(daemon.log)")
        let session = try #require(SessionRecordTests.session("tx-swap", database))
        #expect(session.energyStartWh == 1_000_000)
        #expect(session.energyStopWh == 1_001_000, "the replacement's 5 kWh register never enters the session")
        await josev.close()
        #expect(await daemon.stop() == 0)
        await bench.stop()
    }
}
