// Typed payloads (`data`) of the start-up and configuration messages (contract §2.1) other than
// cs_parameters and cs_status_and_limits (StationMessages.swift). Field names map one to one to the
// wire names; optional fields are omitted when nil. Date-times are `String`s (see `DateTimeText`).

// MARK: device_model

/// `device_model` response data (CS→J): the OCPP identity and device model of the station.
public struct DeviceModelResponse: Codable, Sendable, Equatable {
    /// OCPP ChargingStation.model.
    public var model: String
    /// OCPP vendorName.
    public var vendor: String
    /// OCPP station identity (websocket path, basic-auth user).
    public var identity: String
    /// `ws://…`, or `wss://…` when `securityProfile` ≥ 2.
    public var ocppCSMSURL: String
    /// 1…3.
    public var securityProfile: Int
    public var basicAuthPassword: String
    public var serialNumber: String
    public var firmwareVersion: String
    public var ocppVersion: OCPPVersion?
    /// ≥ 0, seconds.
    public var defaultMessageTimeout: Int?
    public var simICCID: String?
    public var simIMSI: String?
    public var evses: [DeviceModelEVSE]
    public var components: [DeviceModelComponent]?

    public init(
        model: String, vendor: String, identity: String, ocppCSMSURL: String, securityProfile: Int, basicAuthPassword: String,
        serialNumber: String, firmwareVersion: String, ocppVersion: OCPPVersion? = nil, defaultMessageTimeout: Int? = nil,
        simICCID: String? = nil, simIMSI: String? = nil, evses: [DeviceModelEVSE], components: [DeviceModelComponent]? = nil
    ) {
        self.model = model
        self.vendor = vendor
        self.identity = identity
        self.ocppCSMSURL = ocppCSMSURL
        self.securityProfile = securityProfile
        self.basicAuthPassword = basicAuthPassword
        self.serialNumber = serialNumber
        self.firmwareVersion = firmwareVersion
        self.ocppVersion = ocppVersion
        self.defaultMessageTimeout = defaultMessageTimeout
        self.simICCID = simICCID
        self.simIMSI = simIMSI
        self.evses = evses
        self.components = components
    }

    enum CodingKeys: String, CodingKey {
        case model, vendor, identity, ocppCSMSURL = "ocpp_csms_url", securityProfile = "security_profile"
        case basicAuthPassword = "basic_auth_password", serialNumber = "serial_number", firmwareVersion = "firmware_version"
        case ocppVersion = "ocpp_version", defaultMessageTimeout = "default_message_timeout", simICCID = "sim_iccid"
        case simIMSI = "sim_imsi", evses, components
    }
}

extension DeviceModelResponse: ContractPayload {
    public static let messageName = "device_model"
    public static let messageTypes: [MessageType] = [.response]
}

/// One EVSE of `device_model`: its OCPP id and its ISO 15118 id.
public struct DeviceModelEVSE: Codable, Sendable, Equatable {
    /// OCPP EVSE id (from 1).
    public var ocppID: Int
    /// The `evse_id` of every other message.
    public var iso15118ID: String
    /// kW.
    public var powerKW: Double
    public var supplyPhases: Int
    public var connectors: [DeviceModelConnector]

    public init(ocppID: Int, iso15118ID: String, powerKW: Double, supplyPhases: Int, connectors: [DeviceModelConnector]) {
        self.ocppID = ocppID
        self.iso15118ID = iso15118ID
        self.powerKW = powerKW
        self.supplyPhases = supplyPhases
        self.connectors = connectors
    }

    enum CodingKeys: String, CodingKey {
        case ocppID = "ocpp_id", iso15118ID = "iso15118_id", powerKW = "power_kw", supplyPhases = "supply_phases", connectors
    }
}

/// One connector of a `device_model` EVSE.
public struct DeviceModelConnector: Codable, Sendable, Equatable {
    public var id: Int
    public var connectorType: OCPPConnectorType

    public init(id: Int, connectorType: OCPPConnectorType) {
        self.id = id
        self.connectorType = connectorType
    }

    enum CodingKeys: String, CodingKey { case id, connectorType = "connector_type" }
}

/// An extra OCPP device-model component of `device_model`.
public struct DeviceModelComponent: Codable, Sendable, Equatable {
    public var name: String
    public var instance: String?
    /// OCPP EVSE id (an integer here, unlike everywhere else).
    public var evseID: Int?
    public var connectorID: Int?
    public var variables: [DeviceModelVariable]?

    public init(
        name: String, instance: String? = nil, evseID: Int? = nil, connectorID: Int? = nil,
        variables: [DeviceModelVariable]? = nil
    ) {
        self.name = name
        self.instance = instance
        self.evseID = evseID
        self.connectorID = connectorID
        self.variables = variables
    }

    enum CodingKeys: String, CodingKey { case name, instance, evseID = "evse_id", connectorID = "connector_id", variables }
}

/// A variable of a `device_model` component; the value is always a string.
public struct DeviceModelVariable: Codable, Sendable, Equatable {
    public var name: String
    public var value: String
    public var instance: String?
    public var unit: String?
    public var valuesList: String?
    public var mutability: VariableMutability?
    public var constant: Bool?
    public var dataType: VariableDataType?

    public init(
        name: String, value: String, instance: String? = nil, unit: String? = nil, valuesList: String? = nil,
        mutability: VariableMutability? = nil, constant: Bool? = nil, dataType: VariableDataType? = nil
    ) {
        self.name = name
        self.value = value
        self.instance = instance
        self.unit = unit
        self.valuesList = valuesList
        self.mutability = mutability
        self.constant = constant
        self.dataType = dataType
    }

    enum CodingKeys: String, CodingKey {
        case name, value, instance, unit, valuesList = "values_list", mutability, constant, dataType = "data_type"
    }
}

/// OCPP 2.0.1 ConnectorEnum, as `device_model` spells it.
public enum OCPPConnectorType: String, Codable, Sendable, CaseIterable {
    case cCCS1, cCCS2, cG105, cTesla, cType1, cType2, s309_1P_16A = "s309-1P-16A", s309_1P_32A = "s309-1P-32A"
    case s309_3P_16A = "s309-3P-16A", s309_3P_32A = "s309-3P-32A", sBS1361, sCEE_7_7 = "sCEE-7-7", sType2, sType3
    case other1PhMax16A = "Other1PhMax16A", other1PhOver16A = "Other1PhOver16A", other3Ph = "Other3Ph", pan = "Pan", wInductive
    case wResonant, undetermined = "Undetermined", unknown = "Unknown"
}

/// OCPP MutabilityEnum.
public enum VariableMutability: String, Codable, Sendable, CaseIterable {
    case readOnly = "ReadOnly", readWrite = "ReadWrite", writeOnly = "WriteOnly"
}

/// OCPP DataEnum.
public enum VariableDataType: String, Codable, Sendable, CaseIterable {
    case string, decimal, integer, dateTime, boolean, optionList = "OptionList", sequenceList = "SequenceList"
    case memberList = "MemberList"
}

/// OCPP protocol version.
public enum OCPPVersion: String, Codable, Sendable, CaseIterable {
    case ocpp16 = "ocpp1.6", ocpp201 = "ocpp2.0.1", ocpp21 = "ocpp2.1"
}

// MARK: device_model_update

/// `device_model_update` update data (both directions): device-model changes. `components` is optional in the schema
/// but required by the Python dataclass, so it is required here.
public struct DeviceModelUpdate: Codable, Sendable, Equatable {
    public var components: [DeviceModelUpdateComponent]
    public var firmwareVersion: String?
    public var simICCID: String?
    public var simIMSI: String?

    public init(
        components: [DeviceModelUpdateComponent], firmwareVersion: String? = nil, simICCID: String? = nil,
        simIMSI: String? = nil
    ) {
        self.components = components
        self.firmwareVersion = firmwareVersion
        self.simICCID = simICCID
        self.simIMSI = simIMSI
    }

    enum CodingKeys: String, CodingKey {
        case components, firmwareVersion = "firmware_version", simICCID = "sim_iccid", simIMSI = "sim_imsi"
    }
}

extension DeviceModelUpdate: ContractPayload {
    public static let messageName = "device_model_update"
    public static let messageTypes: [MessageType] = [.update]
}

/// A changed component in `device_model_update`.
public struct DeviceModelUpdateComponent: Codable, Sendable, Equatable {
    public var name: String
    public var instance: String?
    /// OCPP EVSE id.
    public var evseID: Int?
    public var connectorID: Int?
    public var variables: [DeviceModelUpdateVariable]?

    public init(
        name: String, instance: String? = nil, evseID: Int? = nil, connectorID: Int? = nil,
        variables: [DeviceModelUpdateVariable]? = nil
    ) {
        self.name = name
        self.instance = instance
        self.evseID = evseID
        self.connectorID = connectorID
        self.variables = variables
    }

    enum CodingKeys: String, CodingKey { case name, instance, evseID = "evse_id", connectorID = "connector_id", variables }
}

/// A changed variable in `device_model_update`: the `device_model` variable without `data_type` and `values_list`.
public struct DeviceModelUpdateVariable: Codable, Sendable, Equatable {
    public var name: String
    public var value: String
    public var instance: String?
    public var unit: String?
    public var mutability: VariableMutability?
    public var constant: Bool?

    public init(
        name: String, value: String, instance: String? = nil, unit: String? = nil, mutability: VariableMutability? = nil,
        constant: Bool? = nil
    ) {
        self.name = name
        self.value = value
        self.instance = instance
        self.unit = unit
        self.mutability = mutability
        self.constant = constant
    }
}

// MARK: device_model_reset

/// `device_model_reset` response data (J→CS).
public struct DeviceModelResetResponse: Codable, Sendable, Equatable {
    public var status: AcceptanceStatus
    public var rejectedReason: String?

    public init(status: AcceptanceStatus, rejectedReason: String? = nil) {
        self.status = status
        self.rejectedReason = rejectedReason
    }

    enum CodingKeys: String, CodingKey { case status, rejectedReason = "rejected_reason" }
}

extension DeviceModelResetResponse: ContractPayload {
    public static let messageName = "device_model_reset"
    public static let messageTypes: [MessageType] = [.response]
}

// MARK: service_status

/// `service_status` request data (CS→J).
public struct ServiceStatusRequest: Codable, Sendable, Equatable {
    public var service: JosevService?

    public init(service: JosevService? = nil) {
        self.service = service
    }
}

extension ServiceStatusRequest: ContractPayload {
    public static let messageName = "service_status"
    public static let messageTypes: [MessageType] = [.request]
}

/// `service_status` response and update data (J→CS): the life cycle of one Josev service.
public struct ServiceStatus: Codable, Sendable, Equatable {
    public var service: JosevService
    public var softwareVersion: String
    public var apiVersion: String
    public var status: ServiceState

    public init(service: JosevService, softwareVersion: String, apiVersion: String, status: ServiceState) {
        self.service = service
        self.softwareVersion = softwareVersion
        self.apiVersion = apiVersion
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case service, softwareVersion = "software_version", apiVersion = "api_version", status }
}

extension ServiceStatus: ContractPayload {
    public static let messageName = "service_status"
    public static let messageTypes: [MessageType] = [.response, .update]
}

/// A Josev service. The update schema lacks `gridcode` and the Python enum lacks `smart_charging`; both are accepted
/// (§2.7).
public enum JosevService: String, Codable, Sendable, CaseIterable {
    case slac, iso15118, ocpp, gridcode, smartCharging = "smart_charging"
}

/// State of a Josev service.
public enum ServiceState: String, Codable, Sendable, CaseIterable { case ready, starting, stopping, error, busy }

// MARK: boot_status

/// `boot_status` update data (J→CS): the status of OCPP's BootNotificationResponse.
public struct BootStatusUpdate: Codable, Sendable, Equatable {
    public var status: BootStatus

    public init(status: BootStatus) {
        self.status = status
    }
}

extension BootStatusUpdate: ContractPayload {
    public static let messageName = "boot_status"
    public static let messageTypes: [MessageType] = [.update]
}

/// OCPP RegistrationStatus.
public enum BootStatus: String, Codable, Sendable, CaseIterable { case accepted, pending, rejected }

// MARK: websocket_status

/// `websocket_status` response and update data (J→CS): the OCPP websocket.
public struct WebsocketStatus: Codable, Sendable, Equatable {
    public var status: WebsocketState
    public var identity: String?
    public var csmsURL: String?
    /// 1…3.
    public var securityProfile: Int?

    public init(status: WebsocketState, identity: String? = nil, csmsURL: String? = nil, securityProfile: Int? = nil) {
        self.status = status
        self.identity = identity
        self.csmsURL = csmsURL
        self.securityProfile = securityProfile
    }

    enum CodingKeys: String, CodingKey { case status, identity, csmsURL = "csms_url", securityProfile = "security_profile" }
}

extension WebsocketStatus: ContractPayload {
    public static let messageName = "websocket_status"
    public static let messageTypes: [MessageType] = [.response, .update]
}

/// State of the OCPP websocket.
public enum WebsocketState: String, Codable, Sendable, CaseIterable { case connecting, connected, disconnected }

// MARK: clock_sync

/// `clock_sync` update data (J→CS): the OCPP time.
public struct ClockSyncUpdate: Codable, Sendable, Equatable {
    /// Date-time (`DateTimeText`).
    public var currentTime: String

    public init(currentTime: String) {
        self.currentTime = currentTime
    }

    enum CodingKeys: String, CodingKey { case currentTime = "current_time" }
}

extension ClockSyncUpdate: ContractPayload {
    public static let messageName = "clock_sync"
    public static let messageTypes: [MessageType] = [.update]
}

// MARK: set_ocpp_network_connection

/// `set_ocpp_network_connection` request data (CS→J).
public struct SetOCPPNetworkConnectionRequest: Codable, Sendable, Equatable {
    /// `ws://…`, or `wss://…` when `securityProfile` ≥ 2.
    public var csmsURL: String
    /// 1…3.
    public var securityProfile: Int
    public var identity: String?
    public var basicAuthPassword: String?

    public init(csmsURL: String, securityProfile: Int, identity: String? = nil, basicAuthPassword: String? = nil) {
        self.csmsURL = csmsURL
        self.securityProfile = securityProfile
        self.identity = identity
        self.basicAuthPassword = basicAuthPassword
    }

    enum CodingKeys: String, CodingKey {
        case csmsURL = "csms_url", securityProfile = "security_profile", identity, basicAuthPassword = "basic_auth_password"
    }
}

extension SetOCPPNetworkConnectionRequest: ContractPayload {
    public static let messageName = "set_ocpp_network_connection"
    public static let messageTypes: [MessageType] = [.request]
}

/// `set_ocpp_network_connection` response data (J→CS).
public struct SetOCPPNetworkConnectionResponse: Codable, Sendable, Equatable {
    public var status: AcceptanceStatus
    public var reason: String?

    public init(status: AcceptanceStatus, reason: String? = nil) {
        self.status = status
        self.reason = reason
    }
}

extension SetOCPPNetworkConnectionResponse: ContractPayload {
    public static let messageName = "set_ocpp_network_connection"
    public static let messageTypes: [MessageType] = [.response]
}
