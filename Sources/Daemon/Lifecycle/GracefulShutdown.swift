import Synchronization

/// One service's notice of graceful shutdown: the `ServiceGroup` gives each service its own and
/// starts them one at a time, in reverse order. The running service's notice is a task-local
/// (`GracefulShutdown.current`), so the functions below find it from anywhere in the service's
/// task and in the tasks it starts; outside a group there is none, and they wait for cancellation
/// only (a service run on its own stops when its task is cancelled).
final class GracefulShutdown: Sendable {
    @TaskLocal static var current: GracefulShutdown?

    private struct State {
        var started = false
        var nextID = 0
        /// Called once when the shutdown starts (`onStart`).
        var handlers: [Int: @Sendable () -> Void] = [:]
        /// Suspended in `wait()`.
        var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
    }

    private let state = Mutex(State())

    var hasStarted: Bool { state.withLock { $0.started } }

    /// Starts the graceful shutdown (once): every handler is called and every waiter resumed, outside
    /// the lock (a handler may cancel a task whose cancellation handler comes back here).
    func start() {
        let (handlers, waiters) = state.withLock { state in
            guard !state.started else { return ([@Sendable () -> Void](), [CheckedContinuation<Void, any Error>]()) }
            state.started = true
            defer {
                state.handlers = [:]
                state.waiters = [:]
            }
            return (Array(state.handlers.values), Array(state.waiters.values))
        }
        for handler in handlers { handler() }
        for waiter in waiters { waiter.resume() }
    }

    /// Calls `handler` when the shutdown starts, at once if it has; the id to `remove` it with, nil
    /// when it was called already. A handler removed while the shutdown starts may still be called
    /// (once): it must be harmless then (cancelling a finished task is).
    func onStart(_ handler: @escaping @Sendable () -> Void) -> Int? {
        let id: Int? = state.withLock { state in
            guard !state.started else { return nil }
            defer { state.nextID += 1 }
            state.handlers[state.nextID] = handler
            return state.nextID
        }
        if id == nil { handler() }
        return id
    }

    func remove(_ id: Int) {
        _ = state.withLock { $0.handlers.removeValue(forKey: id) }
    }

    /// Returns when the shutdown starts; throws `CancellationError` when the task is cancelled first.
    func wait() async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let result: Result<Void, any Error>? = state.withLock { state in
                    if state.started { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            // Whoever takes the continuation out of the table resumes it: exactly once.
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }
}

/// Suspends until graceful shutdown starts for the calling service; throws `CancellationError`
/// when its task is cancelled first (outside a `ServiceGroup`: only then).
func gracefulShutdown() async throws {
    // No group: a notice that never starts, so only cancellation ends the wait.
    try await (GracefulShutdown.current ?? GracefulShutdown()).wait()
}

extension Task where Success == Never, Failure == Never {
    /// Whether graceful shutdown has started for the calling service (false outside a `ServiceGroup`).
    static var isShuttingDownGracefully: Bool { GracefulShutdown.current?.hasStarted ?? false }
}

/// Runs `operation` and cancels it when graceful shutdown starts for the calling service (or when
/// the caller is cancelled); returns what it returns, which is what it makes of the cancellation.
/// The operation runs in a task of its own (it sees the same service's notice).
func cancelWhenGracefulShutdown<T: Sendable, E: Error>(
    _ operation: @escaping @Sendable () async throws(E) -> T
) async throws(E) -> T {
    let task = Task<Result<T, E>, Never> {
        do throws(E) {
            return .success(try await operation())
        } catch {
            return .failure(error)
        }
    }
    return try await awaitCancellingOnGracefulShutdown(task).get()
}

/// `task`'s value; the task is cancelled when graceful shutdown starts for the calling service or
/// when the caller is cancelled.
func awaitCancellingOnGracefulShutdown<T: Sendable>(_ task: Task<T, Never>) async -> T {
    let notice = GracefulShutdown.current
    let handler = notice?.onStart { task.cancel() }
    defer { if let notice, let handler { notice.remove(handler) } }
    return await withTaskCancellationHandler {
        await task.value
    } onCancel: {
        task.cancel()
    }
}
