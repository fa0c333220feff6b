// Typed payloads (`data`) of the OCPP-driven management messages (contract §2.6). Field names map
// one to one to the wire names; optional fields are omitted when nil. The OCPP-embedding
// messages (`data_transfer`, `ocpp_message`) are in OCPPMessages.swift.

// MARK: change_availability

/// `change_availability` request data (J→CS); no `evseID` means the whole station.
public struct ChangeAvailabilityRequest: Codable, Sendable, Equatable {
    public var operationalStatus: OperationalStatus
    public var evseID: String?
    public var connectorID: Int?

    public init(operationalStatus: OperationalStatus, evseID: String? = nil, connectorID: Int? = nil) {
        self.operationalStatus = operationalStatus
        self.evseID = evseID
        self.connectorID = connectorID
    }

    enum CodingKeys: String, CodingKey {
        case operationalStatus = "operational_status", evseID = "evse_id", connectorID = "connector_id"
    }
}

extension ChangeAvailabilityRequest: ContractPayload {
    public static let messageName = "change_availability"
    public static let messageTypes: [MessageType] = [.request]
}

/// `change_availability` response data (CS→J).
public struct ChangeAvailabilityResponse: Codable, Sendable, Equatable {
    public var status: AcceptanceStatus

    public init(status: AcceptanceStatus) {
        self.status = status
    }
}

extension ChangeAvailabilityResponse: ContractPayload {
    public static let messageName = "change_availability"
    public static let messageTypes: [MessageType] = [.response]
}

/// `change_availability` update data (CS→J): a local availability change; `evseID` is required when `connectorID` is
/// given.
public struct ChangeAvailabilityUpdate: Codable, Sendable, Equatable {
    public var operationalStatus: OperationalStatus
    public var evseID: String?
    /// A `number` in the schema; connector ids are integers.
    public var connectorID: Int?

    public init(operationalStatus: OperationalStatus, evseID: String? = nil, connectorID: Int? = nil) {
        self.operationalStatus = operationalStatus
        self.evseID = evseID
        self.connectorID = connectorID
    }

    enum CodingKeys: String, CodingKey {
        case operationalStatus = "operational_status", evseID = "evse_id", connectorID = "connector_id"
    }
}

extension ChangeAvailabilityUpdate: ContractPayload {
    public static let messageName = "change_availability"
    public static let messageTypes: [MessageType] = [.update]
}

/// OCPP OperationalStatusEnum.
public enum OperationalStatus: String, Codable, Sendable, CaseIterable { case operative, inoperative }

// MARK: reset

/// `reset` request data (J→CS); no `evseID` means the whole station.
public struct ResetRequest: Codable, Sendable, Equatable {
    public var evseID: String?

    public init(evseID: String? = nil) {
        self.evseID = evseID
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id" }
}

extension ResetRequest: ContractPayload {
    public static let messageName = "reset"
    public static let messageTypes: [MessageType] = [.request]
}

/// `reset` response data (CS→J).
public struct ResetResponse: Codable, Sendable, Equatable {
    public var status: AcceptanceStatus

    public init(status: AcceptanceStatus) {
        self.status = status
    }
}

extension ResetResponse: ContractPayload {
    public static let messageName = "reset"
    public static let messageTypes: [MessageType] = [.response]
}

// MARK: update_firmware / firmware_status

/// `update_firmware` request data (J→CS).
public struct UpdateFirmwareRequest: Codable, Sendable, Equatable {
    public var requestID: Int
    /// `http(s)://`, `ftp(s)://` or `sftp://` URI.
    public var location: String
    /// Date-time (`DateTimeText`).
    public var retrieveDatetime: String
    /// Date-time (`DateTimeText`).
    public var installDatetime: String?
    public var retries: Int?
    /// s.
    public var retryInterval: Int?
    public var signingCertificate: String?
    public var signature: String?

    public init(
        requestID: Int, location: String, retrieveDatetime: String, installDatetime: String? = nil, retries: Int? = nil,
        retryInterval: Int? = nil, signingCertificate: String? = nil, signature: String? = nil
    ) {
        self.requestID = requestID
        self.location = location
        self.retrieveDatetime = retrieveDatetime
        self.installDatetime = installDatetime
        self.retries = retries
        self.retryInterval = retryInterval
        self.signingCertificate = signingCertificate
        self.signature = signature
    }

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id", location, retrieveDatetime = "retrieve_datetime", installDatetime = "install_datetime"
        case retries, retryInterval = "retry_interval", signingCertificate = "signing_certificate", signature
    }
}

extension UpdateFirmwareRequest: ContractPayload {
    public static let messageName = "update_firmware"
    public static let messageTypes: [MessageType] = [.request]
}

/// `update_firmware` response data (CS→J).
public struct UpdateFirmwareResponse: Codable, Sendable, Equatable {
    public var status: UpdateFirmwareStatus

    public init(status: UpdateFirmwareStatus) {
        self.status = status
    }
}

extension UpdateFirmwareResponse: ContractPayload {
    public static let messageName = "update_firmware"
    public static let messageTypes: [MessageType] = [.response]
}

/// OCPP UpdateFirmwareStatusEnum.
public enum UpdateFirmwareStatus: String, Codable, Sendable, CaseIterable {
    case accepted, rejected, acceptedCanceled = "accepted_canceled", invalidCertificate = "invalid_certificate"
    case revokedCertificate = "revoked_certificate"
}

/// `firmware_status` update data (CS→J).
public struct FirmwareStatusUpdate: Codable, Sendable, Equatable {
    public var requestID: Int
    public var status: FirmwareStatus

    public init(requestID: Int, status: FirmwareStatus) {
        self.requestID = requestID
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case requestID = "request_id", status }
}

extension FirmwareStatusUpdate: ContractPayload {
    public static let messageName = "firmware_status"
    public static let messageTypes: [MessageType] = [.update]
}

/// OCPP FirmwareStatusEnum.
public enum FirmwareStatus: String, Codable, Sendable, CaseIterable {
    case downloading, downloaded, downloadFailed = "download_failed", downloadScheduled = "download_scheduled"
    case downloadPaused = "download_paused", idle, installing, installed, installationFailed = "installation_failed"
    case installRebooting = "install_rebooting", installScheduled = "install_scheduled"
    case installVerificationFailed = "install_verification_failed", invalidSignature = "invalid_signature"
    case signatureVerified = "signature_verified"
}

// MARK: upload_logs / logs_status

/// `upload_logs` request data (J→CS).
public struct UploadLogsRequest: Codable, Sendable, Equatable {
    public var requestID: Int
    public var logType: LogType
    /// `http(s)://`, `ftp(s)://` or `sftp://` URI.
    public var remoteLocation: String
    public var retries: Int?
    /// s.
    public var retryInterval: Int?
    /// Date-time (`DateTimeText`).
    public var oldestTimestamp: String?
    /// Date-time (`DateTimeText`).
    public var latestTimestamp: String?

    public init(
        requestID: Int, logType: LogType, remoteLocation: String, retries: Int? = nil, retryInterval: Int? = nil,
        oldestTimestamp: String? = nil, latestTimestamp: String? = nil
    ) {
        self.requestID = requestID
        self.logType = logType
        self.remoteLocation = remoteLocation
        self.retries = retries
        self.retryInterval = retryInterval
        self.oldestTimestamp = oldestTimestamp
        self.latestTimestamp = latestTimestamp
    }

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id", logType = "log_type", remoteLocation = "remote_location", retries
        case retryInterval = "retry_interval", oldestTimestamp = "oldest_timestamp", latestTimestamp = "latest_timestamp"
    }
}

extension UploadLogsRequest: ContractPayload {
    public static let messageName = "upload_logs"
    public static let messageTypes: [MessageType] = [.request]
}

/// OCPP LogEnum.
public enum LogType: String, Codable, Sendable, CaseIterable {
    case diagnosticsLog = "diagnostics_log", securityLog = "security_log"
}

/// `upload_logs` response data (CS→J).
public struct UploadLogsResponse: Codable, Sendable, Equatable {
    public var status: UploadLogsStatus
    public var filename: String?

    public init(status: UploadLogsStatus, filename: String? = nil) {
        self.status = status
        self.filename = filename
    }
}

extension UploadLogsResponse: ContractPayload {
    public static let messageName = "upload_logs"
    public static let messageTypes: [MessageType] = [.response]
}

/// OCPP LogStatusEnum.
public enum UploadLogsStatus: String, Codable, Sendable, CaseIterable {
    case accepted, rejected, acceptedCanceled = "accepted_canceled"
}

/// `logs_status` update data (CS→J).
public struct LogsStatusUpdate: Codable, Sendable, Equatable {
    public var requestID: Int
    public var status: LogsUploadStatus

    public init(requestID: Int, status: LogsUploadStatus) {
        self.requestID = requestID
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case requestID = "request_id", status }
}

extension LogsStatusUpdate: ContractPayload {
    public static let messageName = "logs_status"
    public static let messageTypes: [MessageType] = [.update]
}

/// OCPP UploadLogStatusEnum.
public enum LogsUploadStatus: String, Codable, Sendable, CaseIterable {
    case acceptedCanceled = "accepted_canceled", badMessage = "bad_message", idle
    case notSupportedOperation = "not_supported_operation", permissionDenied = "permission_denied"
    case uploadFailure = "upload_failure", uploaded, uploading
}

// MARK: hardware_fault

/// `hardware_fault` update data (CS→J); becomes an OCPP event.
public struct HardwareFaultUpdate: Codable, Sendable, Equatable {
    public var evseID: String
    public var componentName: String
    public var faultName: HardwareFault

    public init(evseID: String, componentName: String, faultName: HardwareFault) {
        self.evseID = evseID
        self.componentName = componentName
        self.faultName = faultName
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", componentName = "component_name", faultName = "fault_name" }
}

extension HardwareFaultUpdate: ContractPayload {
    public static let messageName = "hardware_fault"
    public static let messageTypes: [MessageType] = [.update]
}

/// Kind of hardware fault.
public enum HardwareFault: String, Codable, Sendable, CaseIterable {
    case overcurrentFault = "overcurrent_fault", emergencyStop = "emergency_stop", groundFault = "ground_fault"
    case energyLimitReached = "energy_limit_reached", powerLoss = "power_loss", powerQuality = "power_quality", reboot, other
}

// MARK: notify_event

/// `notify_event` update data (CS→J): an OCPP NotifyEvent.
public struct NotifyEventUpdate: Codable, Sendable, Equatable {
    public var eventID: Int
    /// Date-time (`DateTimeText`).
    public var timestamp: String
    /// ≤ 50 characters.
    public var techCode: String?
    /// ≤ 500 characters.
    public var techInfo: String?
    /// ≤ 36 characters.
    public var transactionID: String?
    public var evseID: String?

    public init(
        eventID: Int, timestamp: String, techCode: String? = nil, techInfo: String? = nil, transactionID: String? = nil,
        evseID: String? = nil
    ) {
        self.eventID = eventID
        self.timestamp = timestamp
        self.techCode = techCode
        self.techInfo = techInfo
        self.transactionID = transactionID
        self.evseID = evseID
    }

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", timestamp, techCode = "tech_code", techInfo = "tech_info", transactionID = "transaction_id"
        case evseID = "evse_id"
    }
}

extension NotifyEventUpdate: ContractPayload {
    public static let messageName = "notify_event"
    public static let messageTypes: [MessageType] = [.update]
}

// MARK: set_variable_validate

/// `set_variable_validate` request data (J→CS): lets the OEM validate an OCPP SetVariables.
public struct SetVariableValidateRequest: Codable, Sendable, Equatable {
    public var component: ValidatedComponent
    public var variable: ValidatedVariable
    public var attributeValue: String
    /// Absent means `Actual`.
    public var attributeType: AttributeType?

    public init(
        component: ValidatedComponent, variable: ValidatedVariable, attributeValue: String,
        attributeType: AttributeType? = nil
    ) {
        self.component = component
        self.variable = variable
        self.attributeValue = attributeValue
        self.attributeType = attributeType
    }

    enum CodingKeys: String, CodingKey {
        case component, variable, attributeValue = "attribute_value", attributeType = "attribute_type"
    }
}

extension SetVariableValidateRequest: ContractPayload {
    public static let messageName = "set_variable_validate"
    public static let messageTypes: [MessageType] = [.request]
}

/// The component of `set_variable_validate`.
public struct ValidatedComponent: Codable, Sendable, Equatable {
    public var name: String
    public var instance: String?
    public var evseID: String?
    public var connectorID: Int?

    public init(name: String, instance: String? = nil, evseID: String? = nil, connectorID: Int? = nil) {
        self.name = name
        self.instance = instance
        self.evseID = evseID
        self.connectorID = connectorID
    }

    enum CodingKeys: String, CodingKey { case name, instance, evseID = "evse_id", connectorID = "connector_id" }
}

/// The variable of `set_variable_validate`.
public struct ValidatedVariable: Codable, Sendable, Equatable {
    public var name: String
    public var instance: String?

    public init(name: String, instance: String? = nil) {
        self.name = name
        self.instance = instance
    }
}

/// OCPP AttributeEnum.
public enum AttributeType: String, Codable, Sendable, CaseIterable {
    case actual = "Actual", target = "Target", minSet = "MinSet", maxSet = "MaxSet"
}

/// `set_variable_validate` response data (CS→J).
public struct SetVariableValidateResponse: Codable, Sendable, Equatable {
    public var result: AcceptanceStatus

    public init(result: AcceptanceStatus) {
        self.result = result
    }
}

extension SetVariableValidateResponse: ContractPayload {
    public static let messageName = "set_variable_validate"
    public static let messageTypes: [MessageType] = [.response]
}

// MARK: generate_csr

/// `generate_csr` request data (J→CS).
public struct GenerateCSRRequest: Codable, Sendable, Equatable {
    public var certificateType: CertificateType
    public var commonName: String
    public var organizationName: String
    public var countryName: String
    public var evseID: String?
    public var algorithm: CSRAlgorithm?

    public init(
        certificateType: CertificateType, commonName: String, organizationName: String, countryName: String,
        evseID: String? = nil, algorithm: CSRAlgorithm? = nil
    ) {
        self.certificateType = certificateType
        self.commonName = commonName
        self.organizationName = organizationName
        self.countryName = countryName
        self.evseID = evseID
        self.algorithm = algorithm
    }

    enum CodingKeys: String, CodingKey {
        case certificateType = "certificate_type", commonName = "common_name", organizationName = "organization_name"
        case countryName = "country_name", evseID = "evse_id", algorithm
    }
}

extension GenerateCSRRequest: ContractPayload {
    public static let messageName = "generate_csr"
    public static let messageTypes: [MessageType] = [.request]
}

/// Which certificate a CSR or an installation is about.
public enum CertificateType: String, Codable, Sendable, CaseIterable {
    case chargingStationCertificate = "charging_station_certificate", v2gCertificate = "v2g_certificate"
}

/// Key and signature algorithm of a CSR.
public enum CSRAlgorithm: String, Codable, Sendable, CaseIterable {
    case ecdsaSHA256 = "ECDSA_SHA256", rsaSHA256 = "RSA_SHA256", rsaSHA384 = "RSA_SHA384"
}

/// `generate_csr` response data (CS→J). `csr` has no default in the Python dataclass, so it is required (possibly
/// empty).
public struct GenerateCSRResponse: Codable, Sendable, Equatable {
    public var status: AcceptanceStatus
    /// PEM.
    public var csr: String

    public init(status: AcceptanceStatus, csr: String) {
        self.status = status
        self.csr = csr
    }
}

extension GenerateCSRResponse: ContractPayload {
    public static let messageName = "generate_csr"
    public static let messageTypes: [MessageType] = [.response]
}

// MARK: certificate_installation_status

/// `certificate_installation_status` update data (J→CS).
public struct CertificateInstallationStatusUpdate: Codable, Sendable, Equatable {
    public var certificateType: CertificateType
    public var status: CertificateInstallationStatus
    /// In the schema only (not in the Python dataclass).
    public var privateKeyPath: String?

    public init(certificateType: CertificateType, status: CertificateInstallationStatus, privateKeyPath: String? = nil) {
        self.certificateType = certificateType
        self.status = status
        self.privateKeyPath = privateKeyPath
    }

    enum CodingKeys: String, CodingKey { case certificateType = "certificate_type", status, privateKeyPath = "private_key_path" }
}

extension CertificateInstallationStatusUpdate: ContractPayload {
    public static let messageName = "certificate_installation_status"
    public static let messageTypes: [MessageType] = [.update]
}

/// Result of a certificate installation.
public enum CertificateInstallationStatus: String, Codable, Sendable, CaseIterable {
    case installed, deleted, failedInstallation = "failed_installation"
}
