/// The protobuf wire format, only what `phyverso.proto` needs: varints (uint32, int32, bool,
/// enums) and length-delimited fields (strings, submessages, repeated submessages). The proto
/// has no `sint`, fixed-width or packed fields; a reader still skips such fields when a newer
/// peer sends them (proto3: unknown fields are ignored), and remembers their numbers.

/// The wire type in the low three bits of a field key.
public enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// Why bytes are not a valid message of `phyverso.proto`.
public enum WireError: Error, Equatable, Sendable {
    /// The bytes end inside a key, a varint or a length-delimited field.
    case truncated
    /// A varint longer than 10 bytes.
    case malformedVarint
    /// Wire type 6 or 7, or field number 0.
    case invalidKey(UInt64)
    /// A known field arrived with another wire type than the proto declares.
    case wrongWireType(field: UInt32, WireType)
    /// An enum value this protocol revision does not define (a CP state the host cannot interpret
    /// is rejected rather than guessed).
    case unknownEnumValue(field: UInt32, Int32)
    /// A string field that is not UTF-8.
    case invalidUTF8(field: UInt32)
    /// Groups (deprecated in proto2, absent from proto3) cannot be skipped safely.
    case groupsUnsupported
}

/// Appends fields in the protobuf encoding.
public struct ProtoWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func appendKey(_ field: UInt32, _ type: WireType) {
        appendVarint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    /// A uint32 field; proto3 leaves a zero out unless it is a oneof member (`always`).
    mutating func uint32(_ field: UInt32, _ value: UInt32, always: Bool = false) {
        guard value != 0 || always else { return }
        appendKey(field, .varint)
        appendVarint(UInt64(value))
    }

    /// An int32 field (and enums): a negative value is sign-extended to ten bytes, as protobuf does.
    mutating func int32(_ field: UInt32, _ value: Int32, always: Bool = false) {
        guard value != 0 || always else { return }
        appendKey(field, .varint)
        appendVarint(UInt64(bitPattern: Int64(value)))
    }

    mutating func bool(_ field: UInt32, _ value: Bool, always: Bool = false) {
        guard value || always else { return }
        appendKey(field, .varint)
        appendVarint(value ? 1 : 0)
    }

    mutating func string(_ field: UInt32, _ value: String) {
        guard !value.isEmpty else { return }
        lengthDelimited(field, Array(value.utf8))
    }

    /// A submessage; written even when all its fields are defaults (a set oneof member, a repeated
    /// element or a present optional submessage).
    mutating func message(_ field: UInt32, _ value: some ProtoMessage) {
        var nested = ProtoWriter()
        value.encode(to: &nested)
        lengthDelimited(field, nested.bytes)
    }

    private mutating func lengthDelimited(_ field: UInt32, _ payload: [UInt8]) {
        appendKey(field, .lengthDelimited)
        appendVarint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }
}

/// Reads fields one after the other; every message decoder drives one.
public struct ProtoReader: Sendable {
    private let bytes: ArraySlice<UInt8>
    private var index: Int
    /// Numbers of the fields skipped because this protocol revision does not know them, in the
    /// order met, including those inside submessages.
    public private(set) var unknownFields: [UInt32] = []

    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func nextField() throws(WireError) -> (number: UInt32, type: WireType)? {
        guard index < bytes.endIndex else { return nil }
        let key = try readVarint()
        let number = key >> 3
        guard number > 0, number <= UInt64(UInt32.max >> 3), let type = WireType(rawValue: UInt8(key & 7)) else {
            throw .invalidKey(key)
        }
        return (UInt32(number), type)
    }

    mutating func readVarint() throws(WireError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < bytes.endIndex else { throw .truncated }
            let byte = bytes[index]
            index += 1
            guard shift < 64 else { throw .malformedVarint }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func readLengthDelimited() throws(WireError) -> ArraySlice<UInt8> {
        let length = try readVarint()
        guard length <= UInt64(bytes.endIndex - index) else { throw .truncated }
        let end = index + Int(length)
        defer { index = end }
        return bytes[index..<end]
    }

    private mutating func expect(_ field: UInt32, _ actual: WireType, _ expected: WireType) throws(WireError) {
        guard actual == expected else { throw .wrongWireType(field: field, actual) }
    }

    /// uint32: the low 32 bits of the varint, as protobuf parsers do.
    mutating func uint32(_ field: UInt32, _ type: WireType) throws(WireError) -> UInt32 {
        try expect(field, type, .varint)
        return UInt32(truncatingIfNeeded: try readVarint())
    }

    mutating func int32(_ field: UInt32, _ type: WireType) throws(WireError) -> Int32 {
        try expect(field, type, .varint)
        return Int32(truncatingIfNeeded: try readVarint())
    }

    mutating func bool(_ field: UInt32, _ type: WireType) throws(WireError) -> Bool {
        try expect(field, type, .varint)
        return try readVarint() != 0
    }

    mutating func enumeration<E: RawRepresentable>(_ field: UInt32, _ type: WireType) throws(WireError) -> E
    where E.RawValue == Int32 {
        let raw = try int32(field, type)
        guard let value = E(rawValue: raw) else { throw .unknownEnumValue(field: field, raw) }
        return value
    }

    mutating func string(_ field: UInt32, _ type: WireType) throws(WireError) -> String {
        try expect(field, type, .lengthDelimited)
        let raw = try readLengthDelimited()
        guard let text = String(validating: raw, as: UTF8.self) else { throw .invalidUTF8(field: field) }
        return text
    }

    mutating func message<M: ProtoMessage>(_ field: UInt32, _ type: WireType) throws(WireError) -> M {
        try expect(field, type, .lengthDelimited)
        var nested = ProtoReader(try readLengthDelimited())
        let value = try M(reading: &nested)
        unknownFields += nested.unknownFields
        return value
    }

    /// Skips a field this revision does not know and remembers its number.
    mutating func skip(_ field: UInt32, _ type: WireType) throws(WireError) {
        switch type {
        case .varint: _ = try readVarint()
        case .lengthDelimited: _ = try readLengthDelimited()
        case .fixed64: try advance(8)
        case .fixed32: try advance(4)
        case .startGroup, .endGroup: throw .groupsUnsupported
        }
        unknownFields.append(field)
    }

    private mutating func advance(_ count: Int) throws(WireError) {
        guard bytes.endIndex - index >= count else { throw .truncated }
        index += count
    }
}

/// A message of `phyverso.proto`: field-by-field decoding with the defaults of `init()`.
public protocol ProtoMessage: Sendable, Equatable {
    init()
    func encode(to writer: inout ProtoWriter)
    /// Reads one known field into `self`; false when `number` is not a field of this message.
    mutating func decodeField(_ number: UInt32, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool
}

extension ProtoMessage {
    /// Decodes all fields of `reader`; unknown fields are skipped (and listed in the reader).
    public init(reading reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let (number, type) = try reader.nextField() {
            if try !decodeField(number, type, from: &reader) {
                try reader.skip(number, type)
            }
        }
    }

    public init(serialized bytes: [UInt8]) throws(WireError) {
        var reader = ProtoReader(bytes[...])
        try self.init(reading: &reader)
    }

    /// Decodes and also returns the numbers of the fields this revision does not know (a peer
    /// speaking a newer protocol shows up here).
    public static func decodeListingUnknownFields(_ bytes: [UInt8]) throws(WireError) -> (message: Self, unknownFields: [UInt32]) {
        var reader = ProtoReader(bytes[...])
        let message = try Self(reading: &reader)
        return (message, reader.unknownFields)
    }

    public func serialized() -> [UInt8] {
        var writer = ProtoWriter()
        encode(to: &writer)
        return writer.bytes
    }
}
