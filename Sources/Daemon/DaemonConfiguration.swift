import BoardDriver
import JSONSchema
import JosevContract
import Logging
import Mosquitto
import Station

/// Everything `/etc/cs-companiond/cs-companiond.yaml` says, checked and with defaults applied.
public struct DaemonConfiguration: Sendable, Equatable {
    public struct MQTT: Sendable, Equatable {
        public var host: String
        public var port: Int = 1883
        public var clientID: String = "cs-companiond"
        public var keepAlive: Int = 30
        public var username: String?
        public var password: String?
        public var credentialsFile: String?
        public var tls: TLS?
        public var reconnectInitialDelay: Double = 1
        public var reconnectMaxDelay: Double = 30
    }

    public struct TLS: Sendable, Equatable {
        public var caFile: String?
        public var caPath: String?
        public var certFile: String?
        public var keyFile: String?
        public var verifyPeer = true
    }

    /// The board driver behind the station.
    public enum HardwareDriver: String, Sendable, Equatable {
        /// The EV simulator, driven through the control socket (demos, tests, bench).
        case simulated
        /// No hardware: the pilot and the contactor stay idle.
        case none
        /// The safety controller over a UART (`board`, BoardConfiguration.swift).
        case board
    }

    /// The Modbus TCP server for the gridBox (nil: none).
    public struct Modbus: Sendable, Equatable {
        public var bind = "0.0.0.0"
        public var port = 1502
        /// Addresses or CIDR ranges; empty = any.
        public var allow: [String] = []
        public var readOnly = false
        public var maxClients = 4
        public var idleTimeout: Double = 60
        public var setpointValidTime: Double = 60
        public var testBench = false
        public var safeCurrent: Double = 6
        public var allowPhaseSwitching = false
    }

    public var station: StationConfiguration
    public var mqtt: MQTT
    /// The Modbus server. Setting it, whoever does (the `modbus:` block, `--modbus-port` on a file
    /// without one), also sets what the station does with the gridBox's writes
    /// (`station.setpoints`, each EVSE's safe current): a server whose setpoints the station ignored
    /// would acknowledge a write of register 1210 and drop it.
    public var modbus: Modbus? {
        didSet { applyModbusToStation() }
    }
    /// `evses[].safe_current` by EVSE id: the EVSE's own fallback when the gridBox's setpoint
    /// expires (else `modbus.safe_current`). Used only while a Modbus server is configured.
    public var safeCurrents: [String: Double] = [:] {
        didSet { applyModbusToStation() }
    }
    public var hardware: HardwareDriver = .simulated
    /// Real energy meters beside the board (`hardware.buses`, `meters`, `meter_profiles`).
    public var meters = MeterSetup()
    /// `hardware.board` (nil: none configured).
    public var board: BoardSettings?
    /// Every session authorized without a token.
    public var freeVend = false
    /// RFID UIDs the station accepts by itself.
    public var localTokens: [String] = []
    /// What `device_model` reports to Josev's OCPP service.
    public var ocpp: OCPPIdentity = .defaults
    /// The configuration keys (`device_model:`): declared variables and the pacing of changes.
    public var deviceModel = DeviceModelSettings()
    /// A reservation Josev never ends is dropped after this many seconds (0: never).
    public var reservationTimeout: Double = 86400
    public var stateDirectory: String = "/var/lib/cs-companiond"
    public var controlSocket: String = ControlSocketPath.default
    public var logLevel: Logger.Level = .info
    /// Firmware updates (`firmware:`; nil: `update_firmware` is rejected). See BackOfficeHandlers.swift.
    public var firmware: FirmwareConfiguration?
    /// Log uploads (`logs:`; defaults when absent).
    public var logs = LogsConfiguration()
    /// Connection timeout, EV-side disconnect, sockets' locks and `reset:` (SessionControlConfiguration.swift).
    public var sessionControl = SessionControlConfiguration()
    /// Sessions pushed to an eMSP (`ocpi:`; nil or `push: false`: not pushed). OCPIPushConfiguration.swift.
    public var ocpi: OCPIPushConfiguration?
    /// The station uplink for the fleet (`uplink:`; nil: off). UplinkConfiguration.swift.
    public var uplink: UplinkConfiguration?

    /// The station's setpoint policy and safe currents as `modbus` and `safeCurrents` say: a
    /// writable server enables external setpoints; no server (or a read-only one) leaves the
    /// station to its other limits.
    private mutating func applyModbusToStation() {
        guard let modbus else {
            station.setpoints.enabled = false
            for index in station.evses.indices { station.evses[index].safeCurrent = nil }
            return
        }
        station.setpoints.enabled = !modbus.readOnly
        station.setpoints.validTime = .milliseconds(Int64(modbus.setpointValidTime * 1000))
        station.setpoints.testBench = modbus.testBench
        station.setpoints.allowPhaseSwitching = modbus.allowPhaseSwitching
        for index in station.evses.indices {
            station.evses[index].safeCurrent = safeCurrents[station.evses[index].evseID] ?? modbus.safeCurrent
        }
    }

    /// The parts of a reloaded configuration that cannot be applied while running.
    public func restartNeeded(toApply other: DaemonConfiguration) -> [String] {
        var keys: [String] = []
        if mqtt != other.mqtt { keys.append("mqtt") }
        if stateDirectory != other.stateDirectory { keys.append("state_directory") }
        if station.identity.serialNumber != other.station.identity.serialNumber { keys.append("station.serial_number") }
        if controlSocket != other.controlSocket { keys.append("control_socket") }
        if uplink != other.uplink { keys.append("uplink") }
        if hardware != other.hardware || board != other.board { keys.append("hardware") }
        if meters != other.meters { keys.append("hardware (meters)") }
        if modbus != other.modbus || safeCurrents != other.safeCurrents { keys.append("modbus") }
        if freeVend != other.freeVend || localTokens != other.localTokens || reservationTimeout != other.reservationTimeout {
            keys.append("authorization")
        }
        if deviceModel != other.deviceModel { keys.append("device_model") }
        if firmware != other.firmware { keys.append("firmware") }
        if logs != other.logs { keys.append("logs") }
        if sessionControl != other.sessionControl { keys.append("authorization (connection timeout, EV-side disconnect), reset") }
        if ocpi != other.ocpi { keys.append("ocpi") }
        let old = station.evses, new = other.station.evses
        if old.count != new.count || zip(old, new).contains(where: { !$0.sameLayout(as: $1) }) {
            keys.append("evses (ids, interfaces, connectors)")
        }
        return keys
    }
}

/// One problem in a configuration file, with where it is.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    /// JSON pointer of the offending key or value ("" = the whole file).
    public var pointer: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(pointer: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.pointer = pointer
        self.line = line
        self.column = column
        self.message = message
    }

    /// The pointer as a YAML user reads it: `/evses/0/ac/max_current` → `evses[0].ac.max_current`.
    public var keyPath: String { Self.keyPath(pointer) }

    /// `LINE:COL: key.path: message` (line and column when known).
    public var description: String {
        var parts: [String] = []
        if let line { parts.append(column.map { "\(line):\($0)" } ?? "\(line)") }
        if !pointer.isEmpty { parts.append(keyPath) }
        parts.append(message)
        return parts.joined(separator: ": ")
    }

    public static func keyPath(_ pointer: String) -> String {
        guard !pointer.isEmpty else { return "(top level)" }
        var path = ""
        for token in pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let key = JSONPointer.unescape(String(token)) ?? String(token)
            if !key.isEmpty, key.allSatisfy(\.isNumber) {
                path += "[\(key)]"
            } else {
                path += path.isEmpty ? key : ".\(key)"
            }
        }
        return path
    }
}

/// A configuration file that cannot be used, with every problem found.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var problems: [ConfigProblem]

    public init(file: String, problems: [ConfigProblem]) {
        self.file = file
        self.problems = problems
    }

    /// One line per problem: `FILE:LINE:COL: key.path: message`.
    public var lines: [String] { problems.map { $0.line == nil ? "\(file): \($0)" : "\(file):\($0)" } }

    public var description: String { lines.joined(separator: "\n") }
}
