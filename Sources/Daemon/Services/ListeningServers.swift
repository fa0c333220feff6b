import Logging
import Modbus

/// The Modbus TCP server, listening before the group starts (before READY=1), stopped at shutdown.
struct ModbusService: Service, CustomStringConvertible {
    let server: ModbusServer
    var description: String { "Modbus server" }

    func run() async {
        try? await gracefulShutdown()
        await server.stop()
    }
}

/// The local control socket, listening before the group starts, stopped at shutdown.
struct ControlService: Service, CustomStringConvertible {
    let server: ControlServer
    var description: String { "control socket" }

    func run() async {
        try? await gracefulShutdown()
        server.stop()
    }
}

/// Work that runs once in the background (resuming a firmware update) and then ends without
/// ending the daemon.
struct OneShotService: Service, CustomStringConvertible {
    let description: String
    let operation: @Sendable () async -> Void

    func run() async {
        await cancelWhenGracefulShutdown { await operation() }
    }
}
