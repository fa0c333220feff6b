@_spi(ExperimentalCustomExecutors) @_spi(ExperimentalScheduling) import _Concurrency

/// The runtime's two executors, both feeding `MainLoopExecutor.shared`: `MainLoopExecutors.install()`
/// makes them the process's main and default (global) executors through the runtime's executor
/// factory (Swift 6.3, `_createExecutors`). Every enqueue of a task, an actor's job or a
/// `Task.sleep` timer then comes here, and libdispatch is never started.
public enum MainLoopExecutors {
    /// Call first thing in a synchronous `main`, before any task exists; then `run()`.
    public static func install() {
        _createExecutors(factory: Factory.self)
    }

    /// Runs every job on the calling (main) thread; does not return.
    public static func run() -> Never {
        while true { try? Factory.mainExecutor.run() }
    }

    enum Factory: ExecutorFactory {
        static let mainExecutor: any MainExecutor = MainActorQueue()
        static let defaultExecutor: any TaskExecutor = GlobalQueue()
    }
}

/// The main actor's executor: its jobs run on the loop with the main actor's isolation.
final class MainActorQueue: MainExecutor, @unchecked Sendable {
    func enqueue(_ job: consuming ExecutorJob) {
        MainLoopExecutor.shared.enqueue(.init(job: UnownedJob(job), onMainActor: true))
    }

    func run() throws {
        MainLoopExecutor.shared.run(
            main: asUnownedSerialExecutor(), global: MainLoopExecutors.Factory.defaultExecutor.asUnownedTaskExecutor())
    }

    func stop() { MainLoopExecutor.shared.stop() }
}

/// The default executor: tasks without an actor, and the timers of `Task.sleep` and clocks.
final class GlobalQueue: TaskExecutor, SchedulingExecutor, @unchecked Sendable {
    func enqueue(_ job: consuming ExecutorJob) {
        MainLoopExecutor.shared.enqueue(.init(job: UnownedJob(job), onMainActor: false))
    }

    func enqueue<C: Clock>(_ job: consuming ExecutorJob, at instant: C.Instant, tolerance: C.Duration?, clock: C) {
        enqueue(job, after: clock.now.duration(to: instant), tolerance: tolerance, clock: clock)
    }

    func enqueue<C: Clock>(_ job: consuming ExecutorJob, after delay: C.Duration, tolerance: C.Duration?, clock: C) {
        let now = MonotonicTime.now
        let deadline = now &+ MonotonicTime.nanoseconds(of: delay)
        let allowance = tolerance.map { MonotonicTime.nanoseconds(of: $0) } ?? 0
        MainLoopExecutor.shared.enqueue(.init(job: UnownedJob(job), onMainActor: false), deadline: deadline, tolerance: allowance)
    }
}
