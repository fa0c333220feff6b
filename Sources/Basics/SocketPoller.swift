import CLinux
import Glibc
import Synchronization

/// What a socket watched by a `SocketPoller` is told, on the poller's thread.
public protocol SocketPollerClient: AnyObject {
    /// The socket is readable, writable, or hung up / in error (`events`).
    func socketReady(_ events: SocketPoller.Events)
    /// The deadline set with `setDeadline` passed (it is cleared before this call).
    func deadlineReached(now: ContinuousClock.Instant)
}

/// One thread of ours that watches sockets with poll(2) and sleeps without a timeout when no
/// deadline is due: the daemon's Modbus TCP server (listener and connections) and the control
/// socket's accept run on the shared one (`SocketPoller.shared`, thread "servers").
///
/// Other threads and tasks reach the thread with `submit` (an eventfd wakes it); everything else
/// (`watch`, `change`, `setDeadline`, `unwatch`) is called on the thread, from a client's callback
/// or a submitted job. Deadlines are per socket: the thread sleeps until the earliest one.
public final class SocketPoller: @unchecked Sendable {
    // @unchecked: `watched` and `running` are only touched on the poller's thread; `jobs` is a
    // `Locked`; the eventfd is immutable after init. poll(2), not epoll: a handful of sockets,
    // and the set is rebuilt from `watched` each round (no kernel registrations to keep in step).

    public struct Events: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: 1)
        public static let writable = Events(rawValue: 2)
        /// Peer hung up or the socket is in error (reported whatever the interest).
        public static let hangup = Events(rawValue: 4)
    }

    /// The daemon's one server thread, started on first use.
    public static let shared = SocketPoller(name: "servers")

    public let name: String
    private let wakeup: Int32
    private let jobs = Locked<[@Sendable () -> Void]>([])
    private let started = Atomic<Bool>(false)
    private let threadID = Atomic<UInt>(0)

    private struct Entry {
        var client: any SocketPollerClient
        var interest: Events
        var deadline: ContinuousClock.Instant?
        /// Tells a descriptor number's registrations apart: one closed and reused within a round
        /// must not receive the events of the old socket.
        var serial: UInt64
    }

    private var watched: [Int32: Entry] = [:]
    private var nextSerial: UInt64 = 0
    private var running = true

    public init(name: String) {
        self.name = name
        wakeup = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        if wakeup < 0 { fatalError("\(name): no eventfd: \(String(cString: strerror(errno)))") }
    }

    /// The eventfd stays open while anyone can still `submit` (a job after `shutdown` is never run).
    deinit { close(wakeup) }

    /// Runs `job` on the poller's thread (in submission order), starting the thread if needed.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        let first = jobs.withLock { jobs in
            jobs.append(job)
            return jobs.count == 1
        }
        startIfNeeded()
        // Jobs queued behind others are taken by the same drain: one wake-up for the batch.
        guard first else { return }
        var one: UInt64 = 1
        _ = write(wakeup, &one, 8)
    }

    /// Runs `job` on the poller's thread and returns its result.
    public func perform<T: Sendable>(_ job: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            submit { continuation.resume(returning: job()) }
        }
    }

    /// Whether the caller runs on the poller's thread.
    public var isCurrentThread: Bool { threadID.load(ordering: .acquiring) == UInt(pthread_self()) }

    /// Ends the thread after the jobs submitted before (tests; the shared poller never ends).
    /// Watched sockets are not closed: their owners close them.
    public func shutdown() {
        submit { [self] in running = false }
    }

    // MARK: On the poller's thread

    /// Watches `fd` for `interest` (hang-ups and errors are always reported).
    public func watch(_ fd: Int32, for interest: Events, client: any SocketPollerClient) {
        nextSerial += 1
        watched[fd] = Entry(client: client, interest: interest, deadline: nil, serial: nextSerial)
    }

    /// Changes what `fd` is watched for.
    public func change(_ fd: Int32, to interest: Events) {
        watched[fd]?.interest = interest
    }

    /// Sets (or clears) when `deadlineReached` is called for `fd`.
    public func setDeadline(_ fd: Int32, _ deadline: ContinuousClock.Instant?) {
        watched[fd]?.deadline = deadline
    }

    /// Stops watching `fd` (before its owner closes it).
    public func unwatch(_ fd: Int32) {
        watched.removeValue(forKey: fd)
    }

    // MARK: The thread

    private func startIfNeeded() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let unmanaged = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            let poller = Unmanaged<SocketPoller>.fromOpaque(context).takeRetainedValue()
            poller.run()
            return nil
        }, unmanaged.toOpaque())
        if created == 0 {
            pthread_detach(thread)
        } else {
            unmanaged.release()
            fatalError("\(name): cannot start its thread (\(created))")
        }
    }

    private func run() {
        threadID.store(UInt(pthread_self()), ordering: .releasing)
        nameCurrentThread(name)
        var descriptors: [pollfd] = []
        var serials: [UInt64] = []
        while running {
            descriptors.removeAll(keepingCapacity: true)
            serials.removeAll(keepingCapacity: true)
            descriptors.append(pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0))
            serials.append(0)
            for (fd, entry) in watched {
                serials.append(entry.serial)
                var events: Int16 = 0
                if entry.interest.contains(.readable) { events |= Int16(POLLIN) }
                if entry.interest.contains(.writable) { events |= Int16(POLLOUT) }
                descriptors.append(pollfd(fd: fd, events: events, revents: 0))
            }
            let count = poll(&descriptors, nfds_t(descriptors.count), timeoutMilliseconds())
            if count < 0 && errno != EINTR { fatalError("\(name): poll: \(String(cString: strerror(errno)))") }
            if count > 0 {
                for (descriptor, serial) in zip(descriptors, serials) where descriptor.revents != 0 {
                    if descriptor.fd == wakeup {
                        runJobs()
                        continue
                    }
                    // Unwatched (or replaced) by an earlier callback of this round: skip.
                    guard let entry = watched[descriptor.fd], entry.serial == serial else { continue }
                    let mask = descriptor.revents
                    var ready: Events = []
                    if mask & Int16(POLLIN) != 0 { ready.insert(.readable) }
                    if mask & Int16(POLLOUT) != 0 { ready.insert(.writable) }
                    if mask & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { ready.insert(.hangup) }
                    entry.client.socketReady(ready.intersection(entry.interest.union(.hangup)))
                }
            }
            expireDeadlines()
        }
    }

    private func runJobs() {
        var value: UInt64 = 0
        _ = read(wakeup, &value, 8)
        let due = jobs.withLock { jobs in
            defer { jobs.removeAll() }
            return jobs
        }
        for job in due { job() }
    }

    /// Calls the clients whose deadline passed.
    private func expireDeadlines() {
        let now = ContinuousClock.now
        let due = watched.compactMap { fd, entry in entry.deadline.map { $0 <= now ? fd : nil } ?? nil }
        for fd in due {
            guard let client = watched[fd]?.client else { continue }
            watched[fd]?.deadline = nil
            client.deadlineReached(now: now)
        }
    }

    /// Until the earliest deadline (rounded up to the next millisecond); -1 (no timeout) when none.
    private func timeoutMilliseconds() -> Int32 {
        guard let earliest = watched.values.compactMap(\.deadline).min() else { return -1 }
        let left = ContinuousClock.now.duration(to: earliest)
        guard left > .zero else { return 0 }
        let (seconds, attoseconds) = left.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }
}
