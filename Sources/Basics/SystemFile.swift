#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An error reading or inspecting a file, with the path and the system's reason.
public struct FileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    public let reason: String

    public init(path: String, errno: Int32, reason: String? = nil) {
        self.path = path
        self.errno = errno
        self.reason = reason ?? String(cString: strerror(errno))
    }

    public var description: String { "\(path): \(reason)" }
}

/// Plain POSIX file access, so that the daemon needs no Foundation for it.
public enum SystemFile {
    /// Replaces the file at `path` with `bytes` atomically (temporary file `<path>.tmp`, fsync,
    /// rename, fsync of the directory): after a crash or power loss it holds the old or the new
    /// content, never a mix. Throws the errno of the failing call.
    public static func replace(_ path: String, with bytes: [UInt8], mode: mode_t = 0o600) throws(FileError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError(path: temporary, errno: errno) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                let error = errno
                close(fd)
                throw FileError(path: temporary, errno: error)
            }
            offset += n
        }
        guard fsync(fd) == 0 else {
            let error = errno
            close(fd)
            throw FileError(path: temporary, errno: error)
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw FileError(path: path, errno: errno) }
        let directoryFD = open(directory(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// The first line of a small file (`/proc/sys/kernel/random/boot_id`) without its newline; nil
    /// when it cannot be read.
    public static func firstLine(of path: String) -> String? {
        guard let bytes = try? read(path, maxBytes: 64 << 10) else { return nil }
        return String(decoding: bytes.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    }

    /// The whole file, refused when larger than `maxBytes`.
    public static func read(_ path: String, maxBytes: Int = 16 << 20) throws(FileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileError(path: path, errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw FileError(path: path, errno: EINVAL, reason: "not a regular file") }
        guard Int(info.st_size) <= maxBytes else {
            throw FileError(path: path, errno: EFBIG, reason: "file is larger than \(maxBytes) bytes")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, errno: errno)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= maxBytes else {
                throw FileError(path: path, errno: EFBIG, reason: "file is larger than \(maxBytes) bytes")
            }
        }
        return bytes
    }

    public static func readText(_ path: String, maxBytes: Int = 16 << 20) throws(FileError) -> String {
        String(decoding: try read(path, maxBytes: maxBytes), as: UTF8.self)
    }

    /// Mode bits (permissions) and owner of a path, following links.
    public static func status(_ path: String) throws(FileError) -> (mode: UInt32, uid: UInt32, isDirectory: Bool) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw FileError(path: path, errno: errno) }
        return (UInt32(info.st_mode & 0o7777), UInt32(info.st_uid), (info.st_mode & S_IFMT) == S_IFDIR)
    }

    public static func isDirectory(_ path: String) -> Bool {
        (try? status(path).isDirectory) ?? false
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// The absolute path of the running executable (`/proc/self/exe`), if it can be read.
    public static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The directory part of a path ("/usr/bin/x" → "/usr/bin").
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
