import JSONSchema
import JosevContract
import Synchronization

/// A response `data` that many answers share (`cs_status_and_limits` while the station does not
/// change): serialized once, and validated once as part of the first whole response sent with it
/// (`Outbox.send(_:prepared:facts:)`); every later answer only puts its request's id around the
/// same bytes. The bytes are those the full serialization of the response gives.
final class PreparedAnswer: Sendable {
    let data: JSONObject
    private let dataBytes: [UInt8]
    private let validated = Atomic<Bool>(false)

    init(data: JSONObject) {
        self.data = data
        dataBytes = JSONValue.object(data).serializedBytes()
    }

    /// A response carrying this data passed the outgoing schema.
    var isValidated: Bool { validated.load(ordering: .acquiring) }

    func markValidated() { validated.store(true, ordering: .releasing) }

    private static let idKey = Array(#"{"id":"#.utf8)
    private static let nameKey = Array(#","name":"#.utf8)
    private static let typeAndDataKey = Array(#","type":"response","data":"#.utf8)

    /// The serialized `response` (which carries this data): `{"id":…,"name":…,"type":"response","data":…}`.
    func bytes(of response: Envelope) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(dataBytes.count + response.id.utf8.count + response.name.utf8.count + 48)
        out += Self.idKey
        out += JSONValue.string(response.id).serializedBytes()
        out += Self.nameKey
        out += JSONValue.string(response.name).serializedBytes()
        out += Self.typeAndDataKey
        out += dataBytes
        out.append(UInt8(ascii: "}"))
        return out
    }
}
