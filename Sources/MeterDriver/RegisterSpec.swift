/// How one quantity is stored in a meter's registers, and how to turn the words into a value.
public struct RegisterSpec: Sendable, Equatable {
    /// Read holding (3) or input (4) registers.
    public enum FunctionCode: UInt8, Sendable, Equatable, Hashable, Comparable {
        case holding = 3
        case input = 4
        public static func < (lhs: FunctionCode, rhs: FunctionCode) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public enum ValueType: String, Sendable, Equatable, CaseIterable {
        case int16, uint16, int32, uint32, uint64, float32
        /// Iskra "T5"/"T6": the high byte is a signed decimal exponent, the low 24 bits the value
        /// (unsigned for T5, signed for T6).
        case t5, t6

        public var words: Int {
            switch self {
            case .int16, .uint16: 1
            case .int32, .uint32, .float32, .t5, .t6: 2
            case .uint64: 4
            }
        }
    }

    /// `big`: high word first (ABCD); `little`: low word first (CDAB, "LSW first"). Bytes inside a
    /// word are always big-endian (Modbus).
    public enum WordOrder: String, Sendable, Equatable {
        case big, little
    }

    public var function: FunctionCode
    /// 0-based PDU address (a manual's "30001" is input register 0).
    public var address: UInt16
    public var type: ValueType
    public var wordOrder: WordOrder
    /// The value is raw × scale (e.g. 1000 for a kWh register read as Wh).
    public var scale: Double
    /// The all-ones value (0xFFFF…, signed: 0x7FFF…) means "no value" (ABB).
    public var invalidMarkers: Bool
    /// A register (same function code, read in the same request) holding a decimal exponent:
    /// value × 10^exponent (Iskra's energy counters).
    public var exponentAddress: UInt16?

    public init(
        _ function: FunctionCode, _ address: UInt16, _ type: ValueType, wordOrder: WordOrder = .big, scale: Double = 1,
        invalidMarkers: Bool = false, exponentAddress: UInt16? = nil
    ) {
        self.function = function
        self.address = address
        self.type = type
        self.wordOrder = wordOrder
        self.scale = scale
        self.invalidMarkers = invalidMarkers
        self.exponentAddress = exponentAddress
    }

    /// The registers it occupies.
    public var range: ClosedRange<Int> { Int(address)...(Int(address) + type.words - 1) }

    /// The registers a request must cover: its own and its exponent's.
    public var readRange: ClosedRange<Int> {
        guard let exponent = exponentAddress.map(Int.init) else { return range }
        return min(range.lowerBound, exponent)...max(range.upperBound, exponent)
    }

    /// The value from exactly `type.words` registers (in the order the meter sent them); NaN for
    /// an invalid marker or a NaN/infinite float.
    public func decode(_ registers: some Collection<UInt16>) -> Double {
        guard registers.count == type.words else { return .nan }
        let words = wordOrder == .big ? Array(registers) : Array(registers.reversed())
        var bits: UInt64 = 0
        for word in words { bits = bits << 16 | UInt64(word) }
        let raw: Double
        switch type {
        case .uint16:
            if invalidMarkers, bits == 0xFFFF { return .nan }
            raw = Double(bits)
        case .int16:
            if invalidMarkers, bits == 0x7FFF { return .nan }
            raw = Double(Int16(truncatingIfNeeded: bits))
        case .uint32:
            if invalidMarkers, bits == 0xFFFF_FFFF { return .nan }
            raw = Double(bits)
        case .int32:
            if invalidMarkers, bits == 0x7FFF_FFFF { return .nan }
            raw = Double(Int32(truncatingIfNeeded: bits))
        case .uint64:
            if invalidMarkers, bits == UInt64.max { return .nan }
            raw = Double(bits)
        case .float32:
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: bits))
            guard value.isFinite else { return .nan }
            raw = Double(value)
        case .t5, .t6:
            let exponent = Int(Int8(truncatingIfNeeded: bits >> 24))
            let mantissa = bits & 0xFF_FFFF
            let value = type == .t6 && mantissa & 0x80_0000 != 0 ? Double(Int64(mantissa) - 0x100_0000) : Double(mantissa)
            raw = value * Self.powerOfTen(exponent)
        }
        return raw * scale
    }

    static func powerOfTen(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(exponent) { result *= 10 }
        return exponent < 0 ? 1 / result : result
    }
}
