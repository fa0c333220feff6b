import Foundation

/// The real `cs-companiond` binary, started as a child process with its stderr in a file and its own
/// `NOTIFY_SOCKET` (the daemon is Type=notify: tests wait for `READY=1` there, not for a log line).
/// Spawned with `ChildProcess` (posix_spawn + waitpid on its pid, an empty signal mask), not
/// Foundation's `Process`, whose exit detection depends on SIGCHLD reaching a thread.
public final class DaemonProcess: Sendable {
    public let process: ChildProcess
    public let logFile: String
    public let directory: TemporaryDirectory
    /// What the daemon told systemd: READY=1, STATUS=…, WATCHDOG=1, RELOADING=1, STOPPING=1.
    public let notify: NotifySocketListener

    public init(
        config: String, directory: TemporaryDirectory, arguments: [String] = [], environment: [String: String] = [:]
    ) throws {
        self.directory = directory
        let configFile = try directory.write("cs-companiond.yaml", config, permissions: 0o644)
        logFile = directory.file("daemon.log")
        notify = try NotifySocketListener(directory: directory)
        var env = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"] { env.removeValue(forKey: key) }
        env["NOTIFY_SOCKET"] = notify.path
        for (key, value) in environment { env[key] = value }
        let fd = open(logFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TestSupportError("cannot create \(logFile)") }
        defer { close(fd) }
        process = try ChildProcess(
            executable: try Repository.product("cs-companiond"),
            arguments: [
                "--config", configFile, "--schema-dir", Repository.schemas, "--state-dir", directory.file("state"),
                "--control-socket", directory.file("control.sock"),
            ] + arguments,
            stderr: fd, environment: env)
    }

    public var configFile: String { directory.file("cs-companiond.yaml") }
    public var controlSocket: String { directory.file("control.sock") }

    /// Runs `cs-companion ARGS --socket <this daemon's control socket>`.
    public func companion(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Repository.run("cs-companion", arguments + ["--socket", controlSocket])
    }

    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
    public var pid: Int32 { process.pid }

    /// The daemon's log lines read by their structure, not their words: StderrLogHandler writes
    /// `<level> <label>: <message> key=value …`, so the level is the first word and a MESSAGE_ID
    /// (journald's field) is the `message_id=` value.
    public var logEntries: [LogEntry] { log.split(separator: "\n").map { LogEntry(String($0)) } }

    /// The lines of one kind of event: those with `MESSAGE_ID` `messageID` (32 hex digits).
    public func logEntries(messageID: String) -> [LogEntry] { logEntries.filter { $0.messageID == messageID.lowercased() } }

    /// The lines at `level` (`error`, `warning`, …: swift-log's names, journald's PRIORITY).
    public func logEntries(level: String) -> [LogEntry] { logEntries.filter { $0.level == level } }

    /// Waits until the daemon sent `READY=1` `count` times (once per start and once per reload).
    @discardableResult
    public func waitUntilReady(count: Int = 1, timeout: Duration = .seconds(10)) async -> Bool {
        await waitUntil(timeout: timeout) { self.notify.count("READY=1") >= count }
    }

    /// Waits until `STATUS=` lines matching `predicate` came `count` times.
    @discardableResult
    public func waitForStatus(count: Int = 1, timeout: Duration = .seconds(10), _ predicate: @escaping (String) -> Bool) async -> Bool {
        await waitUntil(timeout: timeout) { self.notify.statuses.filter(predicate).count >= count }
    }

    public func signal(_ number: Int32) { process.send(number) }

    /// The exit status once the daemon exited (128 + signal when killed by one).
    public var exitStatus: Int32? {
        guard let raw = process.waitStatus else { return nil }
        return (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    }

    /// SIGTERM and wait; returns the exit status.
    public func stop(timeout: Duration = .seconds(10)) async -> Int32 {
        await process.terminate(SIGTERM, timeout: timeout)
        return exitStatus ?? -1
    }

    public func waitForExit(timeout: Duration = .seconds(10)) async -> Int32? {
        await process.waitForExit(timeout: timeout)
        return exitStatus
    }
}

/// One line of the daemon's log: its level and message id, and the line itself for failure messages.
public struct LogEntry: Sendable, CustomStringConvertible {
    public let level: String
    public let messageID: String?
    public let line: String

    init(_ line: String) {
        self.line = line
        level = line.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
        messageID = line.range(of: " message_id=").map { String(line[$0.upperBound...].prefix(32)) }
    }

    public var description: String { line }
}
