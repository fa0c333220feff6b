import Basics

/// A `TimeSource` that moves only when the test says so: the wall clock and the monotonic clock
/// advance together, and sleepers wake when `advance` passes their deadline. Tests wait on the
/// observable fact (`waitForSleepers`: the component reached its wait) instead of sleeping.
public final class ManualTime: TimeSource {
    private struct Sleeper {
        let id: UInt64
        let deadline: Duration
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var elapsed: Duration = .zero
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
        /// Sleeps cancelled before they were registered.
        var cancelled: Set<UInt64> = []
    }

    /// Read from tasks and from plain threads (a component called on a test's own thread), hence a
    /// `Locked` (the rule in Basics.swift).
    private let state = Locked(State())
    private let origin = ContinuousClock.now
    private let wallOrigin: Int64

    /// Starts at `unixMilliseconds` on the wall clock (default 2026-01-01T00:00:00Z).
    public init(unixMilliseconds: Int64 = 1_767_225_600_000) { wallOrigin = unixMilliseconds }

    public func unixMilliseconds() -> Int64 {
        wallOrigin + state.withLock { $0.elapsed }.wholeMilliseconds
    }

    public func monotonic() -> ContinuousClock.Instant { origin + state.withLock { $0.elapsed } }

    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    if state.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if duration <= .zero { return .success(()) }
                    state.sleepers.append(Sleeper(id: id, deadline: state.elapsed + duration, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves both clocks forward and wakes every sleeper whose deadline is passed.
    public func advance(by duration: Duration) {
        let woken = state.withLock { state -> [Sleeper] in
            state.elapsed += max(.zero, duration)
            let now = state.elapsed
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// How long each waiting sleeper still has to sleep, shortest first.
    public var pendingSleeps: [Duration] {
        state.withLock { state in state.sleepers.map { $0.deadline - state.elapsed }.sorted() }
    }

    /// Waits (in real time, at most `timeout`) until at least `count` sleepers wait on this clock.
    public func waitForSleepers(_ count: Int = 1, timeout: Duration = .seconds(10)) async -> Bool {
        await waitUntil(timeout: timeout, interval: .milliseconds(5)) { self.pendingSleeps.count >= count }
    }

    /// Waits until a sleeper waits, then advances the clock to its deadline (the shortest wait).
    /// False when nobody started to wait within `timeout`.
    @discardableResult
    public func advanceToNextSleeper(timeout: Duration = .seconds(10)) async -> Bool {
        guard await waitForSleepers(1, timeout: timeout), let next = pendingSleeps.first else { return false }
        advance(by: next)
        return true
    }
}
