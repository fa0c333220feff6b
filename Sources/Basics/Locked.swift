import Glibc

/// A value guarded by a `pthread_mutex_t` (the Mosquitto wrapper, the store, the session
/// recorder's storage, the Modbus snapshot, the test helpers).
///
/// The rule (see Basics.swift): `Locked` for values shared with threads Swift concurrency does not
/// run or held across a blocking call; `Synchronization.Mutex` for the rest. On Linux (Swift
/// 6.3.1, measured) ThreadSanitizer does not see Mutex's futex-based locking and reports correctly
/// locked accesses as "Swift access race"; pthread mutexes are intercepted and understood.
///
/// `@unchecked Sendable`: `value` is only touched inside `withLock`, with `mutex` held.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var guarded: Value

    public init(_ value: Value) {
        self.guarded = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&guarded)
    }

    /// A copy of the current value.
    public var current: Value { withLock { $0 } }
}
