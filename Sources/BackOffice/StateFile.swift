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
        guard let bytes = Self.contents(of: path) else { return nil }
        var fields: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = Self.unescape(line[line.index(after: equals)...])
        }
        return fields
    }

    /// The bytes of a small file; nil when it cannot be opened.
    static func contents(of path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += chunk.prefix(n)
        }
        return bytes
    }

    /// The first line of a small file (`/proc/sys/kernel/random/boot_id`), without its newline.
    static func firstLine(of path: String) -> String? {
        guard let bytes = contents(of: path) else { return nil }
        return String(decoding: bytes.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    }

    /// Replaces the file with `fields` (sorted by key). Throws the errno of the failing call.
    public func write(_ fields: [String: String]) throws(StateFileError) {
        let text = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.escape($0.value))\n" }.joined()
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateFileError(path: temporary, errno: errno) }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                let error = errno
                close(fd)
                throw StateFileError(path: temporary, errno: error)
            }
            offset += n
        }
        guard fsync(fd) == 0 else {
            let error = errno
            close(fd)
            throw StateFileError(path: temporary, errno: error)
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw StateFileError(path: path, errno: errno) }
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
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

public struct StateFileError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    public var description: String { "\(path): \(String(cString: strerror(errno)))" }
}
