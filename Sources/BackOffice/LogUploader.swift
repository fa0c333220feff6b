import Basics
import JosevContract
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// How logs are uploaded (the `logs:` block of the configuration).
public struct LogUploadSettings: Sendable, Equatable {
    public var source: JournalSource
    /// Where the compressed file is written before the upload (removed afterwards).
    public var workDirectory: String
    /// HTTP(S) uploads: PUT the file, or POST it as `multipart/form-data` (field `file`).
    public var httpMethod: HTTPUploadMethod
    public var transfer: TransferOptions
    /// Used when the request has no `retries` / `retry_interval`.
    public var defaultRetries: Int
    public var defaultRetryInterval: Int
    /// Part of the file name (the station's serial number).
    public var stationName: String

    public init(
        source: JournalSource = JournalSource(), workDirectory: String, httpMethod: HTTPUploadMethod = .put,
        transfer: TransferOptions = TransferOptions(), defaultRetries: Int = 2, defaultRetryInterval: Int = 30,
        stationName: String = "station"
    ) {
        self.source = source
        self.workDirectory = workDirectory
        self.httpMethod = httpMethod
        self.transfer = transfer
        self.defaultRetries = defaultRetries
        self.defaultRetryInterval = defaultRetryInterval
        self.stationName = stationName
    }
}

/// One log upload at a time: `upload_logs` → collect the journal, gzip, upload with retries,
/// `logs_status` uploading → uploaded / upload_failure. A request while one runs cancels it
/// (`logs_status` `accepted_canceled` for the old request) and is answered `accepted_canceled`.
public actor LogUploader {
    public typealias Publish = @Sendable (LogsStatusUpdate) async -> Bool

    let settings: LogUploadSettings
    let logger: Logger
    let publish: Publish
    /// "Now" (the file name) and the waits (start delay, retries).
    let time: any TimeSource
    private var job: BackOfficeJob<Int>?

    public init(settings: LogUploadSettings, logger: Logger, publish: @escaping Publish, time: any TimeSource = SystemTime()) {
        self.settings = settings
        self.logger = logger
        self.publish = publish
        self.time = time
    }

    /// Judges an `upload_logs` request and starts the upload; the answer's status and file name.
    public func request(_ request: UploadLogsRequest) async -> UploadLogsResponse {
        var request = request
        let id = request.requestID
        guard TransferScheme.allowedScheme(of: request.remoteLocation) != nil else {
            logger.warning("upload_logs \(id) rejected: remote location scheme not allowed (http, https, ftp, ftps, sftp)")
            return UploadLogsResponse(status: .rejected)
        }
        let oldest = request.oldestTimestamp.map { DateTimeText.parse($0) }
        let latest = request.latestTimestamp.map { DateTimeText.parse($0) }
        if oldest == .some(nil) || latest == .some(nil) {
            logger.warning("upload_logs \(id) rejected: unreadable oldest/latest timestamp")
            return UploadLogsResponse(status: .rejected)
        }
        RetryLimits.clamp(
            &request, defaults: (settings.defaultRetries, settings.defaultRetryInterval), what: "upload_logs \(id)", logger: logger)
        var status = UploadLogsStatus.accepted
        if let running = job {
            // Not awaited: the old job may be reading a large journal; it checks its cancellation
            // and sends nothing more. Its accepted_canceled goes out in the background.
            logger.notice("upload_logs \(id) cancels log upload \(running.request)")
            running.cancel()
            job = nil
            let publish = publish
            Task { _ = await publish(LogsStatusUpdate(requestID: running.request, status: .acceptedCanceled)) }
            status = .acceptedCanceled
        }
        let kind = request.logType == .securityLog ? "security" : "diagnostics"
        let filename = "\(kind)-\(Self.safe(settings.stationName))-\(id)-\(Self.compactTime(time.unixMilliseconds())).log.gz"
        logger.info(
            "upload_logs \(id) \(status.rawValue): \(request.logType.rawValue) to \(TransferScheme.redacted(request.remoteLocation)) as \(filename)")
        let cancellation = TransferCancellation()
        let task = Task {
            // Lets the response go out before the first logs_status.
            try? await self.time.sleep(for: .milliseconds(100))
            await self.run(
                request, filename: filename, oldest: oldest.flatMap { $0.map { $0 * 1000 } },
                latest: latest.flatMap { $0.map { $0 * 1000 + 999 } }, cancellation: cancellation)
        }
        job = BackOfficeJob(request: id, task: task, cancellation: cancellation)
        return UploadLogsResponse(status: status, filename: filename)
    }

    private func run(
        _ request: UploadLogsRequest, filename: String, oldest: Int64?, latest: Int64?, cancellation: TransferCancellation
    ) async {
        let id = request.requestID
        defer { if job?.cancellation === cancellation { job = nil } }
        guard !cancellation.isCancelled else { return }
        await send(.uploading, id)
        let path = "\(settings.workDirectory)/\(filename)"
        defer { unlink(path) }
        let source = settings.source
        let securityOnly = request.logType == .securityLog
        let collected = await DedicatedThread.run {
            LogCollector.collect(from: source, oldest: oldest, latest: latest, securityOnly: securityOnly, to: path, cancellation: cancellation)
        }
        guard !cancellation.isCancelled else { return }
        let log: CollectedLog
        switch collected {
        case .success(let value): log = value
        case .failure(let error):
            guard !cancellation.isCancelled else { return }
            logger.error("upload_logs \(id): \(error)")
            await send(.uploadFailure, id)
            return
        }
        logger.info("upload_logs \(id): \(log.entries) journal entries, \(log.bytes) bytes compressed")
        let outcome = await withRetries(
            retries: request.retries ?? settings.defaultRetries, interval: request.retryInterval ?? settings.defaultRetryInterval,
            what: "upload_logs \(id): upload to \(TransferScheme.redacted(request.remoteLocation))", logger: logger,
            time: time, cancellation: cancellation
        ) { () async throws(TransferError) in
            try await Transfer.upload(
                file: path, to: request.remoteLocation, method: settings.httpMethod, options: settings.transfer, cancellation: cancellation)
        }
        guard !cancellation.isCancelled else { return }
        switch outcome {
        case .cancelled:
            return
        case .failed:
            await send(.uploadFailure, id)
        case .succeeded(_, let attempt):
            logger.info("upload_logs \(id): uploaded \(filename) on attempt \(attempt)")
            await send(.uploaded, id)
        }
    }

    private func send(_ status: LogsUploadStatus, _ id: Int) async {
        if !(await publish(LogsStatusUpdate(requestID: id, status: status))) {
            logger.notice("logs_status \(status.rawValue) for \(id) not sent (broker away)")
        }
    }

    /// `20261122T021500Z`.
    static func compactTime(_ milliseconds: Int64) -> String {
        DateTimeText.wholeSeconds(unixMilliseconds: max(0, milliseconds)).filter { $0 != "-" && $0 != ":" }
    }

    /// Letters, digits, `.`, `_` and `-` only (the name ends up in a URL and a file system).
    static func safe(_ text: String) -> String {
        let kept = String(text.unicodeScalars.filter { ($0.properties.isASCIIHexDigit || $0.properties.isAlphabetic) && $0.isASCII || "._-".unicodeScalars.contains($0) })
        return kept.isEmpty ? "station" : kept
    }
}
