// The enums of phyverso.proto, numbers exactly as published:
// EVerest/everest-core modules/HardwareDrivers/EVSE/PhyVersoBSP/phyverso_mcu_comms/protobuf/phyverso.proto
// at commit a68b4b24c291a39c1a75f16c9ce338bee7ec795a (Apache-2.0). Swift names are ours.

/// `CpState`: the control pilot state the MCU measured (IEC 61851-1 A…F).
public enum CpState: Int32, Sendable, CaseIterable {
    case a = 0, b = 1, c = 2, d = 3, e = 4, f = 5
}

/// `PpState`: the proximity pilot, i.e. the cable's current rating.
public enum PpState: Int32, Sendable, CaseIterable {
    case notConnected = 0
    case amps13 = 1
    case amps20 = 2
    case amps32 = 3
    case amps70 = 4
    case fault = 5

    /// The cable's ampacity in amperes; nil without a cable or on a PP fault.
    public var ampacity: Int? {
        switch self {
        case .amps13: 13
        case .amps20: 20
        case .amps32: 32
        case .amps70: 70
        case .notConnected, .fault: nil
        }
    }
}

/// `ResetReason`: why the MCU (re)started.
public enum ResetReason: Int32, Sendable, CaseIterable {
    case user = 0
    case watchdog = 1
}

/// `LockState` of a connector's lock motor.
public enum LockState: Int32, Sendable, CaseIterable {
    case undefined = 0, unlocked = 1, locked = 2, locking = 3, unlocking = 4
}

/// `CoilType`: which contactor a coil request or response is about.
public enum CoilType: Int32, Sendable, CaseIterable {
    case unknown = 0, ac = 1, dc1 = 2, dc2 = 3, dc3 = 4
}

/// `ChargePortType` in the boot configuration.
public enum ChargePortType: Int32, Sendable, CaseIterable {
    case disabled = 0, ac = 1, dc = 2
}

/// `GpioPull` of the contactor feedback input.
public enum GpioPull: Int32, Sendable, CaseIterable {
    case none = 0, up = 1, down = 2
}

/// `ConfigHardwareRevision` of the board.
public enum HardwareRevision: Int32, Sendable, CaseIterable {
    case unknown = 0, revA = 1, revB = 2
}

/// `MotorLockType`; `none` is -1 on the wire (a ten-byte varint).
public enum MotorLockType: Int32, Sendable, CaseIterable {
    case unknown = 0, hella = 1, debugValeoHVAC = 2, none = -1
}

extension CpState: CustomStringConvertible {
    public var description: String { ["A", "B", "C", "D", "E", "F"][Int(rawValue)] }
}
