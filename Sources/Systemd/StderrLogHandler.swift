// One readable line per event on stderr (or any file descriptor).
import Glibc
import Logging

/// A swift-log handler that writes one line per event:
///
///     info cs-companiond: connected to broker host=127.0.0.1 port=1883
///
/// that is `<level> <label>: <message> key=value …`, metadata keys sorted, values quoted when they
/// contain spaces, quotes, `=` or control characters, control characters in the message escaped.
/// With ``Style/syslogPrefix`` the line starts with `<N>` (the syslog priority, sd-daemon(3)), which
/// journald reads from a stream connected to stderr when structured fields can't be sent.
///
/// The log level is read from a shared ``LogLevelBox`` unless it was set on this handler (swift-log's
/// value semantics: `logger.logLevel = …` only changes that logger).
public struct StderrLogHandler: LogHandler {
    public enum Style: Sendable, Hashable {
        /// `info label: message …`
        case plain
        /// `<6>info label: message …`
        case syslogPrefix
    }

    public let label: String
    public let style: Style
    public let fileDescriptor: Int32
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let levelBox: LogLevelBox
    private var levelOverride: Logger.Level?

    /// - Parameters:
    ///   - fileDescriptor: where lines go; 2 (stderr) unless a test wants a pipe.
    public init(
        label: String,
        levelBox: LogLevelBox,
        style: Style = .plain,
        fileDescriptor: Int32 = STDERR_FILENO,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.levelBox = levelBox
        self.style = style
        self.fileDescriptor = fileDescriptor
        self.metadataProvider = metadataProvider
    }

    public var logLevel: Logger.Level {
        get { levelOverride ?? levelBox.level }
        set { levelOverride = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        LogFormatting.write(formattedLine(for: event) + "\n", to: fileDescriptor)
    }

    /// The line (without the newline) this handler writes for `event`.
    public func formattedLine(for event: LogEvent) -> String {
        LogFormatting.line(
            level: event.level,
            label: label,
            message: event.message.description,
            metadata: LogFormatting.merged(handler: metadata, provider: metadataProvider, event: event.metadata),
            error: event.error,
            syslogPrefix: style == .syslogPrefix
        )
    }
}
