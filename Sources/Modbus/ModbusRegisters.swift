// Values in holding registers, as the Alfen profile encodes them: big-endian bytes, 32/64-bit
// values high word first, strings two ASCII characters per register (first in the high byte),
// NUL-terminated and NUL-padded.

public enum ModbusRegisters {
    /// The register value of unavailable data inside a block (float32/64 read as NaN).
    public static let unavailable: UInt16 = 0xFFFF

    // MARK: Encoding

    public static func registers(uint32 value: UInt32) -> [UInt16] {
        [UInt16(truncatingIfNeeded: value >> 16), UInt16(truncatingIfNeeded: value)]
    }

    public static func registers(uint64 value: UInt64) -> [UInt16] {
        [48, 32, 16, 0].map { UInt16(truncatingIfNeeded: value >> UInt64($0)) }
    }

    /// NaN is always written as all ones (0xFFFF 0xFFFF), the "unavailable" pattern.
    public static func registers(float32 value: Float) -> [UInt16] {
        value.isNaN ? [unavailable, unavailable] : registers(uint32: value.bitPattern)
    }

    /// NaN is always written as all ones, the "unavailable" pattern.
    public static func registers(float64 value: Double) -> [UInt16] {
        value.isNaN ? Array(repeating: unavailable, count: 4) : registers(uint64: value.bitPattern)
    }

    /// Exactly `count` registers: ASCII (other characters become "?"), cut so that at least one
    /// NUL terminator always fits, then NUL-padded.
    public static func registers(string: String, count: Int) -> [UInt16] {
        guard count > 0 else { return [] }
        var bytes = string.unicodeScalars.prefix(count * 2 - 1).map { scalar -> UInt8 in
            scalar.isASCII && scalar.value >= 0x20 && scalar.value < 0x7F ? UInt8(scalar.value) : UInt8(ascii: "?")
        }
        bytes += Array(repeating: 0, count: count * 2 - bytes.count)
        return (0..<count).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
    }

    // MARK: Decoding (nil when too few registers)

    public static func uint32<C: Collection>(_ registers: C) -> UInt32? where C.Element == UInt16 {
        guard registers.count >= 2 else { return nil }
        return registers.prefix(2).reduce(0) { $0 << 16 | UInt32($1) }
    }

    public static func uint64<C: Collection>(_ registers: C) -> UInt64? where C.Element == UInt16 {
        guard registers.count >= 4 else { return nil }
        return registers.prefix(4).reduce(0) { $0 << 16 | UInt64($1) }
    }

    public static func float32<C: Collection>(_ registers: C) -> Float? where C.Element == UInt16 {
        uint32(registers).map(Float.init(bitPattern:))
    }

    public static func float64<C: Collection>(_ registers: C) -> Double? where C.Element == UInt16 {
        uint64(registers).map(Double.init(bitPattern:))
    }

    public static func int16(_ register: UInt16) -> Int16 { Int16(bitPattern: register) }

    /// The characters up to the first NUL (bytes outside ASCII are replaced by U+FFFD).
    public static func string<C: Collection>(_ registers: C) -> String where C.Element == UInt16 {
        var bytes: [UInt8] = []
        for register in registers {
            for byte in [UInt8(register >> 8), UInt8(register & 0xFF)] {
                if byte == 0 { return String(decoding: bytes, as: UTF8.self) }
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
