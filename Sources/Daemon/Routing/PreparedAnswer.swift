import JSONSchema
import JosevContract
import Synchronization

/// A response `data` that many answers share (`cs_status_and_limits` while the station does not
/// change): serialized once, and validated once as part of the first whole response sent with it
/// (`Outbox.send(_:answering:facts:)`); every later answer only puts its request's id around the
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

    /// The serialized response to `request`: `{"id":…,"name":…,"type":"response","data":…}`.
    func responseBytes(answering request: Envelope) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(dataBytes.count + request.id.utf8.count + request.name.utf8.count + 48)
        out += Array(#"{"id":"#.utf8)
        out += JSONValue.string(request.id).serializedBytes()
        out += Array(#","name":"#.utf8)
        out += JSONValue.string(request.name).serializedBytes()
        out += Array(#","type":"response","data":"#.utf8)
        out += dataBytes
        out.append(UInt8(ascii: "}"))
        return out
    }
}
