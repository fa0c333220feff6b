// Typed payloads (`data`) of the messages that carry free or OCPP JSON (contract §2.4, §2.6):
// `data_transfer`, `ocpp_message`, and the `custom_data` of `cost_updated`. Field names map one to one
// to the wire names; optional fields are omitted when nil; the free JSON is kept as it came.

import JSONSchema

// MARK: data_transfer

/// `data_transfer` request data (both directions).
public struct DataTransferRequest: Codable, Sendable, Equatable {
    public var vendorID: String
    public var messageID: String?
    /// Any JSON.
    public var data: JSONValue?

    public init(vendorID: String, messageID: String? = nil, data: JSONValue? = nil) {
        self.vendorID = vendorID
        self.messageID = messageID
        self.data = data
    }

    enum CodingKeys: String, CodingKey { case vendorID = "vendor_id", messageID = "message_id", data }
}

extension DataTransferRequest: ContractPayload {
    public static let messageName = "data_transfer"
    public static let messageTypes: [MessageType] = [.request]
}

/// `data_transfer` response data (both directions).
public struct DataTransferResponse: Codable, Sendable, Equatable {
    public var status: DataTransferStatus
    /// Any JSON.
    public var data: JSONValue?

    public init(status: DataTransferStatus, data: JSONValue? = nil) {
        self.status = status
        self.data = data
    }
}

extension DataTransferResponse: ContractPayload {
    public static let messageName = "data_transfer"
    public static let messageTypes: [MessageType] = [.response]
}

/// OCPP DataTransferStatusEnum.
public enum DataTransferStatus: String, Codable, Sendable, CaseIterable {
    case accepted, rejected, unknownMessageID = "unknown_message_id", unknownVendorID = "unknown_vendor_id"
}

// MARK: ocpp_message

/// `ocpp_message` request data (both directions): an embedded OCPP message.
public struct OCPPMessageRequest: Codable, Sendable, Equatable {
    public var ocppVersion: OCPPVersion
    public var messageName: OCPPMessageName
    /// The OCPP JSON payload.
    public var payload: JSONObject

    public init(ocppVersion: OCPPVersion, messageName: OCPPMessageName, payload: JSONObject) {
        self.ocppVersion = ocppVersion
        self.messageName = messageName
        self.payload = payload
    }

    enum CodingKeys: String, CodingKey { case ocppVersion = "ocpp_version", messageName = "message_name", payload }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        ocppVersion = try container.decode(OCPPVersion.self, forKey: .ocppVersion)
        messageName = try container.decode(OCPPMessageName.self, forKey: .messageName)
        payload = try container.decodeObject(forKey: .payload)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ocppVersion, forKey: .ocppVersion)
        try container.encode(messageName, forKey: .messageName)
        try container.encode(JSONValue.object(payload), forKey: .payload)
    }
}

extension OCPPMessageRequest: ContractPayload {
    public static let messageName = "ocpp_message"
    public static let messageTypes: [MessageType] = [.request]
}

/// `ocpp_message` response data (both directions): `payload` for a CallResult; `errorCode`,
/// `errorDescription` and `errorDetails` for a CallError.
public struct OCPPMessageResponse: Codable, Sendable, Equatable {
    public var ocppVersion: OCPPVersion
    public var messageType: OCPPMessageType
    /// The OCPP JSON payload (CallResult).
    public var payload: JSONObject?
    public var errorCode: String?
    /// ≤ 255 characters.
    public var errorDescription: String?
    /// Any JSON (an object in OCPP-J).
    public var errorDetails: JSONValue?

    public init(
        ocppVersion: OCPPVersion, messageType: OCPPMessageType, payload: JSONObject? = nil, errorCode: String? = nil,
        errorDescription: String? = nil, errorDetails: JSONValue? = nil
    ) {
        self.ocppVersion = ocppVersion
        self.messageType = messageType
        self.payload = payload
        self.errorCode = errorCode
        self.errorDescription = errorDescription
        self.errorDetails = errorDetails
    }

    enum CodingKeys: String, CodingKey {
        case ocppVersion = "ocpp_version", messageType = "message_type", payload, errorCode = "error_code"
        case errorDescription = "error_description", errorDetails = "error_details"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        ocppVersion = try container.decode(OCPPVersion.self, forKey: .ocppVersion)
        messageType = try container.decode(OCPPMessageType.self, forKey: .messageType)
        payload = try container.decodeObjectIfPresent(forKey: .payload)
        errorCode = try container.decodeIfPresent(String.self, forKey: .errorCode)
        errorDescription = try container.decodeIfPresent(String.self, forKey: .errorDescription)
        errorDetails = try container.decodeIfPresent(JSONValue.self, forKey: .errorDetails)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ocppVersion, forKey: .ocppVersion)
        try container.encode(messageType, forKey: .messageType)
        try container.encodeIfPresent(payload.map(JSONValue.object), forKey: .payload)
        try container.encodeIfPresent(errorCode, forKey: .errorCode)
        try container.encodeIfPresent(errorDescription, forKey: .errorDescription)
        try container.encodeIfPresent(errorDetails, forKey: .errorDetails)
    }
}

extension OCPPMessageResponse: ContractPayload {
    public static let messageName = "ocpp_message"
    public static let messageTypes: [MessageType] = [.response]
}

/// OCPP messages `ocpp_message` may embed.
public enum OCPPMessageName: String, Codable, Sendable, CaseIterable {
    case getVariables = "GetVariables", getInstalledCertificateIds = "GetInstalledCertificateIds", setVariables = "SetVariables"
    case installCertificate = "InstallCertificate", deleteCertificate = "DeleteCertificate", setNetworkProfile = "SetNetworkProfile"
    case certificateSigned = "CertificateSigned", signCertificate = "SignCertificate", notifyEVChargingNeeds = "NotifyEVChargingNeeds"
    case updateDynamicSchedule = "UpdateDynamicSchedule", setChargingProfile = "SetChargingProfile"
}

/// OCPP-J message type of an `ocpp_message` response.
public enum OCPPMessageType: String, Codable, Sendable, CaseIterable { case callResult = "CallResult", callError = "CallError" }

// MARK: cost_updated.custom_data

/// OCPP CustomData: `vendor_id` plus any vendor-defined members, kept as they came.
public struct CustomData: Codable, Sendable, Equatable {
    public var vendorID: String
    /// Members other than `vendor_id` (a `vendor_id` here is ignored when encoding).
    public var additionalFields: JSONObject

    public init(vendorID: String, additionalFields: JSONObject = JSONObject()) {
        self.vendorID = vendorID
        self.additionalFields = additionalFields
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: WireKey.self)
        vendorID = try container.decode(String.self, forKey: WireKey("vendor_id"))
        var additional = JSONObject()
        for key in container.allKeys where key.stringValue != "vendor_id" {
            additional[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
        additionalFields = additional
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: WireKey.self)
        try container.encode(vendorID, forKey: WireKey("vendor_id"))
        for member in additionalFields where member.key != "vendor_id" {
            try container.encode(member.value, forKey: WireKey(member.key))
        }
    }
}
