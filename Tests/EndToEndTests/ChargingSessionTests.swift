import Foundation
import JSONSchema
import JosevContract
import Store
import Testing
import TestSupport

/// A charging session driven by the test as Josev; the contactor opens on a fault.
@Suite("charging sessions (cs-companiond)", .timeLimit(.minutes(2)))
struct ChargingSessionTests {
    @Test("a fault during charging opens the contactor at once and is reported")
    func faultOpensContactor() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: stationConfigYAML(port: broker.port, logLevel: "info"), directory: directory)
        #expect(await daemon.waitUntilReady())
        let josev = try await JosevTestClient(broker: broker)
        let evse = "DE*TST*E0001*1"

        // Basic charging: plug, PWM 16 A, a local card is not configured → free of tokens? No: ask Josev.
        #expect(try await daemon.companion(["plug", "--evse", evse]).status == 0)
        let pwm = try #require(try await josev.ask("cp_pwm", data: ["evse_id": .string(evse), "hlc": false, "current": 16, "error_state": false, "fault_state": false]))
        #expect(pwm["data"]?["status"] == "valid", "\(pwm)")
        #expect(try await daemon.companion(["rfid", "--evse", evse, "04AABBCC"]).status == 0)
        // The CS asks Josev to authorize the card; answer it as Josev does.
        #expect(await waitUntil { !josev.messages(name: "authorization", type: "request").isEmpty })
        let request = try #require(josev.messages(name: "authorization", type: "request").first)
        #expect(request["data"]?["id_token"] == "04AABBCC")
        try josev.send(.init(id: try #require(request["id"]?.stringValue), name: "authorization", type: .response, data: ["status": "accepted", "evse_id": .string(evse)]))
        #expect(try await daemon.companion(["ev", "--evse", evse, "16"]).status == 0)
        #expect(await waitUntil { josev.messages(name: "cs_contactor_status", type: "update").contains { $0["data"]?["status"] == "closed" } }, "\(daemon.log)")

        #expect(try await daemon.companion(["fault", "--evse", evse, "rcd"]).status == 0)
        #expect(await waitUntil { josev.messages(name: "hardware_fault", type: "update").contains { $0["data"]?["fault_name"] == "ground_fault" } }, "\(daemon.log)")
        #expect(josev.messages(name: "cs_contactor_status", type: "update").last?["data"]?["status"] == "opened")
        #expect(await waitUntil {
            josev.messages(name: "cs_status_and_limits", type: "update").last?["data"]?["evses"]?.arrayValue?.first?["status_code"] == "evse_malfunction"
        })
        // While faulted the contactor stays open, whatever Josev asks.
        let status = try #require(try await josev.ask("cs_contactor_status", data: ["evse_id": .string(evse)]))
        #expect(status["data"]?["status"] == "opened")
        await josev.close()
        #expect(await daemon.stop() == 0)
        // The card's UID is logged as its last four characters only.
        #expect(daemon.log.contains("…BBCC"), "\(daemon.log)")
        #expect(!daemon.log.contains("04AABBCC"), "the card UID reached the log")
    }
}

@Suite("requests in the wrong place", .timeLimit(.minutes(1)))
struct ForeignRequestTests {
    @Test("a foreign EVSE gets the rejecting answer its schema offers, or none; updates are never answered")
    func foreignEVSE() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: stationConfigYAML(port: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady())
        let josev = try await JosevTestClient(broker: broker)
        let foreign: JSONValue = "DE*XXX*E9999*1"

        let pwm = try #require(try await josev.ask("cp_pwm", data: ["evse_id": foreign, "hlc": true, "error_state": false, "fault_state": false]))
        #expect(pwm["data"]?["status"] == "invalid")
        #expect(try schemaErrors(pwm, name: "cp_pwm", type: .response).isEmpty)
        let stop = try #require(try await josev.ask("stop_charging", data: ["evse_id": foreign]))
        #expect(stop["data"]?["status"] == "rejected")
        let availability = try #require(try await josev.ask("change_availability", data: ["evse_id": foreign, "operational_status": "inoperative"]))
        #expect(availability["data"]?["status"] == "rejected")
        let contactor = try #require(try await josev.ask("cs_contactor_status", data: ["evse_id": foreign]))
        #expect(contactor["data"]?["status"] == "error")
        // meter_values has no rejecting answer: nothing comes.
        #expect(try await josev.ask("meter_values", data: ["evse_id": foreign, "timestamp": "2026-11-21T10:00:00.000Z"], timeout: .seconds(1)) == nil)

        // Updates are consumed, never answered; a foreign one is ignored.
        let before = josev.messages.count
        let consumed = try #require(daemon.messageCount("consumed"))
        let ignored = try #require(daemon.messageCount("ignored"))
        try josev.send(.update(name: "hlc_charging", data: ["evse_id": "DE*TST*E0001*1", "status": true]))
        try josev.send(.update(name: "hlc_charging", data: ["evse_id": foreign, "status": true]))
        #expect(await waitUntil { daemon.messageCount("consumed") == consumed + 1 && daemon.messageCount("ignored") == ignored + 1 },
            "the own update consumed, the foreign one ignored: \(String(describing: daemon.status()?["messages"]))")
        #expect(!josev.messages[before...].contains { $0["type"] == "response" })
        // A response whose id the CS never asked for is ignored.
        try josev.send(.init(id: EnvelopeID.random(), name: "authorization", type: .response, data: ["status": "accepted"]))
        #expect(try await josev.ask("cs_parameters") != nil)
        await josev.close()
        #expect(await daemon.stop() == 0)
    }
}

@Suite("charging sessions recorded", .timeLimit(.minutes(1)))
struct SessionRecordTests {
    /// The recorded session of transaction `id` (read from the daemon's database: `recordedSessions`).
    static func session(_ id: String, _ database: String) -> ChargingSessionRecord? {
        (try? recordedSessions(database))?.first { $0.transactionID == id }
    }

    @Test("a transaction becomes a recorded session; one cut by SIGKILL is closed at the next start")
    func recordedAndRecovered() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let config = stationConfigYAML(port: broker.port, logLevel: "info")
        let evse = "DE*TST*E0001*1"
        var daemon = try DaemonProcess(config: config, directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        let database = directory.file("state") + "/cs-companion.db"

        // A completed transaction.
        try josev.send(.update(name: "transaction_status", data: [
            "transaction_id": "tx-1", "status": "started", "evse_id": .string(evse), "id_token": "04AA", "token_type": "ISO14443",
        ]))
        #expect(await waitUntil { Self.session("tx-1", database)?.status == .active }, "\(daemon.log)")
        try josev.send(.update(name: "transaction_status", data: ["transaction_id": "tx-1", "status": "ended", "evse_id": .string(evse)]))
        #expect(await waitUntil { Self.session("tx-1", database)?.status == .completed }, "\(daemon.log)")
        let json = try await Repository.run("cs-companion", ["sessions", "--db", database, "--format", "json"])
        #expect(json.status == 0, "\(json.output)")
        #expect(json.output.contains("\"COMPLETED\""), "\(json.output)")
        #expect(json.output.contains("tx-1"), "\(json.output)")
        let ocpi = try await Repository.run("cs-companion", [
            "sessions", "--db", database, "--format", "ocpi", "--country-code", "DE", "--party-id", "CSC", "--location-id", "LOC1",
            "--currency", "EUR",
        ])
        #expect(ocpi.status == 0, "\(ocpi.output)")
        #expect(ocpi.output.contains("\"evse_uid\""), "\(ocpi.output)")
        #expect(ocpi.output.contains("\"RFID\""), "\(ocpi.output)")

        // A transaction running when the daemon is killed.
        try josev.send(.update(name: "transaction_status", data: [
            "transaction_id": "tx-2", "status": "started", "evse_id": .string(evse), "id_token": "04BB", "token_type": "ISO14443",
        ]))
        #expect(await waitUntil { Self.session("tx-2", database)?.status == .active }, "\(daemon.log)")
        daemon.signal(SIGKILL)
        _ = await daemon.waitForExit()
        daemon = try DaemonProcess(config: config, directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        #expect(await waitUntil { Self.session("tx-2", database)?.closedByRecovery == true }, "\(daemon.log)")
        let after = try await Repository.run("cs-companion", ["sessions", "--db", database, "--format", "json"])
        #expect(!after.output.contains("\"ACTIVE\""), "\(after.output)")
        #expect(after.output.contains("tx-2"), "\(after.output)")
        await josev.close()
        #expect(await daemon.stop() == 0)
    }
}
