#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's Swift concurrency executor: every job (tasks, actors, the main actor, the timers of
/// `Task.sleep`) runs on the one thread that calls `run()` (the main thread), which sleeps on a
/// condition variable until a job is enqueued or the earliest timer is due.
///
/// Why our own: the default executor on Linux is libdispatch, whose pool kept a dozen threads and a
/// once-a-second monitor timer in an idle daemon (issue 20: ≤ 4 threads, ≤ 1 wake-up/s idle). The
/// daemon's work per message is short and never blocks on another task; what blocks (libcurl, the
/// serial lines and meter buses, control-socket connections, MQTT's network loop) runs on threads
/// of its own. `MainLoopExecutors` puts it in place (the runtime's executor factory).
public final class MainLoopExecutor: @unchecked Sendable {
    // @unchecked: `incoming`, `timers` and `waiting` are only touched with `mutex` held; `running`
    // and `stopped` only by the loop's thread.

    /// The one loop of the process.
    public static let shared = MainLoopExecutor()

    struct Entry {
        var job: UnownedJob
        var onMainActor: Bool
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var incoming: [Entry] = []
    private var running: [Entry] = []
    private var timers = DeadlineList<Entry>()
    /// The loop waits (or is about to, with the mutex released by the wait): an enqueue signals.
    private var waiting = false
    private var stopRequested = false

    private init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
        incoming.reserveCapacity(64)
        running.reserveCapacity(64)
    }

    // MARK: Enqueueing (any thread)

    func enqueue(_ entry: Entry) {
        pthread_mutex_lock(mutex)
        incoming.append(entry)
        let wake = waiting
        waiting = false
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(condition) }
    }

    /// `deadline` and `tolerance` in nanoseconds of CLOCK_MONOTONIC (`MonotonicTime`).
    func enqueue(_ entry: Entry, deadline: UInt64, tolerance: UInt64) {
        pthread_mutex_lock(mutex)
        timers.insert(entry, deadline: deadline, tolerance: tolerance)
        let wake = waiting  // the loop may be sleeping past this deadline: it computes its wait again
        waiting = false
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(condition) }
    }

    func stop() {
        pthread_mutex_lock(mutex)
        stopRequested = true
        let wake = waiting
        waiting = false
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(condition) }
    }

    // MARK: Running (one thread)

    /// Runs jobs on the calling thread until `stop()` (or for ever); `main` and `global` are the
    /// executors main-actor and other jobs run on.
    func run(main: UnownedSerialExecutor, global: UnownedTaskExecutor) {
        while true {
            guard takeBatch() else { return }
            for entry in running {
                if entry.onMainActor {
                    entry.job.runSynchronously(on: main)
                } else {
                    entry.job.runSynchronously(on: global)
                }
            }
            running.removeAll(keepingCapacity: true)
        }
    }

    /// Waits until jobs are ready or timers due, and moves them into `running`; false once stopped.
    private func takeBatch() -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            if stopRequested {
                stopRequested = false
                return false
            }
            if timers.earliestDeadline != .max {
                let now = MonotonicTime.now
                if now >= timers.earliestDeadline { timers.takeDue(now: now, into: &incoming) }
            }
            if !incoming.isEmpty { break }
            waiting = true
            if let wake = timers.nextWake {
                var until = timespec(tv_sec: Int(wake / 1_000_000_000), tv_nsec: Int(wake % 1_000_000_000))
                pthread_cond_timedwait(condition, mutex, &until)
            } else {
                pthread_cond_wait(condition, mutex)
            }
            waiting = false
        }
        swap(&incoming, &running)
        return true
    }
}
