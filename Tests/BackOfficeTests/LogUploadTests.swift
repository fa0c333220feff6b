import BackOffice
import Foundation
import JosevContract
import Logging
import Testing
import TestSupport

/// Microseconds since the epoch of a contract date-time.
func microseconds(_ text: String) -> Int64 { (DateTimeText.parse(text) ?? 0) * 1000 }

/// The daemon's journal as the tests write it: a few diagnostics, the security events, another
/// unit's line that must never be collected.
func writeJournal(into directory: String) async throws {
    func entry(_ time: String, _ message: String, _ extra: [String: String] = [:]) -> TestJournal.Entry {
        TestJournal.Entry(
            realtime: microseconds(time),
            fields: ["MESSAGE": message, "SYSLOG_IDENTIFIER": "cs-companiond", "PRIORITY": "6", "_PID": "4242"].merging(extra) { $1 })
    }
    try await TestJournal.write(
        [
            entry("2026-03-01T09:00:00.000Z", "too early"),
            entry("2026-03-01T10:00:00.000Z", "cs-companiond 0.1.0 starting", ["MESSAGE_ID": "86f8621f78034be6ba3641126e1c9b10"]),
            entry("2026-03-01T10:05:00.000Z", "Modbus write refused: server is read-only", ["PRIORITY": "4"]),
            entry("2026-03-01T10:06:00.000Z", "CP B on DE*TST*E0001*1/1, duty 53.3 %"),
            entry("2026-03-01T10:07:00.000Z", "configuration reloaded", ["MESSAGE_ID": "72cfc9f672b142049e9fe850cd7e903e"]),
            entry("2026-03-01T10:08:00.000Z", "firmware update 3: signature does not match", ["SECURITY_EVENT": "invalid-firmware-signature"]),
            entry("2026-03-01T10:09:00.000Z", "local authorization of RFID:1234 on DE*TST*E0001*1: rejected"),
            TestJournal.Entry(
                realtime: microseconds("2026-03-01T10:10:00.000Z"),
                fields: ["MESSAGE": "another daemon's line", "SYSLOG_IDENTIFIER": "sshd", "PRIORITY": "6"]),
            entry("2026-03-01T12:00:00.000Z", "too late"),
        ], into: directory)
}

/// The text of a gzip file (gunzip from the system, an independent implementation).
func gunzip(_ path: String) async throws -> String {
    let result = try await Command.capture("gzip", ["-dc", path])
    #expect(result.status == 0, "gzip: \(result.output)")
    return result.output
}

@Suite("log collection from the journal and uploads", .timeLimit(.minutes(2)))
struct LogUploadTests {
    @Test("diagnostics between two instants: only the daemon's entries in the window, one line each, gzip")
    func collectsWindow() async throws {
        let directory = try TemporaryDirectory()
        try await writeJournal(into: directory.file("journal"))
        let output = directory.file("diag.log.gz")
        let result = LogCollector.collect(
            from: JournalSource(directory: directory.file("journal")), oldest: microseconds("2026-03-01T10:00:00.000Z"),
            latest: microseconds("2026-03-01T11:00:00.000Z"), securityOnly: false, to: output)
        let collected = try result.get()
        #expect(collected.entries == 6)
        let text = try await gunzip(output)
        #expect(text.contains("2026-03-01T10:00:00.000000Z cs-companiond[4242] <info>: cs-companiond 0.1.0 starting [MESSAGE_ID=86f8621f78034be6ba3641126e1c9b10]"))
        #expect(text.contains("<warning>: Modbus write refused"))
        #expect(!text.contains("too early"))
        #expect(!text.contains("too late"))
        #expect(!text.contains("another daemon"))
        #expect(text.hasSuffix("# 6 entries of cs-companiond (cs-companiond.service)\n"))
    }

    @Test("security_log keeps the security subset: refused writes, config changes, tagged events, refused authorizations")
    func securitySubset() async throws {
        let directory = try TemporaryDirectory()
        try await writeJournal(into: directory.file("journal"))
        let output = directory.file("sec.log.gz")
        let collected = try LogCollector.collect(
            from: JournalSource(directory: directory.file("journal")), oldest: nil, latest: nil, securityOnly: true, to: output
        ).get()
        let text = try await gunzip(output)
        #expect(collected.entries == 4, "\(text)")
        #expect(text.contains("Modbus write refused"))
        #expect(text.contains("configuration reloaded"))
        #expect(text.contains("[SECURITY_EVENT=invalid-firmware-signature]"))
        #expect(text.contains("local authorization of RFID:1234"))
        #expect(!text.contains("CP B on"))
        #expect(!text.contains("starting"))
    }

    @Test("a journal directory that does not exist: an error, no file")
    func missingJournal() throws {
        let directory = try TemporaryDirectory()
        let output = directory.file("x.log.gz")
        let result = LogCollector.collect(
            from: JournalSource(directory: directory.file("nope")), oldest: nil, latest: nil, securityOnly: false, to: output)
        // sd_journal_open_directory fails on a missing directory.
        if case .success = result { Issue.record("collected from a missing directory") }
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    func uploader(_ directory: TemporaryDirectory, _ recorder: Recorder, method: HTTPUploadMethod = .put) throws -> LogUploader {
        let work = directory.file("work")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        return LogUploader(
            settings: LogUploadSettings(
                source: JournalSource(directory: directory.file("journal")), workDirectory: work, httpMethod: method,
                transfer: TransferOptions(connectTimeout: 5), defaultRetries: 0, defaultRetryInterval: 0, stationName: "SN 0001/x"),
            logger: Logger(label: "test"),
            publish: { update in
                recorder.logStatuses.withLock { $0.append(update) }
                return true
            })
    }

    func waitForLogStatus(_ recorder: Recorder, _ status: LogsUploadStatus, id: Int) async -> Bool {
        await waitUntil(timeout: .seconds(30), interval: .milliseconds(50)) { recorder.logs.contains(LogsStatusUpdate(requestID: id, status: status)) }
    }

    @Test("upload_logs over HTTP PUT and POST and FTP: the answer names the file, the server gets it, uploading → uploaded")
    func uploadsEverywhere() async throws {
        let directory = try TemporaryDirectory()
        try await writeJournal(into: directory.file("journal"))
        let server = try await TestHTTPServer(directory: directory)
        let ftp = try await TestFTPServer(directory: directory)
        for (index, (method, location)) in [(HTTPUploadMethod.put, server.baseURL + "/logs/"), (.post, server.baseURL + "/upload"), (.put, ftp.baseURL + "/")].enumerated() {
            let recorder = Recorder()
            let logs = try uploader(directory, recorder, method: method)
            let id = 100 + index
            let response = await logs.request(UploadLogsRequest(
                requestID: id, logType: .diagnosticsLog, remoteLocation: location, oldestTimestamp: "2026-03-01T10:00:00.000Z",
                latestTimestamp: "2026-03-01T11:00:00.000Z"))
            #expect(response.status == .accepted)
            let filename = try #require(response.filename)
            #expect(filename.hasPrefix("diagnostics-SN0001x-\(id)-") && filename.hasSuffix(".log.gz"), "\(filename)")
            #expect(await waitForLogStatus(recorder, .uploaded, id: id), "\(recorder.logs)")
            #expect(recorder.logs.map(\.status) == [.uploading, .uploaded])
            let stored = (location.hasPrefix("ftp") ? ftp.root : server.uploads) + "/" + filename
            #expect(try await gunzip(stored).contains("Modbus write refused"))
            // The local copy is gone.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.file("work")).isEmpty)
        }
        await server.stop()
        await ftp.stop()
    }

    @Test("failures: disallowed scheme rejected; unreachable server → upload_failure after the retries")
    func failures() async throws {
        let directory = try TemporaryDirectory()
        try await writeJournal(into: directory.file("journal"))
        let recorder = Recorder()
        let logs = try uploader(directory, recorder)
        #expect(await logs.request(UploadLogsRequest(requestID: 1, logType: .securityLog, remoteLocation: "file:///tmp/x")).status == .rejected)
        let port = try freeLoopbackPort()
        let response = await logs.request(UploadLogsRequest(
            requestID: 2, logType: .securityLog, remoteLocation: "http://127.0.0.1:\(port)/", retries: 1, retryInterval: 0))
        #expect(response.status == .accepted)
        #expect(response.filename?.hasPrefix("security-") == true)
        #expect(await waitForLogStatus(recorder, .uploadFailure, id: 2), "\(recorder.logs)")
        #expect(recorder.logs.map(\.status) == [.uploading, .uploadFailure])
    }

    @Test("a request while an upload runs: the running one is canceled (logs_status accepted_canceled), the new one answered accepted_canceled")
    func secondRequestCancels() async throws {
        let directory = try TemporaryDirectory()
        try await writeJournal(into: directory.file("journal"))
        let server = try await TestHTTPServer(directory: directory)
        let recorder = Recorder()
        let logs = try uploader(directory, recorder)
        let port = try freeLoopbackPort()
        // Fails, then waits 60 s before its retry: still running when the next request comes.
        _ = await logs.request(UploadLogsRequest(
            requestID: 50, logType: .diagnosticsLog, remoteLocation: "http://127.0.0.1:\(port)/", retries: 3, retryInterval: 60))
        #expect(await waitForLogStatus(recorder, .uploading, id: 50))
        let second = await logs.request(UploadLogsRequest(requestID: 51, logType: .diagnosticsLog, remoteLocation: server.baseURL + "/logs/"))
        #expect(second.status == .acceptedCanceled)
        #expect(await waitForLogStatus(recorder, .uploaded, id: 51), "\(recorder.logs)")
        #expect(recorder.logs.contains(LogsStatusUpdate(requestID: 50, status: .acceptedCanceled)))
        #expect(!recorder.logs.contains(LogsStatusUpdate(requestID: 50, status: .uploadFailure)))
        await server.stop()
    }
}

/// The diagnostics scope of issue 17: the station's other units beside the daemon.
@Suite("log collection: the station's other units", .timeLimit(.minutes(2)))
struct LogScopeTests {
    func writeStationJournal(into directory: String) async throws {
        func entry(_ time: String, _ message: String, unit: String, identifier: String) -> TestJournal.Entry {
            TestJournal.Entry(
                realtime: microseconds(time),
                fields: ["MESSAGE": message, "SYSLOG_IDENTIFIER": identifier, "PRIORITY": "6", "_PID": "77", "_SYSTEMD_UNIT": unit])
        }
        try await TestJournal.write(
            [
                entry("2026-03-01T10:00:00.000Z", "cs-companiond starting", unit: "cs-companiond.service", identifier: "cs-companiond"),
                entry("2026-03-01T10:01:00.000Z", "BootNotification accepted", unit: "ocpp-service.service", identifier: "ocpp"),
                entry("2026-03-01T10:02:00.000Z", "New client connected from 127.0.0.1", unit: "mosquitto.service", identifier: "mosquitto"),
                entry("2026-03-01T10:03:00.000Z", "Accepted publickey for root", unit: "ssh.service", identifier: "sshd"),
                entry("2026-03-01T10:04:00.000Z", "TLS handshake with the CSMS failed", unit: "ocpp-service.service", identifier: "ocpp"),
            ], into: directory)
    }

    @Test("include_units: a diagnostics log has the listed units' entries too, never an unlisted unit's")
    func diagnosticsIncludeListedUnits() async throws {
        let directory = try TemporaryDirectory()
        try await writeStationJournal(into: directory.file("journal"))
        let output = directory.file("diag.log.gz")
        let source = JournalSource(directory: directory.file("journal"), otherUnits: ["ocpp-service.service", "mosquitto.service"])
        let collected = try LogCollector.collect(from: source, oldest: nil, latest: nil, securityOnly: false, to: output).get()
        #expect(collected.entries == 4)
        let text = try await gunzip(output)
        #expect(text.contains("ocpp[77] <info>: BootNotification accepted"))
        #expect(text.contains("mosquitto[77] <info>: New client connected"))
        #expect(text.contains("cs-companiond[77] <info>: cs-companiond starting"))
        #expect(!text.contains("publickey"))
    }

    @Test("include_units: a security log stays the daemon's (the other units' TLS lines are not in it)")
    func securityLogStaysTheDaemons() async throws {
        let directory = try TemporaryDirectory()
        try await writeStationJournal(into: directory.file("journal"))
        let output = directory.file("security.log.gz")
        let source = JournalSource(directory: directory.file("journal"), otherUnits: ["ocpp-service.service"])
        let collected = try LogCollector.collect(from: source, oldest: nil, latest: nil, securityOnly: true, to: output).get()
        #expect(collected.entries == 0)
        let text = try await gunzip(output)
        #expect(!text.contains("TLS handshake"))
    }
}
