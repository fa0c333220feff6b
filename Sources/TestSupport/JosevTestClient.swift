import Foundation
import JSONSchema
import JosevContract
import Mosquitto
import Synchronization

/// Plays Josev in tests: a MosquittoClient subscribed to `cs/josev` that records everything and
/// asks by id.
public final class JosevTestClient: Sendable {
    public let client: MosquittoClient
    private let inbox = Inbox()

    final class Inbox: Sendable {
        let messages = Mutex<[JSONValue]>([])
    }

    public init(broker: TestBroker) async throws {
        client = try MosquittoClient(configuration: MosquittoConfiguration(
            host: broker.host, port: broker.port, clientID: "josev-test-\(UUID().uuidString.prefix(8))",
            reconnect: ReconnectPolicy(initialDelay: .milliseconds(100), multiplier: 2, maximumDelay: .milliseconds(500))))
        try client.subscribe(Topic.csToJosev, qos: .atLeastOnce)
        try await client.connect()
        let messages = client.messages
        Task { [inbox] in
            for await message in messages {
                if let json = try? JSONValue.parse(message.payload) { inbox.messages.withLock { $0.append(json) } }
            }
        }
    }

    public var messages: [JSONValue] { inbox.messages.withLock { $0 } }

    public func messages(name: String, type: String) -> [JSONValue] {
        messages.filter { $0["name"]?.stringValue == name && $0["type"]?.stringValue == type }
    }

    public func send(raw payload: [UInt8]) throws {
        try client.publish(topic: Topic.josevToCS, payload: payload, qos: .atLeastOnce)
    }

    public func send(_ envelope: Envelope) throws {
        try send(raw: envelope.json.serializedBytes())
    }

    /// Sends a request and waits for the response with the same id.
    public func ask(_ name: String, data: JSONObject = [:], timeout: Duration = .seconds(10)) async throws -> JSONValue? {
        let request = Envelope.request(name: name, data: data)
        try send(request)
        var answer: JSONValue?
        await waitUntil(timeout: timeout) {
            answer = self.messages.first { $0["id"]?.stringValue == request.id && $0["type"]?.stringValue == "response" }
            return answer != nil
        }
        return answer
    }

    /// After a broker restart: publishes `marker` on cs/josev until it comes back, i.e. until this
    /// client is connected and subscribed again. Returns whether it did within `timeout`.
    public func waitUntilBack(marker: String, timeout: Duration = .seconds(10)) async -> Bool {
        await waitUntil(timeout: timeout, interval: .milliseconds(100)) {
            if self.messages.contains(where: { $0["marker"]?.stringValue == marker }) { return true }
            try? self.client.publish(topic: Topic.csToJosev, payload: Array("{\"marker\":\"\(marker)\"}".utf8), qos: .atLeastOnce)
            return false
        }
    }

    public func close() async { await client.disconnect() }
}

/// The errors of a message the CS sent against its schema (the strict reading), from the
/// repository's `schemas/`.
public func schemaErrors(_ message: JSONValue, name: String, type: MessageType) throws -> [ValidationError] {
    let catalog = try SchemaCatalog(directory: Repository.schemas)
    guard let errors = catalog.validate(message, name: name, type: type, for: .sent) else {
        throw TestSupportError("no schema for \(name) \(type)")
    }
    return errors
}
