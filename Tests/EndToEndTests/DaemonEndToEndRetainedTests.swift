import Foundation
import JSONSchema
import JosevContract
import Mosquitto
import Synchronization
import Testing
import TestSupport

/// Issue 18, finding 4, with the real daemon and a real mosquitto: a request left retained on
/// `josev/cs` is stale; the daemon publishes nothing retained on `cs/josev`.
@Suite("cs-companiond end to end: retained messages", .timeLimit(.minutes(2)))
struct DaemonEndToEndRetainedTests {
    static let evse = "DE*TST*E0001*1"

    @Test("a retained change_availability inoperative published before the start is neither acted on nor answered; nothing on cs/josev is retained")
    func retainedRequestIsStale() async throws {
        let broker = try await TestBroker()
        let josev = try await JosevTestClient(broker: broker)
        let stale = Envelope.request(
            name: "change_availability", data: ["evse_id": .string(Self.evse), "connector_id": 1, "operational_status": "inoperative"])
        try josev.client.publish(topic: Topic.josevToCS, payload: stale.json.serializedBytes(), qos: .atLeastOnce, retain: true)

        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: stationConfigYAML(port: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "daemon not ready: \(daemon.log)")
        // The broker delivers the retained request at the daemon's subscribe: counted as ignored.
        #expect(await waitUntil { (daemon.messageCount("ignored") ?? 0) >= 1 }, "\(String(describing: daemon.status()?["messages"]))")

        let status = try #require(try await josev.ask("cs_status_and_limits"), "no answer: \(daemon.log)")
        let first = try #require(status["data"]?["evses"]?.arrayValue?.first { $0["evse_id"] == .string(Self.evse) })
        #expect(first["status_code"] == "evse_ready")
        #expect(!josev.messages.contains { $0["id"] == .string(stale.id) }, "the stale request was answered")
        #expect(daemon.messageCount("answered") == 1)

        // A late subscriber to cs/josev gets no retained message: the marker, retained on a topic
        // subscribed after cs/josev, arrives after whatever cs/josev holds.
        let marker = "test/retained-marker"
        let seen = Mutex<[(topic: String, retain: Bool)]>([])
        let late = try MosquittoClient(configuration: MosquittoConfiguration(
            host: broker.host, port: broker.port, clientID: "late-\(UUID().uuidString.prefix(8))"))
        try josev.client.publish(topic: marker, payload: Array("m".utf8), qos: .atLeastOnce, retain: true)
        try late.subscribe(Topic.csToJosev, qos: .atLeastOnce)
        try late.subscribe(marker, qos: .atLeastOnce)
        try await late.connect()
        let messages = late.messages
        let reader = Task {
            for await message in messages {
                seen.withLock { $0.append((message.topic, message.retain)) }
                if message.topic == marker { return }
            }
        }
        #expect(await waitUntil { seen.withLock { $0.contains { $0.topic == marker } } }, "the marker never came")
        reader.cancel()
        #expect(seen.withLock { $0.filter { $0.topic == Topic.csToJosev && $0.retain }.isEmpty })

        await late.disconnect()
        await josev.close()
        #expect(await daemon.stop() == 0)
    }
}
