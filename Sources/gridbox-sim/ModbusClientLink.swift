import Modbus
import ModbusNIOClient

/// The simulator's transport: the project's own Modbus TCP client (the `Modbus` module, the same
/// framing the station's server uses), reconnected by the simulator when a station comes back.
actor ModbusClientLink: RegisterLink {
    let host: String
    let port: Int
    private var client: ModbusClient?

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    var isConnected: Bool { client?.isConnected ?? false }

    func connect() async throws {
        if let client, client.isConnected { return }
        do {
            client = try await ModbusClient.connect(host: host, port: port, timeout: .seconds(3), requestTimeout: .seconds(3))
        } catch {
            throw Self.translate(error)
        }
    }

    func close() async {
        await client?.close()
        client = nil
    }

    func read(unit: UInt8, address: UInt16, count: UInt16) async throws -> [UInt16] {
        guard let client else { throw ModbusError.notConnected }
        do {
            return try await client.readHoldingRegisters(unit: unit, address: address, count: count)
        } catch {
            throw await fail(error, function: 3)
        }
    }

    func write(unit: UInt8, address: UInt16, values: [UInt16]) async throws {
        guard let client else { throw ModbusError.notConnected }
        do {
            try await client.writeMultipleRegisters(unit: unit, address: address, values: values)
        } catch {
            throw await fail(error, function: 16)
        }
    }

    /// An exception keeps the connection; anything else closes it so the next cycle reconnects.
    private func fail(_ error: Modbus.ModbusError, function: UInt8) async -> ModbusError {
        if case .exception(let code) = error { return .exception(function: function, code: code.rawValue) }
        await close()
        return Self.translate(error, function: function)
    }

    private static func translate(_ error: Modbus.ModbusError, function: UInt8 = 0) -> ModbusError {
        switch error {
        case .exception(let code): .exception(function: function, code: code.rawValue)
        case .timeout: .timeout
        case .connectionClosed: .notConnected
        case .connectFailed(let reason): .resolve(reason)
        case .invalidRequest(let reason), .invalidResponse(let reason): .malformed(reason)
        }
    }
}
