/// What a meter profile can read. The raw values are the YAML keys of `hardware.meter_profiles`.
public enum MeterQuantity: String, Sendable, Equatable, Hashable, CaseIterable, Comparable {
    case voltageL1 = "voltage_l1", voltageL2 = "voltage_l2", voltageL3 = "voltage_l3"
    case currentL1 = "current_l1", currentL2 = "current_l2", currentL3 = "current_l3"
    /// Total active power, W (import positive).
    case powerW = "power_w"
    case powerFactor = "power_factor"
    case frequency
    case energyImportWh = "energy_import_wh"
    case energyExportWh = "energy_export_wh"
    /// The meter's serial number (compared with `expect_serial`).
    case serialNumber = "serial_number"

    public static func < (lhs: MeterQuantity, rhs: MeterQuantity) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }
}

/// One request: `count` registers from `address` with one function code.
public struct RegisterBlock: Sendable, Equatable {
    public var function: RegisterSpec.FunctionCode
    public var address: UInt16
    public var count: UInt16
    /// The quantities it carries.
    public var quantities: [MeterQuantity]

    public init(function: RegisterSpec.FunctionCode, address: UInt16, count: UInt16, quantities: [MeterQuantity]) {
        self.function = function
        self.address = address
        self.count = count
        self.quantities = quantities
    }
}

/// Where a meter keeps its values: a register per quantity (built in, `BuiltInProfiles`, or from
/// the configuration's `meter_profiles`).
public struct MeterProfile: Sendable, Equatable {
    public var name: String
    public var registers: [MeterQuantity: RegisterSpec]
    /// Registers that may be read across between two quantities in one request (0: only adjacent
    /// ones). Only for meters whose whole range answers.
    public var readAcross: Int

    /// Modbus allows 125 registers in one read.
    public static let maxBlock = 125

    public init(name: String, registers: [MeterQuantity: RegisterSpec], readAcross: Int = 0) {
        self.name = name
        self.registers = registers
        self.readAcross = readAcross
    }

    /// Two quantities that share a register (an address inside another's range, same function code).
    public var overlaps: [(MeterQuantity, MeterQuantity)] {
        let sorted = registers.sorted { ($0.value.function, $0.value.address) < ($1.value.function, $1.value.address) }
        var found: [(MeterQuantity, MeterQuantity)] = []
        for (index, entry) in sorted.enumerated() {
            for other in sorted[(index + 1)...] where other.value.function == entry.value.function {
                if other.value.range.overlaps(entry.value.range) { found.append((entry.key, other.key)) }
            }
        }
        return found
    }

    /// The requests of one poll cycle: quantities in address order, merged into one read while
    /// they are adjacent (or at most `readAcross` apart) and fit in `maxBlock` registers. The
    /// serial number is left out (`serialBlock`).
    public var blocks: [RegisterBlock] {
        let measured = registers.filter { $0.key != .serialNumber }
            .sorted { ($0.value.function, $0.value.readRange.lowerBound) < ($1.value.function, $1.value.readRange.lowerBound) }
        var blocks: [RegisterBlock] = []
        for (quantity, spec) in measured {
            let needed = spec.readRange
            if var last = blocks.last, last.function == spec.function {
                let end = Int(last.address) + Int(last.count)
                let newEnd = max(end, needed.upperBound + 1)
                if needed.lowerBound - end <= readAcross, newEnd - Int(last.address) <= Self.maxBlock {
                    last.count = UInt16(newEnd - Int(last.address))
                    last.quantities.append(quantity)
                    blocks[blocks.count - 1] = last
                    continue
                }
            }
            blocks.append(
                RegisterBlock(
                    function: spec.function, address: UInt16(needed.lowerBound), count: UInt16(needed.count), quantities: [quantity]))
        }
        return blocks
    }

    /// The serial number's request, if the profile has one.
    public var serialBlock: RegisterBlock? {
        registers[.serialNumber].map { RegisterBlock(function: $0.function, address: $0.address, count: UInt16($0.type.words), quantities: [.serialNumber]) }
    }

    /// The values a block's answer carries (NaN where the meter marked a value invalid).
    public func values(of block: RegisterBlock, registers words: [UInt16]) -> [MeterQuantity: Double] {
        var values: [MeterQuantity: Double] = [:]
        for quantity in block.quantities {
            guard let spec = registers[quantity] else { continue }
            let start = Int(spec.address) - Int(block.address)
            guard start >= 0, start + spec.type.words <= words.count else { continue }
            var value = spec.decode(words[start..<(start + spec.type.words)])
            if let exponentAddress = spec.exponentAddress {
                let index = Int(exponentAddress) - Int(block.address)
                guard words.indices.contains(index) else { continue }
                value *= RegisterSpec.powerOfTen(Int(Int16(bitPattern: words[index])))
            }
            values[quantity] = value
        }
        return values
    }
}
