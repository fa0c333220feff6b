#if canImport(Glibc)
    import Glibc
#endif

/// Runs blocking work (a libcurl transfer, reading the journal, digesting an image) on a thread of
/// its own, never on Swift's cooperative pool, and resumes the caller when it is done.
enum DedicatedThread {
    private final class Job {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// The body's result; the awaiting task is suspended, not blocked, meanwhile.
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            start { continuation.resume(returning: body()) }
        }
    }

    /// Starts a detached POSIX thread; when none can be created the body runs on the caller's thread.
    private static func start(_ body: @escaping @Sendable () -> Void) {
        let job = Unmanaged.passRetained(Job(body))
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { raw in
                guard let raw else { return nil }
                Unmanaged<Job>.fromOpaque(raw).takeRetainedValue().body()
                return nil
            }, job.toOpaque())
        if created == 0 {
            pthread_detach(thread)
        } else {
            job.takeRetainedValue().body()
        }
    }
}
