import Basics
import JosevContract
import Logging

/// How a transfer with retries ended.
enum RetryOutcome<Value> {
    case succeeded(Value, attempt: Int)
    /// Every attempt failed (or one failed that another cannot fix); the last error.
    case failed(TransferError)
    /// Stopped by its cancellation (a newer request) or its task's cancellation.
    case cancelled
}

/// Runs a transfer up to `retries` + 1 times, `interval` seconds apart, on the caller's actor.
/// Each failure is logged with the attempt number (and `SECURITY_EVENT=tls-failure` for TLS
/// problems); errors that another attempt cannot fix end the loop at once.
func withRetries<Value>(
    retries: Int, interval: Int, what: String, logger: Logger, time: any TimeSource, cancellation: TransferCancellation,
    isolation: isolated (any Actor)? = #isolation,
    beforeEach: (Int) async -> Void = { _ in },
    _ attempt: () async throws(TransferError) -> Value
) async -> RetryOutcome<Value> {
    // Callers clamp (``RetryLimits``); clamped again so no value can trap or overflow here.
    let attempts = RetryLimits.retries.clamp(retries) + 1
    let interval = RetryLimits.interval.clamp(interval)
    var lastError = TransferError.cancelled
    for number in 1...attempts {
        guard !cancellation.isCancelled, !Task.isCancelled else { return .cancelled }
        await beforeEach(number)
        do {
            return .succeeded(try await attempt(), attempt: number)
        } catch {
            if error == .cancelled || cancellation.isCancelled { return .cancelled }
            lastError = error
            let last = number == attempts || !error.isRetryable
            var metadata: Logger.Metadata = error.isTLS ? securityEvent("tls-failure") : [:]
            metadata["attempt"] = "\(number)/\(attempts)"
            logger.warning("\(what) failed: \(error)\(last ? "" : "; retrying in \(interval) s")", metadata: metadata)
            if last { break }
            try? await time.sleep(for: .seconds(interval))
        }
    }
    return cancellation.isCancelled || Task.isCancelled ? .cancelled : .failed(lastError)
}

/// The bounds of `retries` and `retry_interval` a request may ask for: the configuration's
/// bounds (0…100 retries, 0…86400 s). Larger values would trap (`Int.max + 1`) or overflow a sleep.
public enum RetryLimits {
    public static let retries = 0...100
    public static let interval = 0...86_400

    /// Sets the request's `retries` / `retry_interval` (nil: the defaults) to values within the
    /// bounds; one log line when a value had to be clamped.
    static func clamp<Request: RetryingRequest>(
        _ request: inout Request, defaults: (retries: Int, interval: Int), what: String, logger: Logger
    ) {
        let limits = clamped(retries: request.retries, interval: request.retryInterval, defaults: defaults, what: what, logger: logger)
        request.retries = limits.retries
        request.retryInterval = limits.interval
    }

    /// The request's `retries` / `retry_interval` (nil: the defaults) within the bounds; one log
    /// line when a value had to be clamped.
    static func clamped(
        retries: Int?, interval: Int?, defaults: (retries: Int, interval: Int), what: String, logger: Logger
    ) -> (retries: Int, interval: Int) {
        let asked = (retries: retries ?? defaults.retries, interval: interval ?? defaults.interval)
        let result = (retries: Self.retries.clamp(asked.retries), interval: Self.interval.clamp(asked.interval))
        if result != asked {
            logger.notice(
                "\(what): retries \(asked.retries), retry_interval \(asked.interval) out of bounds; using \(result.retries) and \(result.interval) s")
        }
        return result
    }
}

/// A back-office request carrying OCPP's `retries` and `retry_interval`.
protocol RetryingRequest {
    var retries: Int? { get set }
    var retryInterval: Int? { get set }
}

extension UpdateFirmwareRequest: RetryingRequest {}
extension UploadLogsRequest: RetryingRequest {}

extension ClosedRange where Bound == Int {
    /// The value moved into the range.
    func clamp(_ value: Int) -> Int { Swift.min(Swift.max(value, lowerBound), upperBound) }
}

/// A running job of the back office: what it serves, its task and the flag that stops its transfer.
struct BackOfficeJob<Request: Sendable>: Sendable {
    let request: Request
    let task: Task<Void, Never>
    let cancellation: TransferCancellation

    /// Cancels the job without waiting for it: its task may be in work that does not stop at once
    /// (a digest, the journal); whatever it does afterwards is ignored (the owner's `isCurrent` checks).
    func cancel() {
        cancellation.cancel()
        task.cancel()
    }
}
