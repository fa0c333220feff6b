// `iso15118_state_info.info` (contract §2.3): an open object whose payment-option key comes in two
// spellings (§2.7).

import JSONSchema

/// The `info` object of `iso15118_state_info`.
///
/// Josev Pro 1.0.x (Python) sends `selectedPaymentOption`, the Rust API and the schema
/// `selected_payment_option`: both are read (the schema's spelling wins when both are present), and
/// the value case-insensitively. Encoding writes `selected_payment_option`. The object is open, so
/// members the contract does not define are kept in `additionalFields` and written back.
public struct ISO15118SessionInfo: Codable, Sendable, Equatable {
    public var sessionID: String?
    public var evccID: String?
    public var evccMAC: String?
    public var selectedPaymentOption: PaymentOption?
    public var `protocol`: ISO15118Protocol?
    public var stopAction: ISO15118StopAction?
    /// Members not defined by the contract, as they came. Members with a defined name (in either
    /// spelling) are ignored here when encoding.
    public var additionalFields: JSONObject

    public init(
        sessionID: String? = nil, evccID: String? = nil, evccMAC: String? = nil, selectedPaymentOption: PaymentOption? = nil,
        protocol: ISO15118Protocol? = nil, stopAction: ISO15118StopAction? = nil, additionalFields: JSONObject = JSONObject()
    ) {
        self.sessionID = sessionID
        self.evccID = evccID
        self.evccMAC = evccMAC
        self.selectedPaymentOption = selectedPaymentOption
        self.protocol = `protocol`
        self.stopAction = stopAction
        self.additionalFields = additionalFields
    }

    /// Wire names of the defined members; `selectedPaymentOptionCamelCase` is only read.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case sessionID = "session_id", evccID = "evcc_id", evccMAC = "evcc_mac"
        case selectedPaymentOption = "selected_payment_option", selectedPaymentOptionCamelCase = "selectedPaymentOption"
        case `protocol`, stopAction = "stop_action"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sessionID = try container.decodeIfPresent(String.self, forKey: .sessionID)
        evccID = try container.decodeIfPresent(String.self, forKey: .evccID)
        evccMAC = try container.decodeIfPresent(String.self, forKey: .evccMAC)
        selectedPaymentOption =
            try container.decodeIfPresent(PaymentOption.self, forKey: .selectedPaymentOption)
            ?? container.decodeIfPresent(PaymentOption.self, forKey: .selectedPaymentOptionCamelCase)
        `protocol` = try container.decodeIfPresent(ISO15118Protocol.self, forKey: .protocol)
        stopAction = try container.decodeIfPresent(ISO15118StopAction.self, forKey: .stopAction)

        let all = try decoder.container(keyedBy: WireKey.self)
        var additional = JSONObject()
        for key in all.allKeys where CodingKeys(rawValue: key.stringValue) == nil {
            additional[key.stringValue] = try all.decode(JSONValue.self, forKey: key)
        }
        additionalFields = additional
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(sessionID, forKey: .sessionID)
        try container.encodeIfPresent(evccID, forKey: .evccID)
        try container.encodeIfPresent(evccMAC, forKey: .evccMAC)
        try container.encodeIfPresent(selectedPaymentOption, forKey: .selectedPaymentOption)
        try container.encodeIfPresent(`protocol`, forKey: .protocol)
        try container.encodeIfPresent(stopAction, forKey: .stopAction)
        var extra = encoder.container(keyedBy: WireKey.self)
        for member in additionalFields where CodingKeys(rawValue: member.key) == nil {
            try extra.encode(member.value, forKey: WireKey(member.key))
        }
    }
}

/// Payment option selected by the EV. Read case-insensitively (`eim`, `Pnc`, …), written upper-case.
public enum PaymentOption: String, Codable, Sendable, CaseIterable {
    case eim = "EIM", pnc = "PNC"

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let option = Self.allCases.first(where: { $0.rawValue == text.uppercased() }) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath, debugDescription: "Cannot initialize PaymentOption from invalid String value \(text)"))
        }
        self = option
    }
}
