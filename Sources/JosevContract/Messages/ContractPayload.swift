// The typed payloads of the contract and the registry that decodes an envelope's `data` by
// (name, type). Every (name, type) of contract §2.0 that crosses `josev/cs` / `cs/josev` has a
// payload type; `iso15118_charge_limit` (observed on `smart_charging/iso15118`) has one too.

import JSONSchema

/// The `data` of one or more (name, type)s of the contract.
///
/// Most payload types serve exactly one type of their name. Where the contract gives several types
/// the same fields, one payload type serves them all and lists them in `messageTypes`
/// (`cs_status_and_limits` response and update, for example, are both `CsStatusAndLimits`).
public protocol ContractPayload: Codable, Sendable, Equatable {
    /// The message `name` (snake_case, as on the wire).
    static var messageName: String { get }
    /// The types of `messageName` whose `data` this is; never empty.
    static var messageTypes: [MessageType] { get }
}

extension ContractPayload {
    /// Whether this payload is the `data` of `messageName` with this type.
    public static func serves(_ type: MessageType) -> Bool { messageTypes.contains(type) }

    /// The payload decoded from an envelope's `data`.
    public init(data: JSONValue) throws(ContractPayloadError) {
        do throws(JSONValueDecodingError) {
            self = try JSONValueDecoder().decode(Self.self, from: data)
        } catch {
            throw .invalidData(name: Self.messageName, error)
        }
    }

    /// The payload as an envelope's `data`: nil optionals omitted, keys in declaration order.
    public func encodedData() throws(ContractPayloadError) -> JSONObject {
        let value: JSONValue
        do throws(JSONValueEncodingError) {
            value = try JSONValueEncoder().encode(self)
        } catch {
            throw .notEncodable(name: Self.messageName, error)
        }
        guard case .object(let object) = value else { throw .notAnObject(name: Self.messageName) }
        return object
    }

    /// An envelope of `messageName` with this payload; `type` must be one of `messageTypes`.
    public func envelope(id: String, type: MessageType) throws(ContractPayloadError) -> Envelope {
        guard Self.serves(type) else { throw .unknownMessage(name: Self.messageName, type: type) }
        return Envelope(id: id, name: Self.messageName, type: type, data: try encodedData())
    }

    /// Equality with a payload of any type (false when the types differ).
    public func isEqual(to other: any ContractPayload) -> Bool {
        guard let other = other as? Self else { return false }
        return self == other
    }
}

/// Why a payload could not be decoded or encoded.
public enum ContractPayloadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No payload type for this (name, type): not in the contract, or Josev-internal.
    case unknownMessage(name: String, type: MessageType)
    /// `data` does not fit the payload type; the error names the place (JSON pointer) and the cause
    /// (a missing required key, a wrong JSON type, a value outside an enum).
    case invalidData(name: String, JSONValueDecodingError)
    /// The payload holds a value JSON cannot carry (a non-finite number, for example).
    case notEncodable(name: String, JSONValueEncodingError)
    /// The payload did not encode to a JSON object.
    case notAnObject(name: String)

    public var description: String {
        switch self {
        case .unknownMessage(let name, let type): "no payload type for \(name) \(type.rawValue)"
        case .invalidData(let name, let error): "\(name): invalid data at \(error)"
        case .notEncodable(let name, let error): "\(name): cannot encode \(error)"
        case .notAnObject(let name): "\(name): payload does not encode to a JSON object"
        }
    }
}

/// The registry of payload types: decodes an envelope's `data` by (name, type).
public enum ContractMessages {
    /// One (name, type) of the contract.
    public struct Key: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public let type: MessageType

        public init(name: String, type: MessageType) {
            self.name = name
            self.type = type
        }

        public var description: String { "\(name) \(type.rawValue)" }
    }

    /// Payload types of messages that do not cross `josev/cs` / `cs/josev` (no catalogue line):
    /// `iso15118_charge_limit`, observed on `smart_charging/iso15118`.
    public static let internalPayloadTypes: [any ContractPayload.Type] = [ISO15118ChargeLimitUpdate.self]

    /// Every payload type: those of the catalogue's registrations (in their order, each once), then
    /// the internal ones.
    public static let payloadTypes: [any ContractPayload.Type] = {
        var seen = Set<ObjectIdentifier>()
        var types: [any ContractPayload.Type] = []
        for payload in MessageCatalog.registrations.map(\.payload) + internalPayloadTypes
        where seen.insert(ObjectIdentifier(payload)).inserted {
            types.append(payload)
        }
        return types
    }()

    /// Every (name, type) with a payload type: the catalogue's, then the internal ones.
    public static let keys: [Key] =
        MessageCatalog.registrations.map { Key(name: $0.name, type: $0.type) }
        + internalPayloadTypes.flatMap { payload in payload.messageTypes.map { Key(name: payload.messageName, type: $0) } }

    private static let table: [Key: any ContractPayload.Type] = {
        var table: [Key: any ContractPayload.Type] = [:]
        for registration in MessageCatalog.registrations {
            table[Key(name: registration.name, type: registration.type)] = registration.payload
        }
        for payload in internalPayloadTypes {
            for type in payload.messageTypes { table[Key(name: payload.messageName, type: type)] = payload }
        }
        return table
    }()

    /// The payload type of (name, type), or nil when the contract has none.
    public static func payloadType(name: String, type: MessageType) -> (any ContractPayload.Type)? {
        table[Key(name: name, type: type)]
    }

    /// Decodes `data` as the payload of (name, type).
    public static func decode(name: String, type: MessageType, data: JSONValue) throws(ContractPayloadError)
        -> any ContractPayload
    {
        guard let payload = payloadType(name: name, type: type) else { throw .unknownMessage(name: name, type: type) }
        return try payload.init(data: data)
    }

    /// Decodes `data` as the payload of (name, type).
    public static func decode(name: String, type: MessageType, data: JSONObject) throws(ContractPayloadError)
        -> any ContractPayload
    {
        try decode(name: name, type: type, data: .object(data))
    }

    /// Decodes an envelope's `data` by its name and type.
    public static func decode(_ envelope: Envelope) throws(ContractPayloadError) -> any ContractPayload {
        try decode(name: envelope.name, type: envelope.type, data: .object(envelope.data))
    }

    /// Decodes an envelope's `data` as `P`, which must be the payload type of its (name, type).
    public static func decode<P: ContractPayload>(_ payload: P.Type, from envelope: Envelope) throws(ContractPayloadError) -> P {
        guard envelope.name == P.messageName, P.serves(envelope.type) else {
            throw .unknownMessage(name: envelope.name, type: envelope.type)
        }
        return try P(data: .object(envelope.data))
    }

    /// A payload as an envelope's `data`.
    public static func encode(_ payload: any ContractPayload) throws(ContractPayloadError) -> JSONObject {
        try payload.encodedData()
    }
}

// MARK: cs_parameters and cs_status_and_limits (models in StationMessages.swift)

extension CsParameters: ContractPayload {
    public static let messageName = "cs_parameters"
    public static let messageTypes: [MessageType] = [.response]
}

extension CsStatusAndLimits: ContractPayload {
    public static let messageName = "cs_status_and_limits"
    public static let messageTypes: [MessageType] = [.response, .update]
}

// MARK: Requests without parameters (`data` is `{}`)

/// `cs_parameters` request data (J→CS): `{}`.
public struct CsParametersRequest: ContractPayload {
    public static let messageName = "cs_parameters"
    public static let messageTypes: [MessageType] = [.request]
    public init() {}
    public init(from decoder: any Decoder) throws { _ = try decoder.container(keyedBy: WireKey.self) }
    public func encode(to encoder: any Encoder) throws { _ = encoder.container(keyedBy: WireKey.self) }
}

/// `cs_status_and_limits` request data (J→CS): `{}`.
public struct CsStatusAndLimitsRequest: ContractPayload {
    public static let messageName = "cs_status_and_limits"
    public static let messageTypes: [MessageType] = [.request]
    public init() {}
    public init(from decoder: any Decoder) throws { _ = try decoder.container(keyedBy: WireKey.self) }
    public func encode(to encoder: any Encoder) throws { _ = encoder.container(keyedBy: WireKey.self) }
}

/// `device_model` request data (J→CS, from OCPP): `{}`.
public struct DeviceModelRequest: ContractPayload {
    public static let messageName = "device_model"
    public static let messageTypes: [MessageType] = [.request]
    public init() {}
    public init(from decoder: any Decoder) throws { _ = try decoder.container(keyedBy: WireKey.self) }
    public func encode(to encoder: any Encoder) throws { _ = encoder.container(keyedBy: WireKey.self) }
}

/// `device_model_reset` request data (CS→J): `{}`.
public struct DeviceModelResetRequest: ContractPayload {
    public static let messageName = "device_model_reset"
    public static let messageTypes: [MessageType] = [.request]
    public init() {}
    public init(from decoder: any Decoder) throws { _ = try decoder.container(keyedBy: WireKey.self) }
    public func encode(to encoder: any Encoder) throws { _ = encoder.container(keyedBy: WireKey.self) }
}

/// `websocket_status` request data (CS→J): `{}`.
public struct WebsocketStatusRequest: ContractPayload {
    public static let messageName = "websocket_status"
    public static let messageTypes: [MessageType] = [.request]
    public init() {}
    public init(from decoder: any Decoder) throws { _ = try decoder.container(keyedBy: WireKey.self) }
    public func encode(to encoder: any Encoder) throws { _ = encoder.container(keyedBy: WireKey.self) }
}
