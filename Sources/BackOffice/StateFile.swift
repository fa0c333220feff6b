import Basics

#if canImport(Glibc)
    import Glibc
#endif

/// A small `key=value` file written atomically (temporary file, fsync, rename, fsync of the
/// directory): after a crash or power loss it holds the old or the new content, never a mix.
/// Values are escaped (`%`, newline, carriage return), so a PEM certificate fits on one line.
public struct StateFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The fields, or nil when there is no file. Lines that are not `key=value` are skipped.
    public func read() -> [String: String]? {
        guard let bytes = try? SystemFile.read(path, maxBytes: 1 << 20) else { return nil }
        var fields: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = Self.unescape(line[line.index(after: equals)...])
        }
        return fields
    }

    /// Replaces the file with `fields` (sorted by key), atomically.
    public func write(_ fields: [String: String]) throws(FileError) {
        let text = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.escape($0.value))\n" }.joined()
        try SystemFile.replace(path, with: Array(text.utf8))
    }

    public func remove() { unlink(path) }

    static func escape(_ value: String) -> String {
        var out = ""
        for character in value.unicodeScalars {
            switch character {
            case "%": out += "%25"
            case "\n": out += "%0A"
            case "\r": out += "%0D"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    static func unescape(_ value: Substring) -> String {
        var out = ""
        var rest = value[...]
        while let percent = rest.firstIndex(of: "%") {
            out += rest[..<percent]
            let code = rest[percent...].prefix(3)
            switch code {
            case "%0A": out += "\n"
            case "%0D": out += "\r"
            case "%25": out += "%"
            default: out += code
            }
            rest = rest[code.endIndex...]
        }
        return out + rest
    }
}
