// The two container messages of phyverso.proto, field numbers exactly as published:
// EVerest/everest-core modules/HardwareDrivers/EVSE/PhyVersoBSP/phyverso_mcu_comms/protobuf/phyverso.proto
// at commit a68b4b24c291a39c1a75f16c9ce338bee7ec795a (Apache-2.0). The Swift code is ours.
// Every frame on the link carries exactly one of them: host → MCU `EverestToMcu`, MCU → host
// `McuToEverest`; `connector` is 0 for the board as a whole, 1 or 2 for a charge port.

/// `EverestToMcu`: what the host sends.
public struct EverestToMcu: ProtoMessage {
    /// The `payload` oneof.
    public enum Payload: Sendable, Equatable {
        case keepAlive(KeepAlive)                 // 1
        case firmwareUpdate(Bool)                 // 2
        case connectorLock(Bool)                  // 3: true locks, false unlocks
        case pwmDutyCycle(UInt32)                 // 4: in 0.01 %; 0 = state F, 10000 = X1
        case setCoilStateRequest(CoilState)       // 5
        case reset(Bool)                          // 6
        case configResponse(BootConfigResponse)   // 8
        case setFanState(FanState)                // 9
        case rcdCommand(RcdCommand)               // 10

        var fieldNumber: UInt32 {
            switch self {
            case .keepAlive: 1
            case .firmwareUpdate: 2
            case .connectorLock: 3
            case .pwmDutyCycle: 4
            case .setCoilStateRequest: 5
            case .reset: 6
            case .configResponse: 8
            case .setFanState: 9
            case .rcdCommand: 10
            }
        }
    }

    public var payload: Payload?
    public var connector: Int32 = 0               // 7

    public init() {}
    public init(_ payload: Payload, connector: Int32 = 0) {
        self.payload = payload
        self.connector = connector
    }

    /// Fields in number order, as protobuf serializers write them: the payload's number decides
    /// whether it comes before or after `connector` (7).
    public func encode(to writer: inout ProtoWriter) {
        let payloadFirst = payload.map { $0.fieldNumber < 7 } ?? true
        if payloadFirst { encodePayload(to: &writer) }
        writer.int32(7, connector)
        if !payloadFirst { encodePayload(to: &writer) }
    }

    private func encodePayload(to writer: inout ProtoWriter) {
        switch payload {
        case .keepAlive(let value): writer.message(1, value)
        case .firmwareUpdate(let value): writer.bool(2, value, always: true)
        case .connectorLock(let value): writer.bool(3, value, always: true)
        case .pwmDutyCycle(let value): writer.uint32(4, value, always: true)
        case .setCoilStateRequest(let value): writer.message(5, value)
        case .reset(let value): writer.bool(6, value, always: true)
        case .configResponse(let value): writer.message(8, value)
        case .setFanState(let value): writer.message(9, value)
        case .rcdCommand(let value): writer.message(10, value)
        case nil: break
        }
    }

    public mutating func decodeField(_ number: UInt32, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch number {
        case 1: payload = .keepAlive(try reader.message(number, type))
        case 2: payload = .firmwareUpdate(try reader.bool(number, type))
        case 3: payload = .connectorLock(try reader.bool(number, type))
        case 4: payload = .pwmDutyCycle(try reader.uint32(number, type))
        case 5: payload = .setCoilStateRequest(try reader.message(number, type))
        case 6: payload = .reset(try reader.bool(number, type))
        case 7: connector = try reader.int32(number, type)
        case 8: payload = .configResponse(try reader.message(number, type))
        case 9: payload = .setFanState(try reader.message(number, type))
        case 10: payload = .rcdCommand(try reader.message(number, type))
        default: return false
        }
        return true
    }
}

/// `McuToEverest`: what the MCU reports.
public struct McuToEverest: ProtoMessage {
    /// The `payload` oneof.
    public enum Payload: Sendable, Equatable {
        case keepAlive(KeepAlive)                 // 1
        case reset(ResetReason)                   // 2
        case cpState(CpState)                     // 3
        case setCoilStateResponse(CoilState)      // 4: the contactor as the MCU switched it
        case errorFlags(ErrorFlags)               // 5
        case telemetry(Telemetry)                 // 7
        case ppState(PpState)                     // 8
        case fanState(FanState)                   // 9
        case lockState(LockState)                 // 10
        case configRequest(BootConfigRequest)     // 11

        var fieldNumber: UInt32 {
            switch self {
            case .keepAlive: 1
            case .reset: 2
            case .cpState: 3
            case .setCoilStateResponse: 4
            case .errorFlags: 5
            case .telemetry: 7
            case .ppState: 8
            case .fanState: 9
            case .lockState: 10
            case .configRequest: 11
            }
        }
    }

    public var payload: Payload?
    public var connector: Int32 = 0               // 6

    public init() {}
    public init(_ payload: Payload, connector: Int32 = 0) {
        self.payload = payload
        self.connector = connector
    }

    /// Fields in number order: the payload's number decides whether it comes before or after
    /// `connector` (6).
    public func encode(to writer: inout ProtoWriter) {
        let payloadFirst = payload.map { $0.fieldNumber < 6 } ?? true
        if payloadFirst { encodePayload(to: &writer) }
        writer.int32(6, connector)
        if !payloadFirst { encodePayload(to: &writer) }
    }

    private func encodePayload(to writer: inout ProtoWriter) {
        switch payload {
        case .keepAlive(let value): writer.message(1, value)
        case .reset(let value): writer.int32(2, value.rawValue, always: true)
        case .cpState(let value): writer.int32(3, value.rawValue, always: true)
        case .setCoilStateResponse(let value): writer.message(4, value)
        case .errorFlags(let value): writer.message(5, value)
        case .telemetry(let value): writer.message(7, value)
        case .ppState(let value): writer.int32(8, value.rawValue, always: true)
        case .fanState(let value): writer.message(9, value)
        case .lockState(let value): writer.int32(10, value.rawValue, always: true)
        case .configRequest(let value): writer.message(11, value)
        case nil: break
        }
    }

    public mutating func decodeField(_ number: UInt32, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch number {
        case 1: payload = .keepAlive(try reader.message(number, type))
        case 2: payload = .reset(try reader.enumeration(number, type))
        case 3: payload = .cpState(try reader.enumeration(number, type))
        case 4: payload = .setCoilStateResponse(try reader.message(number, type))
        case 5: payload = .errorFlags(try reader.message(number, type))
        case 6: connector = try reader.int32(number, type)
        case 7: payload = .telemetry(try reader.message(number, type))
        case 8: payload = .ppState(try reader.enumeration(number, type))
        case 9: payload = .fanState(try reader.message(number, type))
        case 10: payload = .lockState(try reader.enumeration(number, type))
        case 11: payload = .configRequest(try reader.message(number, type))
        default: return false
        }
        return true
    }
}
