import Basics
import Foundation
import JSONSchema

/// `scripts/test-emsp.py` on a free loopback port: the OCPI Sessions receiver the daemon pushes to.
/// `requests` are the PUT/PATCHes it accepted, in order; `setMode` switches faults on and off;
/// `stop`/`start` take it away and back on the same port (an eMSP that is down).
public final class TestEMSP: Sendable {
    public let port: Int
    public let record: String
    public let control: String
    private let arguments: [String]
    private let output: String
    private let process: Locked<ChildProcess?>

    public var baseURL: String { "http://127.0.0.1:\(port)/ocpi/2.2.1" }
    public var tokenURL: String { "http://127.0.0.1:\(port)/token" }

    /// `token`: require OCPI's token; `oauth2`: (client id, secret) for POST /token; `apiKey`: require it.
    public init(directory: TemporaryDirectory, token: String? = nil, oauth2: (String, String)? = nil, apiKey: String? = nil) async throws {
        port = try freeLoopbackPort()
        record = directory.file("emsp-requests.jsonl")
        control = directory.file("emsp-control.json")
        output = directory.file("emsp.out")
        var arguments = [Repository.root + "/scripts/test-emsp.py", "--port", "\(port)", "--record", record, "--control", control]
        if let token { arguments += ["--token", token] }
        if let oauth2 { arguments += ["--oauth2", "\(oauth2.0):\(oauth2.1)"] }
        if let apiKey { arguments += ["--api-key", apiKey] }
        self.arguments = arguments
        process = Locked(nil)
        try await start()
    }

    /// Starts (again) on the same port.
    public func start() async throws {
        let descriptor = open(output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        defer { close(descriptor) }
        let child = try ChildProcess(executable: "python3", arguments: ["-u"] + arguments, stdout: descriptor, stderr: descriptor)
        process.withLock { $0 = child }
        let port = port
        guard await waitUntil(timeout: .seconds(10), { loopbackPortAcceptsConnections(port) }) else {
            await child.terminate()
            throw TestSupportError("test eMSP did not start: \((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")")
        }
    }

    /// Takes the eMSP away (connections refused).
    public func stop() async {
        guard let child = process.withLock({ $0 }) else { return }
        await child.terminate()
    }

    /// `{"mode": …, "token": …}` (see the script).
    public func setMode(_ mode: String, token: String = "ok", slowSeconds: Double = 3) throws {
        let text = "{\"mode\": \"\(mode)\", \"token\": \"\(token)\", \"slow_seconds\": \(slowSeconds)}"
        try text.write(toFile: control, atomically: true, encoding: .utf8)
    }

    /// The accepted PUT/PATCHes, in the order they arrived.
    public var requests: [JSONValue] {
        let text = (try? String(contentsOfFile: record, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
    }

    public var log: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
}
