import Foundation
import JSONSchema
import JosevContract
import Modbus
import ModbusNIOClient
import Store
import Systemd
import Testing
import TestSupport

/// Reservations: Josev reports a connector `reserved` (connector_and_charging); the station shows
/// it (status, Modbus 1200), refuses free vend and local cards there, charges only after Josev's
/// authorization, and is free again when Josev says so.
@Suite("reservations end to end", .timeLimit(.minutes(2)))
struct ReservationTests {
    static let evse = "DE*TST*E0001*1"
    static let localCard = "04A1B2C3"

    /// Free vend on and a local card: on a reserved connector neither may start a session.
    static func config(brokerPort: Int, modbusPort: Int, reservationTimeout: Int = 86400) -> String {
        stationConfigYAML(port: brokerPort, logLevel: "info") + """

            authorization:
              free_vend: true
              local_tokens: ["\(localCard)"]
              reservation_timeout: \(reservationTimeout)
            modbus:
              bind: 127.0.0.1
              port: \(modbusPort)
            """
    }

    static func connectorStatus(_ status: String) -> Envelope {
        .update(name: "connector_and_charging", data: ["evse_id": .string(evse), "connector_id": 1, "connector_status": .string(status)])
    }

    static func contactor(_ josev: JosevTestClient) async throws -> String? {
        try await josev.ask("cs_contactor_status", data: ["evse_id": .string(evse)])?["data"]?["status"]?.stringValue
    }

    @Test("a reserved connector waits for Josev's authorization and is free again when Josev says so")
    func reservationFlow() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let modbusPort = try freeLoopbackPort()
        let daemon = try DaemonProcess(config: Self.config(brokerPort: broker.port, modbusPort: modbusPort), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        let modbus = try await ModbusClient.connect(host: "127.0.0.1", port: modbusPort)
        #expect(try await modbus.readHoldingRegisters(unit: 1, address: 1200, count: 1) == [1])

        try josev.send(Self.connectorStatus("reserved"))
        #expect(await waitUntil { daemon.reservedConnectors(Self.evse) == [1] }, "\(daemon.log)")
        let status = try await daemon.companion(["status"])
        #expect(status.output.contains("EVSE \(Self.evse): evse_ready") && status.output.contains("reserved (connector 1)"), "\(status.output)")
        #expect(try await modbus.readHoldingRegisters(unit: 1, address: 1200, count: 1) == [0], "not available to the public")
        #expect(try await modbus.readString(unit: 1, address: 1201, count: 5) == "A", "the mode-3 state stays the pilot's")
        // cs_status_and_limits has no reserved code: the EVSE stays ready for the reservation's driver.
        let limits = try #require(try await josev.ask("cs_status_and_limits"))
        #expect(limits["data"]?["evses"]?.arrayValue?.first?["status_code"] == "evse_ready")

        // Another driver plugs in: free vend does not start the session.
        #expect(try await daemon.companion(["plug", "--evse", Self.evse]).status == 0)
        let pwm = try #require(try await josev.ask("cp_pwm", data: ["evse_id": .string(Self.evse), "hlc": false, "current": 16, "error_state": false, "fault_state": false]))
        #expect(pwm["data"]?["status"] == "valid")
        #expect(try await daemon.companion(["ev", "--evse", Self.evse, "16"]).status == 0)
        #expect(await waitUntil { josev.messages(name: "cp_status", type: "update").last?["data"]?["state"] == "C2" })
        #expect(try await Self.contactor(josev) == "opened")
        // A local card is not accepted by the station: Josev decides (only OCPP knows whose reservation it is).
        let card = try await daemon.companion(["rfid", "--evse", Self.evse, Self.localCard])
        #expect(card.output.contains("asking Josev"), "\(card.output)")
        #expect(await waitUntil { !josev.messages(name: "authorization", type: "request").isEmpty })
        #expect(josev.messages(name: "authorization", type: "update").isEmpty, "no local acceptance")
        #expect(try await Self.contactor(josev) == "opened")
        let request = try #require(josev.messages(name: "authorization", type: "request").first)
        try josev.send(Envelope(
            id: try #require(request["id"]?.stringValue), name: "authorization", type: .response,
            data: ["status": "accepted", "evse_id": .string(Self.evse)]))
        // The reservation's driver: authorized by Josev, the contactor closes and the socket counts as available again.
        #expect(await waitUntil { josev.messages(name: "cs_contactor_status", type: "update").contains { $0["data"]?["status"] == "closed" } }, "\(daemon.log)")
        #expect(try await modbus.readHoldingRegisters(unit: 1, address: 1200, count: 1) == [1])

        // Josev reports the connector occupied: the reservation is over.
        try josev.send(Self.connectorStatus("occupied"))
        #expect(await waitUntil { daemon.reservedConnectors(Self.evse) == [] }, "\(daemon.log)")
        #expect(!(try await daemon.companion(["status"]).output.contains("reserved")))
        #expect(try await daemon.companion(["unplug", "--evse", Self.evse]).status == 0)
        await modbus.close()
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    @Test("a cancelled reservation lets free vend charge again")
    func cancelledReservation() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: Self.config(brokerPort: broker.port, modbusPort: try freeLoopbackPort()), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        try josev.send(Self.connectorStatus("reserved"))
        #expect(await waitUntil { daemon.reservedConnectors(Self.evse) == [1] }, "\(daemon.log)")
        #expect(try await daemon.companion(["plug", "--evse", Self.evse]).status == 0)
        _ = try await josev.ask("cp_pwm", data: ["evse_id": .string(Self.evse), "hlc": false, "current": 16, "error_state": false, "fault_state": false])
        #expect(try await daemon.companion(["ev", "--evse", Self.evse, "16"]).status == 0)
        #expect(await waitUntil { josev.messages(name: "cp_status", type: "update").last?["data"]?["state"] == "C2" })
        #expect(try await Self.contactor(josev) == "opened")
        // CancelReservation: Josev reports the connector available; free vend applies again.
        try josev.send(Self.connectorStatus("available"))
        #expect(await waitUntil { josev.messages(name: "cs_contactor_status", type: "update").contains { $0["data"]?["status"] == "closed" } }, "\(daemon.log)")
        #expect(daemon.reservedConnectors(Self.evse) == [], "\(daemon.log)")
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    /// The stored reservation of connector 1 (the Unix ms of Josev's report), read from the daemon's database.
    static func storedReservation(_ directory: TemporaryDirectory) -> String? {
        guard let store = try? Store(path: directory.file("state") + "/cs-companion.db", readOnly: true) else { return nil }
        defer { store.close() }
        return try? store.setting("reservation/\(evse)/1")
    }

    static func setStoredReservation(_ directory: TemporaryDirectory, _ value: String) throws {
        let store = try Store(path: directory.file("state") + "/cs-companion.db")
        defer { store.close() }
        try store.setSetting("reservation/\(evse)/1", value)
    }

    @Test("a reservation survives a SIGKILL and a restart (free vend stays shut); its timeout counts from Josev's report")
    func reservationSurvivesRestart() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let timeout = 15
        let config = Self.config(brokerPort: broker.port, modbusPort: try freeLoopbackPort(), reservationTimeout: timeout)
        let daemon = try DaemonProcess(config: config, directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        try josev.send(Self.connectorStatus("reserved"))
        #expect(await waitUntil { daemon.reservedConnectors(Self.evse) == [1] }, "\(daemon.log)")
        #expect(await waitUntil { Self.storedReservation(directory) != nil })
        let stored = Self.storedReservation(directory)
        daemon.signal(SIGKILL)
        #expect(await daemon.waitForExit() == 128 + SIGKILL)

        // Josev does not report the reservation again: the station restores it before READY.
        // The store is read before the control socket listens: its first answer shows it restored.
        let restarted = try DaemonProcess(config: config, directory: directory)
        #expect(await waitUntil { restarted.status() != nil }, "\(restarted.log)")
        #expect(restarted.reservedConnectors(Self.evse) == [1], "\(String(describing: restarted.status()))")
        #expect(await restarted.waitUntilReady(), "\(restarted.log)")
        #expect(try await restarted.companion(["status"]).output.contains("reserved (connector 1)"))
        #expect(try await restarted.companion(["plug", "--evse", Self.evse]).status == 0)
        _ = try await josev.ask(
            "cp_pwm", data: ["evse_id": .string(Self.evse), "hlc": false, "current": 16, "error_state": false, "fault_state": false])
        #expect(try await restarted.companion(["ev", "--evse", Self.evse, "16"]).status == 0)
        #expect(await waitUntil { josev.messages(name: "cp_status", type: "update").last?["data"]?["state"] == "C2" })
        #expect(try await Self.contactor(josev) == "opened", "free vend must not open a reserved connector")
        #expect(stored != nil && Self.storedReservation(directory) == stored, "the time of Josev's report is kept")
        #expect(await restarted.stop() == 0)

        // Started again after reservation_timeout from Josev's report (not from the restart): dropped before READY.
        // The daemon's wall clock cannot be moved from here (another process); instead the stored
        // time of Josev's report moves back by the timeout (and half a second), which is the age
        // the next start sees after waiting that long.
        let reportedAt = try #require(stored.flatMap { Int64($0) })
        try Self.setStoredReservation(directory, String(reportedAt - Int64(timeout) * 1000 - 500))
        // Dropped before the control socket listens (so before READY=1): its first answer shows none.
        let third = try DaemonProcess(config: config, directory: directory)
        #expect(await waitUntil { third.status() != nil }, "\(third.log)")
        #expect(third.reservedConnectors(Self.evse) == [], "\(String(describing: third.status()))")
        #expect(await third.waitUntilReady(), "\(third.log)")
        #expect(Self.storedReservation(directory) == nil)
        #expect(!(try await third.companion(["status"]).output.contains("reserved")))
        let mark = josev.messages.count
        #expect(try await third.companion(["plug", "--evse", Self.evse]).status == 0)
        _ = try await josev.ask(
            "cp_pwm", data: ["evse_id": .string(Self.evse), "hlc": false, "current": 16, "error_state": false, "fault_state": false])
        #expect(try await third.companion(["ev", "--evse", Self.evse, "16"]).status == 0)
        #expect(await waitUntil {
            josev.messages[mark...].contains { $0["name"] == "cs_contactor_status" && $0["data"]?["status"] == "closed" }
        }, "free vend charges again: \(third.log)")
        await josev.close()
        #expect(await third.stop() == 0)
    }

    @Test("josev-sim plays a reservation end to end", .timeLimit(.minutes(2)))
    func josevSimScenario() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: Self.config(brokerPort: broker.port, modbusPort: try freeLoopbackPort()), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let (status, output) = try await Repository.run("josev-sim", [
            "session", "--scenario", "reservation", "--evse-id", Self.evse, "--host", broker.host, "--port", String(broker.port),
            "--schema-dir", Repository.schemas, "--control-socket", daemon.controlSocket, "--timeout", "10",
        ])
        #expect(status == 0, "josev-sim reservation:\n\(output)\n--- daemon log:\n\(daemon.log)")
        #expect(output.contains("PASS reservation"), "\(output)")
        #expect(!output.contains("✗"), "\(output)")
        // No payload refused as invalid, no message the daemon refused to send (an error).
        #expect(daemon.logEntries(messageID: MessageID.payloadInvalid.hex).isEmpty, "\(daemon.log)")
        #expect(daemon.logEntries(level: "error").isEmpty, "\(daemon.log)")
        #expect(daemon.messageCount("rejected") == 0)
        #expect(await daemon.stop() == 0)
    }
}
