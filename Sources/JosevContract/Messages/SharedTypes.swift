// Wire enums shared by several payloads of the contract (§2), and conversions between related enums.

/// `accepted` or `rejected`: the status (or `result`) of many responses.
public enum AcceptanceStatus: String, Codable, Sendable, CaseIterable { case accepted, rejected }

extension TokenType {
    /// The token type of an `authorization` request in the full enum.
    public init(_ requestTokenType: AuthorizationRequestTokenType) {
        switch requestTokenType {
        case .iso14443: self = .iso14443
        case .iso15693: self = .iso15693
        case .keyCode: self = .keyCode
        case .local: self = .local
        case .noAuthorization: self = .noAuthorization
        case .macAddress: self = .macAddress
        }
    }
}

extension AuthorizationRequestTokenType {
    /// The token type as an `authorization` request may carry it; nil for `e_maid` and `central`.
    public init?(_ tokenType: TokenType) {
        switch tokenType {
        case .iso14443: self = .iso14443
        case .iso15693: self = .iso15693
        case .keyCode: self = .keyCode
        case .local: self = .local
        case .noAuthorization: self = .noAuthorization
        case .macAddress: self = .macAddress
        case .eMAID, .central: return nil
        }
    }
}
