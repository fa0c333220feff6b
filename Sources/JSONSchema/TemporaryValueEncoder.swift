// Stand-in until the JSONSchema module's Codable bridge lands; removed then.
public struct JSONValueEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        let encoder = ValueEncoder()
        try value.encode(to: encoder)
        return encoder.storage.value
    }
}

final class Box {
    var value: JSONValue = .null
}

final class ValueEncoder: Encoder {
    let storage = Box()
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = storage.value {} else { storage.value = .object(JSONObject()) }
        return KeyedEncodingContainer(Keyed<Key>(storage: storage))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        storage.value = .array([])
        return Unkeyed(storage: storage)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { Single(storage: storage) }

    static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        if let v = value as? Double { return .double(v) }
        if let v = value as? Int { return .int(Int64(v)) }
        if let v = value as? String { return .string(v) }
        if let v = value as? Bool { return .bool(v) }
        let encoder = ValueEncoder()
        try value.encode(to: encoder)
        return encoder.storage.value
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let storage: Box
        var codingPath: [any CodingKey] = []
        func set(_ key: Key, _ value: JSONValue) {
            guard case .object(var object) = storage.value else { return }
            object[key.stringValue] = value
            storage.value = .object(object)
        }
        mutating func encodeNil(forKey key: Key) throws {}
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { set(key, try ValueEncoder.encode(value)) }
        mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
            fatalError("not used")
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { fatalError("not used") }
        mutating func superEncoder() -> any Encoder { fatalError("not used") }
        mutating func superEncoder(forKey key: Key) -> any Encoder { fatalError("not used") }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let storage: Box
        var codingPath: [any CodingKey] = []
        var count: Int { storage.value.arrayValue?.count ?? 0 }
        mutating func encodeNil() throws { append(.null) }
        mutating func encode<T: Encodable>(_ value: T) throws { append(try ValueEncoder.encode(value)) }
        func append(_ value: JSONValue) {
            guard case .array(var array) = storage.value else { return }
            array.append(value)
            storage.value = .array(array)
        }
        mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type) -> KeyedEncodingContainer<N> { fatalError("not used") }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { fatalError("not used") }
        mutating func superEncoder() -> any Encoder { fatalError("not used") }
    }

    struct Single: SingleValueEncodingContainer {
        let storage: Box
        var codingPath: [any CodingKey] = []
        mutating func encodeNil() throws { storage.value = .null }
        mutating func encode<T: Encodable>(_ value: T) throws { storage.value = try ValueEncoder.encode(value) }
    }
}
