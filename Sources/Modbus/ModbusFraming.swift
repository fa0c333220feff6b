// Modbus TCP framing: the MBAP header (transaction id, protocol id 0, length, unit id) around a
// PDU, and the PDUs of the three function codes. Pure functions over byte arrays,
// defensive against any input: they never trap, they report.

/// One Modbus TCP application data unit (MBAP header + PDU).
public struct ModbusFrame: Sendable, Hashable {
    public var transactionID: UInt16
    public var unitID: UInt8
    /// Function code and data; 1...253 bytes.
    public var pdu: [UInt8]

    public init(transactionID: UInt16, unitID: UInt8, pdu: [UInt8]) {
        self.transactionID = transactionID
        self.unitID = unitID
        self.pdu = pdu
    }
}

/// Byte streams no frame can be cut from: the connection must be closed (no answer is possible
/// because the frame boundaries are lost).
public enum ModbusFramingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The MBAP protocol identifier is not 0 (Modbus).
    case invalidProtocolID(UInt16)
    /// The MBAP length (unit id + PDU) is below 2 or above 254 (the ADU would exceed 260 bytes).
    case invalidLength(UInt16)

    public var description: String {
        switch self {
        case .invalidProtocolID(let id): "MBAP protocol id \(id) (must be 0)"
        case .invalidLength(let length): "MBAP length \(length) (must be 2...254)"
        }
    }
}

public enum ModbusFraming {
    /// MBAP header including the unit id.
    public static let headerLength = 7
    /// The largest ADU Modbus TCP allows.
    public static let maxADULength = 260
    /// The largest PDU (ADU minus header).
    public static let maxPDULength = maxADULength - headerLength

    /// Takes one complete frame from `bytes` at `index` and moves `index` past it. Returns nil
    /// (and leaves `index` as it was) when more bytes are needed. Throws as soon as the bytes seen
    /// prove the stream corrupt, without waiting for the rest of a frame that cannot be valid.
    public static func decodeFrame(from bytes: [UInt8], at index: inout Int) throws(ModbusFramingError) -> ModbusFrame? {
        let start = index
        let available = bytes.count - start
        guard available >= 4 else { return nil }
        let protocolID = word(bytes, start + 2)
        guard protocolID == 0 else { throw .invalidProtocolID(protocolID) }
        guard available >= 6 else { return nil }
        let length = word(bytes, start + 4)
        guard length >= 2, Int(length) <= maxPDULength + 1 else { throw .invalidLength(length) }
        let total = 6 + Int(length)
        guard available >= total else { return nil }
        index = start + total
        return ModbusFrame(
            transactionID: word(bytes, start), unitID: bytes[start + 6], pdu: Array(bytes[start + headerLength..<start + total]))
    }

    /// Convenience for tests and fuzzing: every complete frame at the front of `bytes`, and how
    /// many bytes they used.
    public static func decodeFrames(_ bytes: [UInt8]) throws(ModbusFramingError) -> (frames: [ModbusFrame], consumed: Int) {
        var index = 0
        var frames: [ModbusFrame] = []
        while let frame = try decodeFrame(from: bytes, at: &index) { frames.append(frame) }
        return (frames, index)
    }

    /// Appends the ADU of `frame` to `bytes`. The PDU must be 1...253 bytes (what `ModbusPDU`
    /// produces); a longer one is cut, never sent with a wrong length.
    public static func encode(_ frame: ModbusFrame, into bytes: inout [UInt8]) {
        let pdu = frame.pdu.prefix(maxPDULength)
        appendHeader(transactionID: frame.transactionID, length: UInt16(pdu.count + 1), unitID: frame.unitID, to: &bytes)
        bytes.append(contentsOf: pdu)
    }

    public static func encode(_ frame: ModbusFrame) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerLength + frame.pdu.count)
        encode(frame, into: &bytes)
        return bytes
    }

    /// Appends an MBAP header (protocol id 0) whose length field counts the unit id and the PDU.
    public static func appendHeader(transactionID: UInt16, length: UInt16, unitID: UInt8, to bytes: inout [UInt8]) {
        bytes.append(UInt8(transactionID >> 8))
        bytes.append(UInt8(transactionID & 0xFF))
        bytes.append(0)
        bytes.append(0)
        bytes.append(UInt8(length >> 8))
        bytes.append(UInt8(length & 0xFF))
        bytes.append(unitID)
    }

    /// Big-endian word at `offset`; callers check the length first.
    static func word(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }
}

/// Why a request PDU inside an intact frame is refused: answer `function | 0x80`, `code`.
public struct ModbusPDUFault: Error, Sendable, Hashable {
    public var function: UInt8
    public var code: ModbusExceptionCode

    public init(function: UInt8, code: ModbusExceptionCode) {
        self.function = function
        self.code = code
    }
}

/// Encoding and decoding of PDUs (function code + data).
public enum ModbusPDU {
    // MARK: Requests

    /// Server side. Unknown function → 01; wrong size, count 0, count above the maximum (125 for
    /// FC03, 123 for FC16) or a byte count that does not match → 03.
    public static func decodeRequest(_ pdu: [UInt8]) -> Result<ModbusRequest, ModbusPDUFault> {
        guard let function = pdu.first else {
            return .failure(ModbusPDUFault(function: 0, code: .illegalFunction))
        }
        guard let known = ModbusFunctionCode(rawValue: function) else {
            return .failure(ModbusPDUFault(function: function, code: .illegalFunction))
        }
        let invalid = Result<ModbusRequest, ModbusPDUFault>.failure(
            ModbusPDUFault(function: function, code: .illegalDataValue))
        switch known {
        case .readInputRegisters:
            // The station's map has holding registers only.
            return .failure(ModbusPDUFault(function: function, code: .illegalFunction))
        case .readHoldingRegisters:
            guard pdu.count == 5 else { return invalid }
            let count = word(pdu, 3)
            guard count >= 1, count <= ModbusRequest.maxReadCount else { return invalid }
            return .success(.readHoldingRegisters(address: word(pdu, 1), count: count))
        case .writeSingleRegister:
            guard pdu.count == 5 else { return invalid }
            return .success(.writeSingleRegister(address: word(pdu, 1), value: word(pdu, 3)))
        case .writeMultipleRegisters:
            guard pdu.count >= 6 else { return invalid }
            let count = word(pdu, 3)
            let byteCount = Int(pdu[5])
            guard count >= 1, count <= ModbusRequest.maxWriteCount, byteCount == 2 * Int(count),
                  pdu.count == 6 + byteCount
            else { return invalid }
            let values = (0..<Int(count)).map { word(pdu, 6 + 2 * $0) }
            return .success(.writeMultipleRegisters(address: word(pdu, 1), values: values))
        }
    }

    /// Client side. Throws `invalidRequest` for counts outside the specification's limits.
    public static func encodeRequest(_ request: ModbusRequest) throws(ModbusError) -> [UInt8] {
        var bytes: [UInt8] = [request.functionCode.rawValue]
        switch request {
        case .readHoldingRegisters(let address, let count), .readInputRegisters(let address, let count):
            guard count >= 1, count <= ModbusRequest.maxReadCount else {
                throw .invalidRequest("read count \(count) not in 1...\(ModbusRequest.maxReadCount)")
            }
            append(address, to: &bytes)
            append(count, to: &bytes)
        case .writeSingleRegister(let address, let value):
            append(address, to: &bytes)
            append(value, to: &bytes)
        case .writeMultipleRegisters(let address, let values):
            guard values.count >= 1, values.count <= Int(ModbusRequest.maxWriteCount) else {
                throw .invalidRequest("write count \(values.count) not in 1...\(ModbusRequest.maxWriteCount)")
            }
            append(address, to: &bytes)
            append(UInt16(values.count), to: &bytes)
            bytes.append(UInt8(values.count * 2))
            for value in values { append(value, to: &bytes) }
        }
        return bytes
    }

    // MARK: Responses

    /// Server side: the response PDU to a request with function code `function`. A register list
    /// longer than 125 is cut (a handler bug must not produce an oversized frame).
    public static func encodeResponse(_ response: ModbusResponse, function: UInt8) -> [UInt8] {
        var bytes: [UInt8] = [function]
        switch response {
        case .readHoldingRegisters(let registers), .readInputRegisters(let registers):
            let registers = registers.prefix(Int(ModbusRequest.maxReadCount))
            bytes.append(UInt8(registers.count * 2))
            for register in registers { append(register, to: &bytes) }
        case .writeSingleRegister(let address, let value):
            append(address, to: &bytes)
            append(value, to: &bytes)
        case .writeMultipleRegisters(let address, let count):
            append(address, to: &bytes)
            append(count, to: &bytes)
        case .exception(let code):
            bytes = [function | 0x80, code.rawValue]
        }
        return bytes
    }

    /// Client side: decodes the answer to `request`; an exception response becomes
    /// `.exception(code)`. Throws `invalidResponse` when the answer does not fit the request.
    public static func decodeResponse(_ pdu: [UInt8], for request: ModbusRequest) throws(ModbusError) -> ModbusResponse {
        let function = request.functionCode.rawValue
        guard let first = pdu.first else { throw .invalidResponse("empty PDU") }
        if first == function | 0x80 {
            guard pdu.count == 2 else { throw .invalidResponse("exception PDU of \(pdu.count) bytes") }
            return .exception(ModbusExceptionCode(rawValue: pdu[1]))
        }
        guard first == function else { throw .invalidResponse("function code \(first), expected \(function)") }
        switch request {
        case .readHoldingRegisters(_, let count), .readInputRegisters(_, let count):
            guard pdu.count >= 2, Int(pdu[1]) == 2 * Int(count), pdu.count == 2 + Int(pdu[1]) else {
                throw .invalidResponse("read answer of \(pdu.count) bytes for \(count) registers")
            }
            let registers = (0..<Int(count)).map { word(pdu, 2 + 2 * $0) }
            if case .readInputRegisters = request { return .readInputRegisters(registers) }
            return .readHoldingRegisters(registers)
        case .writeSingleRegister(let address, let value):
            guard pdu.count == 5, word(pdu, 1) == address, word(pdu, 3) == value else {
                throw .invalidResponse("FC06 echo does not match")
            }
            return .writeSingleRegister(address: address, value: value)
        case .writeMultipleRegisters(let address, let values):
            guard pdu.count == 5, word(pdu, 1) == address, Int(word(pdu, 3)) == values.count else {
                throw .invalidResponse("FC16 echo does not match")
            }
            return .writeMultipleRegisters(address: address, count: UInt16(values.count))
        }
    }

    // MARK: Helpers

    /// Big-endian word at `offset`; callers check the length first.
    private static func word(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    private static func append(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }
}
