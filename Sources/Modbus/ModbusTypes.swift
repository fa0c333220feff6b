// The Modbus value model: function codes, exception codes, requests, responses and errors.
// Pure values; nothing here does I/O.

/// The function codes this module speaks: the Alfen profile's (holding registers only; the server
/// answers everything else with exception 01), and input registers for the client (energy meters).
public enum ModbusFunctionCode: UInt8, Sendable, CaseIterable {
    case readHoldingRegisters = 0x03
    /// Client only: energy meters keep their measurements in input registers.
    case readInputRegisters = 0x04
    case writeSingleRegister = 0x06
    case writeMultipleRegisters = 0x10
}

/// A Modbus exception code. A struct rather than an enum so a client can report any code a server
/// sends; the well-known codes are static members.
public struct ModbusExceptionCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let illegalFunction = ModbusExceptionCode(rawValue: 0x01)
    public static let illegalDataAddress = ModbusExceptionCode(rawValue: 0x02)
    public static let illegalDataValue = ModbusExceptionCode(rawValue: 0x03)
    public static let serverDeviceFailure = ModbusExceptionCode(rawValue: 0x04)
    public static let acknowledge = ModbusExceptionCode(rawValue: 0x05)
    public static let serverDeviceBusy = ModbusExceptionCode(rawValue: 0x06)
    public static let memoryParityError = ModbusExceptionCode(rawValue: 0x08)
    public static let gatewayPathUnavailable = ModbusExceptionCode(rawValue: 0x0A)
    public static let gatewayTargetDeviceFailedToRespond = ModbusExceptionCode(rawValue: 0x0B)

    /// The name the Modbus application protocol specification gives the code.
    public var name: String {
        switch rawValue {
        case 0x01: "Illegal Function"
        case 0x02: "Illegal Data Address"
        case 0x03: "Illegal Data Value"
        case 0x04: "Server Device Failure"
        case 0x05: "Acknowledge"
        case 0x06: "Server Device Busy"
        case 0x08: "Memory Parity Error"
        case 0x0A: "Gateway Path Unavailable"
        case 0x0B: "Gateway Target Device Failed to Respond"
        default: "Unknown Exception"
        }
    }

    public var description: String {
        let hex = String(rawValue, radix: 16, uppercase: true)
        return "\(hex.count < 2 ? "0" + hex : hex) \(name)"
    }
}

/// A request PDU, decoded.
public enum ModbusRequest: Sendable, Hashable {
    /// FC 0x03: `count` (1...125) registers from `address`.
    case readHoldingRegisters(address: UInt16, count: UInt16)
    /// FC 0x04: `count` (1...125) input registers from `address` (client only).
    case readInputRegisters(address: UInt16, count: UInt16)
    /// FC 0x06: one register.
    case writeSingleRegister(address: UInt16, value: UInt16)
    /// FC 0x10: 1...123 registers from `address`.
    case writeMultipleRegisters(address: UInt16, values: [UInt16])

    public var functionCode: ModbusFunctionCode {
        switch self {
        case .readHoldingRegisters: .readHoldingRegisters
        case .readInputRegisters: .readInputRegisters
        case .writeSingleRegister: .writeSingleRegister
        case .writeMultipleRegisters: .writeMultipleRegisters
        }
    }

    public var isWrite: Bool { functionCode == .writeSingleRegister || functionCode == .writeMultipleRegisters }

    /// Maximum register counts the specification allows in one request.
    public static let maxReadCount: UInt16 = 125
    public static let maxWriteCount: UInt16 = 123
}

/// A response, as a handler produces it and as the client decodes it. The function code of the
/// wire form is the request's (exceptions: the request's | 0x80).
public enum ModbusResponse: Sendable, Hashable {
    case readHoldingRegisters([UInt16])
    case readInputRegisters([UInt16])
    /// Echo of FC 0x06.
    case writeSingleRegister(address: UInt16, value: UInt16)
    /// Echo of FC 0x10: start address and count.
    case writeMultipleRegisters(address: UInt16, count: UInt16)
    case exception(ModbusExceptionCode)

    /// The normal answer to a successful `request` (echo for writes); the registers for a read.
    public static func success(for request: ModbusRequest, registers: [UInt16] = []) -> ModbusResponse {
        switch request {
        case .readHoldingRegisters: .readHoldingRegisters(registers)
        case .readInputRegisters: .readInputRegisters(registers)
        case .writeSingleRegister(let address, let value): .writeSingleRegister(address: address, value: value)
        case .writeMultipleRegisters(let address, let values):
            .writeMultipleRegisters(address: address, count: UInt16(truncatingIfNeeded: values.count))
        }
    }
}

/// Errors of the client (and of response decoding).
public enum ModbusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered with an exception response.
    case exception(ModbusExceptionCode)
    /// No answer within the request timeout (or no connection within the connect timeout).
    case timeout
    /// The connection closed before the answer arrived, or the client is closed.
    case connectionClosed
    /// Connecting failed.
    case connectFailed(String)
    /// The request cannot be encoded (count out of range, …); nothing was sent.
    case invalidRequest(String)
    /// The answer does not fit the request.
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .exception(let code): "Modbus exception \(code)"
        case .timeout: "Modbus request timed out"
        case .connectionClosed: "Modbus connection closed"
        case .connectFailed(let reason): "Modbus connect failed: \(reason)"
        case .invalidRequest(let reason): "invalid Modbus request: \(reason)"
        case .invalidResponse(let reason): "invalid Modbus response: \(reason)"
        }
    }
}
