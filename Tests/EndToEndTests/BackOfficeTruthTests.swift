import Foundation
import JSONSchema
import JosevContract
import Store
import Testing
import TestSupport

/// Issue 16, points 1–3, against the real daemon: a remote start expires (and the device-model
/// variable that sets the timeout is honoured), the socket lock is real, and `reset` runs the
/// configured command after the station's part, with the state intact after the restart.
@Suite("back office: remote start expiry, socket lock, reset", .timeLimit(.minutes(3)))
struct BackOfficeTruthTests {
    static let ac = "DE*TST*E0001*1"
    static let dc = "DE*TST*E0001*2"
    static let card = "04A1B2C3"

    static func pwm(_ josev: JosevTestClient) async throws {
        let answer = try await josev.ask(
            "cp_pwm", data: ["evse_id": .string(ac), "hlc": false, "current": 16, "error_state": false, "fault_state": false])
        #expect(answer?["data"]?["status"] == "valid")
    }

    /// The EV plugs into the AC EVSE, the local card is shown, Josev asks for 16 A, the EV asks for power.
    static func startCharging(_ daemon: DaemonProcess, _ josev: JosevTestClient) async throws {
        #expect(try await daemon.companion(["plug", "--evse", ac]).status == 0)
        #expect(try await daemon.companion(["rfid", "--evse", ac, card]).status == 0)
        try await pwm(josev)
        #expect(try await daemon.companion(["ev", "--evse", ac, "16"]).status == 0)
    }

    static func contactor(_ josev: JosevTestClient) async throws -> String? {
        try await josev.ask("cs_contactor_status", data: ["evse_id": .string(ac)])?["data"]?["status"]?.stringValue
    }

    static func cableLocks(_ josev: JosevTestClient) -> [String] {
        josev.messages(name: "cable_info", type: "update").compactMap { $0["data"]?["lock"]?.stringValue }
    }

    static func connector(_ josev: JosevTestClient, _ action: String) async throws -> JSONValue? {
        try await josev.ask("cs_connector", data: ["evse_id": .string(ac), "connector_id": 1, "action": .string(action)])?["data"]
    }

    // MARK: 1. Remote start expiry

    @Test("a remote start with no plug-in is deauthorized after TxCtrlr.EVConnectionTimeOut, and the next car does not charge on it")
    func remoteStartExpires() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let config = stationConfigYAML(port: broker.port, logLevel: "info") + """

            authorization:
              connection_timeout: 600
            device_model:
              variables:
                - component: TxCtrlr
                  variable: EVConnectionTimeOut
                  value: 600
                  unit: s
                  data_type: integer
                  min: 0
                  max: 3600
            """
        let daemon = try DaemonProcess(config: config, directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)

        // The back office sets the timeout (SetVariables through Josev): the station honours it.
        let set = try await josev.ask("set_variable_validate", data: [
            "component": ["name": "TxCtrlr"], "variable": ["name": "EVConnectionTimeOut"], "attribute_value": "2",
        ])
        #expect(set?["data"]?["result"] == "accepted", "\(daemon.log)")
        #expect(await waitUntil { !josev.messages(name: "device_model_update", type: "update").isEmpty })

        // A remote start: Josev's authorization update, no EV.
        let started = ContinuousClock.now
        try josev.send(.update(name: "authorization", data: [
            "evse_id": .string(Self.ac), "token_type": "central", "id_token": "REMOTE-42", "status": "accepted",
        ]))
        let deauthorized: () -> JSONValue? = {
            josev.messages(name: "authorization", type: "update").first { $0["data"]?["status"] == "deauthorized" }
        }
        #expect(await waitUntil(timeout: .seconds(10)) { deauthorized() != nil }, "\(daemon.log)")
        let elapsed = started.duration(to: .now)
        #expect(elapsed >= .milliseconds(1500), "not before the timeout: \(elapsed)")
        let update = try #require(deauthorized())
        #expect(update["data"]?["evse_id"] == .string(Self.ac))
        #expect(update["data"]?["id_token"] == "REMOTE-42")
        #expect(update["data"]?["token_type"] == "central")
        #expect(try schemaErrors(update, name: "authorization", type: .update).isEmpty)

        // The next car plugs in: nothing authorizes it.
        #expect(try await daemon.companion(["plug", "--evse", Self.ac]).status == 0)
        try await Self.pwm(josev)
        #expect(try await daemon.companion(["ev", "--evse", Self.ac, "16"]).status == 0)
        #expect(await waitUntil { josev.messages(name: "cp_status", type: "update").last?["data"]?["state"] == "C2" })
        #expect(try await Self.contactor(josev) == "opened")
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    // MARK: 2. The socket lock

    static func socketConfig(brokerPort: Int) -> String {
        stationConfigYAML(port: brokerPort, logLevel: "info")
            .replacing("        connector_type: AC_three_phase_core\n", with: "        connector_type: AC_three_phase_core\n        socket: true\n")
            + """

            authorization:
              local_tokens: ["\(card)"]
            """
    }

    @Test("a socket is locked before the contactor closes, refuses unlocking while the session runs, unlocks after the stop")
    func socketLock() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: Self.socketConfig(brokerPort: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        try await Self.startCharging(daemon, josev)
        let closed: (JSONValue) -> Bool = { $0["name"] == "cs_contactor_status" && $0["type"] == "update" && $0["data"]?["status"] == "closed" }
        #expect(await waitUntil { josev.messages.contains(where: closed) }, "\(daemon.log)")
        let all = josev.messages
        let locked = try #require(all.firstIndex { $0["name"] == "cable_info" && $0["data"]?["lock"] == "locked" }, "\(all)")
        #expect(locked < (all.firstIndex(where: closed) ?? 0), "cable_info locked comes before the contactor closes")

        // Energized: an unlock is refused, the answer says locked, the reason in info.
        let refused = try #require(try await Self.connector(josev, "unlock"))
        #expect(refused["status"] == "locked")
        #expect(refused["info"]?.stringValue?.isEmpty == false)
        // The EV pauses (contactor open, the session still runs): still locked, still refused.
        #expect(try await daemon.companion(["ev", "--evse", Self.ac, "--stop"]).status == 0)
        #expect(try await waitUntil { try await Self.contactor(josev) == "opened" })
        let paused = try #require(try await Self.connector(josev, "unlock"))
        #expect(paused["status"] == "locked")
        #expect(paused["info"] != nil)
        #expect(Self.cableLocks(josev).last == "locked")

        // Josev stops the session: the socket unlocks.
        let stop = try await josev.ask("stop_charging", data: ["evse_id": .string(Self.ac)])
        #expect(stop?["data"]?["status"] == "accepted")
        #expect(await waitUntil { Self.cableLocks(josev).last == "unlocked" }, "\(daemon.log)")
        #expect(try await Self.connector(josev, "status")?["status"] == "unlocked")
        for message in josev.messages(name: "cable_info", type: "update") {
            #expect(try schemaErrors(message, name: "cable_info", type: .update).isEmpty)
        }
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    @Test("a socket lock that fails to engage stops the start: hardware_fault reported, the contactor stays open")
    func lockFails() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: Self.socketConfig(brokerPort: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        // The simulated board's lock jams: the next lock fails to engage.
        #expect(try await daemon.companion(["fault", "--evse", Self.ac, "lock_failure"]).status == 0)
        try await Self.startCharging(daemon, josev)
        #expect(await waitUntil { !josev.messages(name: "hardware_fault", type: "update").isEmpty }, "\(daemon.log)")
        #expect(Self.cableLocks(josev).last == "error")
        #expect(try await Self.contactor(josev) == "opened")
        #expect(!josev.messages.contains { $0["name"] == "cs_contactor_status" && $0["data"]?["status"] == "closed" })
        let limits = try #require(try await josev.ask("cs_status_and_limits"))
        #expect(limits["data"]?["evses"]?.arrayValue?.first?["status_code"] != "evse_ready")
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    // MARK: 3. Reset

    static func resetConfig(brokerPort: Int, marker: String) -> String {
        // The station reset "restarts the service": it notes when it ran, then stops the daemon
        // (its parent) the way systemctl restart would, with SIGTERM.
        stationConfigYAML(port: brokerPort, logLevel: "info") + """

            authorization:
              local_tokens: ["\(card)"]
            reset:
              command: ["/bin/sh", "-c", "date +%s%N > \(marker); kill -TERM $PPID"]
              evse_command: ["/bin/sh", "-c", "echo '{evse_id}' > \(marker).evse"]
              timeout: 10
            """
    }

    /// A daemon with `resetConfig`, ready, and Josev on its broker.
    struct ResetRig {
        let broker: TestBroker
        let directory: TemporaryDirectory
        /// Where the reset commands note that they ran.
        let marker: String
        let config: String
        let daemon: DaemonProcess
        let josev: JosevTestClient

        init() async throws {
            broker = try await TestBroker()
            directory = try TemporaryDirectory()
            marker = directory.file("reset-ran")
            config = BackOfficeTruthTests.resetConfig(brokerPort: broker.port, marker: marker)
            daemon = try DaemonProcess(config: config, directory: directory)
            #expect(await daemon.waitUntilReady(), "\(daemon.log)")
            josev = try await JosevTestClient(broker: broker)
        }
    }

    /// Whether the daemon's database has the session of `transactionID`.
    static func storedSession(_ directory: TemporaryDirectory, _ transactionID: String) -> Bool {
        guard let store = try? Store(path: directory.file("state") + "/cs-companion.db", readOnly: true) else { return false }
        defer { store.close() }
        return (try? store.session(transactionID: transactionID)) != nil
    }

    static func statusCode(_ josev: JosevTestClient, _ evseID: String) async throws -> String? {
        let limits = try await josev.ask("cs_status_and_limits")
        return limits?["data"]?["evses"]?.arrayValue?.first { $0["evse_id"]?.stringValue == evseID }?["status_code"]?.stringValue
    }

    @Test("reset while charging waits until Josev stops the session, runs reset.command after it, and the station comes back intact")
    func stationReset() async throws {
        let rig = try await ResetRig()
        let (directory, marker, config, daemon, josev) = (rig.directory, rig.marker, rig.config, rig.daemon, rig.josev)

        // A whole-EVSE reservation (connector 0) on the DC EVSE, the AC EVSE charging a transaction.
        try josev.send(.update(name: "connector_and_charging", data: [
            "evse_id": .string(Self.dc), "connector_id": 0, "connector_status": "reserved",
        ]))
        #expect(await waitUntil { daemon.reservedConnectors(Self.dc) == [1] }, "\(daemon.log)")
        try await Self.startCharging(daemon, josev)
        #expect(try await waitUntil { try await Self.contactor(josev) == "closed" }, "\(daemon.log)")
        let transaction = UUID().uuidString.lowercased()
        try josev.send(.update(name: "transaction_status", data: [
            "transaction_id": .string(transaction), "evse_id": .string(Self.ac), "status": "started", "id_token": .string(Self.card),
            "token_type": "ISO14443",
        ]))
        #expect(await waitUntil { Self.storedSession(directory, transaction) }, "\(daemon.log)")

        // Reset of the EVSE while it charges: accepted, scheduled (OnIdle).
        let evseReset = try await josev.ask("reset", data: ["evse_id": .string(Self.ac)])
        #expect(evseReset?["data"]?["status"] == "accepted")
        #expect(try await Self.contactor(josev) == "closed", "a session Josev has not stopped keeps charging")
        // Reset of the whole station: accepted, also scheduled.
        let stationReset = try await josev.ask("reset")
        #expect(stationReset?["data"]?["status"] == "accepted")
        #expect(try await Self.contactor(josev) == "closed")

        // Josev stops the session (Immediate reset: OCPP ended the transaction first): both resets run.
        let stoppedAt = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
        let stop = try await josev.ask("stop_charging", data: ["evse_id": .string(Self.ac)])
        #expect(stop?["data"]?["status"] == "accepted")
        #expect(await waitUntil(timeout: .seconds(10)) { FileManager.default.fileExists(atPath: marker + ".evse") }, "\(daemon.log)")
        #expect(try String(contentsOfFile: marker + ".evse", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == Self.ac)
        #expect(await waitUntil(timeout: .seconds(10)) { FileManager.default.fileExists(atPath: marker) }, "\(daemon.log)")
        let ranAt = try #require(Int64(try String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(ranAt >= stoppedAt, "reset.command ran after the session was stopped")
        // The command restarts the service: the daemon stops cleanly.
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0, "\(daemon.log)")

        // The station comes back: the reservation and the recorded session are intact.
        let restarted = try DaemonProcess(config: config, directory: directory)
        #expect(await restarted.waitUntilReady(), "\(restarted.log)")
        #expect(restarted.reservedConnectors(Self.dc) == [1], "\(String(describing: restarted.status()))")
        #expect(Self.storedSession(directory, transaction))
        await josev.close()
        #expect(await restarted.stop() == 0)
        withExtendedLifetime(rig) {}  // the broker lives until here
    }

    @Test("availability survives a station reset; a reset of an idle station runs reset.command at once")
    func availabilitySurvivesReset() async throws {
        let rig = try await ResetRig()
        let (directory, marker, config, daemon, josev) = (rig.directory, rig.marker, rig.config, rig.daemon, rig.josev)
        let change = try await josev.ask("change_availability", data: ["evse_id": .string(Self.dc), "operational_status": "inoperative"])
        #expect(change?["data"]?["status"] == "accepted")
        let inoperative = try #require(try await Self.statusCode(josev, Self.dc))
        #expect(inoperative != "evse_ready")
        let reset = try await josev.ask("reset")
        #expect(reset?["data"]?["status"] == "accepted")
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0, "\(daemon.log)")
        #expect(FileManager.default.fileExists(atPath: marker))

        let restarted = try DaemonProcess(config: config, directory: directory)
        #expect(await restarted.waitUntilReady(), "\(restarted.log)")
        #expect(try await Self.statusCode(josev, Self.dc) == inoperative)
        #expect(try await Self.statusCode(josev, Self.ac) == "evse_ready")
        await josev.close()
        #expect(await restarted.stop() == 0)
        withExtendedLifetime(rig) {}  // the broker lives until here
    }
}
