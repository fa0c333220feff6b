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
    retries: Int, interval: Int, what: String, logger: Logger, cancellation: TransferCancellation,
    isolation: isolated (any Actor)? = #isolation,
    beforeEach: (Int) async -> Void = { _ in },
    _ attempt: () async throws(TransferError) -> Value
) async -> RetryOutcome<Value> {
    let attempts = max(0, retries) + 1
    let interval = max(0, interval)
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
            try? await Task.sleep(for: .seconds(interval))
        }
    }
    return cancellation.isCancelled || Task.isCancelled ? .cancelled : .failed(lastError)
}

/// A running job of the back office: what it serves, its task and the flag that stops its transfer.
struct BackOfficeJob<Request: Sendable>: Sendable {
    let request: Request
    let task: Task<Void, Never>
    let cancellation: TransferCancellation

    /// Cancels the job and waits until it has stopped.
    func stop() async {
        cancellation.cancel()
        task.cancel()
        await task.value
    }
}
