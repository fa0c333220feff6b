// Codable bridging between typed Swift values and JSONValue, without Foundation.

/// Why a value could not be encoded; `pointer` is the coding path as a JSON pointer.
public struct JSONValueEncodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let pointer: String
    public let message: String
    public var description: String { "\(pointer.isEmpty ? "(root)" : pointer): \(message)" }
}

/// Why a JSONValue could not be decoded; `pointer` is the coding path as a JSON pointer.
public struct JSONValueDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let pointer: String
    public let message: String
    public var description: String { "\(pointer.isEmpty ? "(root)" : pointer): \(message)" }
}

func pointerString(_ path: [any CodingKey]) -> String {
    JSONPointer(tokens: path.map { $0.intValue.map(String.init) ?? $0.stringValue }).description
}

struct IndexKey: CodingKey {
    let intValue: Int?
    let stringValue: String
    init(_ index: Int) {
        intValue = index
        stringValue = String(index)
    }
    init?(intValue: Int) { self.init(intValue) }
    init?(stringValue: String) { return nil }
}

struct SuperKey: CodingKey {
    var stringValue: String { "super" }
    var intValue: Int? { nil }
    init() {}
    init?(stringValue: String) {}
    init?(intValue: Int) { nil }
}

// MARK: - Encoder

/// Encodes `Encodable` values to `JSONValue`: object keys in encoding (declaration) order, nil
/// optionals omitted (never `null`), integers as `.int`, `Double`/`Float` as `.double`.
public struct JSONValueEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws(JSONValueEncodingError) -> JSONValue {
        if T.self == JSONValue.self, let direct = value as? JSONValue { return direct }
        let box = EncodingNode()
        do {
            try value.encode(to: NodeEncoder(node: box, codingPath: []))
        } catch let error as JSONValueEncodingError {
            throw error
        } catch let EncodingError.invalidValue(_, context) {
            throw JSONValueEncodingError(pointer: pointerString(context.codingPath), message: context.debugDescription)
        } catch {
            throw JSONValueEncodingError(pointer: "", message: "\(error)")
        }
        return box.json
    }
}

final class EncodingNode {
    /// A struct, not a tuple: arrays of tuples are destroyed through the runtime's generic tuple
    /// witnesses, which cost more than building them.
    struct Member {
        let key: String
        var node: EncodingNode
    }

    enum Storage {
        case empty
        case value(JSONValue)
        case object([Member])
        case array([EncodingNode])
    }

    var storage: Storage = .empty

    var json: JSONValue {
        switch storage {
        case .empty: return .object(JSONObject())
        case .value(let v): return v
        case .object(let members):
            return .object(JSONObject(members.map { JSONObject.Member(key: $0.key, value: $0.node.json) }))
        case .array(let elements): return .array(elements.map(\.json))
        }
    }

    func child(forKey key: String) -> EncodingNode {
        let node = EncodingNode()
        var members: [Member] = []
        if case .object(let existing) = storage {
            members = existing
            storage = .empty  // the array is uniquely referenced again: appending does not copy it
        }
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index].node = node
        } else {
            members.append(Member(key: key, node: node))
        }
        storage = .object(members)
        return node
    }

    func remove(key: String) {
        if case .object(var members) = storage {
            members.removeAll { $0.key == key }
            storage = .object(members)
        }
    }

    func appendChild() -> EncodingNode {
        let node = EncodingNode()
        var elements: [EncodingNode] = []
        if case .array(let existing) = storage {
            elements = existing
            storage = .empty  // uniquely referenced again: no copy on append
        }
        elements.append(node)
        storage = .array(elements)
        return node
    }

    var count: Int {
        switch storage {
        case .array(let e): e.count
        case .object(let m): m.count
        default: 0
        }
    }
}

/// Recognises `Optional` generically so `encode(nilOptional, forKey:)` can omit the key.
protocol OptionalMarker {
    var isNilValue: Bool { get }
}

extension Optional: OptionalMarker {
    var isNilValue: Bool { self == nil }
}

/// The JSON of a primitive value, or nil for anything else. The type is found by comparing
/// metatypes (pointer compares), and the cast that follows is to the exact type: no chain of
/// failing dynamic casts per value (the encoder's cost used to be mostly those).
func primitiveJSON<T>(_ value: T, path: @autoclosure () -> [any CodingKey]) throws -> JSONValue? {
    let type = T.self
    if type == Double.self, let v = value as? Double { return try finite(v, path()) }
    if type == String.self, let v = value as? String { return .string(v) }
    if type == Int.self, let v = value as? Int { return .int(Int64(v)) }
    if type == Bool.self, let v = value as? Bool { return .bool(v) }
    if type == JSONValue.self, let v = value as? JSONValue { return v }
    if type == Int64.self, let v = value as? Int64 { return .int(v) }
    if type == Int32.self, let v = value as? Int32 { return .int(Int64(v)) }
    if type == Int16.self, let v = value as? Int16 { return .int(Int64(v)) }
    if type == Int8.self, let v = value as? Int8 { return .int(Int64(v)) }
    if type == UInt.self, let v = value as? UInt { return try unsigned(UInt64(v), path()) }
    if type == UInt64.self, let v = value as? UInt64 { return try unsigned(v, path()) }
    if type == UInt32.self, let v = value as? UInt32 { return .int(Int64(v)) }
    if type == UInt16.self, let v = value as? UInt16 { return .int(Int64(v)) }
    if type == UInt8.self, let v = value as? UInt8 { return .int(Int64(v)) }
    if type == Float.self, let v = value as? Float {
        // Through the Float's shortest text, so 0.1 as Float becomes 0.1, not 0.10000000149011612.
        return try finite(Double(v.description) ?? Double(v), path())
    }
    return nil
}

private func unsigned(_ v: UInt64, _ path: [any CodingKey]) throws -> JSONValue {
    guard let i = Int64(exactly: v) else {
        throw JSONValueEncodingError(pointer: pointerString(path), message: "\(v) does not fit in a 64-bit signed integer")
    }
    return .int(i)
}

private func finite(_ v: Double, _ path: [any CodingKey]) throws -> JSONValue {
    guard v.isFinite else {
        throw JSONValueEncodingError(pointer: pointerString(path), message: "\(v) cannot be represented in JSON")
    }
    return .double(v)
}

struct NodeEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.storage {} else { node.storage = .object([]) }
        return KeyedEncodingContainer(KeyedNodeEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.storage {} else { node.storage = .array([]) }
        return UnkeyedNodeEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeEncoder(node: node, codingPath: codingPath)
    }
}

/// `path` is built only when needed (a nested container, or an error): one array per value was a
/// good part of the encoder's allocations.
func encodeValue<T: Encodable>(_ value: T, into node: EncodingNode, path: @autoclosure () -> [any CodingKey]) throws {
    if let primitive = try primitiveJSON(value, path: path()) {
        node.storage = .value(primitive)
    } else {
        try value.encode(to: NodeEncoder(node: node, codingPath: path()))
    }
}

struct KeyedNodeEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws {
        node.remove(key: key.stringValue)  // nil is omitted, never written as null
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        // `_isOptional` is a compile-time builtin: only an Optional pays for the existential cast.
        if _isOptional(T.self), let optional = value as? any OptionalMarker, optional.isNilValue {
            node.remove(key: key.stringValue)
            return
        }
        try encodeValue(value, into: node.child(forKey: key.stringValue), path: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = node.child(forKey: key.stringValue)
        child.storage = .object([])
        return KeyedEncodingContainer(KeyedNodeEncoder<NestedKey>(node: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = node.child(forKey: key.stringValue)
        child.storage = .array([])
        return UnkeyedNodeEncoder(node: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        NodeEncoder(node: node.child(forKey: "super"), codingPath: codingPath + [SuperKey()])
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        NodeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }
}

struct UnkeyedNodeEncoder: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var count: Int { node.count }

    mutating func encodeNil() throws {
        node.appendChild().storage = .value(.null)  // inside arrays, positions matter: null is kept
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let index = count
        try encodeValue(value, into: node.appendChild(), path: codingPath + [IndexKey(index)])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let path = codingPath + [IndexKey(count)]
        let child = node.appendChild()
        child.storage = .object([])
        return KeyedEncodingContainer(KeyedNodeEncoder<NestedKey>(node: child, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = codingPath + [IndexKey(count)]
        let child = node.appendChild()
        child.storage = .array([])
        return UnkeyedNodeEncoder(node: child, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let path = codingPath + [IndexKey(count)]
        return NodeEncoder(node: node.appendChild(), codingPath: path)
    }
}

struct SingleNodeEncoder: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.storage = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try encodeValue(value, into: node, path: codingPath)
    }
}

// MARK: - Decoder

/// Decodes `Decodable` values from `JSONValue`. Integers accept integral doubles (`3.0`), floating
/// types accept any number; errors say where (JSON pointer) and why.
public struct JSONValueDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(JSONValueDecodingError) -> T {
        do {
            return try NodeDecoder(value: value, codingPath: []).decodeValue(T.self)
        } catch let error as JSONValueDecodingError {
            throw error
        } catch let error as DecodingError {
            throw Self.convert(error)
        } catch {
            throw JSONValueDecodingError(pointer: "", message: "\(error)")
        }
    }

    static func convert(_ error: DecodingError) -> JSONValueDecodingError {
        switch error {
        case .keyNotFound(let key, let context):
            return JSONValueDecodingError(
                pointer: pointerString(context.codingPath), message: "missing required key '\(key.stringValue)'")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return JSONValueDecodingError(pointer: pointerString(context.codingPath), message: context.debugDescription)
        @unknown default:
            return JSONValueDecodingError(pointer: "", message: "\(error)")
        }
    }
}

private func describe(_ value: JSONValue) -> String {
    switch value {
    case .null: "null"
    case .bool: "a boolean"
    case .int, .double: "a number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
}

func mismatch(_ expected: String, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
    DecodingError.typeMismatch(
        Any.self, DecodingError.Context(codingPath: path, debugDescription: "expected \(expected), found \(describe(value))"))
}

struct NodeDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw mismatch("an object", value, codingPath) }
        return KeyedDecodingContainer(KeyedNodeDecoder<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch("an array", value, codingPath) }
        return UnkeyedNodeDecoder(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        switch value {
        case .int(let i):
            guard let v = I(exactly: i) else { throw outOfRange(I.self) }
            return v
        case .double(let d):
            guard d.isFinite, d.rounded() == d else { throw mismatch("an integer", value, codingPath) }
            guard let v = I(exactly: d) else { throw outOfRange(I.self) }
            return v
        default:
            throw mismatch("an integer", value, codingPath)
        }
    }

    func outOfRange<I>(_ type: I.Type) -> DecodingError {
        DecodingError.dataCorrupted(
            DecodingError.Context(codingPath: codingPath, debugDescription: "\(value) does not fit in \(I.self)"))
    }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self, let v = value as? T { return v }
        return try T(from: self)
    }
}

extension NodeDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool { value.isNull }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = value else { throw mismatch("a boolean", value, codingPath) }
        return b
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = value else { throw mismatch("a string", value, codingPath) }
        return s
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard let d = value.numberValue else { throw mismatch("a number", value, codingPath) }
        return d
    }

    func decode(_ type: Float.Type) throws -> Float {
        guard let d = value.numberValue else { throw mismatch("a number", value, codingPath) }
        return Float(d)
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(T.self) }
}

struct KeyedNodeDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let codingPath: [any CodingKey]

    var allKeys: [Key] { object.members.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool { object.contains(key.stringValue) }

    func child(_ key: Key) throws -> NodeDecoder {
        guard let value = object[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key, DecodingError.Context(codingPath: codingPath, debugDescription: "missing key '\(key.stringValue)'"))
        }
        return NodeDecoder(value: value, codingPath: codingPath + [key])
    }

    func decodeNil(forKey key: Key) throws -> Bool { object[key.stringValue]?.isNull ?? true }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try child(key).decodeValue(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        NodeDecoder(value: object["super"] ?? .null, codingPath: codingPath + [SuperKey()])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        NodeDecoder(value: object[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }
}

struct UnkeyedNodeDecoder: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func next() throws -> NodeDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                Any.self,
                DecodingError.Context(
                    codingPath: codingPath + [IndexKey(currentIndex)], debugDescription: "array has only \(elements.count) elements"))
        }
        let decoder = NodeDecoder(value: elements[currentIndex], codingPath: codingPath + [IndexKey(currentIndex)])
        currentIndex += 1
        return decoder
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(T.self) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }

    mutating func superDecoder() throws -> any Decoder { try next() }
}

// MARK: - JSONValue itself is Codable (so typed messages can carry raw JSON)

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let node = decoder as? NodeDecoder {
            self = node.value
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? container.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? container.decode(Double.self) {
            self = .double(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else {
            let members = try container.decode([String: JSONValue].self)
            self = .object(JSONObject(members.sorted { $0.key < $1.key }.map { JSONObject.Member(key: $0.key, value: $0.value) }))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        if let node = encoder as? NodeEncoder {
            node.node.storage = .value(self)
            return
        }
        if case .object(let o) = self {
            var keyed = encoder.container(keyedBy: AnyKey.self)
            for member in o.members { try keyed.encode(member.value, forKey: AnyKey(member.key)) }
            return
        }
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .int(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object: break
        }
    }
}

struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
