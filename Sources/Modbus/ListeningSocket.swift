#if canImport(Glibc)
    import Glibc
#endif

/// The Modbus server's listening TCP socket, non-blocking: bound to `host:port` (IPv4 or IPv6,
/// SO_REUSEADDR, backlog 16) or the socket systemd passed, adopted as it is.
struct ListeningSocket {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let backlog: Int32 = 16

    let fd: Int32
    /// The bound address and port (the chosen one when 0 was asked for).
    let address: String
    let port: Int

    static func open(_ configuration: ModbusServerConfiguration) throws(Failure) -> ListeningSocket {
        let fd: Int32
        if let passed = configuration.listeningSocket {
            fd = passed
        } else {
            fd = try bind(host: configuration.host, port: configuration.port)
        }
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0, listen(fd, backlog) == 0 else {
            let reason = Self.lastError()
            if configuration.listeningSocket == nil { close(fd) }
            throw Failure(description: reason)
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0, let (address, port) = PeerAddress(storage)?.hostAndPort else {
            throw Failure(description: "getsockname: \(Self.lastError())")
        }
        return ListeningSocket(fd: fd, address: address, port: port)
    }

    private static func bind(host: String, port: Int) throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &found)
        guard resolved == 0, let first = found else {
            throw Failure(description: "cannot resolve \(host): \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(found) }
        let info = first.pointee
        let fd = socket(info.ai_family, info.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.ai_protocol)
        guard fd >= 0 else { throw Failure(description: "socket: \(lastError())") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard Glibc.bind(fd, info.ai_addr, info.ai_addrlen) == 0 else {
            let reason = lastError()
            close(fd)
            throw Failure(description: "bind: \(reason)")
        }
        return fd
    }

    static func lastError() -> String { String(cString: strerror(errno)) }
}

/// An IPv4 or IPv6 socket address as the server logs and checks it.
struct PeerAddress {
    /// Network-order address bytes: 4 or 16.
    let bytes: [UInt8]
    let port: Int

    init?(_ storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            let v4 = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
            bytes = withUnsafeBytes(of: v4.sin_addr) { Array($0) }
            port = Int(UInt16(bigEndian: v4.sin_port))
        case AF_INET6:
            let v6 = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }
            bytes = withUnsafeBytes(of: v6.sin6_addr) { Array($0) }
            port = Int(UInt16(bigEndian: v6.sin6_port))
        default:
            return nil
        }
    }

    var hostAndPort: (String, Int)? {
        ModbusAddressRange.text(ofAddressBytes: bytes).map { ($0, port) }
    }

    /// "ip:port".
    var description: String { "\(ModbusAddressRange.text(ofAddressBytes: bytes) ?? "?"):\(port)" }
}
