import Foundation
import JSONSchema
import Testing
import TestSupport

/// A socat pty pair, board-sim playing the safety MCU on one end (its stdin a FIFO the test
/// writes EV and fault commands into), and the real daemon with `hardware.driver: board` on the
/// other, with a broker and a Josev client.
final class BoardRig: Sendable {
    static let evse = "DE*TST*E0001*1"

    let directory: TemporaryDirectory
    let hostEnd: String
    let socat: ChildProcess
    let sim: ChildProcess
    let commands: Int32
    let broker: TestBroker

    /// Starts socat and board-sim (`simArguments`, e.g. `--fault welded`).
    init(simArguments: [String] = []) async throws {
        directory = try TemporaryDirectory(prefix: "board-fault")
        let mcuEnd = directory.file("mcu")
        hostEnd = directory.file("host")
        socat = try ChildProcess(executable: "socat", arguments: ["pty,raw,echo=0,link=\(mcuEnd)", "pty,raw,echo=0,link=\(hostEnd)"])
        let (mcu, host) = (mcuEnd, hostEnd)
        guard await waitUntil(timeout: .seconds(10), { FileManager.default.fileExists(atPath: mcu) && FileManager.default.fileExists(atPath: host) }) else {
            await socat.terminate()
            throw TestSupportError("socat made no pty pair within 10 s")
        }
        let fifo = directory.file("board-sim.stdin")
        guard mkfifo(fifo, 0o600) == 0 else { throw TestSupportError("mkfifo \(fifo): errno \(errno)") }
        // Read-write: the open does not wait for board-sim, and board-sim never sees an end of file.
        commands = open(fifo, O_RDWR | O_CLOEXEC)
        let log = open(directory.file("board-sim.log"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { close(log) }
        let quoted = ([try Repository.product("board-sim"), "--port", mcuEnd] + simArguments).map { "'\($0)'" }.joined(separator: " ")
        sim = try ChildProcess(executable: "sh", arguments: ["-c", "exec \(quoted) < '\(fifo)'"], stderr: log)
        broker = try await TestBroker()
    }

    /// The daemon's configuration: one AC EVSE on MCU connector `mcuConnector`.
    /// `meterPort`: an SDM630 (unit 11) on that serial line beside the board, as a real station has.
    func config(
        mcuConnector: Int = 1, lock: String = "none", linkTimeout: Double = 5, rcdSelfTest: Bool = false, meterPort: String? = nil
    ) -> String {
        let meter =
            meterPort.map {
                """

                  buses:
                    - { name: rs485-1, port: \($0), baud: 9600, response_timeout: 0.5, gap: 0.01 }
                  meters:
                    - { evse_id: "\(Self.evse)", bus: rs485-1, unit_id: 11, profile: eastron_sdm630, poll_interval: 0.5 }
                """
            } ?? ""
        return stationAndBrokerYAML(port: broker.port) + """
        evses:
          - evse_id: "\(Self.evse)"
            network_interface: eth1
            supports_eim: true
            ac:
              nominal_voltage: 230
              max_current: 32
              phases: 3
            connectors:
              - id: 1
                connector_type: AC_three_phase_core
                control_mode: dynamic
        hardware:
          driver: board
          board:
            port: \(hostEnd)
            baud: 115200
            protocol: phyverso
            keepalive_interval: 1
            link_timeout: \(linkTimeout)
            rcd_self_test: \(rcdSelfTest)
            connectors:
              - { evse_id: "\(Self.evse)", mcu_connector: \(mcuConnector), contactor_feedback: nc, lock: \(lock) }\(meter)
        authorization:
          local_tokens: ["CAFE"]
        log_level: info
        """
    }

    /// A daemon on this rig (state in `stateDirectory` when given, to survive a restart).
    func daemon(_ config: String, stateDirectory: String? = nil) throws -> DaemonProcess {
        try DaemonProcess(
            config: config, directory: try TemporaryDirectory(prefix: "board-daemon"),
            arguments: stateDirectory.map { ["--state-dir", $0] } ?? [])
    }

    /// Types a line into board-sim (`plug 32`, `ev-ready`, `fault silence on`, …).
    func sim(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
    }

    var simLog: String { (try? String(contentsOfFile: directory.file("board-sim.log"), encoding: .utf8)) ?? "" }

    func stop() async {
        await sim.terminate()
        close(commands)
        await socat.terminate()
    }

    /// Plug, Josev's 16 A PWM, the local card, the EV ready: the station commands the contactor.
    func requestCharging(_ josev: JosevTestClient, daemon: DaemonProcess) async throws {
        sim("plug 32")
        #expect(await waitUntil { josev.messages(name: "cp_status", type: "update").contains { $0["data"]?["state"] == "B1" } }, "\(daemon.log)")
        let pwm = try #require(
            try await josev.ask("cp_pwm", data: ["evse_id": .string(Self.evse), "hlc": false, "current": 16, "error_state": false, "fault_state": false]))
        #expect(pwm["data"]?["status"] == "valid", "\(pwm)")
        #expect(try await daemon.companion(["rfid", "--evse", Self.evse, "CAFE"]).status == 0)
        sim("ev-ready")
    }
}

extension JosevTestClient {
    func contactorUpdates() -> [String] {
        messages(name: "cs_contactor_status", type: "update").compactMap { $0["data"]?["status"]?.stringValue }
    }

    func faultNames() -> [String] {
        messages(name: "hardware_fault", type: "update").compactMap { $0["data"]?["fault_name"]?.stringValue }
    }

    func lastStatusCode() -> String? {
        messages(name: "cs_status_and_limits", type: "update").last?["data"]?["evses"]?.arrayValue?.first?["status_code"]?.stringValue
    }
}
