import Basics
import CCurl
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The URL schemes a back office may name (contract: `^(https?|ftps?|sftp)://`); libcurl is told
/// the same list (`CURLOPT_PROTOCOLS_STR`, also for redirects), so a redirect to `file://` or
/// `gopher://` is refused too.
public enum TransferScheme {
    public static let allowed: Set<String> = ["http", "https", "ftp", "ftps", "sftp"]

    /// The lowercased scheme of `url` when it is allowed and something follows `://`, else nil.
    public static func allowedScheme(of url: String) -> String? {
        guard let range = url.firstRange(ofText: "://") else { return nil }
        let scheme = url[url.startIndex..<range.lowerBound].lowercased()
        guard allowed.contains(scheme), range.upperBound < url.endIndex else { return nil }
        // No control characters or spaces: libcurl would reject them, the log must not carry them.
        guard url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else { return nil }
        return scheme
    }

    /// The URL without user info, query and fragment (`ftp://user:secret@host/x`, a pre-signed
    /// `https://host/x?X-Amz-Signature=…` → `ftp://host/x`, `https://host/x`), for log lines and
    /// the install command's environment; only the transfer itself gets the full URL.
    public static func redacted(_ url: String) -> String {
        let withoutQuery = url.prefix { $0 != "?" && $0 != "#" }
        guard let schemeEnd = withoutQuery.firstRange(ofText: "://") else { return String(withoutQuery) }
        let rest = withoutQuery[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return String(withoutQuery) }
        return String(withoutQuery[..<schemeEnd.upperBound]) + String(rest[rest.index(after: at)...])
    }
}

/// How transfers behave. TLS peers are always verified; `caFile` replaces the system's CA bundle
/// (tests use a throwaway CA; a back office with a private CA does too).
public struct TransferOptions: Sendable, Equatable {
    public var caFile: String?
    /// Seconds to establish the connection.
    public var connectTimeout: Int
    /// A transfer slower than 1 byte/s for this many seconds is abandoned (a silent peer).
    public var stallTimeout: Int
    /// Seconds for a whole transfer; 0 = no limit (images can be large on slow links).
    public var totalTimeout: Int
    /// OpenSSH `known_hosts` file for `sftp://` servers; without one, SFTP is refused (libcurl
    /// would otherwise accept any host key).
    public var sshKnownHosts: String?

    public init(caFile: String? = nil, connectTimeout: Int = 30, stallTimeout: Int = 60, totalTimeout: Int = 0, sshKnownHosts: String? = nil) {
        self.caFile = caFile
        self.sshKnownHosts = sshKnownHosts
        self.connectTimeout = connectTimeout
        self.stallTimeout = stallTimeout
        self.totalTimeout = totalTimeout
    }
}

/// Why a transfer failed.
public enum TransferError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not one of ``TransferScheme/allowed`` (or not a URL).
    case disallowedScheme
    /// libcurl's error: unreachable host, refused connection, TLS failure, HTTP status ≥ 400, …
    case curl(code: Int, message: String)
    /// Stopped by ``TransferCancellation/cancel()``.
    case cancelled
    /// The announced size does not fit the space left on the download directory's file system.
    case insufficientSpace(needed: Int64, available: Int64)
    /// The local file could not be opened or written.
    case localFile(path: String, errno: Int32)
    /// `sftp://` without a known-hosts file: the server's key could not be checked.
    case sshHostUnverifiable

    public var description: String {
        switch self {
        case .disallowedScheme: "URL scheme not allowed (http, https, ftp, ftps, sftp only)"
        case .curl(let code, let message): "\(message) (curl \(code))"
        case .cancelled: "cancelled"
        case .insufficientSpace(let needed, let available): "not enough space: \(needed) bytes needed, \(available) available"
        case .localFile(let path, let error): "\(path): \(String(cString: strerror(error)))"
        case .sshHostUnverifiable: "sftp needs a known-hosts file (ssh_known_hosts) to verify the server"
        }
    }

    /// Whether another attempt may succeed (not for a full disk, a local file problem, a refused
    /// scheme or an SFTP server that cannot be verified).
    public var isRetryable: Bool {
        switch self {
        case .curl: true
        case .disallowedScheme, .cancelled, .insufficientSpace, .localFile, .sshHostUnverifiable: false
        }
    }

    /// A TLS problem (certificate not trusted, handshake failed): a security event.
    public var isTLS: Bool {
        guard case .curl(let code, _) = self else { return false }
        return [
            CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
        ].contains { Int($0.rawValue) == code }
    }

    /// libcurl could not resume (the server ignored the range or the local part is longer than
    /// the file): the download starts again from the first byte.
    var needsRestart: Bool {
        guard case .curl(let code, let message) = self else { return false }
        return code == Int(CURLE_RANGE_ERROR.rawValue) || code == Int(CURLE_BAD_DOWNLOAD_RESUME.rawValue)
            || (code == Int(CURLE_HTTP_RETURNED_ERROR.rawValue) && message.contains(text: "416"))
    }
}

/// Stops a running transfer from another task (checked by libcurl's progress callback).
public final class TransferCancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func cancel() { flag.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// What a download did.
public struct DownloadResult: Sendable, Equatable {
    /// Size of the file now complete.
    public var bytes: Int64
    /// Bytes already there from an earlier attempt (0 when the download started from scratch).
    public var resumedFrom: Int64

    public init(bytes: Int64, resumedFrom: Int64) {
        self.bytes = bytes
        self.resumedFrom = resumedFrom
    }
}

/// How a log file goes to an HTTP(S) server.
public enum HTTPUploadMethod: String, Sendable, Equatable {
    /// `PUT` of the file's bytes to the URL (with the file name appended when the URL ends in `/`).
    case put
    /// `POST` of a `multipart/form-data` body with the file in the field `file` (OCPP back offices).
    case post
}

/// libcurl's easy interface, typed. Each transfer runs on a thread of its own.
public enum Transfer {

    /// Downloads `url` into `path`, resuming after the bytes already in `path`
    /// (`CURLOPT_RESUME_FROM_LARGE`); when the server cannot resume, starts again from scratch.
    /// `availableSpace` returns the bytes the file may still grow by (nil: unknown).
    public static func download(
        from url: String, to path: String, options: TransferOptions, cancellation: TransferCancellation,
        availableSpace: (@Sendable () -> Int64?)? = nil
    ) async throws(TransferError) -> DownloadResult {
        guard let scheme = TransferScheme.allowedScheme(of: url) else { throw .disallowedScheme }
        if scheme == "sftp", options.sshKnownHosts == nil { throw .sshHostUnverifiable }
        var result = await DedicatedThread.run {
            performDownload(url: url, path: path, options: options, cancellation: cancellation, availableSpace: availableSpace)
        }
        if case .failure(let error) = result, error.needsRestart {
            truncate(path, 0)
            result = await DedicatedThread.run {
                performDownload(url: url, path: path, options: options, cancellation: cancellation, availableSpace: availableSpace)
            }
        }
        return try result.get()
    }

    /// Uploads the file at `path` to `url`: FTP(S)/SFTP store it (under its own name when the URL
    /// ends in `/`), HTTP(S) uses `method`.
    public static func upload(
        file path: String, to url: String, method: HTTPUploadMethod, options: TransferOptions, cancellation: TransferCancellation
    ) async throws(TransferError) {
        guard let scheme = TransferScheme.allowedScheme(of: url) else { throw .disallowedScheme }
        if scheme == "sftp", options.sshKnownHosts == nil { throw .sshHostUnverifiable }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let target = url.hasSuffix("/") && (method == .put || !scheme.hasPrefix("http")) ? url + name : url
        let result = await DedicatedThread.run {
            performUpload(path: path, url: target, post: scheme.hasPrefix("http") && method == .post, options: options, cancellation: cancellation)
        }
        try result.get()
    }

    // MARK: On the transfer's thread

    /// What the C callbacks see.
    private final class Context {
        let fd: Int32
        let cancellation: TransferCancellation
        let availableSpace: (@Sendable () -> Int64?)?
        var spaceChecked = false
        var shortOfSpace: (needed: Int64, available: Int64)?
        var writeError: Int32 = 0
        /// Bytes written by this transfer.
        var written: Int64 = 0
        /// `written` may grow up to this before the space left is read again (nil: not read yet).
        var writeLimit: Int64?
        /// `written` when the space was last read.
        var writtenAtCheck: Int64 = 0
        /// The space left is read again after this many bytes even below the limit (another
        /// writer may fill the file system meanwhile).
        static let recheckEvery: Int64 = 4 << 20

        var handle: UnsafeMutableRawPointer?
        /// Runs on the handle after the transfer, before it is cleaned up (the response code).
        var afterPerform: ((UnsafeMutableRawPointer) -> Void)?

        /// Before the first byte is written: whether the announced size (`Content-Length`, FTP
        /// `SIZE`) fits the space left.
        func hasSpace() -> Bool {
            guard !spaceChecked else { return shortOfSpace == nil }
            spaceChecked = true
            var length: curl_off_t = -1
            guard let handle, let availableSpace,
                cs_curl_getinfo_offset(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK, length > 0,
                let space = availableSpace()
            else { return true }
            if Int64(length) > space { shortOfSpace = (Int64(length), space) }
            return shortOfSpace == nil
        }

        /// While writing: whether `count` more bytes fit. Counts what is written, so a download
        /// without an announced size (chunked, FTP without SIZE) stops before it eats the space
        /// that must stay free; the space left (`statvfs`) is read again every few MiB and when
        /// the last reading is used up.
        func mayWrite(_ count: Int64) -> Bool {
            guard let availableSpace else { return true }
            if let limit = writeLimit, written + count <= limit, written - writtenAtCheck < Self.recheckEvery { return true }
            guard let space = availableSpace() else {
                // Unknown (statvfs failed): keep going, ask again later.
                writeLimit = written + Self.recheckEvery
                writtenAtCheck = written
                return true
            }
            writeLimit = written + max(0, space)
            writtenAtCheck = written
            if count > max(0, space) {
                shortOfSpace = (written + count, written + max(0, space))
                return false
            }
            return true
        }

        init(fd: Int32, cancellation: TransferCancellation, availableSpace: (@Sendable () -> Int64?)?) {
            self.fd = fd
            self.cancellation = cancellation
            self.availableSpace = availableSpace
        }
    }

    private static func performDownload(
        url: String, path: String, options: TransferOptions, cancellation: TransferCancellation,
        availableSpace: (@Sendable () -> Int64?)?
    ) -> Result<DownloadResult, TransferError> {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return .failure(.localFile(path: path, errno: errno)) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return .failure(.localFile(path: path, errno: errno)) }
        let resumeFrom = Int64(status.st_size)
        let context = Context(fd: fd, cancellation: cancellation, availableSpace: availableSpace)
        let outcome = perform(url: url, options: options, context: context) { handle in
            _ = cs_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1)
            _ = cs_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 5)
            if resumeFrom > 0 { _ = cs_curl_setopt_offset(handle, CURLOPT_RESUME_FROM_LARGE, curl_off_t(resumeFrom)) }
            _ = cs_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { buffer, size, count, raw in
                guard let buffer, let raw else { return 0 }
                let context = Unmanaged<Context>.fromOpaque(raw).takeUnretainedValue()
                let total = size * count
                guard context.hasSpace(), context.mayWrite(Int64(total)) else { return 0 }
                var written = 0
                while written < total {
                    let n = write(context.fd, buffer + written, total - written)
                    if n < 0 {
                        if errno == EINTR { continue }
                        context.writeError = errno
                        return 0
                    }
                    written += n
                }
                context.written += Int64(total)
                return total
            }
            _ = cs_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(context).toOpaque())
        }
        if let short = context.shortOfSpace { return .failure(.insufficientSpace(needed: short.needed, available: short.available)) }
        if context.writeError != 0 { return .failure(.localFile(path: path, errno: context.writeError)) }
        if let error = outcome { return .failure(error) }
        guard fsync(fd) == 0, fstat(fd, &status) == 0 else { return .failure(.localFile(path: path, errno: errno)) }
        return .success(DownloadResult(bytes: Int64(status.st_size), resumedFrom: resumeFrom))
    }

    private static func performUpload(
        path: String, url: String, post: Bool, options: TransferOptions, cancellation: TransferCancellation
    ) -> Result<Void, TransferError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.localFile(path: path, errno: errno)) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return .failure(.localFile(path: path, errno: errno)) }
        let context = Context(fd: fd, cancellation: cancellation, availableSpace: nil)
        var mime: OpaquePointer?
        defer { if let mime { cs_curl_mime_free(mime) } }
        let outcome = perform(url: url, options: options, context: context) { handle in
            if post {
                mime = cs_curl_mime_init(handle)
                let part = cs_curl_mime_addpart(mime)
                _ = cs_curl_mime_name(part, "file")
                _ = cs_curl_mime_filedata(part, path)
                _ = cs_curl_setopt_mime(handle, mime)
                return
            }
            _ = cs_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
            _ = cs_curl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(status.st_size))
            _ = cs_curl_setopt_data_callback(handle, CURLOPT_READFUNCTION) { buffer, size, count, raw in
                guard let buffer, let raw else { return Int(CURL_READFUNC_ABORT) }
                let context = Unmanaged<Context>.fromOpaque(raw).takeUnretainedValue()
                while true {
                    let n = read(context.fd, buffer, size * count)
                    if n >= 0 { return n }
                    if errno != EINTR {
                        context.writeError = errno
                        return Int(CURL_READFUNC_ABORT)
                    }
                }
            }
            _ = cs_curl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(context).toOpaque())
        }
        if context.writeError != 0 { return .failure(.localFile(path: path, errno: context.writeError)) }
        if let error = outcome { return .failure(error) }
        return .success(())
    }

    /// The answer's body, collected by libcurl's write callback.
    final class Collected {
        var bytes: [UInt8] = []
    }

    /// `HTTPExchange.send` on the transfer's thread. Here, in this file, because every libcurl call
    /// must be made from the one file that loaded the library: shim.h's state is a static of each
    /// file that includes it.
    static func performExchange(
        _ method: String, url: String, headers: [String], body: [UInt8], options: TransferOptions, cancellation: TransferCancellation
    ) -> Result<HTTPExchange.Response, TransferError> {
        let context = Context(fd: -1, cancellation: cancellation, availableSpace: nil)
        let collected = Collected()
        var list: UnsafeMutablePointer<curl_slist>?
        var status = 0
        let payload = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, body.count))
        defer { payload.deallocate() }
        body.withUnsafeBufferPointer { bytes in
            if let base = bytes.baseAddress { UnsafeMutableRawPointer(payload).copyMemory(from: base, byteCount: bytes.count) }
        }
        let error = perform(url: url, options: options, context: context) { handle in
            _ = cs_curl_setopt_long(handle, CURLOPT_FAILONERROR, 0)
            _ = cs_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
            _ = cs_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, payload)
            _ = cs_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            for header in headers { list = cs_curl_slist_append(list, header) }
            // No "Expect: 100-continue" round trip before a small body.
            list = cs_curl_slist_append(list, "Expect:")
            _ = cs_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
            _ = cs_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { buffer, size, count, raw in
                guard let buffer, let raw else { return 0 }
                let collected = Unmanaged<Collected>.fromOpaque(raw).takeUnretainedValue()
                let total = size * count
                guard collected.bytes.count + total <= HTTPExchange.maxResponseBytes else { return 0 }
                buffer.withMemoryRebound(to: UInt8.self, capacity: total) { collected.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: total)) }
                return total
            }
            _ = cs_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(collected).toOpaque())
            context.afterPerform = { handle in
                var code: Int = 0
                _ = cs_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
                status = code
            }
        }
        if let list { cs_curl_slist_free_all(list) }
        if let error { return .failure(error) }
        return .success(HTTPExchange.Response(status: status, body: collected.bytes))
    }

    /// Sets the options every transfer shares, lets `configure` add its own, performs the
    /// transfer and returns its error, if any.
    private static func perform(
        url: String, options: TransferOptions, context: Context, configure: (UnsafeMutableRawPointer) -> Void
    ) -> TransferError? {
        // libcurl is loaded at the first transfer (see CCurl/shim.h); without it this transfer fails.
        guard cs_curl() != nil else {
            return .curl(code: Int(CURLE_FAILED_INIT.rawValue), message: String(cString: cs_curl_load_error()))
        }
        guard let handle = cs_curl_easy_init() else {
            return .curl(code: Int(CURLE_FAILED_INIT.rawValue), message: "libcurl could not be initialised")
        }
        defer { cs_curl_easy_cleanup(handle) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        let protocols = "http,https,ftp,ftps,sftp"
        _ = cs_curl_setopt_string(handle, CURLOPT_URL, url)
        _ = cs_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, protocols)
        _ = cs_curl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, protocols)
        _ = cs_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = cs_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = cs_curl_setopt_long(handle, CURLOPT_FAILONERROR, 1)
        _ = cs_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
        _ = cs_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile = options.caFile { _ = cs_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        if let knownHosts = options.sshKnownHosts { _ = cs_curl_setopt_string(handle, CURLOPT_SSH_KNOWNHOSTS, knownHosts) }
        _ = cs_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, max(1, options.connectTimeout))
        _ = cs_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = cs_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, max(1, options.stallTimeout))
        _ = cs_curl_setopt_long(handle, CURLOPT_TIMEOUT, max(0, options.totalTimeout))
        _ = cs_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
        _ = cs_curl_setopt_progress_callback(handle) { raw, _, _, _, _ in
            guard let raw else { return 0 }
            let context = Unmanaged<Context>.fromOpaque(raw).takeUnretainedValue()
            return context.cancellation.isCancelled ? 1 : 0
        }
        _ = cs_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, Unmanaged.passUnretained(context).toOpaque())
        context.handle = handle
        configure(handle)
        let code = cs_curl_easy_perform(handle)
        context.afterPerform?(handle)
        guard code != CURLE_OK else { return nil }
        if context.cancellation.isCancelled { return .cancelled }
        let detail = String(cString: errorBuffer)
        return .curl(code: Int(code.rawValue), message: detail.isEmpty ? String(cString: cs_curl_easy_strerror(code)) : detail)
    }
}
