import Modbus

/// What gridbox-sim needs from a Modbus TCP connection to one station: holding registers by unit id.
///
/// `ModbusClientLink` implements it with the `Modbus` module's client.
protocol RegisterLink: Sendable {
    /// Opens the connection (no-op when open).
    func connect() async throws
    /// Closes the connection; the next `connect()` opens a new one.
    func close() async
    var isConnected: Bool { get async }
    /// FC03 read holding registers.
    func read(unit: UInt8, address: UInt16, count: UInt16) async throws -> [UInt16]
    /// FC16 write multiple registers (one request, so a FLOAT32 is written whole).
    func write(unit: UInt8, address: UInt16, values: [UInt16]) async throws
}

enum ModbusError: Error, CustomStringConvertible, Equatable {
    /// The station answered with an exception response (code 1 illegal function, 2 illegal data
    /// address, 3 illegal data value, 4 server failure, 0x0B gateway target failed).
    case exception(function: UInt8, code: UInt8)
    case timeout
    case notConnected
    case malformed(String)
    case resolve(String)

    var description: String {
        switch self {
        case .exception(let function, let code):
            let names: [UInt8: String] = [
                1: "illegal function", 2: "illegal data address", 3: "illegal data value",
                4: "server device failure", 6: "server busy", 0x0B: "gateway target failed to respond",
            ]
            return "Modbus exception \(code) (\(names[code] ?? "unknown")) to function \(function)"
        case .timeout: return "timed out"
        case .notConnected: return "not connected"
        case .malformed(let what): return "malformed response: \(what)"
        case .resolve(let what): return "cannot resolve \(what)"
        }
    }
}

/// The Alfen map's register coding (PROFILE §2), from the `Modbus` module, with the simulator's
/// fallbacks for short reads (0 or NaN) and unavailable text (0xFFFF registers are not text).
enum RegisterCodec {
    static func uint32(_ registers: ArraySlice<UInt16>) -> UInt32 { ModbusRegisters.uint32(registers) ?? 0 }

    static func float32(_ registers: ArraySlice<UInt16>) -> Float { ModbusRegisters.float32(registers) ?? .nan }

    static func float64(_ registers: ArraySlice<UInt16>) -> Double { ModbusRegisters.float64(registers) ?? .nan }

    static func string(_ registers: ArraySlice<UInt16>) -> String {
        let available = registers.filter { $0 != 0xFFFF }
        return ModbusRegisters.string(available).trimmingSpaces
    }

    static func registers(float32 value: Float) -> [UInt16] { ModbusRegisters.registers(float32: value) }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

/// Runs `operation`, throwing `ModbusError.timeout` after `seconds` (the operation is cancelled).
func withTimeout<T: Sendable>(
    _ seconds: Double, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            throw ModbusError.timeout
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else { throw ModbusError.timeout }
        return result
    }
}
