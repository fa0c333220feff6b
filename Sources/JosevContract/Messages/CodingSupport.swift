// Coding helpers of the payload types: keys known only at run time, and JSON objects carried as
// they are.

import JSONSchema

/// A coding key made from any wire name.
struct WireKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(_ stringValue: String) { self.stringValue = stringValue }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer {
    /// The member as a JSON object; any other JSON type is a type mismatch at the member.
    func decodeObject(forKey key: Key) throws -> JSONObject {
        let value = try decode(JSONValue.self, forKey: key)
        guard case .object(let object) = value else {
            throw DecodingError.typeMismatch(
                JSONObject.self, DecodingError.Context(codingPath: codingPath + [key], debugDescription: "expected an object"))
        }
        return object
    }

    /// The member as a JSON object, or nil when absent or null.
    func decodeObjectIfPresent(forKey key: Key) throws -> JSONObject? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try decodeObject(forKey: key)
    }
}
