// The messages of phyverso.proto inside the two containers, field numbers exactly as published:
// EVerest/everest-core modules/HardwareDrivers/EVSE/PhyVersoBSP/phyverso_mcu_comms/protobuf/phyverso.proto
// at commit a68b4b24c291a39c1a75f16c9ce338bee7ec795a (Apache-2.0). The Swift code is ours.

/// `KeepAlive`, sent every second in both directions; the MCU's carries its identity and whether
/// it has received its boot configuration.
public struct KeepAlive: ProtoMessage {
    public var timeStamp: UInt32 = 0          // 1
    public var hwType: UInt32 = 0             // 2
    public var hwRevision: UInt32 = 0         // 3
    public var swVersion: String = ""         // 6 (nanopb: at most 50 bytes)
    public var configurationDone = false      // 7

    public init() {}
    public init(timeStamp: UInt32 = 0, hwType: UInt32 = 0, hwRevision: UInt32 = 0, swVersion: String = "", configurationDone: Bool = false) {
        self.timeStamp = timeStamp
        self.hwType = hwType
        self.hwRevision = hwRevision
        self.swVersion = swVersion
        self.configurationDone = configurationDone
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.uint32(1, timeStamp)
        writer.uint32(2, hwType)
        writer.uint32(3, hwRevision)
        writer.string(6, swVersion)
        writer.bool(7, configurationDone)
    }

    public mutating func decodeField(_ number: UInt32, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch number {
        case 1: timeStamp = try reader.uint32(number, type)
        case 2: hwType = try reader.uint32(number, type)
        case 3: hwRevision = try reader.uint32(number, type)
        case 6: swVersion = try reader.string(number, type)
        case 7: configurationDone = try reader.bool(number, type)
        default: return false
        }
        return true
    }
}

/// `ErrorFlags` of one connector, as the MCU latches them.
public struct ErrorFlags: ProtoMessage {
    public var diodeFault = false               // 1
    public var rcdSelftestFailed = false        // 2
    public var rcdTriggered = false             // 3
    public var ventilationNotAvailable = false  // 4
    public var connectorLockFailed = false      // 5
    public var cpSignalFault = false            // 6
    public var heartbeatTimeout = false         // 7
    public var coilFeedbackDiverges = false     // 8
    public var ppSignalFault = false            // 9

    public init() {}

    /// True when any flag is set.
    public var any: Bool { self != ErrorFlags() }

    private var ordered: [Bool] {
        [diodeFault, rcdSelftestFailed, rcdTriggered, ventilationNotAvailable, connectorLockFailed,
         cpSignalFault, heartbeatTimeout, coilFeedbackDiverges, ppSignalFault]
    }

    public func encode(to writer: inout ProtoWriter) {
        for (offset, flag) in ordered.enumerated() { writer.bool(UInt32(offset + 1), flag) }
    }

    public mutating func decodeField(_ number: UInt32, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        guard (1...9).contains(number) else { return false }
        let flag = try reader.bool(number, type)
        switch number {
        case 1: diodeFault = flag
        case 2: rcdSelftestFailed = flag
        case 3: rcdTriggered = flag
        case 4: ventilationNotAvailable = flag
        case 5: connectorLockFailed = flag
        case 6: cpSignalFault = flag
        case 7: heartbeatTimeout = flag
        case 8: coilFeedbackDiverges = flag
        default: ppSignalFault = flag
        }
        return true
    }
}

/// `Telemetry`: the CP voltages of the PWM's high and low half-waves.
public struct Telemetry: ProtoMessage {
    public var cpVoltageHigh: UInt32 = 0  // 1
    public var cpVoltageLow: UInt32 = 0   // 2

    public init() {}
    public init(cpVoltageHigh: UInt32, cpVoltageLow: UInt32) {
        self.cpVoltageHigh = cpVoltageHigh
        self.cpVoltageLow = cpVoltageLow
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.uint32(1, cpVoltageHigh)
        writer.uint32(2, cpVoltageLow)
    }

    public mutating func decodeField(_ number: UInt32, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch number {
        case 1: cpVoltageHigh = try reader.uint32(number, type)
        case 2: cpVoltageLow = try reader.uint32(number, type)
        default: return false
        }
        return true
    }
}

/// `FanState`, commanded by the host and reported by the MCU.
public struct FanState: ProtoMessage {
    public var fanID: UInt32 = 0   // 1
    public var enabled = false     // 2
    public var duty: UInt32 = 0    // 3, in 0.1 % (1000 = 100 %)
    public var rpm: UInt32 = 0     // 4

    public init() {}
    public init(fanID: UInt32, enabled: Bool, duty: UInt32, rpm: UInt32 = 0) {
        self.fanID = fanID
        self.enabled = enabled
        self.duty = duty
        self.rpm = rpm
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.uint32(1, fanID)
        writer.bool(2, enabled)
        writer.uint32(3, duty)
        writer.uint32(4, rpm)
    }

    public mutating func decodeField(_ number: UInt32, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch number {
        case 1: fanID = try reader.uint32(number, type)
        case 2: enabled = try reader.bool(number, type)
        case 3: duty = try reader.uint32(number, type)
        case 4: rpm = try reader.uint32(number, type)
        default: return false
        }
        return true
    }
}

/// `CoilState`: the host's contactor request and the MCU's confirmation use the same message.
public struct CoilState: ProtoMessage {
    public var coilType: CoilType = .unknown  // 1
    public var closed = false                 // 2 (`coil_state`, true = on)

    public init() {}
    public init(coilType: CoilType, closed: Bool) {
        self.coilType = coilType
        self.closed = closed
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.int32(1, coilType.rawValue)
        writer.bool(2, closed)
    }

    public mutating func decodeField(_ number: UInt32, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch number {
        case 1: coilType = try reader.enumeration(number, type)
        case 2: closed = try reader.bool(number, type)
        default: return false
        }
        return true
    }
}

/// `RcdCommand`: drive the RCD's test pin, or reset a tripped RCD.
public struct RcdCommand: ProtoMessage {
    public var test = false   // 1
    public var reset = false  // 2

    public init() {}
    public init(test: Bool, reset: Bool) {
        self.test = test
        self.reset = reset
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.bool(1, test)
        writer.bool(2, reset)
    }

    public mutating func decodeField(_ number: UInt32, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch number {
        case 1: test = try reader.bool(number, type)
        case 2: reset = try reader.bool(number, type)
        default: return false
        }
        return true
    }
}

/// `BootConfigRequest`: empty in the published proto ("TODO"); the MCU sends it after a reset.
public struct BootConfigRequest: ProtoMessage {
    public init() {}
    public func encode(to writer: inout ProtoWriter) {}
    public mutating func decodeField(_ number: UInt32, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        false
    }
}

/// `ConfigMotorLockType`: a submessage that only wraps the lock type.
public struct MotorLockConfig: ProtoMessage {
    public var type: MotorLockType = .unknown  // 1

    public init() {}
    public init(_ type: MotorLockType) { self.type = type }

    public func encode(to writer: inout ProtoWriter) {
        writer.int32(1, type.rawValue)
    }

    public mutating func decodeField(_ number: UInt32, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        guard number == 1 else { return false }
        self.type = try reader.enumeration(number, type)
        return true
    }
}

/// `ChargePortConfig`: one connector's part of the boot configuration.
public struct ChargePortConfig: ProtoMessage {
    public var type: ChargePortType = .disabled    // 1
    public var feedbackActiveLow = false           // 2
    public var feedbackPull: GpioPull = .none      // 3
    public var lock: MotorLockConfig?              // 4 (nanopb `has_lock`)
    public var hasSocket = false                   // 5

    public init() {}
    public init(type: ChargePortType, feedbackActiveLow: Bool, feedbackPull: GpioPull, lock: MotorLockType?, hasSocket: Bool) {
        self.type = type
        self.feedbackActiveLow = feedbackActiveLow
        self.feedbackPull = feedbackPull
        self.lock = lock.map(MotorLockConfig.init)
        self.hasSocket = hasSocket
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.int32(1, type.rawValue)
        writer.bool(2, feedbackActiveLow)
        writer.int32(3, feedbackPull.rawValue)
        if let lock { writer.message(4, lock) }
        writer.bool(5, hasSocket)
    }

    public mutating func decodeField(_ number: UInt32, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch number {
        case 1: self.type = try reader.enumeration(number, type)
        case 2: feedbackActiveLow = try reader.bool(number, type)
        case 3: feedbackPull = try reader.enumeration(number, type)
        case 4: lock = try reader.message(number, type) as MotorLockConfig
        case 5: hasSocket = try reader.bool(number, type)
        default: return false
        }
        return true
    }
}

/// `BootConfigResponse`: the host's answer to `BootConfigRequest` (EVerest always sends two ports).
public struct BootConfigResponse: ProtoMessage {
    public var hwRevision: HardwareRevision = .unknown  // 1
    public var chargePorts: [ChargePortConfig] = []     // 6, repeated

    public init() {}
    public init(hwRevision: HardwareRevision, chargePorts: [ChargePortConfig]) {
        self.hwRevision = hwRevision
        self.chargePorts = chargePorts
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.int32(1, hwRevision.rawValue)
        for port in chargePorts { writer.message(6, port) }
    }

    public mutating func decodeField(_ number: UInt32, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch number {
        case 1: hwRevision = try reader.enumeration(number, type)
        case 6: chargePorts.append(try reader.message(number, type))
        default: return false
        }
        return true
    }
}
