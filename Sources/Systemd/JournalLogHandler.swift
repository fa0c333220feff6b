// Structured journal entries through sd_journal_sendv(3).
import CSystemd
import Glibc
import Logging

/// A swift-log handler that sends each event to journald as a structured entry:
///
/// | field | value |
/// |---|---|
/// | `MESSAGE` | the message |
/// | `PRIORITY` | syslog priority from the level (``Logger/Level/syslogPriority``) |
/// | `SYSLOG_IDENTIFIER` | the identifier given to ``LogSetup`` (e.g. `cs-companiond`) |
/// | `LOGGER` | the logger's label |
/// | `CODE_FILE`, `CODE_LINE`, `CODE_FUNC` | the call site |
/// | `ERROR` | the event's error, when there is one |
/// | one per metadata key | named by ``JournalField/name(forMetadataKey:)`` (`evse_id` → `EVSE_ID`) |
///
/// Metadata values are sent as their `description` (arrays and dictionaries in swift-log's text
/// form); values may hold newlines. `message_id` becomes `MESSAGE_ID` (see ``MessageID``).
///
/// When sd_journal_sendv fails (a negative errno, e.g. journald's socket buffer is full), the event
/// is written to stderr as a `<N>`-prefixed line instead, so it is not lost. libsystemd returns 0,
/// dropping the entry, when journald's socket does not exist at all (measured on 252); that is why
/// ``LogSetup/detectDestination(journalStream:fileDescriptor:journalSocketPath:)`` checks for the
/// socket before it picks this handler.
public struct JournalLogHandler: LogHandler {
    public let label: String
    public let identifier: String
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let levelBox: LogLevelBox
    private var levelOverride: Logger.Level?

    public init(
        label: String,
        identifier: String,
        levelBox: LogLevelBox,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.identifier = identifier
        self.levelBox = levelBox
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
        let fields = fields(for: event)
        if Self.send(fields) < 0 {
            let merged = LogFormatting.merged(handler: metadata, provider: metadataProvider, event: event.metadata)
            let line = LogFormatting.line(
                level: event.level,
                label: label,
                message: event.message.description,
                metadata: merged,
                error: event.error,
                syslogPrefix: true
            )
            LogFormatting.write(line + "\n", to: STDERR_FILENO)
        }
    }

    /// The `(name, value)` fields this handler sends for `event`, in order.
    public func fields(for event: LogEvent) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = [
            ("MESSAGE", event.message.description),
            ("PRIORITY", String(event.level.syslogPriority)),
            ("SYSLOG_IDENTIFIER", identifier),
            ("LOGGER", label),
            ("CODE_FILE", event.file),
            ("CODE_LINE", String(event.line)),
            ("CODE_FUNC", event.function),
        ]
        if let error = event.error {
            fields.append(("ERROR", String(describing: error)))
        }
        let merged = LogFormatting.merged(handler: metadata, provider: metadataProvider, event: event.metadata)
        for key in merged.keys.sorted() {
            guard let value = merged[key] else { continue }
            fields.append((JournalField.name(forMetadataKey: key), value.description))
        }
        return fields
    }

    /// Sends one entry with `sd_journal_sendv`: the `NAME=value` strings are laid out in one buffer
    /// and an iovec points at each. Returns sd_journal_sendv's result (negative errno on failure).
    @discardableResult
    public static func send(_ fields: [(name: String, value: String)]) -> Int32 {
        var buffer: [UInt8] = []
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(fields.count)
        for field in fields {
            let start = buffer.count
            buffer.append(contentsOf: field.name.utf8)
            buffer.append(UInt8(ascii: "="))
            buffer.append(contentsOf: field.value.utf8)
            ranges.append(start..<buffer.count)
        }
        return buffer.withUnsafeMutableBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress else { return -EINVAL }
            var vectors = ranges.map { range in
                iovec(iov_base: base + range.lowerBound, iov_len: range.count)
            }
            return vectors.withUnsafeMutableBufferPointer { iov in
                sd_journal_sendv(iov.baseAddress, Int32(iov.count))
            }
        }
    }
}
