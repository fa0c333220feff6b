// Shared pieces of the two log handlers: metadata merging, the one-line text form, raw writes.
import Glibc
import Logging

enum LogFormatting {
    /// Handler metadata, then the provider's, then the call's: later sources win on equal keys.
    static func merged(
        handler: Logger.Metadata,
        provider: Logger.MetadataProvider?,
        event: Logger.Metadata?
    ) -> Logger.Metadata {
        var result = handler
        if let provided = provider?.get(), !provided.isEmpty {
            result.merge(provided) { _, new in new }
        }
        if let event, !event.isEmpty {
            result.merge(event) { _, new in new }
        }
        return result
    }

    /// Control characters as escapes, so one event stays one line and cannot forge another.
    static func escapingControlCharacters(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                result += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// A metadata value for `key=value`: bare when it is a plain word, else double-quoted with
    /// `"` and `\` escaped.
    static func quotedIfNeeded(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.unicodeScalars.contains { scalar in
                scalar == " " || scalar == "\"" || scalar == "=" || scalar == "\\" || scalar.value < 0x20 || scalar.value == 0x7F
            }
        guard needsQuotes else { return value }
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            default: result.unicodeScalars.append(scalar)
            }
        }
        result += "\""
        return escapingControlCharacters(result)
    }

    /// `[<N>]<level> <label>: <message>[ key=value …]` without the newline; keys sorted.
    static func line(
        level: Logger.Level,
        label: String,
        message: String,
        metadata: Logger.Metadata,
        error: (any Error)?,
        syslogPrefix: Bool
    ) -> String {
        var line = syslogPrefix ? "<\(level.syslogPriority)>" : ""
        line += level.rawValue
        line += " "
        line += escapingControlCharacters(label)
        line += ": "
        line += escapingControlCharacters(message)
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            line += " "
            line += escapingControlCharacters(key)
            line += "="
            line += quotedIfNeeded(value.description)
        }
        if let error {
            line += " error="
            line += quotedIfNeeded(String(describing: error))
        }
        return line
    }

    /// Writes all of `text` to `fd` with as few write(2) calls as the kernel allows (one for lines
    /// up to PIPE_BUF on a pipe, so lines of concurrent writers do not interleave). Errors other
    /// than EINTR drop the rest: there is nowhere left to report them.
    static func write(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { buffer in
            guard var base = buffer.baseAddress else { return }
            var remaining = buffer.count
            while remaining > 0 {
                let written = Glibc.write(fd, base, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                if written == 0 { return }
                base += written
                remaining -= written
            }
        }
    }
}
