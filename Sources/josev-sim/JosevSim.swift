// josev-sim: plays Josev over MQTT against a CS (cs-companiond), for demos and tests.
import ArgumentParser
import Foundation
import JSONSchema
import JosevContract
import Mosquitto
import Synchronization

@main
struct JosevSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "josev-sim",
        abstract: "Plays Josev's side of the MQTT contract against a charging station.",
        subcommands: [Startup.self, Ask.self, Session.self, Load.self],
        defaultSubcommand: Startup.self
    )
}

struct Connection: ParsableArguments {
    @Option(name: .long, help: "MQTT broker host.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "MQTT broker port.")
    var port = 1883

    @Option(name: .long, help: "Seconds to wait for each answer (Josev waits 30 s).")
    var timeout: Double = 10

    @Option(name: .long, help: "Directory of the bundled schemas, to check every answer.")
    var schemaDir: String?

    @Flag(name: .long, help: "Print the answers as compact JSON, one per line.")
    var compact = false
}

/// A Josev stand-in: one MQTT client subscribed to `cs/josev` that asks and waits by `id`.
final class JosevPeer: Sendable {
    let client: MosquittoClient
    let schemas: SchemaBook?
    let pending = Waiters()

    /// Requests waiting for their answer, by id.
    final class Waiters: Sendable {
        private let waiting = Mutex<[String: CheckedContinuation<JSONValue?, Never>]>([:])

        func add(_ id: String, _ continuation: CheckedContinuation<JSONValue?, Never>) {
            waiting.withLock { $0[id] = continuation }
        }

        /// Resumes the waiter of `id`, if any is still waiting.
        func resolve(_ id: String, with value: JSONValue?) {
            waiting.withLock { $0.removeValue(forKey: id) }?.resume(returning: value)
        }
    }

    init(_ connection: Connection) async throws {
        client = try MosquittoClient(configuration: MosquittoConfiguration(
            host: connection.host, port: connection.port, clientID: "josev-sim-\(ProcessInfo.processInfo.processIdentifier)"))
        schemas = try SchemaBook.load(connection.schemaDir)
        try client.subscribe(Topic.csToJosev, qos: .atLeastOnce)
        try await client.connect()
        let messages = client.messages
        Task { [pending] in
            for await message in messages {
                guard let json = try? JSONValue.parse(message.payload), let id = json["id"]?.stringValue,
                    json["type"]?.stringValue == "response"
                else { continue }
                pending.resolve(id, with: json)
            }
        }
    }

    /// Sends a request and returns the answer with the same id, or nil after the timeout.
    func ask(_ name: String, data: JSONObject = [:], timeout: Double) async throws -> JSONValue? {
        let request = Envelope.request(name: name, data: data)
        return await withCheckedContinuation { continuation in
            pending.add(request.id, continuation)
            do {
                try client.publish(topic: Topic.josevToCS, payload: request.json.serializedBytes(), qos: .atLeastOnce)
            } catch {
                pending.resolve(request.id, with: nil)
                return
            }
            Task { [pending] in
                try? await Task.sleep(for: .seconds(timeout))
                pending.resolve(request.id, with: nil)
            }
        }
    }

    /// Schema errors of an answer, as printable lines (empty when valid or no schemas known).
    func check(_ answer: JSONValue, name: String) -> [String] {
        switch schemas?.check(answer, name: name, type: .response) {
        case .invalid(let errors)?: return errors
        case .noSchema(let reason)?: return ["no schema for \(name) response: \(reason)"]
        case .valid?, nil: return []
        }
    }
}

/// Start-up as Josev does it: cs_parameters, then cs_status_and_limits.
struct Startup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Ask cs_parameters and cs_status_and_limits, as Josev does at start-up.")

    @OptionGroup var connection: Connection

    func run() async throws {
        let peer = try await JosevPeer(connection)
        var failures = 0
        for name in ["cs_parameters", "cs_status_and_limits"] {
            print("→ \(name) request")
            guard let answer = try await peer.ask(name, timeout: connection.timeout) else {
                print("✗ no \(name) response within \(connection.timeout) s")
                failures += 1
                continue
            }
            print("← \(name) response")
            print(answer.serialized(pretty: !connection.compact))
            let problems = peer.check(answer, name: name)
            if problems.isEmpty {
                print("✓ \(name) response is valid")
            } else {
                failures += 1
                for problem in problems { print("✗ \(problem)") }
            }
        }
        await peer.client.disconnect()
        if failures > 0 { throw ExitCode(1) }
    }
}

/// One request by name.
struct Ask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send one request and print the answer.")

    @OptionGroup var connection: Connection

    @Argument(help: "Message name, e.g. cs_status_and_limits.")
    var name: String

    @Option(name: .long, help: "The request's data as JSON (default {}).")
    var data = "{}"

    func run() async throws {
        guard case .object(let object) = try JSONValue.parse(data) else { throw ValidationError("--data must be a JSON object") }
        let peer = try await JosevPeer(connection)
        let answer = try await peer.ask(name, data: object, timeout: connection.timeout)
        await peer.client.disconnect()
        guard let answer else {
            print("no \(name) response within \(connection.timeout) s")
            throw ExitCode(1)
        }
        print(answer.serialized(pretty: !connection.compact))
        let problems = peer.check(answer, name: name)
        for problem in problems { print("✗ \(problem)") }
        if !problems.isEmpty { throw ExitCode(1) }
    }
}


