import Glibc
import Logging
import Systemd

/// The Modbus listening socket systemd passed (cs-companiond-modbus.socket, `FileDescriptorName=modbus`),
/// if any: with it the daemon serves port 502 without privileges and does not bind `modbus.bind`/
/// `modbus.port` itself. Descriptors it cannot use are closed, each with one log line.
enum PassedModbusSocket {
    static let name = "modbus"

    /// Picks the socket named `modbus` (or the only one passed, whatever its name) when it is a
    /// listening TCP socket and a `modbus:` block asks for a server; closes the rest.
    static func choose(from sockets: [ListenSocket], serverConfigured: Bool, logger: Logger) -> Int32? {
        guard !sockets.isEmpty else { return nil }
        let candidate = sockets.first { $0.name == name } ?? (sockets.count == 1 ? sockets.first : nil)
        var chosen: Int32?
        for socket in sockets {
            if socket == candidate, serverConfigured, socket.isListeningTCP {
                chosen = socket.descriptor
                continue
            }
            let reason =
                socket != candidate ? "not the Modbus socket (FileDescriptorName=\(name))"
                : !serverConfigured ? "no modbus: block in the configuration" : "not a listening TCP socket"
            logger.warning("closing the socket systemd passed as fd \(socket.descriptor) (\(socket.name)): \(reason)")
            close(socket.descriptor)
        }
        return chosen
    }
}
