import Foundation

/// Runs short command-line tools (openssl, mosquitto_passwd, …) to completion.
public enum Command {
    /// Finds an executable: an absolute path as is, else the first match in `preferred` or `$PATH`.
    public static func find(_ name: String, preferred: [String] = []) throws -> String {
        if name.hasPrefix("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let candidates = preferred + path.split(separator: ":").map { "\($0)/\(name)" } + ["/usr/sbin/\(name)", "/usr/bin/\(name)"]
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw TestSupportError("\(name) not found (looked in \(preferred + ["$PATH"]))")
    }

    /// Runs `executable arguments…`, returns its combined output; throws if the exit status is not 0.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let result = try captureBlocking(executable, arguments)
        guard result.status == 0 else {
            throw TestSupportError("\(executable) \(arguments.joined(separator: " ")) exited with \(result.status): \(result.output)")
        }
        return result.output
    }

    /// Runs `executable arguments…` to its end (SIGKILLed after `timeout`) and returns its exit
    /// status (128 + signal when killed) and combined output.
    ///
    /// Uses `ChildProcess` (posix_spawn + waitpid on the child's own pid), not Foundation's
    /// `Process`: `Process` learns of a child's exit through SIGCHLD, which the Swift concurrency
    /// worker threads block, and a test then waits forever on a zombie.
    /// From async code: waits with `Task.sleep`, so the test does not hold one of the few
    /// cooperative threads (two on a 2-core machine) while the child runs.
    public static func capture(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(120)) async throws
        -> (status: Int32, output: String)
    {
        try await captureWith(executable, arguments, timeout: timeout) { try? await Task.sleep(for: .milliseconds(10)) }
    }

    /// For short tools run from synchronous code (openssl, mosquitto_passwd).
    public static func captureBlocking(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(120)) throws
        -> (status: Int32, output: String)
    {
        let directory = try TemporaryDirectory(prefix: "command")
        let file = directory.file("output")
        let child = try spawn(executable, arguments, file: file)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while child.isRunning {
            if clock.now >= deadline { child.send(SIGKILL) }
            usleep(5_000)
        }
        return (exitStatus(child), (try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
    }

    private static func captureWith(
        _ executable: String, _ arguments: [String], timeout: Duration, pause: () async -> Void
    ) async throws -> (status: Int32, output: String) {
        let directory = try TemporaryDirectory(prefix: "command")
        let file = directory.file("output")
        let child = try spawn(executable, arguments, file: file)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while child.isRunning {
            if clock.now >= deadline { child.send(SIGKILL) }
            await pause()
        }
        return (exitStatus(child), (try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
    }

    private static func exitStatus(_ child: ChildProcess) -> Int32 {
        let raw = child.waitStatus ?? 0
        return (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    }

    private static func spawn(_ executable: String, _ arguments: [String], file: String) throws -> ChildProcess {
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TestSupportError("cannot create \(file)") }
        defer { close(fd) }
        return try ChildProcess(executable: executable, arguments: arguments, stdout: fd, stderr: fd)
    }
}
