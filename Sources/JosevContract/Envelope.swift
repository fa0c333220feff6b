import Basics
import JSONSchema

/// The two topics of the contract (§1.2): Josev publishes on `josev/cs`, the CS on `cs/josev`.
public enum Topic {
    public static let josevToCS = "josev/cs"
    public static let csToJosev = "cs/josev"
}

/// `type` of an envelope (§1.3).
public enum MessageType: String, Sendable, CaseIterable, Codable {
    case request, response, update
}

/// One message on the wire (§1.1): exactly `id`, `name`, `type` and `data`.
public struct Envelope: Sendable, Equatable {
    public var id: String
    public var name: String
    public var type: MessageType
    public var data: JSONObject

    public init(id: String, name: String, type: MessageType, data: JSONObject) {
        self.id = id
        self.name = name
        self.type = type
        self.data = data
    }

    /// Reads the four keys of an envelope that already passed `envelope.json`; nil otherwise.
    public init?(json: JSONValue) {
        guard case .object(let object) = json,
            let id = object["id"]?.stringValue,
            let name = object["name"]?.stringValue,
            let typeName = object["type"]?.stringValue,
            let type = MessageType(rawValue: typeName),
            let data = object["data"]?.objectValue
        else { return nil }
        self.init(id: id, name: name, type: type, data: data)
    }

    /// The envelope as JSON, keys in the contract's order.
    public var json: JSONValue {
        .object([
            "id": .string(id),
            "name": .string(name),
            "type": .string(type.rawValue),
            "data": .object(data),
        ])
    }

    /// The answer to this request: same `id` and `name` (§1.1), type `response`.
    public func response(data: JSONObject) -> Envelope {
        Envelope(id: id, name: name, type: .response, data: data)
    }

    /// A fresh update from the CS, with a new UUIDv4.
    public static func update(name: String, data: JSONObject) -> Envelope {
        Envelope(id: EnvelopeID.random(), name: name, type: .update, data: data)
    }

    /// A fresh request from the CS, with a new UUIDv4.
    public static func request(name: String, data: JSONObject) -> Envelope {
        Envelope(id: EnvelopeID.random(), name: name, type: .request, data: data)
    }
}

/// Message ids: random UUIDv4 strings, as Josev makes them with `uuid4()`.
public enum EnvelopeID {
    public static func random() -> String { UUIDText.random() }
}
