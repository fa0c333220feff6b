#if canImport(Glibc)
    import Glibc
#endif

/// How an external command ended.
public enum CommandOutcome: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)
    /// Ran past its timeout; its process group was sent SIGTERM, then SIGKILL.
    case timedOut
    /// Could not be started (errno of posix_spawn).
    case notStarted(Int32)

    public var description: String {
        switch self {
        case .exited(let code): "exit status \(code)"
        case .signalled(let signal): "killed by signal \(signal)"
        case .timedOut: "timed out (killed)"
        case .notStarted(let error): "could not start: \(String(cString: strerror(error)))"
        }
    }
}

/// Runs the board's updater (or any command) without blocking: `posix_spawn` in a process group
/// of its own, stdout and stderr to a file, polled with `waitpid(WNOHANG)` from a task that sleeps
/// in between (so a daemon started with SIGCHLD blocked still sees the exit), killed as a group on
/// timeout.
public enum ExternalCommand {
    public static func run(
        _ arguments: [String], environment extra: [String: String], output: String, timeout: Duration,
        grace: Duration = .seconds(5)
    ) async -> CommandOutcome {
        guard let executable = arguments.first else { return .notStarted(ENOENT) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Own process group (killed as one), no blocked signals, default dispositions (the daemon
        // ignores SIGPIPE; an ignored signal would survive exec).
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var environment: [String: String] = [:]
        for name in ["PATH", "HOME", "LANG", "LC_ALL", "TZ"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        if environment["PATH"] == nil { environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }
        environment.merge(extra) { _, new in new }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid = pid_t()
        let spawned: Int32
        if executable.contains("/") {
            spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        } else {
            spawned = posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
        }
        guard spawned == 0 else { return .notStarted(spawned) }

        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = reap(pid) { return outcome(status) }
            if ContinuousClock.now >= deadline { break }
            await pause(.milliseconds(100))
        }
        kill(-pid, SIGTERM)
        let killDeadline = ContinuousClock.now + grace
        while ContinuousClock.now < killDeadline {
            if reap(pid) != nil { return .timedOut }
            await pause(.milliseconds(100))
        }
        kill(-pid, SIGKILL)
        while reap(pid) == nil { await pause(.milliseconds(50)) }
        return .timedOut
    }

    /// Sleeps even when the calling task is cancelled (`Task.sleep` would return at once and the
    /// polling loops above would spin): the sleep runs in a task of its own, which the caller's
    /// cancellation does not reach. The command runs to its end or its timeout either way.
    static func pause(_ duration: Duration) async {
        await Task.detached { try? await Task.sleep(for: duration) }.value
    }

    private static func reap(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return status }
            if result < 0, errno == EINTR { continue }
            // 0: still running. -1 (ECHILD): someone else reaped it; treat as gone.
            return result == 0 ? nil : (result < 0 ? 0x7F00 : status)
        }
    }

    private static func outcome(_ status: Int32) -> CommandOutcome {
        let signal = status & 0x7F
        if signal == 0 { return .exited((status >> 8) & 0xFF) }
        return .signalled(signal)
    }

    /// The last `limit` bytes of a file as one line (newlines → " | "), for a log line.
    public static func tail(of path: String, limit: Int = 300) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return "" }
        let start = max(0, Int(size) - limit)
        var bytes = [UInt8](repeating: 0, count: Int(size) - start)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
        guard n > 0 else { return "" }
        let text = String(decoding: bytes.prefix(n), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).joined(separator: " | ")
    }
}
