// The process-wide log level, changeable at runtime (SIGHUP reload of `log_level`).
import Logging
import Synchronization

/// A log level shared by all handlers made by one `LogSetup`, so a configuration reload can raise
/// or lower the level of every `Logger` at once.
///
/// swift-log treats a handler's `logLevel` as a value: setting it on one `Logger` changes only that
/// logger. The handlers here honour that (a level set on a logger overrides the box for that
/// logger), and otherwise read the box on every log call, which is one relaxed atomic load.
public final class LogLevelBox: Sendable {
    private let raw: Atomic<UInt8>

    public init(_ level: Logger.Level) {
        raw = Atomic(Self.encode(level))
    }

    /// The current level. Setting it takes effect for the next log call on every thread.
    public var level: Logger.Level {
        get { Self.decode(raw.load(ordering: .relaxed)) }
        set { raw.store(Self.encode(newValue), ordering: .relaxed) }
    }

    private static func encode(_ level: Logger.Level) -> UInt8 {
        switch level {
        case .trace: 0
        case .debug: 1
        case .info: 2
        case .notice: 3
        case .warning: 4
        case .error: 5
        case .critical: 6
        }
    }

    private static func decode(_ raw: UInt8) -> Logger.Level {
        switch raw {
        case 0: .trace
        case 1: .debug
        case 2: .info
        case 3: .notice
        case 4: .warning
        case 5: .error
        default: .critical
        }
    }
}

extension Logger.Level {
    /// The syslog priority (0 emerg … 7 debug) journald and the `<N>` stderr prefix use.
    ///
    /// | swift-log | syslog |
    /// |---|---|
    /// | trace, debug | 7 debug |
    /// | info | 6 info |
    /// | notice | 5 notice |
    /// | warning | 4 warning |
    /// | error | 3 err |
    /// | critical | 2 crit |
    ///
    /// 0 (emerg) and 1 (alert) are not used: they would be broadcast to every terminal.
    public var syslogPriority: Int {
        switch self {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
