import Daemon
import Foundation
import JSONSchema
import Testing
import TestSupport

@Suite("local control socket", .timeLimit(.minutes(1)))
struct ControlSocketTests {
    @Test("status over the socket: JSON for programs, a table for people; bad requests get an error answer")
    func status() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: stationConfigYAML(port: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")

        let answer = try ControlClient.request(["command": "status"], path: daemon.controlSocket)
        #expect(answer["ok"] == true)
        #expect(answer["evses"]?.arrayValue?.count == 2)
        #expect(answer["evses"]?.arrayValue?.first?["evse_id"] == "DE*TST*E0001*1")

        let human = try await daemon.companion(["status"])
        #expect(human.status == 0, "\(human.output)")
        #expect(human.output.contains("EVSE DE*TST*E0001*1: evse_ready"), "\(human.output)")
        #expect(human.output.contains("connected to 127.0.0.1"), "\(human.output)")

        let unknown = try ControlClient.request(["command": "make-coffee"], path: daemon.controlSocket)
        #expect(unknown["ok"] == false)
        #expect(unknown["error"]?.stringValue?.contains("unknown command") == true)
        let missingEVSE = try await daemon.companion(["status", "--evse", "nope"])
        #expect(missingEVSE.status == 1)

        // Garbage on the socket is answered, and the socket keeps serving.
        let garbage = try await rawExchange(path: daemon.controlSocket, line: "this is not json")
        #expect(garbage.contains("\"ok\":false"), "\(garbage)")
        #expect(try ControlClient.request(["command": "status"], path: daemon.controlSocket)["ok"] == true)

        // Mode 0660: root, the service user and its group only.
        let attributes = try FileManager.default.attributesOfItem(atPath: daemon.controlSocket)
        #expect((attributes[.posixPermissions] as? Int) == 0o660)
        #expect(await daemon.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: daemon.controlSocket), "socket file left behind")
    }

    func rawExchange(path: String, line: String) async throws -> String {
        let script = "printf '%s\\n' \"$1\" | python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read()); print(s.recv(4096).decode())' \"$0\""
        return try await Command.capture("/bin/sh", ["-c", script, path, line], timeout: .seconds(20)).output
    }
}
