import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Runs `body` to completion on the calling thread and returns when it is done. libFuzzer calls
/// the target synchronously, and a thread hop per input would cost more than the input itself.
///
/// The task prefers `InlineExecutor` (SE-0417), so its jobs, including those of the default actors
/// it calls (the register map), are enqueued there, and this thread runs them one after the other.
/// Should a job land elsewhere (nothing in the targets does that), the thread waits for it.
/// Never call this from a task: it blocks its thread until `body` returns.
func blockingWait(_ body: @escaping @Sendable () async -> Void) {
    let executor = InlineExecutor()
    let done = DoneFlag()
    Task(executorPreference: executor) {
        await body()
        done.value.store(true, ordering: .releasing)
    }
    executor.run(until: { done.value.load(ordering: .acquiring) })
}

private final class DoneFlag: Sendable {
    let value = Atomic<Bool>(false)
}

/// A task executor whose jobs are run by the thread that calls `run(until:)`.
private final class InlineExecutor: TaskExecutor {
    private let jobs = Mutex<[UnownedJob]>([])

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
    }

    func run(until finished: () -> Bool) {
        var next = 0
        while true {
            let job: UnownedJob? = jobs.withLock { queue in
                guard next < queue.count else {
                    queue.removeAll(keepingCapacity: true)
                    next = 0
                    return nil
                }
                next += 1
                return queue[next - 1]
            }
            if let job {
                job.runSynchronously(on: asUnownedTaskExecutor())
            } else if finished() {
                return
            } else {
                sched_yield()
            }
        }
    }
}
