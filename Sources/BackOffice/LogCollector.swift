import Basics
import CSystemd
import CZlib

#if canImport(Glibc)
    import Glibc
#endif

/// Which journal to read and which entries are the daemon's.
public struct JournalSource: Sendable, Equatable {
    /// A directory of journal files (`sd_journal_open_directory`); nil: the system journal of
    /// this machine (`sd_journal_open`, local only).
    public var directory: String?
    /// Entries of this unit (`_SYSTEMD_UNIT=`, includes what the unit wrote to stdout/stderr) …
    public var unit: String
    /// … or with this `SYSLOG_IDENTIFIER` (the daemon started by hand, or by a test).
    public var identifier: String
    /// The station's other units (Josev's, mosquitto) whose entries a diagnostics log includes too,
    /// so that one GetLog gives the whole station (`logs.include_units`). Not in a security log:
    /// its filter knows the daemon's events only.
    public var otherUnits: [String]

    public init(
        directory: String? = nil, unit: String = "cs-companiond.service", identifier: String = "cs-companiond",
        otherUnits: [String] = []
    ) {
        self.directory = directory
        self.unit = unit
        self.identifier = identifier
        self.otherUnits = otherUnits
    }
}

/// What went into a log file.
public struct CollectedLog: Sendable, Equatable {
    public var entries: Int
    public var bytes: Int64
}

/// Why the journal could not be read or the file not written.
public struct LogCollectionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
}

/// Reads the daemon's journal between two instants with the sd-journal API and writes it as a
/// gzip-compressed text file, one line per entry (`ISO-8601 time identifier[pid] <level>: message`,
/// then ` [MESSAGE_ID=…]` and ` [SECURITY_EVENT=…]` when present).
///
/// `security_log` keeps the security-relevant subset (see ``isSecurityRelevant(message:messageID:securityEvent:)``).
public enum LogCollector {
    /// The swift-log metadata key that marks a security event; journald stores it as `SECURITY_EVENT`.
    public static let securityMetadataKey = "security_event"

    /// MESSAGE_IDs of security-relevant events of cs-companiond (systemd/cs-companiond.catalog):
    /// configuration invalid, reloaded (a configuration change), reload rejected.
    public static let securityMessageIDs: Set<String> = [
        "8fe5f5921851467495f3d4ecfef53410", "72cfc9f672b142049e9fe850cd7e903e", "ee7ac475373043c79fb16d0c967b5577",
    ]

    /// Lower-case phrases of the daemon's own log lines that are security events although they carry
    /// no `SECURITY_EVENT` field: refused Modbus writes and connections, authorization refusals,
    /// broker authentication failures and TLS errors (libmosquitto's and libcurl's wording).
    public static let securityPhrases: [String] = [
        "modbus write refused", "modbus connection rejected", "modbus request refused", "not authori",
        "authentication", "bad user name or password", "tls", "ssl", "certificate", "handshake",
    ]

    /// Whether an entry belongs in the `security_log`.
    public static func isSecurityRelevant(message: String, messageID: String?, securityEvent: String?) -> Bool {
        if securityEvent != nil { return true }
        if let messageID, securityMessageIDs.contains(messageID.lowercased()) { return true }
        let lower = message.lowercased()
        if lower.hasPrefix("local authorization of") { return lower.hasSuffix("rejected") }
        return securityPhrases.contains { lower.contains(text: $0) }
    }

    /// Writes the entries with realtime timestamps in `[oldest, latest]` (µs since the epoch;
    /// nil = unbounded) to `path` (gzip). Blocking: run it on a thread of its own.
    public static func collect(
        from source: JournalSource, oldest: Int64?, latest: Int64?, securityOnly: Bool, to path: String,
        cancellation: TransferCancellation? = nil
    ) -> Result<CollectedLog, LogCollectionError> {
        var journal: OpaquePointer?
        let opened: Int32
        if let directory = source.directory {
            opened = sd_journal_open_directory(&journal, directory, 0)
        } else {
            opened = sd_journal_open(&journal, Int32(SD_JOURNAL_LOCAL_ONLY))
        }
        guard opened >= 0, let journal else {
            return .failure(LogCollectionError(description: "cannot open the journal\(source.directory.map { " in \($0)" } ?? ""): \(String(cString: strerror(-opened)))"))
        }
        defer { sd_journal_close(journal) }
        _ = sd_journal_add_match(journal, "_SYSTEMD_UNIT=\(source.unit)", 0)
        _ = sd_journal_add_disjunction(journal)
        _ = sd_journal_add_match(journal, "SYSLOG_IDENTIFIER=\(source.identifier)", 0)
        let otherUnits = securityOnly ? [] : source.otherUnits.filter { $0 != source.unit }
        for unit in otherUnits {
            _ = sd_journal_add_disjunction(journal)
            _ = sd_journal_add_match(journal, "_SYSTEMD_UNIT=\(unit)", 0)
        }
        if let oldest {
            _ = sd_journal_seek_realtime_usec(journal, UInt64(max(0, oldest)))
        } else {
            _ = sd_journal_seek_head(journal)
        }
        guard let file = gzopen(path, "wb") else {
            return .failure(LogCollectionError(description: "cannot create \(path): \(String(cString: strerror(errno)))"))
        }
        var entries = 0
        var failed = false
        while sd_journal_next(journal) > 0 {
            // A newer request cancelled this one: stop reading (checked per entry, it is cheap).
            if cancellation?.isCancelled == true {
                failed = true
                break
            }
            var time: UInt64 = 0
            guard sd_journal_get_realtime_usec(journal, &time) >= 0 else { continue }
            if let oldest, Int64(clamping: time) < oldest { continue }
            if let latest, Int64(clamping: time) > latest { break }
            let message = field(journal, "MESSAGE") ?? ""
            let messageID = field(journal, "MESSAGE_ID")
            let securityEvent = field(journal, "SECURITY_EVENT")
            if securityOnly, !isSecurityRelevant(message: message, messageID: messageID, securityEvent: securityEvent) { continue }
            var line = "\(timestamp(microseconds: time)) \(field(journal, "SYSLOG_IDENTIFIER") ?? field(journal, "_COMM") ?? source.identifier)"
            if let pid = field(journal, "_PID") ?? field(journal, "SYSLOG_PID") { line += "[\(pid)]" }
            line += " <\(level(field(journal, "PRIORITY")))>: \(message)"
            if let messageID { line += " [MESSAGE_ID=\(messageID)]" }
            if let securityEvent { line += " [SECURITY_EVENT=\(securityEvent)]" }
            line += "\n"
            if !write(line, to: file) {
                failed = true
                break
            }
            entries += 1
        }
        let others = otherUnits.isEmpty ? "" : " and of \(otherUnits.joined(separator: ", "))"
        let footer = "# \(entries) entries of \(source.identifier) (\(source.unit))\(others)\(securityOnly ? ", security events only" : "")\n"
        if !failed { failed = !write(footer, to: file) }
        let closed = gzclose(file)
        guard !failed, closed == Z_OK else {
            unlink(path)
            if cancellation?.isCancelled == true { return .failure(LogCollectionError(description: "cancelled")) }
            return .failure(LogCollectionError(description: "cannot write \(path)"))
        }
        var status = stat()
        let bytes = stat(path, &status) == 0 ? Int64(status.st_size) : 0
        return .success(CollectedLog(entries: entries, bytes: bytes))
    }

    private static func write(_ text: String, to file: gzFile) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return true }
            return gzwrite(file, base, UInt32(bytes.count)) == Int32(bytes.count)
        }
    }

    /// The value of a field of the current entry (UTF-8, invalid bytes replaced).
    private static func field(_ journal: OpaquePointer, _ name: String) -> String? {
        var data: UnsafeRawPointer?
        var length = 0
        guard sd_journal_get_data(journal, name, &data, &length) >= 0, let data else { return nil }
        let bytes = UnsafeRawBufferPointer(start: data, count: length)
        let prefix = name.utf8.count + 1
        guard length >= prefix else { return nil }
        return String(decoding: bytes[prefix...], as: UTF8.self)
    }

    private static func level(_ priority: String?) -> String {
        switch priority {
        case "0": "emerg"
        case "1": "alert"
        case "2": "crit"
        case "3": "err"
        case "4": "warning"
        case "5": "notice"
        case "6": "info"
        case "7": "debug"
        default: "-"
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS.uuuuuuZ`.
    static func timestamp(microseconds: UInt64) -> String {
        DateTimeText.microseconds(unixMicroseconds: Int64(clamping: microseconds))
    }
}
