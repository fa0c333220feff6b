// Choosing and installing the log handlers at start-up.
import Glibc
import Logging

/// Where log events go.
public enum LogDestination: Sendable, Hashable {
    /// journald, as structured entries (``JournalLogHandler``).
    case journal
    /// Plain lines on stderr (``StderrLogHandler``, ``StderrLogHandler/Style/plain``).
    case stderr
    /// `<N>`-prefixed lines on stderr, for a journal stream when structured entries can't be sent.
    case stderrWithSyslogPrefix
}

/// Installs the process's logging backend once, at start-up.
///
/// ```swift
/// let logLevel = LogSetup.bootstrap(identifier: "cs-companiond", level: config.logLevel)
/// // on SIGHUP, after reading the new config:
/// logLevel.level = newConfig.logLevel
/// ```
public enum LogSetup {
    /// The path journald listens on for structured entries (sd_journal_sendv sends there).
    public static let journalSocketPath = "/run/systemd/journal/socket"

    /// Picks the destination as systemd.exec(5) recommends: journald when `$JOURNAL_STREAM` is set
    /// and names the device and inode (`<st_dev>:<st_ino>`) of `fileDescriptor` (stderr), i.e. when
    /// stderr really is the journal stream and not redirected by someone in between. If so but
    /// journald's socket is missing, `<N>`-prefixed lines. Otherwise plain stderr lines.
    ///
    /// - Parameters:
    ///   - journalStream: the value of `$JOURNAL_STREAM` (read from the environment by default).
    ///   - fileDescriptor: the descriptor logs would be written to.
    ///   - journalSocketPath: journald's socket, overridable for tests.
    public static func detectDestination(
        journalStream: String? = environment("JOURNAL_STREAM"),
        fileDescriptor: Int32 = STDERR_FILENO,
        journalSocketPath: String = LogSetup.journalSocketPath
    ) -> LogDestination {
        guard let journalStream, let (device, inode) = parseJournalStream(journalStream) else { return .stderr }
        var info = stat()
        guard fstat(fileDescriptor, &info) == 0, UInt64(info.st_dev) == device, UInt64(info.st_ino) == inode else {
            return .stderr
        }
        return access(journalSocketPath, F_OK) == 0 ? .journal : .stderrWithSyslogPrefix
    }

    /// `"<dev>:<ino>"` (decimal) as systemd sets `$JOURNAL_STREAM`; nil if malformed.
    public static func parseJournalStream(_ value: String) -> (device: UInt64, inode: UInt64)? {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return nil }
        return (device, inode)
    }

    /// A handler factory for `LoggingSystem.bootstrap` that makes handlers for `destination`, all
    /// reading their level from `levelBox`.
    public static func makeFactory(
        identifier: String,
        levelBox: LogLevelBox,
        destination: LogDestination
    ) -> @Sendable (String, Logger.MetadataProvider?) -> any LogHandler {
        { label, provider in
            switch destination {
            case .journal:
                JournalLogHandler(label: label, identifier: identifier, levelBox: levelBox, metadataProvider: provider)
            case .stderr:
                StderrLogHandler(label: label, levelBox: levelBox, style: .plain, metadataProvider: provider)
            case .stderrWithSyslogPrefix:
                StderrLogHandler(label: label, levelBox: levelBox, style: .syslogPrefix, metadataProvider: provider)
            }
        }
    }

    /// Bootstraps swift-log (once per process: swift-log traps on a second bootstrap) and returns
    /// the box that holds the level of every handler, to change it at runtime.
    ///
    /// - Parameters:
    ///   - identifier: the `SYSLOG_IDENTIFIER`, normally the program name.
    ///   - level: the initial level (config `log_level`).
    ///   - destination: forces a destination; nil picks one with ``detectDestination(journalStream:fileDescriptor:journalSocketPath:)``.
    ///   - metadataProvider: passed to every handler.
    @discardableResult
    public static func bootstrap(
        identifier: String,
        level: Logger.Level,
        destination: LogDestination? = nil,
        metadataProvider: Logger.MetadataProvider? = nil
    ) -> LogLevelBox {
        let box = LogLevelBox(level)
        let factory = makeFactory(identifier: identifier, levelBox: box, destination: destination ?? detectDestination())
        LoggingSystem.bootstrap(factory, metadataProvider: metadataProvider)
        return box
    }

    /// The value of an environment variable, nil when unset.
    public static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}
