// What the Alfen register map needs from the station, and where its writes go. The lead binds this
// to the station domain; the domain owns setpoint validity timing, fallback and clamping (PROFILE §4).

/// Result of a write the station domain was asked to apply.
public enum ModbusWriteResult: Sendable, Hashable {
    case accepted
    /// Refused; answered with this exception (01 when the function is disabled by configuration,
    /// e.g. phase switching not allowed or no safe current configured; 04 on internal failure).
    case rejected(ModbusExceptionCode)
}

/// Station-level values (unit 200).
public struct ModbusStationInfo: Sendable, Hashable {
    public var name: String
    public var manufacturer: String
    public var firmwareVersion: String
    public var platformType: String
    /// The serial number the gridBox knows the station by (unit 200 @157, ≤ 21 characters).
    public var serialNumber: String
    public var uptimeMilliseconds: UInt64
    /// The station's actual max current (1100), A.
    public var maxCurrent: Float
    /// Board temperature (1102), °C; nil when unknown (reads as NaN).
    public var temperature: Float?
    /// Back office (OCPP) connected (1104).
    public var ocppConnected: Bool
    /// Sockets; unit ids 1...socketCount are sockets (1105).
    public var socketCount: Int

    public init(
        name: String, manufacturer: String, firmwareVersion: String, platformType: String, serialNumber: String,
        uptimeMilliseconds: UInt64, maxCurrent: Float, temperature: Float?, ocppConnected: Bool, socketCount: Int
    ) {
        self.name = name
        self.manufacturer = manufacturer
        self.firmwareVersion = firmwareVersion
        self.platformType = platformType
        self.serialNumber = serialNumber
        self.uptimeMilliseconds = uptimeMilliseconds
        self.maxCurrent = maxCurrent
        self.temperature = temperature
        self.ocppConnected = ocppConnected
        self.socketCount = socketCount
    }
}

/// One value per phase.
public struct ModbusPhases<Value: Sendable & Hashable>: Sendable, Hashable {
    public var l1: Value
    public var l2: Value
    public var l3: Value

    public init(_ l1: Value, _ l2: Value, _ l3: Value) {
        self.l1 = l1
        self.l2 = l2
        self.l3 = l3
    }
}

extension ModbusPhases where Value == Float {
    public static let unavailable = ModbusPhases(.nan, .nan, .nan)
}

extension ModbusPhases where Value == Double {
    public static let unavailable = ModbusPhases(.nan, .nan, .nan)
}

/// Meter state bits (300).
public struct ModbusMeterState: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let initialised = ModbusMeterState(rawValue: 0x01)
    public static let updated = ModbusMeterState(rawValue: 0x02)
    public static let warning = ModbusMeterState(rawValue: 0x04)
    public static let error = ModbusMeterState(rawValue: 0x08)
}

/// Meter type (305).
public enum ModbusMeterType: UInt16, Sendable, Hashable {
    case rtu = 0, tcpIP = 1, udp = 2, p1 = 3, other = 4
}

/// A socket's meter block (300..425). NaN means unknown and reads as 0xFFFF registers.
public struct ModbusMeterReading: Sendable, Hashable {
    public var state: ModbusMeterState = []
    /// Age of the last reading, ms (301).
    public var ageMilliseconds: UInt64 = 0
    public var type: ModbusMeterType = .other
    /// V, line to neutral (306..311) and line to line (312..317).
    public var voltageLN: ModbusPhases<Float> = .unavailable
    public var voltageLL: ModbusPhases<Float> = .unavailable
    /// A (318; 320..325; 326).
    public var currentN: Float = .nan
    public var current: ModbusPhases<Float> = .unavailable
    public var currentSum: Float = .nan
    /// (328..335)
    public var powerFactor: ModbusPhases<Float> = .unavailable
    public var powerFactorSum: Float = .nan
    /// Hz (336).
    public var frequency: Float = .nan
    /// W (338..345), VA (346..353), var (354..361).
    public var realPower: ModbusPhases<Float> = .unavailable
    public var realPowerSum: Float = .nan
    public var apparentPower: ModbusPhases<Float> = .unavailable
    public var apparentPowerSum: Float = .nan
    public var reactivePower: ModbusPhases<Float> = .unavailable
    public var reactivePowerSum: Float = .nan
    /// Wh (362..377 delivered, 378..393 consumed), VAh (394..409), varh (410..425).
    public var realEnergyDelivered: ModbusPhases<Double> = .unavailable
    public var realEnergyDeliveredSum: Double = .nan
    public var realEnergyConsumed: ModbusPhases<Double> = .unavailable
    public var realEnergyConsumedSum: Double = .nan
    public var apparentEnergy: ModbusPhases<Double> = .unavailable
    public var apparentEnergySum: Double = .nan
    public var reactiveEnergy: ModbusPhases<Double> = .unavailable
    public var reactiveEnergySum: Double = .nan

    public init() {}
}

/// A socket (unit 1...n).
public struct ModbusSocketInfo: Sendable, Hashable {
    public var meter: ModbusMeterReading
    /// Operative (1200).
    public var available: Bool
    /// IEC 61851 mode-3 state (1201): "A", "B1", "B2", "C1", "C2", "D1", "D2", "E", "F".
    public var mode3State: String
    /// The max current the socket really offers after all limits (1206), A.
    public var appliedMaxCurrent: Float
    /// Seconds until the Modbus setpoint falls back to the safe current; 0 = expired (1208).
    public var setpointRemainingSeconds: UInt32
    /// The Modbus setpoint (1210); nil when none (reads as NaN).
    public var setpoint: Float?
    /// Fallback current (1212), A.
    public var safeCurrent: Float
    /// The setpoint is what currently determines 1206 (1214).
    public var setpointActive: Bool
    /// Phases in use / requested, 1 or 3 (1215).
    public var phases: UInt16
    /// Vendor block (not Alfen's): vehicles plugged in since the station started (3000, UINT32).
    public var plugIns: UInt32 = 0
    /// Vendor block: the socket's ISO 15118 EVSE id (3002, STRING, 20 registers).
    public var evseID: String = ""

    public init(
        meter: ModbusMeterReading = ModbusMeterReading(), available: Bool = true, mode3State: String = "A",
        appliedMaxCurrent: Float = 0, setpointRemainingSeconds: UInt32 = 0, setpoint: Float? = nil,
        safeCurrent: Float = 6, setpointActive: Bool = false, phases: UInt16 = 3
    ) {
        self.meter = meter
        self.available = available
        self.mode3State = mode3State
        self.appliedMaxCurrent = appliedMaxCurrent
        self.setpointRemainingSeconds = setpointRemainingSeconds
        self.setpoint = setpoint
        self.safeCurrent = safeCurrent
        self.setpointActive = setpointActive
        self.phases = phases
    }
}

/// What the Alfen register map reads its live data from and sends its writes to (the daemon
/// binds it to the station: `StationModbusAdapter`).
public protocol RegisterMapBackend: Sendable {
    func station() async -> ModbusStationInfo
    /// Socket `index` (1-based, = unit id); nil if there is no such socket.
    func socket(_ index: Int) async -> ModbusSocketInfo?
    /// A validated setpoint write to 1210 (finite, 0...80 A). The domain clamps to hardware limits,
    /// restarts the validity timer and reports the applied value in 1206.
    func setSetpoint(socket: Int, amps: Float) async -> ModbusWriteResult
    /// A validated write to 1215 (1 or 3). Return `.rejected(.illegalFunction)` when phase
    /// switching is not allowed.
    func setPhases(socket: Int, phases: UInt16) async -> ModbusWriteResult
    /// A counter that grows whenever what the map shows may have changed (time included); nil
    /// when the backend keeps none (then every refresh rebuilds the image).
    func revision() async -> UInt64?
}

extension RegisterMapBackend {
    public func revision() async -> UInt64? { nil }
}
