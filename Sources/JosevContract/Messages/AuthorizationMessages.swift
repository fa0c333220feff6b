// Typed payloads (`data`) of the authorization, transaction and stop messages (contract §2.4).
// Field names map one to one to the wire names; optional fields are omitted when nil.

// MARK: authorization

/// `authorization` request data (CS→J), e.g. when an RFID card was read.
public struct AuthorizationRequest: Codable, Sendable, Equatable {
    public var tokenType: AuthorizationRequestTokenType
    public var evseID: String?
    public var idToken: String?

    public init(tokenType: AuthorizationRequestTokenType, evseID: String? = nil, idToken: String? = nil) {
        self.tokenType = tokenType
        self.evseID = evseID
        self.idToken = idToken
    }

    enum CodingKeys: String, CodingKey { case tokenType = "token_type", evseID = "evse_id", idToken = "id_token" }
}

extension AuthorizationRequest: ContractPayload {
    public static let messageName = "authorization"
    public static let messageTypes: [MessageType] = [.request]
}

/// `authorization` response data (J→CS).
public struct AuthorizationResponse: Codable, Sendable, Equatable {
    public var status: AuthorizationStatus
    public var evseID: String?
    /// ≤ 36 characters.
    public var groupIDToken: String?
    public var groupIDTokenType: TokenType?
    /// Date-time (`DateTimeText`).
    public var cacheExpiryDateTime: String?

    public init(
        status: AuthorizationStatus, evseID: String? = nil, groupIDToken: String? = nil, groupIDTokenType: TokenType? = nil,
        cacheExpiryDateTime: String? = nil
    ) {
        self.status = status
        self.evseID = evseID
        self.groupIDToken = groupIDToken
        self.groupIDTokenType = groupIDTokenType
        self.cacheExpiryDateTime = cacheExpiryDateTime
    }

    enum CodingKeys: String, CodingKey {
        case status, evseID = "evse_id", groupIDToken = "group_id_token", groupIDTokenType = "group_id_token_type"
        case cacheExpiryDateTime = "cache_expiry_date_time"
    }
}

extension AuthorizationResponse: ContractPayload {
    public static let messageName = "authorization"
    public static let messageTypes: [MessageType] = [.response]
}

/// `authorization` update data: J→CS per the schema, CS→J to grant a local authorization (§2.7).
public struct AuthorizationUpdate: Codable, Sendable, Equatable {
    public var evseID: String
    public var tokenType: TokenType
    public var status: AuthorizationStatus
    public var idToken: String?

    public init(evseID: String, tokenType: TokenType, status: AuthorizationStatus, idToken: String? = nil) {
        self.evseID = evseID
        self.tokenType = tokenType
        self.status = status
        self.idToken = idToken
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", tokenType = "token_type", status, idToken = "id_token" }
}

extension AuthorizationUpdate: ContractPayload {
    public static let messageName = "authorization"
    public static let messageTypes: [MessageType] = [.update]
}

/// OCPP IdTokenType as Josev spells it (the full enum).
public enum TokenType: String, Codable, Sendable, CaseIterable {
    case macAddress = "mac_address", eMAID = "e_maid", iso14443 = "ISO14443", iso15693 = "ISO15693", central, keyCode = "key_code"
    case local, noAuthorization = "no_authorization"
}

/// Token types an `authorization` request may carry: `TokenType` without `e_maid` and `central`.
public enum AuthorizationRequestTokenType: String, Codable, Sendable, CaseIterable {
    case iso14443 = "ISO14443", iso15693 = "ISO15693", keyCode = "key_code", local, noAuthorization = "no_authorization"
    case macAddress = "mac_address"
}

/// Result of an authorization.
public enum AuthorizationStatus: String, Codable, Sendable, CaseIterable { case accepted, rejected, deauthorized }

// MARK: process_authorized_token

/// `process_authorized_token` request data (J→CS): whether an authorized token should be used.
public struct ProcessAuthorizedTokenRequest: Codable, Sendable, Equatable {
    public var tokenType: TokenType
    public var idToken: String?
    public var evseID: String?

    public init(tokenType: TokenType, idToken: String? = nil, evseID: String? = nil) {
        self.tokenType = tokenType
        self.idToken = idToken
        self.evseID = evseID
    }

    enum CodingKeys: String, CodingKey { case tokenType = "token_type", idToken = "id_token", evseID = "evse_id" }
}

extension ProcessAuthorizedTokenRequest: ContractPayload {
    public static let messageName = "process_authorized_token"
    public static let messageTypes: [MessageType] = [.request]
}

/// `process_authorized_token` response data (CS→J).
public struct ProcessAuthorizedTokenResponse: Codable, Sendable, Equatable {
    public var status: TokenProcessingStatus
    public var evseID: String?

    public init(status: TokenProcessingStatus, evseID: String? = nil) {
        self.status = status
        self.evseID = evseID
    }

    enum CodingKeys: String, CodingKey { case status, evseID = "evse_id" }
}

extension ProcessAuthorizedTokenResponse: ContractPayload {
    public static let messageName = "process_authorized_token"
    public static let messageTypes: [MessageType] = [.response]
}

/// The OEM's decision on an authorized token.
public enum TokenProcessingStatus: String, Codable, Sendable, CaseIterable { case accepted, discarded }

// MARK: transaction_status

/// `transaction_status` update data (J→CS): the OCPP transaction life cycle.
public struct TransactionStatusUpdate: Codable, Sendable, Equatable {
    public var transactionID: String
    public var status: TransactionState
    public var evseID: String?
    public var idToken: String?
    public var tokenType: TokenType?

    public init(
        transactionID: String, status: TransactionState, evseID: String? = nil, idToken: String? = nil,
        tokenType: TokenType? = nil
    ) {
        self.transactionID = transactionID
        self.status = status
        self.evseID = evseID
        self.idToken = idToken
        self.tokenType = tokenType
    }

    enum CodingKeys: String, CodingKey {
        case transactionID = "transaction_id", status, evseID = "evse_id", idToken = "id_token", tokenType = "token_type"
    }
}

extension TransactionStatusUpdate: ContractPayload {
    public static let messageName = "transaction_status"
    public static let messageTypes: [MessageType] = [.update]
}

/// OCPP transaction state.
public enum TransactionState: String, Codable, Sendable, CaseIterable { case started, inProgress = "in_progress", ended }

// MARK: stop_charging

/// `stop_charging` request data (J→CS), sent when no HLC session is running.
public struct StopChargingRequest: Codable, Sendable, Equatable {
    public var evseID: String

    public init(evseID: String) {
        self.evseID = evseID
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id" }
}

extension StopChargingRequest: ContractPayload {
    public static let messageName = "stop_charging"
    public static let messageTypes: [MessageType] = [.request]
}

/// `stop_charging` response data (CS→J).
public struct StopChargingResponse: Codable, Sendable, Equatable {
    public var evseID: String
    public var status: AcceptanceStatus

    public init(evseID: String, status: AcceptanceStatus) {
        self.evseID = evseID
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", status }
}

extension StopChargingResponse: ContractPayload {
    public static let messageName = "stop_charging"
    public static let messageTypes: [MessageType] = [.response]
}

// MARK: cost_updated

/// `cost_updated` update data (J→CS).
public struct CostUpdatedUpdate: Codable, Sendable, Equatable {
    public var totalCost: Double
    public var evseID: String
    /// ISO 4217.
    public var currency: String
    public var customData: CustomData?

    public init(totalCost: Double, evseID: String, currency: String, customData: CustomData? = nil) {
        self.totalCost = totalCost
        self.evseID = evseID
        self.currency = currency
        self.customData = customData
    }

    enum CodingKeys: String, CodingKey { case totalCost = "total_cost", evseID = "evse_id", currency, customData = "custom_data" }
}

extension CostUpdatedUpdate: ContractPayload {
    public static let messageName = "cost_updated"
    public static let messageTypes: [MessageType] = [.update]
}

// MARK: display_and_personal_msg

/// `display_and_personal_msg` update data (J→CS): a message for the driver's display.
public struct DisplayAndPersonalMsgUpdate: Codable, Sendable, Equatable {
    public var displayMsgTriggerReason: DisplayMessageTrigger
    /// ≤ 512 characters.
    public var content: String
    public var messageState: DisplayMessageState?
    public var totalCost: Double?
    /// RFC 5646.
    public var language: String?
    public var priority: DisplayMessagePriority?
    public var evseID: String?
    public var currency: String?
    public var qrCodeText: String?
    /// Date-time (`DateTimeText`).
    public var startDateTime: String?
    /// Date-time (`DateTimeText`).
    public var endDateTime: String?

    public init(
        displayMsgTriggerReason: DisplayMessageTrigger, content: String, messageState: DisplayMessageState? = nil,
        totalCost: Double? = nil, language: String? = nil, priority: DisplayMessagePriority? = nil, evseID: String? = nil,
        currency: String? = nil, qrCodeText: String? = nil, startDateTime: String? = nil, endDateTime: String? = nil
    ) {
        self.displayMsgTriggerReason = displayMsgTriggerReason
        self.content = content
        self.messageState = messageState
        self.totalCost = totalCost
        self.language = language
        self.priority = priority
        self.evseID = evseID
        self.currency = currency
        self.qrCodeText = qrCodeText
        self.startDateTime = startDateTime
        self.endDateTime = endDateTime
    }

    enum CodingKeys: String, CodingKey {
        case displayMsgTriggerReason = "display_msg_trigger_reason", content, messageState = "message_state"
        case totalCost = "total_cost", language, priority, evseID = "evse_id", currency, qrCodeText = "qr_code_text"
        case startDateTime = "start_date_time", endDateTime = "end_date_time"
    }
}

extension DisplayAndPersonalMsgUpdate: ContractPayload {
    public static let messageName = "display_and_personal_msg"
    public static let messageTypes: [MessageType] = [.update]
}

/// Why a display message is sent.
public enum DisplayMessageTrigger: String, Codable, Sendable, CaseIterable {
    case displayMessage = "display_message", authorized, updated, ended
}

/// Station state the message belongs to.
public enum DisplayMessageState: String, Codable, Sendable, CaseIterable { case charging, faulted, idle, unavailable }

/// OCPP MessagePriorityEnum.
public enum DisplayMessagePriority: String, Codable, Sendable, CaseIterable {
    case alwaysFront = "always_front", inFront = "in_front", normalCycle = "normal_cycle"
}
