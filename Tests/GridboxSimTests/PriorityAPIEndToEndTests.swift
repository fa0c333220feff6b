import Foundation
import JSONSchema
import Modbus
import ModbusNIOClient
import Testing
import TestSupport

/// gridbox-sim's priority API as a gridX-style client uses it (issue 16, point 7), against the
/// real daemon over Modbus and HTTP (curl): bearer tokens per account, systems checked, one
/// connector reset, priorities kept across a restart, EVSE ids learnt from the station, and an
/// unplug and replug between two polls still resetting the priority.
@Suite("gridbox-sim priority API end to end", .serialized, .timeLimit(.minutes(3)))
struct PriorityAPIEndToEndTests {
    static let serial = "TWIN-0001"
    static let evse1 = LoadManagementEndToEndTests.evse1
    static let system = "0b0e1c6a-1111-4000-8000-000000000001"
    static let otherSystem = "0b0e1c6a-2222-4000-8000-000000000002"
    static let token = "token-of-acme"
    static let otherToken = "token-of-other"

    /// gridbox-sim with two accounts (ours owns `system`, the other one `otherSystem`), writing its
    /// JSON lines to `output`.
    static func gridbox(modbusPort: Int, httpPort: Int, stateFile: String, output: Int32) throws -> ChildProcess {
        try ChildProcess(
            executable: try Repository.product("gridbox-sim"),
            arguments: [
                "--station", "127.0.0.1:\(modbusPort)", "--site-limit", "40", "--interval", "0.3", "--http-port", "\(httpPort)",
                "--json", "--system-id", system, "--account", "acme:\(token):\(system)", "--account", "other:\(otherToken):\(otherSystem)",
                "--state-file", stateFile,
            ],
            stdout: output)
    }

    /// `curl` → (status, body).
    static func call(
        _ method: String, _ url: String, token: String? = Self.token, body: String? = nil
    ) async throws -> (status: String, body: String) {
        var arguments = ["-s", "-X", method, "-w", "\n%{http_code}"]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        if let body { arguments += ["-H", "Content-Type: application/json", "--data", body] }
        let output = try await Command.capture("curl", arguments + [url]).output
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
    }

    /// The entries of `connector` of the twin station in gridbox-sim's JSON lines, one per cycle.
    static func cycles(_ file: String, connector: Int) -> [JSONValue] {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            (try? JSONValue.parse(Array(line.utf8)))?["connectors"]?.arrayValue?.first {
                $0["serial_number"]?.stringValue == serial && $0["connector"] == .int(Int64(connector))
            }
        }
    }

    static func priorities(_ base: String) async throws -> String {
        try await call("GET", base).body
    }

    @Test("accounts, systems, one-connector resets, a restart, EVSE ids from the station, and a replug inside one poll")
    func priorityAPI() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let modbusPort = try freeLoopbackPort()
        let httpPort = try freeLoopbackPort()
        let daemon = try DaemonProcess(
            config: LoadManagementEndToEndTests.config(brokerPort: broker.port, modbusPort: modbusPort), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        #expect(try await daemon.companion(["plug", "--evse", Self.evse1]).status == 0)

        let stateFile = directory.file("priorities.json")
        let outputFile = directory.file("gridbox.jsonl")
        let output = open(outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(output) }
        var gridbox = try Self.gridbox(modbusPort: modbusPort, httpPort: httpPort, stateFile: stateFile, output: output)
        defer { gridbox.send(SIGKILL) }
        let base = "http://127.0.0.1:\(httpPort)/systems/\(Self.system)/evcs-user-priorities"
        // The station is polled: its connector is plugged in and the vendor block was read.
        #expect(await waitUntil(timeout: .seconds(15)) {
            Self.cycles(outputFile, connector: 1).last.map { $0["state"]?.stringValue?.hasPrefix("B") == true && $0["plug_ins"] == .int(1) } ?? false
        }, "\(daemon.log)")

        // Who asks: no token or a wrong one → 401; another account's system → 403 (both ways).
        #expect(try await Self.call("GET", base, token: nil).status == "401")
        #expect(try await Self.call("GET", base, token: "guessed").status == "401")
        #expect(try await Self.call("GET", base, token: Self.otherToken).status == "403")
        let foreign = "http://127.0.0.1:\(httpPort)/systems/\(Self.otherSystem)/evcs-user-priorities"
        #expect(try await Self.call("GET", foreign).status == "403")
        #expect(try await Self.call("GET", "http://127.0.0.1:\(httpPort)/systems/not-a-uuid/evcs-user-priorities").status == "404")
        let refused = try await Self.call(
            "PUT", base, token: Self.otherToken, body: #"{"serial_number":"TWIN-0001","connector":1,"priority":9}"#)
        #expect(refused.status == "403")
        #expect(try await Self.priorities(base) == "[]", "a refused request changed nothing")

        // EVSE-id addressing learnt from the station (no --evse-id given).
        let byEVSE = try await Self.call("PUT", base, body: #"{"evse_id":"\#(Self.evse1)","priority":5}"#)
        #expect(byEVSE.status == "200", "\(byEVSE.body)")
        #expect(byEVSE.body.contains(#""serial_number":"TWIN-0001","connector":1"#), "\(byEVSE.body)")
        let second = try await Self.call("PUT", base, body: #"{"serial_number":"TWIN-0001","connector":2,"priority":3}"#)
        #expect(second.status == "200", "\(second.body)")

        // A DELETE whose body names one connector resets that one only; a bad body resets nothing.
        let bad = try await Self.call("DELETE", base, body: #"{"serial_number":"TWIN-0001"}"#)
        #expect(bad.status == "400", "\(bad.body)")
        #expect(try await Self.priorities(base).contains(#""priority":5"#))
        #expect(try await Self.call("DELETE", base, body: #"{"serial_number":"TWIN-0001","connector":2}"#).status == "204")
        var list = try await Self.priorities(base)
        #expect(list.contains(#""connector":1"#) && list.contains(#""priority":5"#) && !list.contains(#""connector":2"#), "\(list)")
        // … and by path.
        #expect(try await Self.call("PUT", base, body: #"{"serial_number":"TWIN-0001","connector":2,"priority":4}"#).status == "200")
        #expect(try await Self.call("DELETE", base + "/TWIN-0001/2").status == "204")
        list = try await Self.priorities(base)
        #expect(list.contains(#""priority":5"#) && !list.contains(#""priority":4"#), "\(list)")

        // A restart of gridbox-sim keeps the priorities.
        let beforeRestart = Self.cycles(outputFile, connector: 1).count
        await gridbox.terminate()
        gridbox = try Self.gridbox(modbusPort: modbusPort, httpPort: httpPort, stateFile: stateFile, output: output)
        #expect(await waitUntil(timeout: .seconds(15)) {
            ((try? await Self.call("GET", base))?.body ?? "").contains(#""priority":5"#)
        })
        #expect(await waitUntil(timeout: .seconds(15)) {
            let cycles = Self.cycles(outputFile, connector: 1)
            return cycles.count > beforeRestart && cycles.last?["priority"] == .int(5) && cycles.last?["plug_ins"] == .int(1)
        })

        // An unplug and replug gridbox-sim cannot see in the mode-3 state (it is stopped meanwhile,
        // as if both fell between two polls): the plug-in counter moved, so the priority resets.
        let seen = Self.cycles(outputFile, connector: 1).count
        gridbox.send(SIGSTOP)
        #expect(try await daemon.companion(["unplug", "--evse", Self.evse1]).status == 0)
        #expect(try await daemon.companion(["plug", "--evse", Self.evse1]).status == 0)
        let modbus = try await ModbusClient.connect(host: "127.0.0.1", port: modbusPort)
        #expect(try await modbus.readHoldingRegisters(unit: 1, address: 3000, count: 2) == [0, 2])
        #expect(try await modbus.readString(unit: 1, address: 3002, count: 20) == Self.evse1)
        await modbus.close()
        gridbox.send(SIGCONT)
        #expect(await waitUntil(timeout: .seconds(15)) {
            !((try? await Self.call("GET", base))?.body ?? #""priority":5"#).contains(#""priority":5"#)
        })
        let after = Self.cycles(outputFile, connector: 1).dropFirst(seen)
        #expect(!after.isEmpty && after.allSatisfy { $0["state"]?.stringValue?.hasPrefix("A") == false }, "gridbox-sim never saw state A")
        #expect(after.last?["plug_ins"] == .int(2))
        // The reset is kept too.
        let stored = try String(contentsOfFile: stateFile, encoding: .utf8)
        #expect(stored == "[]", "\(stored)")
        #expect(await daemon.stop() == 0)
    }
}
