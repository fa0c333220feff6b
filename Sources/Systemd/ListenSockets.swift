// Socket activation (sd_listen_fds(3)): the listening sockets systemd passes to the service.
//
// A socket unit (systemd/cs-companiond-modbus.socket, `ListenStream=502`, `FileDescriptorName=modbus`)
// lets an unprivileged service serve a port below 1024: PID 1 binds it and hands the descriptor
// over as fd 3… with `$LISTEN_PID`, `$LISTEN_FDS` and `$LISTEN_FDNAMES`.
import CSystemd
import Glibc

/// One descriptor passed by the service manager.
public struct ListenSocket: Sendable, Hashable {
    /// The file descriptor (3, 4, …), close-on-exec.
    public let descriptor: Int32
    /// Its `FileDescriptorName=` (the socket unit's name without `.socket` when not set).
    public let name: String

    public init(descriptor: Int32, name: String) {
        self.descriptor = descriptor
        self.name = name
    }

    /// Whether it is a listening TCP socket (IPv4 or IPv6), the only kind a stream server can adopt.
    public var isListeningTCP: Bool {
        sd_is_socket_inet(descriptor, 0, Int32(SOCK_STREAM.rawValue), 1, 0) > 0
    }
}

/// The descriptors passed to this process, taken once at start-up.
public enum ListenSockets {
    /// Reads `$LISTEN_FDS`/`$LISTEN_FDNAMES` (only when `$LISTEN_PID` is this process) and removes
    /// the variables, so that no child process (an install command, a log upload) believes they are
    /// meant for it. Empty when the service was started without socket units.
    public static func take() -> [ListenSocket] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        guard count > 0 else { return [] }
        defer {
            if let names {
                var index = 0
                while let name = names[index] {
                    free(name)
                    index += 1
                }
                free(names)
            }
        }
        var sockets: [ListenSocket] = []
        for index in 0..<Int(count) {
            let name = names.flatMap { $0[index] }.map { String(cString: $0) } ?? "unknown"
            sockets.append(ListenSocket(descriptor: SD_LISTEN_FDS_START + Int32(index), name: name))
        }
        return sockets
    }
}
