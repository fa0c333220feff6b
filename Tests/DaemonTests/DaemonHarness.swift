import Foundation
import JSONSchema
import JosevContract
import Mosquitto
import Synchronization
import TestSupport

/// Paths of the repository, found from this file.
enum Repository {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static var schemas: String { root + "/schemas" }
    static var exampleConfig: String { root + "/etc/cs-companiond.yaml" }

    /// A built product (`cs-companiond`, `cs-companion`, `josev-sim`) next to the test bundle.
    static func product(_ name: String) throws -> String {
        var candidates: [String] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: executable).deletingLastPathComponent().path + "/" + name)
        }
        candidates.append(root + "/.build/debug/" + name)
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        throw TestSupportError("\(name) is not built (looked in \(candidates)); run `swift build` first")
    }

    /// Runs a built product to its end: exit status and stdout + stderr.
    static func run(_ name: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Command.capture(try product(name), arguments)
    }
}

/// A station configuration for tests: one three-phase AC EVSE and one DC EVSE (with BPT).
func stationConfigYAML(port: Int, acMaxCurrent: Int = 32, extraMQTT: String = "", logLevel: String = "debug") -> String {
    """
    station:
      serial_number: "TEST-0001"
      vendor: "Test Vendor"
      model: "Test Model"
      firmware_version: "9.8.7"
      hardware_version: "R2"
    mqtt:
      host: 127.0.0.1
      port: \(port)
      client_id: cs-under-test
      keepalive: 10
      reconnect:
        initial_delay: 0.2
        max_delay: 1
    \(extraMQTT)
    evses:
      - evse_id: "DE*TST*E0001*1"
        network_interface: eth1
        supports_eim: true
        ac:
          nominal_voltage: 230
          max_current: \(acMaxCurrent)
          phases: 3
        connectors:
          - id: 1
            connector_type: AC_three_phase_core
            control_mode: dynamic
      - evse_id: "DE*TST*E0001*2"
        network_interface: eth2
        supports_eim: false
        dc:
          max_current: 200
          min_current: 0
          max_voltage: 920
          min_voltage: 150
          max_power: 150000
          peak_current_ripple: 2
          current_reg_tolerance: 1
        dc_bpt:
          max_discharge_power: 50000
          max_discharge_current: 100
          bpt_channel: unified
        connectors:
          - id: 1
            connector_type: DC_extended
            control_mode: scheduled
    log_level: \(logLevel)
    """
}

/// The real `cs-companiond` binary, started as a child process with its stderr in a file.
/// Spawned with `ChildProcess` (posix_spawn + waitpid on its pid, an empty signal mask), not
/// Foundation's `Process`, whose exit detection depends on SIGCHLD reaching a thread.
final class DaemonProcess: Sendable {
    let process: ChildProcess
    let logFile: String
    let directory: TemporaryDirectory

    init(
        config: String, directory: TemporaryDirectory, arguments: [String] = [], environment: [String: String] = [:]
    ) throws {
        self.directory = directory
        let configFile = try directory.write("cs-companiond.yaml", config, permissions: 0o644)
        logFile = directory.file("daemon.log")
        var env = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"] { env.removeValue(forKey: key) }
        for (key, value) in environment { env[key] = value }
        let fd = open(logFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TestSupportError("cannot create \(logFile)") }
        defer { close(fd) }
        process = try ChildProcess(
            executable: try Repository.product("cs-companiond"),
            arguments: [
                "--config", configFile, "--schema-dir", Repository.schemas, "--state-dir", directory.file("state"),
                "--control-socket", directory.file("control.sock"),
            ] + arguments,
            stderr: fd, environment: env)
    }

    var configFile: String { directory.file("cs-companiond.yaml") }
    var controlSocket: String { directory.file("control.sock") }

    /// Runs `cs-companion ARGS --socket <this daemon's control socket>`.
    func companion(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Repository.run("cs-companion", arguments + ["--socket", controlSocket])
    }

    var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
    var pid: Int32 { process.pid }

    func logLines(containing text: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter { $0.contains(text) }
    }

    /// Waits until the log has a line containing `text`.
    @discardableResult
    func waitForLog(_ text: String, count: Int = 1, timeout: Duration = .seconds(10)) async -> Bool {
        await waitUntil(timeout: timeout) { self.logLines(containing: text).count >= count }
    }

    func signal(_ number: Int32) { process.send(number) }

    /// The exit status once the daemon exited (128 + signal when killed by one).
    var exitStatus: Int32? {
        guard let raw = process.waitStatus else { return nil }
        return (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    }

    /// SIGTERM and wait; returns the exit status.
    func stop(timeout: Duration = .seconds(10)) async -> Int32 {
        await process.terminate(SIGTERM, timeout: timeout)
        return exitStatus ?? -1
    }

    func waitForExit(timeout: Duration = .seconds(10)) async -> Int32? {
        await process.waitForExit(timeout: timeout)
        return exitStatus
    }
}

/// Plays Josev in tests: a MosquittoClient subscribed to `cs/josev` that records everything and
/// asks by id.
final class JosevTestClient: Sendable {
    let client: MosquittoClient
    private let inbox = Inbox()

    final class Inbox: Sendable {
        let messages = Mutex<[JSONValue]>([])
    }

    init(broker: TestBroker) async throws {
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

    var messages: [JSONValue] { inbox.messages.withLock { $0 } }

    func messages(name: String, type: String) -> [JSONValue] {
        messages.filter { $0["name"]?.stringValue == name && $0["type"]?.stringValue == type }
    }

    func send(raw payload: [UInt8]) throws {
        try client.publish(topic: Topic.josevToCS, payload: payload, qos: .atLeastOnce)
    }

    func send(_ envelope: Envelope) throws {
        try send(raw: envelope.json.serializedBytes())
    }

    /// Sends a request and waits for the response with the same id.
    func ask(_ name: String, data: JSONObject = [:], timeout: Duration = .seconds(10)) async throws -> JSONValue? {
        let request = Envelope.request(name: name, data: data)
        try send(request)
        var answer: JSONValue?
        await waitUntil(timeout: timeout) {
            answer = self.messages.first { $0["id"]?.stringValue == request.id && $0["type"]?.stringValue == "response" }
            return answer != nil
        }
        return answer
    }

    func close() async { await client.disconnect() }
}

/// Compiled schema of a catalogue message, from the repository's `schemas/`.
func schemaErrors(_ message: JSONValue, name: String, type: MessageType) throws -> [ValidationError] {
    let catalog = try SchemaCatalog(directory: Repository.schemas)
    guard let errors = catalog.validate(message, name: name, type: type) else {
        throw TestSupportError("no schema for \(name) \(type)")
    }
    return errors
}
