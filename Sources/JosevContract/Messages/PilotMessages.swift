// Typed payloads (`data`) of the control-pilot, SLAC and connector messages (contract §2.2).
// Field names map one to one to the wire names; optional fields are omitted when nil.

// MARK: cp_status

/// `cp_status` update data (CS→J): the IEC 61851 control-pilot state.
public struct CPStatusUpdate: Codable, Sendable, Equatable {
    public var evseID: String
    public var connectorID: Int
    public var state: CPState
    /// V.
    public var maxVoltage: Double?
    /// V.
    public var minVoltage: Double?
    /// 0…100 %.
    public var dutyCycle: Double?

    public init(
        evseID: String, connectorID: Int, state: CPState, maxVoltage: Double? = nil, minVoltage: Double? = nil,
        dutyCycle: Double? = nil
    ) {
        self.evseID = evseID
        self.connectorID = connectorID
        self.state = state
        self.maxVoltage = maxVoltage
        self.minVoltage = minVoltage
        self.dutyCycle = dutyCycle
    }

    enum CodingKeys: String, CodingKey {
        case evseID = "evse_id", connectorID = "connector_id", state, maxVoltage = "max_voltage", minVoltage = "min_voltage"
        case dutyCycle = "duty_cycle"
    }
}

extension CPStatusUpdate: ContractPayload {
    public static let messageName = "cp_status"
    public static let messageTypes: [MessageType] = [.update]
}

/// IEC 61851 control-pilot state: letter = CP level, digit 2 = PWM on. (`A0` of the Python enum fails the schema.)
public enum CPState: String, Codable, Sendable, CaseIterable {
    case a1 = "A1", a2 = "A2", b1 = "B1", b2 = "B2", c1 = "C1", c2 = "C2", d1 = "D1", d2 = "D2", e = "E", f = "F"
}

// MARK: cp_pwm

/// `cp_pwm` request data (J→CS): the PWM the CS should generate.
public struct CPPWMRequest: Codable, Sendable, Equatable {
    public var evseID: String
    /// `true`: 5 % duty cycle (high-level communication).
    public var hlc: Bool
    /// A, basic charging; 0 means 100 % duty cycle.
    public var current: Double?
    /// `true`: state E (0 % duty cycle, 0 V).
    public var errorState: Bool
    /// `true`: state F (−12 V).
    public var faultState: Bool

    public init(evseID: String, hlc: Bool, current: Double? = nil, errorState: Bool, faultState: Bool) {
        self.evseID = evseID
        self.hlc = hlc
        self.current = current
        self.errorState = errorState
        self.faultState = faultState
    }

    enum CodingKeys: String, CodingKey {
        case evseID = "evse_id", hlc, current, errorState = "error_state", faultState = "fault_state"
    }
}

extension CPPWMRequest: ContractPayload {
    public static let messageName = "cp_pwm"
    public static let messageTypes: [MessageType] = [.request]
}

/// `cp_pwm` response data (CS→J). Both fields are optional in the schema but required by the Python dataclass (§2.7).
public struct CPPWMResponse: Codable, Sendable, Equatable {
    public var evseID: String
    public var status: CPPWMStatus
    public var info: String?

    public init(evseID: String, status: CPPWMStatus, info: String? = nil) {
        self.evseID = evseID
        self.status = status
        self.info = info
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", status, info }
}

extension CPPWMResponse: ContractPayload {
    public static let messageName = "cp_pwm"
    public static let messageTypes: [MessageType] = [.response]
}

/// Result of a `cp_pwm` request.
public enum CPPWMStatus: String, Codable, Sendable, CaseIterable { case valid, invalid, error }

// MARK: slac_status

/// `slac_status` update data (J→CS).
public struct SLACStatusUpdate: Codable, Sendable, Equatable {
    public var evseID: String
    /// SLAC RunID.
    public var runID: String
    public var status: SLACMatchState

    public init(evseID: String, runID: String, status: SLACMatchState) {
        self.evseID = evseID
        self.runID = runID
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", runID = "run_id", status }
}

extension SLACStatusUpdate: ContractPayload {
    public static let messageName = "slac_status"
    public static let messageTypes: [MessageType] = [.update]
}

/// SLAC matching state; `basic_charging` asks the CS to fall back to IEC 61851 basic charging.
public enum SLACMatchState: String, Codable, Sendable, CaseIterable {
    case matching, matched, failed, unmatched, basicCharging = "basic_charging"
}

// MARK: slac_link_status

/// `slac_link_status` request data (CS→J).
public struct SLACLinkStatusRequest: Codable, Sendable, Equatable {
    public var evseID: String

    public init(evseID: String) {
        self.evseID = evseID
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id" }
}

extension SLACLinkStatusRequest: ContractPayload {
    public static let messageName = "slac_link_status"
    public static let messageTypes: [MessageType] = [.request]
}

/// `slac_link_status` response data (J→CS).
public struct SLACLinkStatusResponse: Codable, Sendable, Equatable {
    public var evseID: String
    public var status: SLACLinkState

    public init(evseID: String, status: SLACLinkState) {
        self.evseID = evseID
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", status }
}

extension SLACLinkStatusResponse: ContractPayload {
    public static let messageName = "slac_link_status"
    public static let messageTypes: [MessageType] = [.response]
}

/// State of the PLC link.
public enum SLACLinkState: String, Codable, Sendable, CaseIterable { case connected, unknown }

// MARK: slac_network_info

/// `slac_network_info` request data (CS→J). (No Python dataclass; the schema is the reference.)
public struct SLACNetworkInfoRequest: Codable, Sendable, Equatable {
    public var evseID: String

    public init(evseID: String) {
        self.evseID = evseID
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id" }
}

extension SLACNetworkInfoRequest: ContractPayload {
    public static let messageName = "slac_network_info"
    public static let messageTypes: [MessageType] = [.request]
}

/// `slac_network_info` response data (J→CS).
public struct SLACNetworkInfoResponse: Codable, Sendable, Equatable {
    public var evseID: String?
    public var networks: [PLCNetwork]

    public init(evseID: String? = nil, networks: [PLCNetwork]) {
        self.evseID = evseID
        self.networks = networks
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", networks }
}

extension SLACNetworkInfoResponse: ContractPayload {
    public static let messageName = "slac_network_info"
    public static let messageTypes: [MessageType] = [.response]
}

/// One HomePlug Green PHY network of `slac_network_info`.
public struct PLCNetwork: Codable, Sendable, Equatable {
    public var networkID: String
    public var shortNetworkID: String
    public var terminalEquipmentID: String
    public var stationRole: PLCStationRole
    public var macAddress: String
    public var accessNetwork: PLCAccessNetwork
    public var numCoordNws: Int

    public init(
        networkID: String, shortNetworkID: String, terminalEquipmentID: String, stationRole: PLCStationRole,
        macAddress: String, accessNetwork: PLCAccessNetwork, numCoordNws: Int
    ) {
        self.networkID = networkID
        self.shortNetworkID = shortNetworkID
        self.terminalEquipmentID = terminalEquipmentID
        self.stationRole = stationRole
        self.macAddress = macAddress
        self.accessNetwork = accessNetwork
        self.numCoordNws = numCoordNws
    }

    enum CodingKeys: String, CodingKey {
        case networkID = "network_id", shortNetworkID = "short_network_id", terminalEquipmentID = "terminal_equipment_id"
        case stationRole = "station_role", macAddress = "mac_address", accessNetwork = "access_network"
        case numCoordNws = "num_coord_nws"
    }
}

/// HomePlug station role.
public enum PLCStationRole: String, Codable, Sendable, CaseIterable {
    case sta = "STA", proxyCoordinator = "ProxyCoordinator", cco = "CCo", unknown = "Unknown"
}

/// HomePlug access-network flag.
public enum PLCAccessNetwork: String, Codable, Sendable, CaseIterable {
    case inHome = "InHome", access = "Access", unknown = "Unknown"
}

// MARK: sdp

/// `sdp` request data (CS→J): asks Josev to open the V2G TCP/TLS server. (No Python dataclass.)
public struct SDPRequest: Codable, Sendable, Equatable {
    public var evseID: String
    public var security: SDPSecurity

    public init(evseID: String, security: SDPSecurity) {
        self.evseID = evseID
        self.security = security
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", security }
}

extension SDPRequest: ContractPayload {
    public static let messageName = "sdp"
    public static let messageTypes: [MessageType] = [.request]
}

/// `sdp` response data (J→CS). (No Python dataclass.)
public struct SDPResponse: Codable, Sendable, Equatable {
    public var evseID: String
    public var ipAddress: String?
    public var port: Int?
    public var security: SDPSecurity?
    public var error: String?

    public init(evseID: String, ipAddress: String? = nil, port: Int? = nil, security: SDPSecurity? = nil, error: String? = nil) {
        self.evseID = evseID
        self.ipAddress = ipAddress
        self.port = port
        self.security = security
        self.error = error
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", ipAddress = "ip_address", port, security, error }
}

extension SDPResponse: ContractPayload {
    public static let messageName = "sdp"
    public static let messageTypes: [MessageType] = [.response]
}

/// Transport security of the V2G server.
public enum SDPSecurity: String, Codable, Sendable, CaseIterable { case tls, noTLS = "no_tls" }

// MARK: cable_info

/// `cable_info` update data (CS→J): state of a detachable cable.
public struct CableInfoUpdate: Codable, Sendable, Equatable {
    public var evseID: String
    public var connectionStatus: CableConnectionStatus?
    /// A.
    public var ratedCableCurrent: Int?
    public var lock: LockStatus?

    public init(
        evseID: String, connectionStatus: CableConnectionStatus? = nil, ratedCableCurrent: Int? = nil, lock: LockStatus? = nil
    ) {
        self.evseID = evseID
        self.connectionStatus = connectionStatus
        self.ratedCableCurrent = ratedCableCurrent
        self.lock = lock
    }

    enum CodingKeys: String, CodingKey {
        case evseID = "evse_id", connectionStatus = "connection_status", ratedCableCurrent = "rated_cable_current", lock
    }
}

extension CableInfoUpdate: ContractPayload {
    public static let messageName = "cable_info"
    public static let messageTypes: [MessageType] = [.update]
}

/// Whether a cable is connected.
public enum CableConnectionStatus: String, Codable, Sendable, CaseIterable { case connected, disconnected, unknown }

/// Lock state of a cable (`cable_info.lock`) or socket (`cs_connector` response `status`).
public enum LockStatus: String, Codable, Sendable, CaseIterable { case locked, unlocked, unknown, error }

// MARK: cs_connector

/// `cs_connector` request data (J→CS): get or set the socket lock.
public struct CsConnectorRequest: Codable, Sendable, Equatable {
    public var evseID: String
    /// A `number` in the schema; connector ids are integers.
    public var connectorID: Int
    public var action: ConnectorAction

    public init(evseID: String, connectorID: Int, action: ConnectorAction) {
        self.evseID = evseID
        self.connectorID = connectorID
        self.action = action
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", connectorID = "connector_id", action }
}

extension CsConnectorRequest: ContractPayload {
    public static let messageName = "cs_connector"
    public static let messageTypes: [MessageType] = [.request]
}

/// What `cs_connector` asks for.
public enum ConnectorAction: String, Codable, Sendable, CaseIterable { case lock, unlock, status }

/// `cs_connector` response data (CS→J).
public struct CsConnectorResponse: Codable, Sendable, Equatable {
    public var evseID: String
    public var connectorID: Int
    public var status: LockStatus
    public var info: String?

    public init(evseID: String, connectorID: Int, status: LockStatus, info: String? = nil) {
        self.evseID = evseID
        self.connectorID = connectorID
        self.status = status
        self.info = info
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", connectorID = "connector_id", status, info }
}

extension CsConnectorResponse: ContractPayload {
    public static let messageName = "cs_connector"
    public static let messageTypes: [MessageType] = [.response]
}

// MARK: parking_bay

/// `parking_bay` update data (CS→J): parking-bay sensor.
public struct ParkingBayUpdate: Codable, Sendable, Equatable {
    public var evseID: String
    public var status: ParkingBayStatus

    public init(evseID: String, status: ParkingBayStatus) {
        self.evseID = evseID
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", status }
}

extension ParkingBayUpdate: ContractPayload {
    public static let messageName = "parking_bay"
    public static let messageTypes: [MessageType] = [.update]
}

/// Parking-bay sensor event.
public enum ParkingBayStatus: String, Codable, Sendable, CaseIterable {
    case evDetected = "ev_detected", evDeparted = "ev_departed"
}

// MARK: connector_and_charging

/// `connector_and_charging` update data: at least one of `connectorStatus` and `chargingStatus` is present.
public struct ConnectorAndChargingUpdate: Codable, Sendable, Equatable {
    public var evseID: String
    /// A `number` in the schema; connector ids are integers.
    public var connectorID: Int
    public var connectorStatus: ConnectorStatus?
    public var chargingStatus: ChargingStatus?

    public init(
        evseID: String, connectorID: Int, connectorStatus: ConnectorStatus? = nil, chargingStatus: ChargingStatus? = nil
    ) {
        self.evseID = evseID
        self.connectorID = connectorID
        self.connectorStatus = connectorStatus
        self.chargingStatus = chargingStatus
    }

    enum CodingKeys: String, CodingKey {
        case evseID = "evse_id", connectorID = "connector_id", connectorStatus = "connector_status"
        case chargingStatus = "charging_status"
    }
}

extension ConnectorAndChargingUpdate: ContractPayload {
    public static let messageName = "connector_and_charging"
    public static let messageTypes: [MessageType] = [.update]
}

/// OCPP connector status.
public enum ConnectorStatus: String, Codable, Sendable, CaseIterable { case available, occupied, unavailable, reserved, faulted }

/// OCPP charging state.
public enum ChargingStatus: String, Codable, Sendable, CaseIterable {
    case evConnected = "ev_connected", suspendedEV = "suspended_ev", suspendedEVSE = "suspended_evse", charging, idle
}
