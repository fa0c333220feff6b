import Foundation
import JSONSchema
import JosevContract
import Testing
import TestSupport

/// The station uplink (issue 17, point 5): what the daemon publishes under cs-companion/<serial>/
/// on its broker, seen by an independent subscriber (mosquitto_sub).
@Suite("station uplink (cs-companiond)", .timeLimit(.minutes(2)))
struct UplinkTests {
    static let evse = "DE*TST*E0001*1"
    static let base = "cs-companion/TEST-0001"

    static func config(port: Int) -> String {
        stationConfigYAML(port: port, logLevel: "info") + """

            uplink:
              heartbeat_interval: 10
              session_scan_interval: 0.2
              ocpi: {country_code: DE, party_id: CSC, location_id: LOC1}

            """
    }

    static func json(_ message: MQTTProbe.Message) -> JSONValue? { try? JSONValue.parse(Array(message.payload.utf8)) }

    @Test("online, every EVSE, an EVSE's change, sessions as OCPI objects with the stored id; offline as the will after SIGKILL")
    func publishesTheStation() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let probe = try await MQTTProbe(broker: broker, filter: Self.base + "/#")
        let daemon = try DaemonProcess(config: Self.config(port: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)

        #expect(await waitUntil { probe.messages.contains { $0.topic == Self.base + "/status" && $0.payload == "online" } }, "\(probe.transcript)")
        let evseTopic = Self.base + "/evse/" + Self.evse
        #expect(await waitUntil { probe.messages.contains { $0.topic == evseTopic } }, "\(probe.transcript)")
        let first = try #require(probe.messages.first { $0.topic == evseTopic }.flatMap(Self.json))
        #expect(first["evse_id"]?.stringValue == Self.evse)
        #expect(first["faults"]?.arrayValue?.isEmpty == true)
        #expect(first["offered_current"] != nil && first["energy_wh"] != nil && first["setpoint_fallback"] != nil)

        // A change of the EVSE's state is published without waiting for the heartbeat.
        #expect(try await daemon.companion(["fault", "--evse", Self.evse, "rcd"]).status == 0)
        #expect(
            await waitUntil {
                probe.messages.contains { $0.topic == evseTopic && Self.json($0)?["faults"]?.arrayValue?.isEmpty == false }
            }, "\(probe.transcript)")
        #expect(try await daemon.companion(["clear-fault", "--evse", Self.evse]).status == 0)

        // A session: ACTIVE, then COMPLETED, under one id (the stored session's).
        try josev.send(.update(name: "transaction_status", data: [
            "transaction_id": "tx-up-1", "status": "started", "evse_id": .string(Self.evse), "id_token": "04AA", "token_type": "ISO14443",
        ]))
        let sessions = Self.base + "/sessions"
        #expect(await waitUntil { probe.messages.contains { $0.topic == sessions && Self.json($0)?["status"] == "ACTIVE" } }, "\(probe.transcript)")
        try josev.send(.update(name: "transaction_status", data: ["transaction_id": "tx-up-1", "status": "ended", "evse_id": .string(Self.evse)]))
        #expect(await waitUntil { probe.messages.contains { $0.topic == sessions && Self.json($0)?["status"] == "COMPLETED" } }, "\(probe.transcript)")
        let objects = probe.messages.filter { $0.topic == sessions }.compactMap(Self.json)
        let ids = Set(objects.compactMap { $0["id"]?.stringValue })
        #expect(ids.count == 1, "\(objects)")
        let completed = try #require(objects.last { $0["status"] == "COMPLETED" })
        #expect(completed["country_code"] == "DE" && completed["party_id"] == "CSC" && completed["location_id"] == "LOC1")
        #expect(completed["evse_uid"]?.stringValue == Self.evse)
        let stored = try await Repository.run("cs-companion", ["sessions", "--db", directory.file("state") + "/cs-companion.db", "--format", "json"])
        #expect(ids.allSatisfy { stored.output.contains($0) }, "\(stored.output)")

        // A job status the daemon sends Josev on cs/josev goes up too, retained (here one written
        // as the daemon writes it; the uplink only reads cs/josev).
        try MQTTProbe.publish(
            broker: broker, topic: Topic.csToJosev,
            payload: #"{"id":"6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b","name":"logs_status","type":"update","data":{"request_id":7,"status":"uploaded"}}"#)
        let jobs = Self.base + "/jobs/logs"
        #expect(await waitUntil { probe.messages.contains { $0.topic == jobs && Self.json($0)?["request_id"] == 7 } }, "\(probe.transcript)")
        #expect(probe.messages.first { $0.topic == jobs }.flatMap(Self.json)?["status"] == "uploaded")

        // The daemon dies without a DISCONNECT: the broker publishes the will, retained.
        await josev.close()
        daemon.signal(SIGKILL)
        _ = await daemon.waitForExit()
        let late = try await MQTTProbe(broker: broker, filter: Self.base + "/status")
        #expect(await waitUntil { late.messages.contains { $0.payload == "offline" && $0.retain } }, "\(late.transcript)")
        late.stop()
        probe.stop()
    }

    @Test("a clean stop publishes offline; after a restart the watermark holds: an earlier session comes again at most once")
    func cleanStopAndRestart() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        var daemon = try DaemonProcess(config: Self.config(port: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        var josev = try await JosevTestClient(broker: broker)
        let probe = try await MQTTProbe(broker: broker, filter: Self.base + "/#")
        let sessions = Self.base + "/sessions"
        /// Runs a transaction; true once a COMPLETED session other than `except` was published.
        func completed(_ transaction: String, josev: JosevTestClient, except: String? = nil) async throws -> Bool {
            try josev.send(.update(name: "transaction_status", data: [
                "transaction_id": .string(transaction), "status": "started", "evse_id": .string(Self.evse), "id_token": "04AB",
                "token_type": "ISO14443",
            ]))
            try josev.send(.update(name: "transaction_status", data: ["transaction_id": .string(transaction), "status": "ended", "evse_id": .string(Self.evse)]))
            return await waitUntil {
                probe.messages.contains { message in
                    guard message.topic == sessions, let object = Self.json(message) else { return false }
                    return object["status"] == "COMPLETED" && object["id"]?.stringValue != except
                }
            }
        }
        #expect(try await completed("tx-up-2", josev: josev), "\(probe.transcript)")
        let firstID = try #require(probe.messages.last { $0.topic == sessions }.flatMap(Self.json)?["id"]?.stringValue)
        await josev.close()
        #expect(await daemon.stop() == 0)
        #expect(await waitUntil { probe.messages.last { $0.topic == Self.base + "/status" }?.payload == "offline" }, "\(probe.transcript)")
        let watermark = try String(contentsOfFile: directory.file("state") + "/uplink.state", encoding: .utf8)
        #expect(Int64(watermark.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 > 0, "\(watermark)")
        let before = probe.messages.count

        daemon = try DaemonProcess(config: Self.config(port: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        josev = try await JosevTestClient(broker: broker)
        // A second session after the restart; once it is seen, the restart's first scan is over.
        #expect(try await completed("tx-up-3", josev: josev, except: firstID), "\(probe.transcript)")
        let after = probe.messages.dropFirst(before)
        #expect(after.first { $0.topic == Self.base + "/status" }?.payload == "online", "\(probe.transcript)")
        let repeats = after.filter { $0.topic == sessions && Self.json($0)?["id"]?.stringValue == firstID }
        #expect(repeats.count <= 1, "\(repeats)")
        await josev.close()
        #expect(await daemon.stop() == 0)
        probe.stop()
    }
}
