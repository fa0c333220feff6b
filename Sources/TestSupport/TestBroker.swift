import Basics
import Foundation

/// A real `mosquitto` broker for integration tests, on a free 127.0.0.1 port, with its own
/// configuration, password file, throwaway PKI and log in a temporary directory.
///
/// Start with `try await TestBroker()`; it is killed and its directory removed on deinit.
public final class TestBroker: Sendable {
    public struct Options: Sendable {
        /// TLS on the (only) listener, with a throwaway CA from `TestCertificates`.
        public struct TLS: Sendable {
            /// `require_certificate true`: clients must present a certificate signed by the CA.
            public var requireCertificate: Bool
            public init(requireCertificate: Bool = false) { self.requireCertificate = requireCertificate }
        }

        public var allowAnonymous: Bool
        /// user name → password; written with `mosquitto_passwd -b`.
        public var users: [String: String]
        public var tls: TLS?
        /// Also log every packet (`log_type all`).
        public var verboseLog: Bool
        /// Extra lines for mosquitto.conf.
        public var extraConfiguration: [String]

        public init(
            allowAnonymous: Bool = true, users: [String: String] = [:], tls: TLS? = nil, verboseLog: Bool = false,
            extraConfiguration: [String] = []
        ) {
            self.allowAnonymous = allowAnonymous
            self.users = users
            self.tls = tls
            self.verboseLog = verboseLog
            self.extraConfiguration = extraConfiguration
        }

        /// Anonymous access on a plain TCP listener.
        public static let anonymous = Options()
    }

    public let host = "127.0.0.1"
    public let port: Int
    public let options: Options
    /// Holds the configuration, log, password file and certificates.
    public let directory: TemporaryDirectory
    public let configFile: String
    /// The broker's stdout/stderr (`log_dest stderr`), appended across restarts.
    public let logFile: String
    public let passwordFile: String?
    /// Set when `options.tls` is set.
    public let certificates: TestCertificates?
    public let executable: String
    private let process: Locked<ChildProcess?>

    /// Starts the broker and returns when its port accepts TCP connections (bounded: about 5 s per try).
    public init(options: Options = .anonymous) async throws {
        self.options = options
        self.executable = try Command.find("mosquitto", preferred: ["/usr/sbin/mosquitto"])
        let directory = try TemporaryDirectory(prefix: "test-broker")
        self.directory = directory
        self.logFile = directory.file("mosquitto.log")
        self.configFile = directory.file("mosquitto.conf")
        guard FileManager.default.createFile(atPath: logFile, contents: nil) else {
            throw TestSupportError("cannot create \(logFile)")
        }

        if options.users.isEmpty {
            passwordFile = nil
        } else {
            let file = directory.file("passwords")
            var first = true
            for (user, password) in options.users.sorted(by: { $0.key < $1.key }) {
                try Command.run("mosquitto_passwd", (first ? ["-c"] : []) + ["-b", file, user, password])
                first = false
            }
            passwordFile = file
        }
        certificates = options.tls == nil ? nil : try TestCertificates(in: directory.path)

        // The port can be taken between picking and binding it: try a few fresh ones.
        var lastError: Error = TestSupportError("mosquitto did not start")
        for _ in 0..<5 {
            let candidate = try freeLoopbackPort()
            try TestBroker.configuration(
                port: candidate, options: options, passwordFile: passwordFile, certificates: certificates
            ).write(toFile: configFile, atomically: true, encoding: .utf8)
            do {
                let started = try await TestBroker.launch(
                    executable: executable, configFile: configFile, logFile: logFile, port: candidate)
                self.port = candidate
                self.process = Locked(started)
                return
            } catch let error as LaunchError {
                lastError = error.underlying
                if !error.addressInUse { break }
            }
        }
        throw lastError
    }

    deinit {
        // ChildProcess's deinit SIGKILLs and reaps a broker that still runs.
        process.withLock { $0 = nil }
    }

    /// The broker's process id while it runs.
    public var pid: Int32? {
        process.withLock { process in process.flatMap { $0.isRunning ? $0.pid : nil } }
    }

    public var isRunning: Bool { pid != nil }

    /// The broker's log so far.
    public func log() -> String {
        (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
    }

    /// SIGTERM (clean shutdown: the broker closes connections), then waits for the exit.
    public func stop() async {
        await signalAndWait(SIGTERM)
    }

    /// SIGKILL: the broker vanishes without closing anything properly.
    public func kill() async {
        await signalAndWait(SIGKILL)
    }

    /// Starts the broker again on the SAME port (after `stop()`/`kill()`; stops it first if running).
    public func restart() async throws {
        if isRunning { await stop() }
        var lastError: Error = TestSupportError("mosquitto did not restart")
        // The old listening socket may linger for a moment: retry the same port briefly.
        for _ in 0..<10 {
            do {
                let started = try await TestBroker.launch(
                    executable: executable, configFile: configFile, logFile: logFile, port: port)
                process.withLock { $0 = started }
                return
            } catch let error as LaunchError {
                lastError = error.underlying
                if !error.addressInUse { break }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        throw lastError
    }

    private func signalAndWait(_ signal: Int32) async {
        guard let running = process.withLock({ $0 }) else { return }
        await running.terminate(signal)
        process.withLock { $0 = nil }
    }

    // MARK: - Launching

    private struct LaunchError: Error {
        var underlying: Error
        var addressInUse: Bool
    }

    private static func launch(executable: String, configFile: String, logFile: String, port: Int) async throws
        -> ChildProcess
    {
        let log = open(logFile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard log >= 0 else {
            throw LaunchError(underlying: TestSupportError("cannot open \(logFile)"), addressInUse: false)
        }
        defer { close(log) }
        let process: ChildProcess
        do {
            process = try ChildProcess(executable: executable, arguments: ["-c", configFile], stdout: log, stderr: log)
        } catch {
            throw LaunchError(underlying: error, addressInUse: false)
        }

        let listening = await waitUntil(timeout: .seconds(5), interval: .milliseconds(10)) {
            !process.isRunning || loopbackPortAcceptsConnections(port)
        }
        if listening && process.isRunning { return process }
        await process.terminate(SIGKILL)
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        let tail = text.split(separator: "\n").suffix(15).joined(separator: "\n")
        throw LaunchError(
            underlying: TestSupportError("mosquitto did not listen on 127.0.0.1:\(port); log:\n\(tail)"),
            addressInUse: tail.contains("Address already in use"))
    }

    static func configuration(port: Int, options: Options, passwordFile: String?, certificates: TestCertificates?)
        -> String
    {
        var lines = [
            "# Generated by TestSupport.TestBroker",
            "persistence false",
            "log_dest stderr",
            "log_timestamp_format %H:%M:%S",
            "connection_messages true",
            // The default (1000) makes the broker drop QoS 1 messages for a subscriber that falls
            // behind on a loaded 2-core machine; tests count every message, so no limit here.
            "max_queued_messages 0",
        ]
        if options.verboseLog {
            lines.append("log_type all")
        } else {
            lines += ["log_type error", "log_type warning", "log_type notice", "log_type information",
                      "log_type subscribe", "log_type unsubscribe"]
        }
        if getuid() == 0 {
            // As root, mosquitto drops to user "mosquitto", which cannot read our 0700 temp directory.
            lines.append("user root")
        }
        lines.append("listener \(port) 127.0.0.1")
        lines.append("allow_anonymous \(options.allowAnonymous)")
        if let passwordFile { lines.append("password_file \(passwordFile)") }
        if let tls = options.tls, let certificates {
            lines += [
                "cafile \(certificates.caFile)",
                "certfile \(certificates.serverCertFile)",
                "keyfile \(certificates.serverKeyFile)",
                "require_certificate \(tls.requireCertificate)",
            ]
        }
        lines += options.extraConfiguration
        return lines.joined(separator: "\n") + "\n"
    }
}
