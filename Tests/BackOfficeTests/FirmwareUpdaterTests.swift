import Foundation
import JosevContract
import Logging
import Synchronization
import Testing
import TestSupport

@testable import BackOffice

/// What the updater published, in order, and a charging flag the test flips.
final class Recorder: Sendable {
    let statuses = Mutex<[FirmwareStatusUpdate]>([])
    let logStatuses = Mutex<[LogsStatusUpdate]>([])
    let charging = Atomic<Bool>(false)
    /// While true, publishing fails (the broker is away).
    let offline = Atomic<Bool>(false)

    var firmware: [FirmwareStatus] { statuses.withLock { $0.map(\.status) } }
    var logs: [LogsStatusUpdate] { logStatuses.withLock { $0 } }

    func publishFirmware(_ update: FirmwareStatusUpdate) -> Bool {
        guard !offline.load(ordering: .relaxed) else { return false }
        statuses.withLock { $0.append(update) }
        return true
    }

    func waitFor(_ status: FirmwareStatus, timeout: Duration = .seconds(30)) async -> Bool {
        await waitUntil(timeout: timeout, interval: .milliseconds(50)) { self.firmware.contains(status) }
    }
}

func firmwareSettings(_ directory: TemporaryDirectory, install: [String], timeout: Int = 30) throws -> FirmwareSettings {
    let downloads = directory.file("downloads")
    try FileManager.default.createDirectory(atPath: downloads, withIntermediateDirectories: true)
    return FirmwareSettings(
        downloadDirectory: downloads, stateFile: directory.file("firmware.state"), installCommand: install, installTimeout: timeout,
        transfer: TransferOptions(connectTimeout: 5), defaultRetries: 0, defaultRetryInterval: 0, idleCheckInterval: .milliseconds(50),
        bootIDFile: directory.file("boot_id"))
}

/// Pretends the board booted: a new boot id in the settings' boot id file.
func boot(_ settings: FirmwareSettings, id: String) throws {
    try (id + "\n").write(toFile: settings.bootIDFile, atomically: true, encoding: .utf8)
}

let past = "2020-01-01T00:00:00.000Z"

@Suite("firmware updates end to end in the BackOffice module", .timeLimit(.minutes(3)))
struct FirmwareUpdaterTests {
    func updater(_ settings: FirmwareSettings, _ recorder: Recorder, time: any TimeSource = SystemTime()) -> FirmwareUpdater {
        FirmwareUpdater(
            settings: settings, logger: Logger(label: "test"), publish: { recorder.publishFirmware($0) },
            isCharging: { recorder.charging.load(ordering: .relaxed) }, time: time)
    }

    @Test("a signed image is downloaded, verified and handed to the install command with its path and environment")
    func signedImageInstalled() async throws {
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        let signer = try TestFirmwareSigner(directory: directory)
        let image = testImage(size: 150_000)
        try server.serve("fw.img", bytes: image)
        let signature = try signer.sign(server.root + "/fw.img")
        let installed = directory.file("installed.img")
        let script = try directory.script("install.sh", "cp \"$1\" \(installed) && echo \"$CS_FIRMWARE_REQUEST_ID $CS_FIRMWARE_SIGNED\" > \(installed).env")
        let recorder = Recorder()
        let firmware = updater(try firmwareSettings(directory, install: [script]), recorder)
        let status = await firmware.request(UpdateFirmwareRequest(
            requestID: 42, location: server.baseURL + "/fw.img", retrieveDatetime: past, signingCertificate: signer.pem, signature: signature))
        #expect(status == .accepted)
        #expect(await recorder.waitFor(.installed), "\(recorder.firmware)")
        #expect(recorder.firmware == [.downloading, .downloaded, .signatureVerified, .installing, .installed])
        #expect(recorder.statuses.withLock { $0.allSatisfy { $0.requestID == 42 } })
        #expect(FileManager.default.contents(atPath: installed) == Data(image))
        #expect(try String(contentsOfFile: installed + ".env", encoding: .utf8) == "42 yes\n")
        await server.stop()
    }

    @Test("ECDSA and RSA-PSS signatures verify; a signature of other bytes does not")
    func signatureAlgorithms() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("image", String(repeating: "firmware ", count: 1000))
        let other = try directory.write("other", "something else")
        let ec = try TestFirmwareSigner(directory: directory, name: "ec", algorithm: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
        let rsa = try TestFirmwareSigner(directory: directory, name: "rsa")
        let ecCertificate = try SigningCertificate(pem: ec.pem)
        #expect(ecCertificate.verifies(file: file, signatureBase64: try ec.sign(file)) == true)
        #expect(ecCertificate.verifies(file: file, signatureBase64: try ec.sign(other)) == false)
        let rsaCertificate = try SigningCertificate(pem: rsa.pem)
        #expect(rsaCertificate.verifies(file: file, signatureBase64: try rsa.sign(file, extra: ["-sigopt", "rsa_padding_mode:pss"])) == true)
        #expect(rsaCertificate.verifies(file: file, signatureBase64: try rsa.sign(file)) == true)
        #expect(rsaCertificate.verifies(file: file, signatureBase64: "not base64 !") == false)
        #expect(rsaCertificate.verifies(file: directory.file("missing"), signatureBase64: try rsa.sign(file)) == nil)
    }

    @Test("certificates: garbage is unreadable, a certificate from another CA is untrusted when a root is configured")
    func certificateChecks() throws {
        let directory = try TemporaryDirectory()
        let pki = try TestCertificates(in: directory.path)
        let leaf = try String(contentsOfFile: pki.serverCertFile, encoding: .utf8)
        #expect(throws: SigningCertificate.Problem.unreadable) { try SigningCertificate(pem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") }
        // A TLS server certificate (extended key usage serverAuth) does not sign firmware, even from the trusted CA.
        #expect(throws: SigningCertificate.Problem.notForCodeSigning) { try SigningCertificate(pem: leaf, trustedCAFile: pki.caFile) }
        // codeSigning in the extended key usage, or no such extension: usable.
        let codeSigning = directory.path + "/code.crt"
        try Command.run(
            "openssl",
            ["req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-keyout", directory.path + "/code.key",
             "-out", codeSigning, "-days", "2", "-subj", "/CN=code", "-addext", "extendedKeyUsage=codeSigning"])
        _ = try SigningCertificate(pem: try String(contentsOfFile: codeSigning, encoding: .utf8), trustedCAFile: codeSigning)
        let signer = try TestFirmwareSigner(directory: directory)
        _ = try SigningCertificate(pem: signer.pem, trustedCAFile: signer.certificate)
        do {
            _ = try SigningCertificate(pem: signer.pem, trustedCAFile: pki.otherCAFile)
            Issue.record("a certificate of another CA was trusted")
        } catch {
            guard case .untrusted = error else {
                Issue.record("unexpected \(error)")
                return
            }
        }
    }

    @Test("a wrong signature ends in invalid_signature and the install command never runs")
    func badSignature() async throws {
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        let signer = try TestFirmwareSigner(directory: directory)
        try server.serve("fw.img", bytes: testImage(size: 20_000))
        let decoy = try directory.write("decoy", "not the image")
        let marker = directory.file("ran")
        let script = try directory.script("install.sh", "touch \(marker)")
        let recorder = Recorder()
        let firmware = updater(try firmwareSettings(directory, install: [script]), recorder)
        let status = await firmware.request(UpdateFirmwareRequest(
            requestID: 7, location: server.baseURL + "/fw.img", retrieveDatetime: past, signingCertificate: signer.pem,
            signature: try signer.sign(decoy)))
        #expect(status == .accepted)
        #expect(await recorder.waitFor(.invalidSignature), "\(recorder.firmware)")
        #expect(recorder.firmware == [.downloading, .downloaded, .invalidSignature])
        #expect(!FileManager.default.fileExists(atPath: marker))
        await server.stop()
    }

    @Test("requests refused up front: disallowed scheme (rejected), unreadable certificate (invalid_certificate)")
    func refusedRequests() async throws {
        let directory = try TemporaryDirectory()
        let recorder = Recorder()
        let firmware = updater(try firmwareSettings(directory, install: ["/bin/true"]), recorder)
        #expect(await firmware.request(UpdateFirmwareRequest(requestID: 1, location: "file:///etc/passwd", retrieveDatetime: past)) == .rejected)
        #expect(
            await firmware.request(UpdateFirmwareRequest(
                requestID: 2, location: "https://127.0.0.1/fw", retrieveDatetime: past, signingCertificate: "garbage", signature: "AAAA"))
                == .invalidCertificate)
        #expect(
            await firmware.request(UpdateFirmwareRequest(requestID: 3, location: "https://127.0.0.1/fw", retrieveDatetime: past, signature: "AAAA"))
                == .rejected)
        // A refused request starts no job: nothing runs that could publish later, nothing was published.
        #expect(await firmware.isIdle)
        #expect(recorder.firmware.isEmpty)
    }

    @Test("an unreachable host: every retry fails, then download_failed")
    func unreachableDownload() async throws {
        let directory = try TemporaryDirectory()
        let recorder = Recorder()
        let firmware = updater(try firmwareSettings(directory, install: ["/bin/true"]), recorder)
        let port = try freeLoopbackPort()
        #expect(
            await firmware.request(UpdateFirmwareRequest(
                requestID: 5, location: "http://127.0.0.1:\(port)/fw.img", retrieveDatetime: past, retries: 2, retryInterval: 0)) == .accepted)
        #expect(await recorder.waitFor(.downloadFailed), "\(recorder.firmware)")
        #expect(recorder.firmware == [.downloading, .downloading, .downloading, .downloadFailed])
    }

    @Test("a disk too small for the image: download_failed, nothing left behind")
    func diskTooSmall() async throws {
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        try server.serve("fw.img", bytes: testImage(size: 50_000))
        let recorder = Recorder()
        var settings = try firmwareSettings(directory, install: ["/bin/true"])
        settings.keepFreeBytes = Int64.max / 2
        let firmware = updater(settings, recorder)
        _ = await firmware.request(UpdateFirmwareRequest(requestID: 6, location: server.baseURL + "/fw.img", retrieveDatetime: past, retries: 3))
        #expect(await recorder.waitFor(.downloadFailed), "\(recorder.firmware)")
        // Not retried: more attempts cannot make room.
        #expect(recorder.firmware == [.downloading, .downloadFailed])
        #expect(try FileManager.default.contentsOfDirectory(atPath: settings.downloadDirectory).filter { $0.hasPrefix("firmware-6.img") }.isEmpty)
        await server.stop()
    }

    @Test("install commands that fail or hang end in installation_failed; the hung one is killed")
    func failingAndHangingInstall() async throws {
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        try server.serve("fw.img", bytes: testImage(size: 10_000))
        let failing = try directory.script("fail.sh", "echo 'slot B is bad' >&2; exit 3")
        let recorder = Recorder()
        let firmware = updater(try firmwareSettings(directory, install: [failing]), recorder)
        _ = await firmware.request(UpdateFirmwareRequest(requestID: 8, location: server.baseURL + "/fw.img", retrieveDatetime: past))
        #expect(await recorder.waitFor(.installationFailed), "\(recorder.firmware)")
        #expect(recorder.firmware == [.downloading, .downloaded, .installing, .installationFailed])

        let pidFile = directory.file("hung.pid")
        let hanging = try directory.script("hang.sh", "echo $$ > \(pidFile); sleep 300")
        let slowRecorder = Recorder()
        let slow = updater(try firmwareSettings(directory, install: [hanging], timeout: 1), slowRecorder)
        _ = await slow.request(UpdateFirmwareRequest(requestID: 9, location: server.baseURL + "/fw.img", retrieveDatetime: past))
        #expect(await slowRecorder.waitFor(.installationFailed), "\(slowRecorder.firmware)")
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) != 0, "the hung install command still runs")
        await server.stop()
    }

    @Test("never installs while a car is charging: install_scheduled until the station is idle")
    func installDeferredWhileCharging() async throws {
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        try server.serve("fw.img", bytes: testImage(size: 10_000))
        let marker = directory.file("ran")
        let script = try directory.script("install.sh", "touch \(marker)")
        let recorder = Recorder()
        recorder.charging.store(true, ordering: .relaxed)
        let time = ManualTime()
        let firmware = updater(try firmwareSettings(directory, install: [script]), recorder, time: time)
        _ = await firmware.request(UpdateFirmwareRequest(requestID: 11, location: server.baseURL + "/fw.img", retrieveDatetime: past))
        #expect(await time.advanceToNextSleeper())  // the start delay
        #expect(await recorder.waitFor(.installScheduled), "\(recorder.firmware)")
        // Still charging: five idle checks later (and waiting for the sixth) nothing was installed.
        for _ in 0..<5 { #expect(await time.advanceToNextSleeper()) }
        #expect(await time.waitForSleepers(1))
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(!recorder.firmware.contains(.installing))
        recorder.charging.store(false, ordering: .relaxed)
        #expect(await time.advanceToNextSleeper())
        #expect(await recorder.waitFor(.installed), "\(recorder.firmware)")
        #expect(recorder.firmware == [.downloading, .downloaded, .installScheduled, .installing, .installed])
        #expect(FileManager.default.fileExists(atPath: marker))
        await server.stop()
    }

    @Test("a second request cancels a scheduled one: accepted_canceled")
    func secondRequestCancels() async throws {
        let directory = try TemporaryDirectory()
        let recorder = Recorder()
        let firmware = updater(try firmwareSettings(directory, install: ["/bin/true"]), recorder)
        #expect(await firmware.request(UpdateFirmwareRequest(requestID: 20, location: "https://127.0.0.1/a", retrieveDatetime: "2099-01-01T00:00:00Z")) == .accepted)
        #expect(await recorder.waitFor(.downloadScheduled))
        let port = try freeLoopbackPort()
        #expect(await firmware.request(UpdateFirmwareRequest(requestID: 21, location: "http://127.0.0.1:\(port)/b", retrieveDatetime: past)) == .acceptedCanceled)
        #expect(await recorder.waitFor(.downloadFailed))
        #expect(recorder.statuses.withLock { $0.last } == FirmwareStatusUpdate(requestID: 21, status: .downloadFailed))
    }

    @Test("the state survives a restart: an interrupted install is reported failed, a reboot for an update installed")
    func stateSurvivesRestart() async throws {
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        try server.serve("fw.img", bytes: testImage(size: 10_000))
        // Exit 100: installed, the board reboots to activate it.
        let script = try directory.script("install.sh", "exit 100")
        let settings = try firmwareSettings(directory, install: [script])
        try boot(settings, id: "11111111-1111-1111-1111-111111111111")
        let recorder = Recorder()
        let first = updater(settings, recorder)
        _ = await first.request(UpdateFirmwareRequest(requestID: 30, location: server.baseURL + "/fw.img", retrieveDatetime: past))
        #expect(await recorder.waitFor(.installRebooting), "\(recorder.firmware)")
        #expect(!recorder.firmware.contains(.installed))
        #expect(StateFile(path: settings.stateFile).read()?["boot_id"] == "11111111-1111-1111-1111-111111111111")

        // "After the reboot" (a new boot id), with the broker away at first: reported once it is back.
        let afterReboot = Recorder()
        afterReboot.offline.store(true, ordering: .relaxed)
        try boot(settings, id: "22222222-2222-2222-2222-222222222222")
        let time = ManualTime()
        let second = updater(settings, afterReboot, time: time)
        await second.resume()
        // The first attempt and two more (500 ms, then 1 s later) fail; the fourth waits.
        #expect(await time.advanceToNextSleeper())
        #expect(await time.advanceToNextSleeper())
        #expect(await time.waitForSleepers(1))
        #expect(afterReboot.firmware.isEmpty)
        afterReboot.offline.store(false, ordering: .relaxed)
        #expect(await time.advanceToNextSleeper())
        #expect(await afterReboot.waitFor(.installed))
        #expect(afterReboot.statuses.withLock { $0 } == [FirmwareStatusUpdate(requestID: 30, status: .installed)])
        #expect(await waitUntil(timeout: .seconds(5)) { StateFile(path: settings.stateFile).read()?["reported"] == "true" })

        // Reported: a third start says nothing.
        let third = Recorder()
        let thirdUpdater = updater(settings, third)
        await thirdUpdater.resume()
        #expect(await thirdUpdater.isIdle)
        #expect(third.firmware.isEmpty)

        // A state file saying "installing": the install was cut by the restart.
        var fields = try #require(StateFile(path: settings.stateFile).read())
        fields["phase"] = "installing"
        fields["final_status"] = nil
        try StateFile(path: settings.stateFile).write(fields)
        let fourth = Recorder()
        await updater(settings, fourth).resume()
        #expect(await fourth.waitFor(.installationFailed))
        await server.stop()
    }

    @Test("an install command in a cancelled task is still waited for without spinning")
    func commandInCancelledTask() async throws {
        let directory = try TemporaryDirectory()
        func cpuSeconds() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        let before = cpuSeconds()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await ExternalCommand.run(["/bin/sleep", "2"], environment: [:], output: directory.file("out"), timeout: .seconds(20))
        }
        #expect(await task.value == .exited(0))
        let used = cpuSeconds() - before
        // Polling every 100 ms costs milliseconds; spinning would burn about the 2 s the command ran.
        #expect(used < 1.0, "\(used) s of CPU while waiting for a 2 s command")
    }

    @Test("hostile retries and retry_interval are clamped: Int.max retries are 100, not a crash")
    func hostileRetries() async throws {
        let directory = try TemporaryDirectory()
        let recorder = Recorder()
        let firmware = updater(try firmwareSettings(directory, install: ["/bin/true"]), recorder)
        let port = try freeLoopbackPort()
        #expect(
            await firmware.request(UpdateFirmwareRequest(
                requestID: 60, location: "http://127.0.0.1:\(port)/fw.img", retrieveDatetime: past, retries: Int.max, retryInterval: Int.min))
                == .accepted)
        #expect(await recorder.waitFor(.downloadFailed, timeout: .seconds(90)), "\(recorder.firmware.count)")
        #expect(recorder.firmware.filter { $0 == .downloading }.count == 101)
        #expect(StateFile(path: directory.file("firmware.state")).read()?["retries"] == "100")

        // An interval of Int.max seconds: the first attempt fails, then it waits (a day, clamped),
        // and a new request still cancels it.
        let waiting = Recorder()
        let time = ManualTime()
        let second = updater(try firmwareSettings(directory, install: ["/bin/true"]), waiting, time: time)
        _ = await second.request(UpdateFirmwareRequest(
            requestID: 61, location: "http://127.0.0.1:\(port)/fw.img", retrieveDatetime: past, retries: 3, retryInterval: Int.max))
        #expect(await time.advanceToNextSleeper())  // the start delay
        #expect(await waiting.waitFor(.downloading))
        // The first attempt failed; the next one waits a day.
        #expect(await time.waitForSleepers(1))
        #expect(time.pendingSleeps == [.seconds(86_400)])
        #expect(StateFile(path: directory.file("firmware.state")).read()?["retry_interval"] == "86400")
        #expect(
            await second.request(UpdateFirmwareRequest(requestID: 62, location: "https://127.0.0.1/x", retrieveDatetime: "2099-01-01T00:00:00Z"))
                == .acceptedCanceled)
    }

    @Test("a cancelled digest and a cancelled journal read stop")
    func cancelledWorkStops() async throws {
        let directory = try TemporaryDirectory()
        let signer = try TestFirmwareSigner(directory: directory)
        let file = try directory.write("image", String(repeating: "firmware ", count: 10_000))
        let certificate = try SigningCertificate(pem: signer.pem)
        let signature = try signer.sign(file)
        #expect(certificate.verifies(file: file, signatureBase64: signature, cancellation: TransferCancellation()) == true)
        let cancelled = TransferCancellation()
        cancelled.cancel()
        #expect(certificate.verifies(file: file, signatureBase64: signature, cancellation: cancelled) == nil)
        try await writeJournal(into: directory.file("journal"))
        let output = directory.file("x.log.gz")
        let result = LogCollector.collect(
            from: JournalSource(directory: directory.file("journal")), oldest: nil, latest: nil, securityOnly: false, to: output,
            cancellation: cancelled)
        guard case .failure(let error) = result else {
            Issue.record("a cancelled collection succeeded: \(result)")
            return
        }
        #expect(error.description == "cancelled")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test("after install_rebooting: a restart without a reboot (same boot id) and a failing reboot command are installation_failed")
    func rebootThatDidNotHappen() async throws {
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        try server.serve("fw.img", bytes: testImage(size: 10_000))
        let verified = directory.file("verified")
        var settings = try firmwareSettings(directory, install: [try directory.script("install.sh", "exit 100")])
        settings.verifyCommand = [try directory.script("verify.sh", "touch \(verified)")]
        try boot(settings, id: "33333333-3333-3333-3333-333333333333")
        let recorder = Recorder()
        _ = await updater(settings, recorder).request(UpdateFirmwareRequest(requestID: 40, location: server.baseURL + "/fw.img", retrieveDatetime: past))
        #expect(await recorder.waitFor(.installRebooting), "\(recorder.firmware)")
        // The service restarts, the board did not reboot: the new firmware is not active.
        let restarted = Recorder()
        await updater(settings, restarted).resume()
        #expect(await restarted.waitFor(.installationFailed), "\(restarted.firmware)")
        #expect(restarted.statuses.withLock { $0 } == [FirmwareStatusUpdate(requestID: 40, status: .installationFailed)])
        #expect(!FileManager.default.fileExists(atPath: verified))

        // A reboot command that fails: no reboot comes, so the update ends and the next one is taken.
        settings.rebootCommand = [try directory.script("reboot.sh", "echo 'reboot refused' >&2; exit 1")]
        let failing = Recorder()
        let firmware = updater(settings, failing)
        _ = await firmware.request(UpdateFirmwareRequest(requestID: 41, location: server.baseURL + "/fw.img", retrieveDatetime: past))
        #expect(await failing.waitFor(.installationFailed), "\(failing.firmware)")
        #expect(failing.firmware == [.downloading, .downloaded, .installing, .installRebooting, .installationFailed])
        #expect(await firmware.request(UpdateFirmwareRequest(requestID: 42, location: "https://127.0.0.1/x", retrieveDatetime: "2099-01-01T00:00:00Z")) == .accepted)
        await server.stop()
    }

    @Test("while the verify command runs after a reboot, a new update is rejected and does not lose its state")
    func requestDuringVerify() async throws {
        let directory = try TemporaryDirectory()
        var settings = try firmwareSettings(directory, install: ["/bin/true"])
        let release = directory.file("release")
        settings.verifyCommand = [try directory.script("verify.sh", "while [ ! -e \(release) ]; do sleep 0.05; done")]
        try boot(settings, id: "44444444-4444-4444-4444-444444444444")
        try StateFile(path: settings.stateFile).write([
            "request_id": "50", "location": "https://127.0.0.1/fw", "retrieve_datetime": past, "phase": "rebooting",
            "boot_id": "an earlier boot",
        ])
        let recorder = Recorder()
        let firmware = updater(settings, recorder)
        let resumed = Task { await firmware.resume() }
        #expect(await waitUntil(timeout: .seconds(10)) { FileManager.default.fileExists(atPath: settings.downloadDirectory + "/firmware-50.verify.log") })
        #expect(await firmware.request(UpdateFirmwareRequest(requestID: 51, location: "https://127.0.0.1/y", retrieveDatetime: "2099-01-01T00:00:00Z")) == .rejected)
        #expect(FileManager.default.createFile(atPath: release, contents: nil))
        await resumed.value
        #expect(await recorder.waitFor(.installed), "\(recorder.firmware)")
        #expect(recorder.statuses.withLock { $0 } == [FirmwareStatusUpdate(requestID: 50, status: .installed)])
        #expect(StateFile(path: settings.stateFile).read()?["request_id"] == "50")
    }

    @Test("a leftover part of an earlier job with the same id is not resumed by a new request")
    func leftoverPartNotResumed() async throws {
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        let image = testImage(size: 60_000)
        try server.serve("fw.img", bytes: image)
        let installed = directory.file("installed.img")
        let settings = try firmwareSettings(directory, install: [try directory.script("install.sh", "cp \"$1\" \(installed)")])
        try Data(repeating: 0xEE, count: 20_000).write(to: URL(fileURLWithPath: settings.downloadDirectory + "/firmware-70.img.part"))
        let recorder = Recorder()
        _ = await updater(settings, recorder).request(UpdateFirmwareRequest(requestID: 70, location: server.baseURL + "/fw.img", retrieveDatetime: past))
        #expect(await recorder.waitFor(.installed), "\(recorder.firmware)")
        #expect(FileManager.default.contents(atPath: installed) == Data(image))
        #expect(!server.requests.contains { $0.contains("bytes=") }, "\(server.requests)")
        await server.stop()
    }

    @Test("a new request does not stop re-sending the previous job's final status")
    func previousFinalStatusStillReported() async throws {
        let directory = try TemporaryDirectory()
        let recorder = Recorder()
        recorder.offline.store(true, ordering: .relaxed)
        let firmware = updater(try firmwareSettings(directory, install: ["/bin/true"]), recorder)
        let port = try freeLoopbackPort()
        _ = await firmware.request(UpdateFirmwareRequest(requestID: 80, location: "http://127.0.0.1:\(port)/fw.img", retrieveDatetime: past))
        #expect(await waitUntil(timeout: .seconds(30)) { StateFile(path: directory.file("firmware.state")).read()?["final_status"] == "download_failed" })
        #expect(await firmware.request(UpdateFirmwareRequest(requestID: 81, location: "https://127.0.0.1/x", retrieveDatetime: "2099-01-01T00:00:00Z")) == .accepted)
        recorder.offline.store(false, ordering: .relaxed)
        #expect(
            await waitUntil(timeout: .seconds(30)) {
                recorder.statuses.withLock { $0.contains(FirmwareStatusUpdate(requestID: 80, status: .downloadFailed)) }
            }, "\(recorder.statuses.withLock { $0 })")
    }

    @Test("the state file round-trips multi-line and escaped values and is replaced atomically")
    func stateFile() throws {
        let directory = try TemporaryDirectory()
        let file = StateFile(path: directory.file("x.state"))
        #expect(file.read() == nil)
        let fields = ["pem": "-----BEGIN-----\nAB%0A%25\r\n-----END-----\n", "n": "1"]
        try file.write(fields)
        #expect(file.read() == fields)
        #expect(!FileManager.default.fileExists(atPath: directory.file("x.state.tmp")))
    }
}
