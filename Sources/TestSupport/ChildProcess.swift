import Basics
import Foundation

/// A child process started with `posix_spawn`, with an EMPTY signal mask and default signal
/// dispositions.
///
/// Foundation's `Process` spawns from whatever thread calls it; in async tests that is a
/// dispatch worker that blocks nearly every signal, and the child inherits the mask: measured,
/// `mosquitto_sub` then ignores SIGTERM. A child also inherits "ignored" dispositions, such as the
/// SIGPIPE ignore that the Mosquitto module sets. This type resets both.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let executable: String
    private let exitStatus = Locked<Int32?>(nil)

    /// Starts `executable arguments…`; stdin is /dev/null, stdout and stderr go to the given
    /// descriptors (or /dev/null). The descriptors are not closed. `environment` replaces the
    /// child's environment when given (else it inherits this process's).
    public init(
        executable: String, arguments: [String], stdout: Int32? = nil, stderr: Int32? = nil, environment: [String: String]? = nil
    ) throws {
        let path = try Command.find(executable)
        self.executable = path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let stdout {
            posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        if let stderr {
            posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for pointer in envp ?? [] { free(pointer) } }
        var child: pid_t = 0
        let rc: Int32
        if let envp {
            rc = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        } else {
            rc = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        }
        guard rc == 0 else {
            throw TestSupportError("posix_spawn \(path): \(String(cString: strerror(rc)))")
        }
        self.pid = child
    }

    deinit {
        if isRunning {
            Foundation.kill(pid, SIGKILL)
        }
        _ = reap(blocking: true)
    }

    /// Reaps the child if it has exited; returns its wait status once known.
    private func reap(blocking: Bool) -> Int32? {
        exitStatus.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, blocking ? 0 : WNOHANG)
            if result == pid { status = raw }
            return status
        }
    }

    /// False once the child exited (it is reaped here; until then its pid cannot be reused).
    public var isRunning: Bool { reap(blocking: false) == nil }

    /// The raw wait status after exit.
    public var waitStatus: Int32? { reap(blocking: false) }

    /// Sends `signal` if the child still runs.
    public func send(_ signal: Int32) {
        // Not reaped yet, so the pid is still ours even if the child just exited.
        if exitStatus.withLock({ $0 }) == nil { Foundation.kill(pid, signal) }
    }

    /// Waits (polling) until the child exited; returns false on timeout.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(5)) async -> Bool {
        await waitUntil(timeout: timeout, interval: .milliseconds(10)) { !self.isRunning }
    }

    /// Sends `signal`, waits up to `timeout`, then SIGKILLs and waits for good.
    public func terminate(_ signal: Int32 = SIGTERM, timeout: Duration = .seconds(5)) async {
        send(signal)
        if await waitForExit(timeout: timeout) { return }
        send(SIGKILL)
        await waitForExit(timeout: .seconds(5))
    }
}
