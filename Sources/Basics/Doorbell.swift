import Synchronization

/// One waiter sleeps until somebody rings or a time limit passes; a ring while nobody waits is
/// kept for the next wait. The station rings it when it leaves rest, waking the daemon's ticker.
public final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    public func ring() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let waiter = s.waiter else {
                s.rung = true
                return nil
            }
            s.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns once rung (or if it rang since the last wait), after `limit`, or when the task is
    /// cancelled. One waiter at a time.
    public func wait(atMost limit: Duration) async {
        let timer = Task { [weak self] in
            if (try? await Task.sleep(for: limit)) != nil { self?.ring() }
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.rung || Task.isCancelled {
                        s.rung = false
                        return true
                    }
                    s.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            ring()
        }
        state.withLock { $0.rung = false }
    }
}
