/// What gridbox-sim needs from a Modbus TCP connection to one station: holding registers by unit id.
///
/// `ModbusTCPLink` (below, our own small client) implements it today; the project's `Modbus` module
/// client can replace it behind this protocol later.
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

/// Big-endian register decoding and encoding of the Alfen map (PROFILE §2): high word first,
/// strings two ASCII characters per register with the first in the high byte, NUL-terminated.
enum RegisterCodec {
    static func uint32(_ registers: ArraySlice<UInt16>) -> UInt32 {
        let r = Array(registers)
        guard r.count >= 2 else { return 0 }
        return UInt32(r[0]) << 16 | UInt32(r[1])
    }

    static func float32(_ registers: ArraySlice<UInt16>) -> Float {
        let r = Array(registers)
        guard r.count >= 2 else { return .nan }
        return Float(bitPattern: UInt32(r[0]) << 16 | UInt32(r[1]))
    }

    static func float64(_ registers: ArraySlice<UInt16>) -> Double {
        let r = Array(registers)
        guard r.count >= 4 else { return .nan }
        let bits = r.prefix(4).reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return Double(bitPattern: bits)
    }

    static func string(_ registers: ArraySlice<UInt16>) -> String {
        var bytes: [UInt8] = []
        for register in registers {
            bytes.append(UInt8(register >> 8))
            bytes.append(UInt8(register & 0xFF))
        }
        if let end = bytes.firstIndex(of: 0) { bytes.removeSubrange(end...) }
        // Unavailable registers read 0xFFFF: not text.
        bytes.removeAll { $0 == 0xFF }
        return String(decoding: bytes, as: UTF8.self).trimmingSpaces
    }

    static func registers(float32 value: Float) -> [UInt16] {
        let bits = value.bitPattern
        return [UInt16(bits >> 16), UInt16(bits & 0xFFFF)]
    }
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
