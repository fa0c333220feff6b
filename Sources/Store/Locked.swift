#if canImport(Glibc)
    import Glibc
#endif

/// A value guarded by a `pthread_mutex_t` (the same pattern as the Mosquitto module's `Locked`:
/// ThreadSanitizer understands pthread mutexes, not `Synchronization.Mutex`'s futex on Linux).
///
/// `@unchecked Sendable`: `value` is only read or written inside `withLock`, with `mutex` held, and
/// the module never lets a reference to a non-Sendable `Value` escape the closure.
final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
