import Foundation
import JSONSchema
import JosevContract
import Systemd
import Testing
import TestSupport

/// josev-sim plays Josev through whole charging sessions (contract §4) against the real daemon,
/// a real broker and the simulated EV on the control socket; every message is checked against
/// its schema, every answer for id, name and timing, and the contactor against §2.8.
@Suite("charging sessions (josev-sim against cs-companiond)", .timeLimit(.minutes(2)))
struct SessionScenarioTests {
    @Test(
        "a whole session passes",
        arguments: [("ac-eim", "DE*TST*E0001*1"), ("ac-basic", "DE*TST*E0001*1"), ("dc", "DE*TST*E0001*2")])
    func session(scenario: String, evseID: String) async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: stationConfigYAML(port: broker.port, logLevel: "info"), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")

        let (status, output) = try await Repository.run("josev-sim", [
            "session", "--scenario", scenario, "--evse-id", evseID, "--host", broker.host, "--port", String(broker.port),
            "--schema-dir", Repository.schemas, "--control-socket", daemon.controlSocket, "--timeout", "10",
        ])
        #expect(status == 0, "josev-sim \(scenario):\n\(output)\n--- daemon log:\n\(daemon.log)")
        #expect(output.contains("PASS \(scenario)"), "\(output)")
        #expect(!output.contains("✗"), "\(output)")
        // The station never refused or dropped a message of the session.
        // No payload refused as invalid, no message the daemon refused to send (an error).
        #expect(daemon.logEntries(messageID: MessageID.payloadInvalid.hex).isEmpty, "\(daemon.log)")
        #expect(daemon.logEntries(level: "error").isEmpty, "\(daemon.log)")
        #expect(await daemon.stop() == 0)
    }
}
