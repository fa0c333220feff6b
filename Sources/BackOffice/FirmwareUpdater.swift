import Basics
import JosevContract
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// How firmware updates are done on this board (the `firmware:` block of the configuration).
public struct FirmwareSettings: Sendable, Equatable {
    /// Where images are downloaded (`firmware-<request id>.img`); its file system must hold the image.
    public var downloadDirectory: String
    /// The state file (survives restarts): `<state directory>/firmware.state` in the daemon.
    public var stateFile: String
    /// The board's updater: argv; `{image}` is replaced by the image's path (appended when absent).
    public var installCommand: [String]
    /// Seconds the install command may run before its process group is killed (→ installation_failed).
    public var installTimeout: Int
    /// The install command's exit status meaning "installed, reboot to activate" (→ install_rebooting).
    public var rebootExitCode: Int32
    /// Run after `install_rebooting` was published (e.g. `systemctl reboot`); nil: the updater reboots.
    public var rebootCommand: [String]?
    /// Run at the first start after a reboot for an update: exit 0 → installed, otherwise
    /// install_verification_failed (e.g. `rauc status mark-good`). Nil: installed.
    public var verifyCommand: [String]?
    /// The manufacturer's root CA (PEM) signing certificates must chain to; nil: only the
    /// certificate's validity period is checked.
    public var trustedCAFile: String?
    /// Refuse updates without `signing_certificate` and `signature`.
    public var requireSignature: Bool
    /// Bytes that must stay free on the download directory's file system after the download.
    public var keepFreeBytes: Int64
    public var transfer: TransferOptions
    /// Used when the request has no `retries` / `retry_interval`.
    public var defaultRetries: Int
    public var defaultRetryInterval: Int
    /// How often a deferred install checks whether the station became idle.
    public var idleCheckInterval: Duration
    /// The kernel's id of this boot: stored with `install_rebooting`; the same id at the next
    /// start means the daemon restarted without a reboot (→ installation_failed).
    public var bootIDFile: String

    public init(
        downloadDirectory: String, stateFile: String, installCommand: [String], installTimeout: Int = 600,
        rebootExitCode: Int32 = 100, rebootCommand: [String]? = nil, verifyCommand: [String]? = nil, trustedCAFile: String? = nil,
        requireSignature: Bool = false, keepFreeBytes: Int64 = 0, transfer: TransferOptions = TransferOptions(),
        defaultRetries: Int = 3, defaultRetryInterval: Int = 30, idleCheckInterval: Duration = .seconds(1),
        bootIDFile: String = "/proc/sys/kernel/random/boot_id"
    ) {
        self.downloadDirectory = downloadDirectory
        self.stateFile = stateFile
        self.installCommand = installCommand
        self.installTimeout = installTimeout
        self.rebootExitCode = rebootExitCode
        self.rebootCommand = rebootCommand
        self.verifyCommand = verifyCommand
        self.trustedCAFile = trustedCAFile
        self.requireSignature = requireSignature
        self.keepFreeBytes = keepFreeBytes
        self.transfer = transfer
        self.defaultRetries = defaultRetries
        self.defaultRetryInterval = defaultRetryInterval
        self.idleCheckInterval = idleCheckInterval
        self.bootIDFile = bootIDFile
    }
}

/// Metadata for security-relevant log lines (the `security_log` of `upload_logs` selects them by
/// the journal field `SECURITY_EVENT`).
public func securityEvent(_ name: String) -> Logger.Metadata { [LogCollector.securityMetadataKey: .string(name)] }

/// One firmware update at a time, from `update_firmware` to `installed`: schedule, download
/// (retries, resume, free space), signature, an install deferred while a car charges, the board's
/// install command with a timeout, and every `firmware_status` step. The job's state is kept in a
/// small file, so a restart resumes the download or reports how the install ended.
public actor FirmwareUpdater {
    /// Publishes one status; false when it could not be sent (the broker is away).
    public typealias Publish = @Sendable (FirmwareStatusUpdate) async -> Bool

    /// Where a job is; persisted as `phase`.
    enum Phase: String {
        /// Waiting for `retrieve_datetime`, downloading or between attempts (restart: resume).
        case download
        /// Downloaded and verified, waiting for `install_datetime` and an idle station.
        case install
        /// The install command runs (restart: it was interrupted → installation_failed).
        case installing
        /// Installed, the board reboots (restart: verify → installed).
        case rebooting
        /// Ended with `final_status`; `reported` says whether Josev heard it.
        case done
    }

    let settings: FirmwareSettings
    let logger: Logger
    let publish: Publish
    let isCharging: @Sendable () async -> Bool
    /// "Now" and the waits (start delay, scheduled download and install, retries, re-sending).
    let time: any TimeSource
    let state: StateFile
    private var job: BackOfficeJob<UpdateFirmwareRequest>?
    private var phase: Phase?
    /// Final statuses being re-sent until Josev got them, by request id (a new request does not
    /// stop the previous one's).
    private var reporters: [Int: Task<Void, Never>] = [:]

    public init(
        settings: FirmwareSettings, logger: Logger, publish: @escaping Publish, isCharging: @escaping @Sendable () async -> Bool,
        time: any TimeSource = SystemTime()
    ) {
        self.settings = settings
        self.logger = logger
        self.publish = publish
        self.isCharging = isCharging
        self.time = time
        state = StateFile(path: settings.stateFile)
    }

    /// No job runs and no final status is being re-sent: nothing will be published unless asked.
    var isIdle: Bool { job == nil && reporters.isEmpty }

    // MARK: Requests

    /// Judges an `update_firmware` request and starts its job; the answer is the response's status.
    public func request(_ request: UpdateFirmwareRequest) async -> UpdateFirmwareStatus {
        var request = request
        let id = request.requestID
        guard TransferScheme.allowedScheme(of: request.location) != nil else {
            logger.warning("update_firmware \(id) rejected: location scheme not allowed (http, https, ftp, ftps, sftp)")
            return .rejected
        }
        switch (request.signingCertificate, request.signature) {
        case (let pem?, _?):
            do {
                _ = try SigningCertificate(pem: pem, trustedCAFile: settings.trustedCAFile)
            } catch {
                logger.warning("update_firmware \(id): signing certificate \(error)", metadata: securityEvent("invalid-firmware-certificate"))
                return .invalidCertificate
            }
        case (nil, nil) where !settings.requireSignature:
            break
        default:
            logger.warning("update_firmware \(id) rejected: a signing certificate and a signature are both required", metadata: securityEvent("unsigned-firmware"))
            return .rejected
        }
        // No suspension from here to begin(): nothing can change `phase` in between.
        if phase == .installing || phase == .rebooting {
            logger.notice("update_firmware \(id) rejected: firmware \(job?.request.requestID ?? -1) is being installed")
            return .rejected
        }
        RetryLimits.clamp(
            &request, defaults: (settings.defaultRetries, settings.defaultRetryInterval), what: "update_firmware \(id)", logger: logger)
        var status = UpdateFirmwareStatus.accepted
        if let running = job {
            // Not awaited: the old job may be digesting a large image; it is no longer current,
            // so nothing it does afterwards counts.
            logger.notice("update_firmware \(id) cancels firmware update \(running.request.requestID)")
            running.cancel()
            job = nil
            removeFiles(of: running.request.requestID)
            status = .acceptedCanceled
        }
        // A leftover part of an earlier job with this id is not this request's image.
        removeFiles(of: id)
        logger.info(
            "update_firmware \(id) accepted: \(TransferScheme.redacted(request.location)), retrieve at \(request.retrieveDatetime)\(request.installDatetime.map { ", install at \($0)" } ?? "")")
        begin(request, at: .download, delay: .milliseconds(100))
        return status
    }

    /// At start-up: picks up the job the state file describes (a download resumes, an interrupted
    /// install is reported failed, a reboot for an update is verified) and reports a final status
    /// Josev has not heard yet.
    public func resume() async {
        guard let fields = state.read() else { return }
        guard let request = Self.request(from: fields), let phase = fields["phase"].flatMap(Phase.init(rawValue:)) else {
            logger.warning("firmware state file \(state.path) unreadable; removed")
            state.remove()
            return
        }
        let id = request.requestID
        switch phase {
        case .download, .install:
            logger.info("firmware update \(id) resumes after a restart (\(phase.rawValue))")
            begin(request, at: phase, delay: .zero)
        case .installing:
            logger.error("firmware update \(id): the install was interrupted by a restart")
            finish(request, .installationFailed)
        case .rebooting:
            // Set before the verify command is awaited: request() rejects updates meanwhile.
            self.phase = .rebooting
            let bootID = Self.bootID(settings.bootIDFile)
            if let stored = fields["boot_id"], stored == bootID {
                logger.error("firmware update \(id): the daemon restarted but the board did not reboot (same boot id \(stored)); the update is not active")
                finish(request, .installationFailed)
                return
            }
            var status = FirmwareStatus.installed
            if let verify = settings.verifyCommand {
                let outcome = await ExternalCommand.run(
                    verify, environment: environment(request, image: imagePath(id)), output: outputPath(id, "verify"),
                    timeout: .seconds(settings.installTimeout))
                if outcome != .exited(0) {
                    logger.error("firmware update \(id): verification after the reboot failed (\(outcome)): \(ExternalCommand.tail(of: outputPath(id, "verify")))")
                    status = .installVerificationFailed
                }
            }
            logger.info("firmware update \(id): \(status.rawValue) after the reboot")
            finish(request, status)
        case .done:
            self.phase = .done
            if fields["reported"] != "true", let status = fields["final_status"].flatMap(FirmwareStatus.init(rawValue:)) {
                logger.info("firmware update \(id) ended with \(status.rawValue); reporting it")
                startReporting(FirmwareStatusUpdate(requestID: id, status: status), request: request)
            }
        }
    }

    // MARK: The job

    private func begin(_ request: UpdateFirmwareRequest, at phase: Phase, delay: Duration) {
        let cancellation = TransferCancellation()
        self.phase = phase
        persist(request, phase: phase)
        let task = Task {
            if delay > .zero { try? await self.time.sleep(for: delay) }
            await self.run(request, from: phase, cancellation: cancellation)
        }
        job = BackOfficeJob(request: request, task: task, cancellation: cancellation)
    }

    private func isCurrent(_ cancellation: TransferCancellation) -> Bool {
        !cancellation.isCancelled && !Task.isCancelled && job?.cancellation === cancellation
    }

    private func run(_ request: UpdateFirmwareRequest, from start: Phase, cancellation: TransferCancellation) async {
        let id = request.requestID
        let image = imagePath(id)
        if start == .download {
            guard await download(request, to: image, cancellation: cancellation) else { return }
            guard isCurrent(cancellation) else { return }
            if let pem = request.signingCertificate, let signature = request.signature {
                let verified = await DedicatedThread.run { () -> Bool? in
                    guard let certificate = try? SigningCertificate(pem: pem) else { return false }
                    return certificate.verifies(file: image, signatureBase64: signature, cancellation: cancellation)
                }
                guard isCurrent(cancellation) else { return }
                guard verified == true else {
                    logger.error(
                        "firmware update \(id): \(verified == nil ? "image unreadable" : "signature does not match the image"); not installed",
                        metadata: securityEvent("invalid-firmware-signature"))
                    unlink(image)
                    finish(request, .invalidSignature)
                    return
                }
                logger.info("firmware update \(id): signature verified")
                await send(.signatureVerified, id)
            }
            phase = .install
            persist(request, phase: .install)
        }
        guard await waitForInstallWindow(request, cancellation: cancellation), isCurrent(cancellation) else { return }
        await install(request, image: image)
    }

    /// Downloads with retries; false when the job ended (failed or cancelled).
    private func download(_ request: UpdateFirmwareRequest, to image: String, cancellation: TransferCancellation) async -> Bool {
        let id = request.requestID
        if let at = DateTimeText.parse(request.retrieveDatetime), at > time.unixMilliseconds() {
            await send(.downloadScheduled, id)
            while isCurrent(cancellation), at > time.unixMilliseconds() {
                try? await time.sleep(for: .milliseconds(min(1000, max(10, at - time.unixMilliseconds()))))
            }
        }
        let partial = image + ".part"
        let directory = settings.downloadDirectory
        let keep = settings.keepFreeBytes
        let outcome = await withRetries(
            retries: request.retries ?? settings.defaultRetries, interval: request.retryInterval ?? settings.defaultRetryInterval,
            what: "firmware update \(id): download from \(TransferScheme.redacted(request.location))", logger: logger,
            time: time, cancellation: cancellation, beforeEach: { _ in await self.send(.downloading, id) }
        ) { () async throws(TransferError) in
            try await Transfer.download(
                from: request.location, to: partial, options: settings.transfer, cancellation: cancellation,
                availableSpace: { Self.freeBytes(directory).map { max(0, $0 - keep) } })
        }
        switch outcome {
        case .cancelled:
            return false
        case .failed:
            guard isCurrent(cancellation) else { return false }
            unlink(partial)
            finish(request, .downloadFailed)
            return false
        case .succeeded(let result, let attempt):
            guard isCurrent(cancellation) else { return false }
            guard rename(partial, image) == 0 else {
                logger.error("firmware update \(id): cannot move the image into place: \(String(cString: strerror(errno)))")
                finish(request, .downloadFailed)
                return false
            }
            logger.info(
                "firmware update \(id): downloaded \(result.bytes) bytes\(result.resumedFrom > 0 ? " (resumed at \(result.resumedFrom))" : "") on attempt \(attempt)")
            await send(.downloaded, id)
            return true
        }
    }

    /// Waits for `install_datetime` and for no car to be charging; false when cancelled.
    private func waitForInstallWindow(_ request: UpdateFirmwareRequest, cancellation: TransferCancellation) async -> Bool {
        let installAt = request.installDatetime.flatMap(DateTimeText.parse)
        var announced = false
        while isCurrent(cancellation) {
            let early = installAt.map { $0 > time.unixMilliseconds() } ?? false
            let charging = await isCharging()
            guard early || charging else { return isCurrent(cancellation) }
            if !announced {
                announced = true
                logger.info(
                    "firmware update \(request.requestID): install deferred\(early ? " until \(request.installDatetime ?? "")" : "")\(charging ? " while a car is charging" : "")")
                await send(.installScheduled, request.requestID)
            }
            try? await time.sleep(for: settings.idleCheckInterval)
        }
        return false
    }

    private func install(_ request: UpdateFirmwareRequest, image: String) async {
        let id = request.requestID
        phase = .installing
        persist(request, phase: .installing)
        await send(.installing, id)
        var arguments = settings.installCommand.map { $0.replacing(text: "{image}", with: image) }
        if !settings.installCommand.contains(where: { $0.contains(text: "{image}") }) { arguments.append(image) }
        logger.info("firmware update \(id): installing with \(settings.installCommand.first ?? "?") (timeout \(settings.installTimeout) s)")
        let output = outputPath(id, "install")
        let outcome = await ExternalCommand.run(
            arguments, environment: environment(request, image: image), output: output, timeout: .seconds(settings.installTimeout))
        unlink(image)
        switch outcome {
        case .exited(0):
            logger.info("firmware update \(id): installed")
            finish(request, .installed)
        case .exited(settings.rebootExitCode):
            logger.notice("firmware update \(id): installed, rebooting to activate it")
            phase = .rebooting
            persist(request, phase: .rebooting, bootID: Self.bootID(settings.bootIDFile))
            await send(.installRebooting, id)
            if let reboot = settings.rebootCommand {
                let output = outputPath(id, "reboot")
                let result = await ExternalCommand.run(reboot, environment: [:], output: output, timeout: .seconds(60))
                if result != .exited(0) {
                    // No reboot is coming: the new firmware is not active, and later updates must not wait for it.
                    logger.error("firmware update \(id): reboot command failed (\(result)): \(ExternalCommand.tail(of: output))")
                    finish(request, .installationFailed)
                }
            }
        default:
            logger.error("firmware update \(id): install command failed (\(outcome)): \(ExternalCommand.tail(of: output))")
            finish(request, .installationFailed)
        }
    }

    // MARK: Status, persistence, files

    /// A final status: persisted, published, and re-published until Josev got it.
    /// The phase, the state file and the job change only when no newer request's job runs.
    private func finish(_ request: UpdateFirmwareRequest, _ status: FirmwareStatus) {
        if job == nil || job?.request.requestID == request.requestID {
            phase = .done
            persist(request, phase: .done, final: status, reported: false)
            job = nil
        }
        startReporting(FirmwareStatusUpdate(requestID: request.requestID, status: status), request: request)
    }

    private func startReporting(_ update: FirmwareStatusUpdate, request: UpdateFirmwareRequest) {
        reporters[update.requestID]?.cancel()
        reporters[update.requestID] = Task {
            var delay = Duration.milliseconds(500)
            while !Task.isCancelled {
                if await self.publish(update) {
                    self.reported(request, update.status)
                    return
                }
                try? await self.time.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
    }

    private func reported(_ request: UpdateFirmwareRequest, _ status: FirmwareStatus) {
        reporters[request.requestID] = nil
        // The state file may describe a newer request by now.
        guard phase == .done, job == nil, state.read()?["request_id"] == "\(request.requestID)" else { return }
        persist(request, phase: .done, final: status, reported: true)
    }

    /// An intermediate status: sent once; lost when the broker is away (the final one is not).
    private func send(_ status: FirmwareStatus, _ id: Int) async {
        if !(await publish(FirmwareStatusUpdate(requestID: id, status: status))) {
            logger.debug("firmware_status \(status.rawValue) for \(id) not sent (broker away)")
        }
    }

    private func persist(
        _ request: UpdateFirmwareRequest, phase: Phase, final: FirmwareStatus? = nil, reported: Bool = false, bootID: String? = nil
    ) {
        var fields: [String: String] = [
            "request_id": "\(request.requestID)", "location": request.location, "retrieve_datetime": request.retrieveDatetime,
            "phase": phase.rawValue,
        ]
        fields["install_datetime"] = request.installDatetime
        fields["retries"] = request.retries.map { "\($0)" }
        fields["retry_interval"] = request.retryInterval.map { "\($0)" }
        fields["signing_certificate"] = request.signingCertificate
        fields["signature"] = request.signature
        fields["boot_id"] = bootID
        if let final {
            fields["final_status"] = final.rawValue
            fields["reported"] = reported ? "true" : "false"
        }
        do {
            try state.write(fields)
        } catch {
            logger.error("firmware state not saved: \(error)")
        }
    }

    static func request(from fields: [String: String]) -> UpdateFirmwareRequest? {
        guard let id = fields["request_id"].flatMap({ Int($0) }), let location = fields["location"],
            let retrieve = fields["retrieve_datetime"]
        else { return nil }
        return UpdateFirmwareRequest(
            requestID: id, location: location, retrieveDatetime: retrieve, installDatetime: fields["install_datetime"],
            retries: fields["retries"].flatMap { Int($0) }, retryInterval: fields["retry_interval"].flatMap { Int($0) },
            signingCertificate: fields["signing_certificate"], signature: fields["signature"])
    }

    private func environment(_ request: UpdateFirmwareRequest, image: String) -> [String: String] {
        [
            "CS_FIRMWARE_IMAGE": image, "CS_FIRMWARE_REQUEST_ID": "\(request.requestID)",
            "CS_FIRMWARE_LOCATION": TransferScheme.redacted(request.location),
            "CS_FIRMWARE_SIGNED": request.signature == nil ? "no" : "yes",
        ]
    }

    private func imagePath(_ id: Int) -> String { "\(settings.downloadDirectory)/firmware-\(id).img" }
    private func outputPath(_ id: Int, _ step: String) -> String { "\(settings.downloadDirectory)/firmware-\(id).\(step).log" }

    private func removeFiles(of id: Int) {
        unlink(imagePath(id))
        unlink(imagePath(id) + ".part")
    }

    /// The first line of the kernel's boot id file; nil when it cannot be read.
    static func bootID(_ path: String) -> String? {
        guard let line = SystemFile.firstLine(of: path), !line.isEmpty else { return nil }
        return line
    }

    static func freeBytes(_ directory: String) -> Int64? {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
