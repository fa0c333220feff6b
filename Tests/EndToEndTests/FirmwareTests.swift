import Foundation
import JSONSchema
import JosevContract
import Testing
import TestSupport

/// Firmware updates and log uploads through the real daemon, a real broker and real servers.
@Suite("back office end to end: update_firmware and upload_logs", .timeLimit(.minutes(3)))
struct FirmwareTests {
    static let evse = "DE*TST*E0001*1"

    static func config(brokerPort: Int, install: String, journal: String? = nil) -> String {
        """
        station:
          serial_number: "TEST-0001"
          vendor: "Test Vendor"
          model: "Test Model"
          firmware_version: "1.0.0"
          hardware_version: "R2"
        mqtt:
          host: 127.0.0.1
          port: \(brokerPort)
          client_id: cs-under-test
          reconnect: {initial_delay: 0.2, max_delay: 1}
        evses:
          - evse_id: "\(evse)"
            network_interface: eth1
            ac: {nominal_voltage: 230, max_current: 32, phases: 3}
            connectors: [{id: 1, connector_type: AC_three_phase_core}]
        authorization:
          free_vend: true
        firmware:
          install_command: ["\(install)", "--image", "{image}"]
          install_timeout: 20
          retries: 2
          retry_interval: 0
          connect_timeout: 5
        logs:
          \(journal.map { "journal_directory: \($0)" } ?? "http_method: put")
          retry_interval: 0
        log_level: info
        """
    }

    /// The statuses of `name` updates (firmware_status, logs_status) Josev heard for a request, in order.
    static func statuses(_ josev: JosevTestClient, _ name: String, id: Int) -> [String] {
        josev.messages(name: name, type: "update").filter { $0["data"]?["request_id"] == .int(Int64(id)) }
            .compactMap { $0["data"]?["status"]?.stringValue }
    }

    /// Every update of `name` Josev received is valid against its schema.
    static func allValid(_ josev: JosevTestClient, _ name: String) throws -> Bool {
        let updates = josev.messages(name: name, type: "update")
        return try !updates.isEmpty && updates.allSatisfy { try schemaErrors($0, name: name, type: .update).isEmpty }
    }

    @Test("--check-config: firmware and logs problems with their key paths")
    func configurationProblems() async throws {
        let directory = try TemporaryDirectory()
        func check(_ yaml: String) async throws -> (status: Int32, output: String) {
            let file = try directory.write("check.yaml", yaml, permissions: 0o644)
            return try await Repository.run("cs-companiond", ["--check-config", "--config", file, "--schema-dir", Repository.schemas])
        }
        let good = try await check(Self.config(brokerPort: 1883, install: "/bin/true"))
        #expect(good.status == 0, "\(good.output)")
        let missing = try await check(Self.config(brokerPort: 1883, install: directory.file("no-such-updater")))
        #expect(missing.status == 78)
        #expect(missing.output.contains("firmware.install_command[0]: \(directory.file("no-such-updater")) is not an executable file"), "\(missing.output)")
        let typo = try await check(
            Self.config(brokerPort: 1883, install: "/bin/true").replacing("  install_timeout: 20", with: "  install_timout: 20")
                .replacing("http_method: put", with: "http_method: patch"))
        #expect(typo.status == 78)
        #expect(typo.output.contains("firmware"), "\(typo.output)")
        #expect(typo.output.contains("install_timout"), "\(typo.output)")
        #expect(typo.output.contains("logs.http_method"), "\(typo.output)")
        // Signatures required but no root to check them against: any self-signed certificate would pass.
        let unanchored = try await check(
            Self.config(brokerPort: 1883, install: "/bin/true").replacing("  install_timeout: 20", with: "  install_timeout: 20\n  require_signature: true"))
        #expect(unanchored.status == 78, "\(unanchored.output)")
        #expect(unanchored.output.contains("firmware.trusted_ca_file: required when require_signature is true"), "\(unanchored.output)")
    }

    @Test("signed image over a connection that drops: resumed, verified, deferred while a car charges, installed")
    func firmwareFlow() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory, dropAfter: 60_000)
        let image = (0..<250_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try server.serve("fw-2.0.img", bytes: image)
        let signer = try TestFirmwareSigner(directory: directory)
        let signature = try signer.sign(server.root + "/fw-2.0.img")
        let installed = directory.file("installed.img")
        // The install command records what the station showed when it ran.
        let atInstall = directory.file("status-at-install.json")
        let install = try directory.script(
            "install.sh",
            "[ \"$1\" = --image ] && \(try Repository.product("cs-companion")) status --json --socket \(directory.file("control.sock")) > \(atInstall) && cp \"$2\" \(installed)")
        let daemon = try DaemonProcess(config: Self.config(brokerPort: broker.port, install: install), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)

        // A car charging: the install must wait.
        #expect(try await daemon.companion(["plug", "--evse", Self.evse]).status == 0)
        let pwm = try await josev.ask(
            "cp_pwm", data: ["evse_id": .string(Self.evse), "hlc": false, "current": 16, "error_state": false, "fault_state": false])
        #expect(pwm?["data"]?["status"] == "valid")
        #expect(try await daemon.companion(["ev", "--evse", Self.evse, "16"]).status == 0)

        let answer = try await josev.ask(
            "update_firmware",
            data: [
                "request_id": 77, "location": .string(server.baseURL + "/fw-2.0.img"), "retrieve_datetime": "2020-01-01T00:00:00.000Z",
                "signing_certificate": .string(signer.pem), "signature": .string(signature),
            ])
        #expect(answer?["data"]?["status"] == "accepted", "\(daemon.log)")
        #expect(await waitUntil(timeout: .seconds(30)) { Self.statuses(josev, "firmware_status", id: 77).contains("install_scheduled") }, "\(daemon.log)")
        #expect(!FileManager.default.fileExists(atPath: installed))
        // The station answers while the update waits.
        let status = try await josev.ask("cs_status_and_limits")
        #expect(status?["data"]?["evses"]?.arrayValue?.count == 1)

        #expect(try await daemon.companion(["unplug", "--evse", Self.evse]).status == 0)
        #expect(await waitUntil(timeout: .seconds(30)) { Self.statuses(josev, "firmware_status", id: 77).last == "installed" }, "\(daemon.log)")
        #expect(
            Self.statuses(josev, "firmware_status", id: 77)
                == ["downloading", "downloading", "downloaded", "signature_verified", "install_scheduled", "installing", "installed"])
        #expect(FileManager.default.contents(atPath: installed) == Data(image))
        // Installed only once the car had gone: the station as the install command saw it.
        let seen = try JSONValue.parse(Array(try #require(FileManager.default.contents(atPath: atInstall))))
        let evse = seen["evses"]?.arrayValue?.first { $0["evse_id"]?.stringValue == Self.evse }
        #expect(evse?["contactor"] == "open", "\(seen)")
        #expect(evse?["cp_states"]?.arrayValue?.first?.stringValue?.hasPrefix("1:A") == true, "no car plugged in: \(seen)")
        #expect(try Self.allValid(josev, "firmware_status"))
        // Resumed: a second request for the rest of the image, from where the dropped one ended.
        #expect(server.requests.contains { $0.hasPrefix("GET /fw-2.0.img bytes=") && !$0.hasPrefix("GET /fw-2.0.img bytes=0-") }, "\(server.requests)")
        await josev.close()
        #expect(await daemon.stop() == 0)
        await server.stop()
    }

    @Test("install_rebooting before a restart, installed after it; a failing install and a bad signature are reported")
    func restartAndFailures() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        try server.serve("fw.img", bytes: Array(repeating: 0x5A, count: 30_000))
        // Exit 100: installed, reboot to activate. The second image's install fails.
        let install = try directory.script("install.sh", "case \"$CS_FIRMWARE_REQUEST_ID\" in 1) exit 100;; *) echo 'flash write error' >&2; exit 1;; esac")
        let config = Self.config(brokerPort: broker.port, install: install)
        let josev = try await JosevTestClient(broker: broker)
        do {
            let daemon = try DaemonProcess(config: config, directory: directory)
            #expect(await daemon.waitUntilReady(), "\(daemon.log)")
            let answer = try await josev.ask(
                "update_firmware",
                data: ["request_id": 1, "location": .string(server.baseURL + "/fw.img"), "retrieve_datetime": "2020-01-01T00:00:00.000Z"])
            #expect(answer?["data"]?["status"] == "accepted")
            #expect(await waitUntil(timeout: .seconds(30)) { Self.statuses(josev, "firmware_status", id: 1).last == "install_rebooting" }, "\(daemon.log)")
            #expect(await daemon.stop() == 0)
        }
        // The board "reboots": the boot id stored with install_rebooting is no longer this boot's
        // (the same boot id would mean the daemon restarted without a reboot → installation_failed).
        let stateFile = directory.file("state") + "/firmware.state"
        let state = try String(contentsOfFile: stateFile, encoding: .utf8)
        #expect(state.contains("boot_id="), "\(state)")
        try state.split(separator: "\n").map { $0.hasPrefix("boot_id=") ? "boot_id=an-earlier-boot" : String($0) }.joined(separator: "\n")
            .appending("\n").write(toFile: stateFile, atomically: true, encoding: .utf8)
        let restarted = try DaemonProcess(config: config, directory: directory)
        #expect(await restarted.waitUntilReady(), "\(restarted.log)")
        #expect(await waitUntil(timeout: .seconds(30)) { Self.statuses(josev, "firmware_status", id: 1).last == "installed" }, "\(restarted.log)")
        #expect(Self.statuses(josev, "firmware_status", id: 1) == ["downloading", "downloaded", "installing", "install_rebooting", "installed"])

        let failing = try await josev.ask(
            "update_firmware", data: ["request_id": 2, "location": .string(server.baseURL + "/fw.img"), "retrieve_datetime": "2020-01-01T00:00:00.000Z"])
        #expect(failing?["data"]?["status"] == "accepted")
        #expect(await waitUntil(timeout: .seconds(30)) { Self.statuses(josev, "firmware_status", id: 2).last == "installation_failed" }, "\(restarted.log)")
        #expect(restarted.log.contains("flash write error"))

        let signer = try TestFirmwareSigner(directory: directory)
        let decoy = try directory.write("decoy", "other bytes")
        let badSignature = try await josev.ask(
            "update_firmware",
            data: [
                "request_id": 3, "location": .string(server.baseURL + "/fw.img"), "retrieve_datetime": "2020-01-01T00:00:00.000Z",
                "signing_certificate": .string(signer.pem), "signature": .string(try signer.sign(decoy)),
            ])
        #expect(badSignature?["data"]?["status"] == "accepted")
        #expect(await waitUntil(timeout: .seconds(30)) { Self.statuses(josev, "firmware_status", id: 3).last == "invalid_signature" }, "\(restarted.log)")
        let garbage = try await josev.ask(
            "update_firmware",
            data: [
                "request_id": 4, "location": .string(server.baseURL + "/fw.img"), "retrieve_datetime": "2020-01-01T00:00:00.000Z",
                "signing_certificate": "not a certificate", "signature": "AAAA",
            ])
        #expect(garbage?["data"]?["status"] == "invalid_certificate")
        #expect(try await josev.ask("cs_parameters") != nil)
        await josev.close()
        #expect(await restarted.stop() == 0)
        await server.stop()
    }

    @Test("upload_logs: the journal window is gzipped and PUT to the server; the answer names the file; uploading → uploaded")
    func logUpload() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        let journal = directory.file("journal")
        let base = (DateTimeText.parse("2026-03-01T10:00:00.000Z") ?? 0) * 1000
        try await TestJournal.write(
            [
                TestJournal.Entry(realtime: base, fields: ["MESSAGE": "cs-companiond starting", "SYSLOG_IDENTIFIER": "cs-companiond", "PRIORITY": "6"]),
                TestJournal.Entry(
                    realtime: base + 60_000_000, fields: ["MESSAGE": "Modbus write refused: server is read-only", "SYSLOG_IDENTIFIER": "cs-companiond", "PRIORITY": "4"]),
                TestJournal.Entry(realtime: base + 7_200_000_000, fields: ["MESSAGE": "outside the window", "SYSLOG_IDENTIFIER": "cs-companiond", "PRIORITY": "6"]),
            ], into: journal)
        let daemon = try DaemonProcess(config: Self.config(brokerPort: broker.port, install: "/bin/true", journal: journal), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        let answer = try await josev.ask(
            "upload_logs",
            data: [
                "request_id": 9, "log_type": "diagnostics_log", "remote_location": .string(server.baseURL + "/logs/"),
                "oldest_timestamp": "2026-03-01T09:00:00.000Z", "latest_timestamp": "2026-03-01T11:00:00.000Z",
            ])
        let response = try #require(answer)
        #expect(try schemaErrors(response, name: "upload_logs", type: .response).isEmpty)
        #expect(response["data"]?["status"] == "accepted")
        let filename = try #require(response["data"]?["filename"]?.stringValue)
        #expect(await waitUntil(timeout: .seconds(30)) { Self.statuses(josev, "logs_status", id: 9).last == "uploaded" }, "\(daemon.log)")
        #expect(Self.statuses(josev, "logs_status", id: 9) == ["uploading", "uploaded"])
        #expect(try Self.allValid(josev, "logs_status"))
        let stored = server.uploads + "/" + filename
        let text = try await Command.capture("gzip", ["-dc", stored]).output
        #expect(text.contains("Modbus write refused"))
        #expect(text.contains("cs-companiond starting"))
        #expect(!text.contains("outside the window"))

        // Unreachable: upload_failure, and the station keeps answering.
        let port = try freeLoopbackPort()
        let failing = try await josev.ask(
            "upload_logs", data: ["request_id": 10, "log_type": "security_log", "remote_location": .string("http://127.0.0.1:\(port)/"), "retries": 1])
        #expect(failing?["data"]?["status"] == "accepted")
        #expect(await waitUntil(timeout: .seconds(30)) { Self.statuses(josev, "logs_status", id: 10).last == "upload_failure" }, "\(daemon.log)")
        #expect(try await josev.ask("cs_status_and_limits") != nil)
        await josev.close()
        #expect(await daemon.stop() == 0)
        await server.stop()
    }
}
