import Foundation
import JSONSchema
import JosevContract
import Systemd
import Testing
import TestSupport

/// `josev-sim session --scenario back-office` against the real daemon, a real broker, a real HTTP
/// server (the image and the log upload), a real journal file and an install script: the
/// configuration change, the reservation, the signed firmware update and the log upload all pass.
@Suite("back office scenario (josev-sim against cs-companiond)", .timeLimit(.minutes(3)))
struct BackOfficeScenarioTests {
    static let evse = "DE*TST*E0001*1"

    static func config(brokerPort: Int, install: String, journal: String) -> String {
        stationConfigYAML(port: brokerPort, logLevel: "info") + """

            authorization:
              free_vend: true
            device_model:
              confirm_timeout: 10
              variables:
                - {component: OCPPCommCtrlr, variable: HeartbeatInterval, value: 300, unit: s, data_type: integer, min: 10, max: 86400}
                - {component: ChargingStation, variable: Model, value: "CS-22", mutability: ReadOnly}
            firmware:
              install_command: ["\(install)", "{image}"]
              install_timeout: 20
              connect_timeout: 5
            logs:
              journal_directory: \(journal)
            """
    }

    @Test("configuration change, reservation, signed firmware update and log upload: PASS")
    func backOffice() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        let image = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        try server.serve("fw-3.0.img", bytes: image)
        let signer = try TestFirmwareSigner(directory: directory)
        _ = try signer.sign(server.root + "/fw-3.0.img")  // the raw signature, next to the image
        let journal = directory.file("journal")
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        try await TestJournal.write(
            [
                TestJournal.Entry(realtime: now - 2_000_000, fields: ["MESSAGE": "cs-companiond starting", "SYSLOG_IDENTIFIER": "cs-companiond", "PRIORITY": "6"]),
                TestJournal.Entry(realtime: now - 1_000_000, fields: ["MESSAGE": "a line for the back office", "SYSLOG_IDENTIFIER": "cs-companiond", "PRIORITY": "5"]),
            ], into: journal)
        let installed = directory.file("installed.img")
        let install = try directory.script("install.sh", "cp \"$1\" \(installed)")
        let daemon = try DaemonProcess(config: Self.config(brokerPort: broker.port, install: install, journal: journal), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")

        let (status, output) = try await Repository.run("josev-sim", [
            "session", "--scenario", "back-office", "--evse-id", Self.evse, "--host", broker.host, "--port", String(broker.port),
            "--schema-dir", Repository.schemas, "--control-socket", daemon.controlSocket, "--timeout", "10",
            "--firmware-url", server.baseURL + "/fw-3.0.img", "--firmware-signature-file", server.root + "/fw-3.0.img.sig",
            "--signing-certificate-file", signer.certificate, "--log-upload-url", server.baseURL + "/logs/", "--variable-value", "120",
        ])
        #expect(status == 0, "josev-sim back-office:\n\(output)\n--- daemon log:\n\(daemon.log)")
        #expect(output.contains("PASS back-office"), "\(output)")
        #expect(!output.contains("✗"), "\(output)")
        #expect(output.contains("firmware_status downloading → downloaded → signature_verified → installing → installed"), "\(output)")

        // What the station really did: the image reached the install command, the log reached the server.
        #expect(FileManager.default.contents(atPath: installed) == Data(image))
        let uploads = try FileManager.default.contentsOfDirectory(atPath: server.uploads)
        let uploaded = try #require(uploads.first { $0.hasPrefix("diagnostics-") }, "\(uploads)")
        let text = try await Command.capture("gzip", ["-dc", server.uploads + "/" + uploaded]).output
        #expect(text.contains("a line for the back office"), "\(text)")
        // Josev confirmed both changes of the variable: nothing awaits a confirmation any more.
        let history = try await daemon.companion(["config", "history"])
        #expect(history.output.contains("→ '120'  applied by josev"), "\(history.output)")
        #expect(history.output.contains("'120' → '130'  applied by josev"), "the second change in a row applied: \(history.output)")
        #expect(!history.output.contains("'130' → '120'"), "Josev's confirmation of the first is not a change back: \(history.output)")
        #expect(try await daemon.companion(["config", "pending"]).output.contains("nothing pending"))
        // The reservation the scenario made is over.
        let shown = try await daemon.companion(["status", "--json"])
        let evses = try JSONValue.parse(Array(shown.output.utf8))["evses"]?.arrayValue ?? []
        #expect(evses.first { $0["evse_id"]?.stringValue == Self.evse }?["reserved_connectors"] == JSONValue.array([]), "\(shown.output)")
        // No payload refused as invalid, no message the daemon refused to send (an error).
        #expect(daemon.logEntries(messageID: MessageID.payloadInvalid.hex).isEmpty, "\(daemon.log)")
        #expect(daemon.logEntries(level: "error").isEmpty, "\(daemon.log)")
        #expect(await daemon.stop() == 0)
        await server.stop()
    }

    @Test("a wrong signature fails the scenario at the firmware step, with the statuses that came")
    func wrongSignatureFails() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        try server.serve("fw.img", bytes: Array(repeating: 0x42, count: 20_000))
        let signer = try TestFirmwareSigner(directory: directory)
        let decoy = try directory.write("decoy", "other bytes")
        _ = try signer.sign(decoy)
        let journal = directory.file("journal")
        try await TestJournal.write(
            [TestJournal.Entry(realtime: Int64(Date().timeIntervalSince1970 * 1_000_000), fields: ["MESSAGE": "x", "SYSLOG_IDENTIFIER": "cs-companiond"])],
            into: journal)
        let daemon = try DaemonProcess(
            config: Self.config(brokerPort: broker.port, install: try directory.script("install.sh", "exit 0"), journal: journal), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let (status, output) = try await Repository.run("josev-sim", [
            "session", "--scenario", "back-office", "--evse-id", Self.evse, "--host", broker.host, "--port", String(broker.port),
            "--schema-dir", Repository.schemas, "--timeout", "10",
            "--firmware-url", server.baseURL + "/fw.img", "--firmware-signature-file", decoy + ".sig",
            "--signing-certificate-file", signer.certificate, "--log-upload-url", server.baseURL + "/logs/",
        ])
        #expect(status == 1, "\(output)")
        #expect(output.contains("FAIL back-office"), "\(output)")
        #expect(output.contains("firmware_status status: downloading → downloaded → invalid_signature"), "\(output)")
        #expect(await daemon.stop() == 0)
        await server.stop()
    }
}
