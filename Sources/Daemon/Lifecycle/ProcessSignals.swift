import Basics
import CLinux
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The signals the daemon handles (SIGTERM, SIGINT, SIGHUP), as async streams: one stream per
/// consumer, each with the signals it asked for, in the order they came.
///
/// They are read from a `signalfd` on one thread of our own ("signals"), in a blocking read (it
/// sleeps until a signal comes). A process-wide signal reaches the signalfd while every thread
/// blocks it: `blockHandled()` blocks them in the calling thread, so it must come before any thread
/// is started (every thread inherits the mask); a child process must unblock them (`posix_spawn`
/// with `POSIX_SPAWN_SETSIGMASK`, as `InstallCommand` does). In the daemon every thread blocks them
/// (`run` starts on the main thread, which `MainLoop` keeps). A process whose async `main` hands the
/// main thread to libdispatch (the tests) has one that does not: it sits in `sigsuspend` with an
/// empty mask. A handler catches what lands on such a thread and sends it on to the reading thread,
/// where it is blocked and the signalfd reads it (libdispatch's own signal sources do the same).
///
/// A signal that no consumer ever asked for takes its default action, as it would unblocked (an
/// early SIGTERM ends the process at once; an inherited SIG_IGN still ignores). One that came after
/// its last consumer ended is ignored.
final class ProcessSignals: Sendable {
    static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP]

    private struct Consumer {
        let signals: Set<Int32>
        let continuation: AsyncStream<Int32>.Continuation
    }

    private struct State {
        var consumers: [Int: Consumer] = [:]
        var nextID = 0
        /// Every signal a consumer asked for, ever.
        var watched: Set<Int32> = []
    }

    private let state = Mutex(State())
    private let descriptor: Int32
    /// The reading thread, once started.
    private let reader = Mutex<pthread_t?>(nil)
    /// The dispositions the handled signals had before the forwarding handler (`start`).
    private let dispositions = Mutex<[Int32: sigaction]>([:])

    /// Blocks the handled signals in the calling thread, and unblocks every other one (a parent
    /// may have started the process with signals blocked).
    static func blockHandled() {
        var mask = handledSet()
        pthread_sigmask(SIG_SETMASK, &mask, nil)
    }

    /// Starts reading the handled signals on a thread of its own; with `forwarding`, the handled
    /// signals that land on a thread that does not block them are sent on to that thread (once per
    /// process: tests that start several pass false, and send their signals to the reader alone).
    static func start(forwarding: Bool = true) -> Result<ProcessSignals, SignalsError> {
        var mask = handledSet()
        let descriptor = signalfd(-1, &mask, Int32(SFD_CLOEXEC))
        guard descriptor >= 0 else { return .failure(.system("signalfd", errno)) }
        let signals = ProcessSignals(descriptor: descriptor)
        // The thread starts with the handled signals blocked whatever the caller's mask (tests).
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &mask, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(signals)
        let created = pthread_create(
            &thread, nil,
            { raw in
                guard let raw else { return nil }
                nameCurrentThread("signals")
                Unmanaged<ProcessSignals>.fromOpaque(raw).takeRetainedValue().readForever()
                return nil
            }, context.toOpaque())
        guard created == 0 else {
            context.release()
            close(descriptor)
            return .failure(.system("pthread_create", created))
        }
        pthread_detach(thread)
        signals.reader.withLock { $0 = thread }
        if forwarding {
            strayTarget = thread
            for signal in handled {
                var previous = sigaction()
                var action = forwardingAction
                sigaction(signal, &action, &previous)
                signals.dispositions.withLock { $0[signal] = previous }
            }
        }
        return .success(signals)
    }

    private init(descriptor: Int32) { self.descriptor = descriptor }

    /// A new stream of `signals` (members of `handled`) from now on; it ends when its consumer
    /// drops it.
    func stream(_ signals: Set<Int32>) -> AsyncStream<Int32> {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            state.consumers[state.nextID] = Consumer(signals: signals, continuation: continuation)
            state.watched.formUnion(signals)
            return state.nextID
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.consumers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Hands `signal` to every consumer of it; false when no consumer ever asked for it. The
    /// reading thread calls it for each signal read (another source could too).
    @discardableResult
    func deliver(_ signal: Int32) -> Bool {
        let (watched, continuations) = state.withLock { state in
            (state.watched.contains(signal), state.consumers.values.filter { $0.signals.contains(signal) }.map(\.continuation))
        }
        for continuation in continuations { continuation.yield(signal) }
        return watched
    }

    /// Sends `signal` to the reading thread alone (tests: no other thread of the process sees it).
    func raiseAtReader(_ signal: Int32) {
        if let thread = reader.withLock({ $0 }) { pthread_kill(thread, signal) }
    }

    private func readForever() {
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        while true {
            let count = read(descriptor, &info, size)
            if count < 0, errno == EINTR { continue }
            guard count == size else { return }  // cannot happen with a valid signalfd
            let signal = Int32(bitPattern: info.ssi_signo)
            if !deliver(signal) { takeDefaultAction(signal) }
        }
    }

    /// What `signal` would have done unblocked, with the disposition it had before `start`: raised
    /// at this thread, with it unblocked here.
    private func takeDefaultAction(_ signal: Int32) {
        var one = sigset_t()
        sigemptyset(&one)
        sigaddset(&one, signal)
        let previous = dispositions.withLock { $0[signal] }
        if var previous { sigaction(signal, &previous, nil) }
        pthread_sigmask(SIG_UNBLOCK, &one, nil)
        raise(signal)
        pthread_sigmask(SIG_BLOCK, &one, nil)
        if previous != nil {
            var action = Self.forwardingAction
            sigaction(signal, &action, nil)
        }
    }

    /// Sends a handled signal caught on any thread on to the reading thread (async-signal-safe:
    /// `pthread_kill` is a `tgkill`).
    private static var forwardingAction: sigaction {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in _ = pthread_kill(strayTarget, signal) }
        action.sa_flags = SA_RESTART
        action.sa_mask = handledSet()
        return action
    }

    private static func handledSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in handled { sigaddset(&set, signal) }
        return set
    }
}

/// The reading thread the forwarding handler sends to: written once, before the handler is
/// installed (`ProcessSignals.start`), then only read, by the handler.
nonisolated(unsafe) private var strayTarget = pthread_t()

/// Why the signals cannot be read.
enum SignalsError: Error, CustomStringConvertible {
    case system(String, Int32)

    var description: String {
        switch self {
        case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
        }
    }
}
