import MeterDriver
import Testing

@Suite("meter profiles and register decoding")
struct ProfileTests {
    /// float32 230.1 as two big-endian words.
    static let volts: [UInt16] = [0x4366, 0x199A]

    @Test("float32 in both word orders, scaled")
    func float32() {
        #expect(abs(RegisterSpec(.input, 0, .float32).decode(Self.volts) - 230.1) < 1e-4)
        #expect(abs(RegisterSpec(.input, 0, .float32, wordOrder: .little).decode(Self.volts.reversed()) - 230.1) < 1e-4)
        #expect(abs(RegisterSpec(.input, 0, .float32, scale: 1000).decode([0x3F80, 0x0000]) - 1000) < 1e-9)
        #expect(RegisterSpec(.input, 0, .float32).decode([0x7FC0, 0x0000]).isNaN, "NaN stays NaN")
        #expect(RegisterSpec(.input, 0, .float32).decode([0x4366]).isNaN, "too few words")
    }

    @Test("integers, ABB's invalid markers, Iskra's T5/T6")
    func integers() {
        #expect(RegisterSpec(.holding, 0, .int16).decode([0xFFFE]) == -2)
        #expect(abs(RegisterSpec(.holding, 0, .uint32, scale: 0.1).decode([0x0000, 0x08FD]) - 230.1) < 1e-9)
        #expect(RegisterSpec(.holding, 0, .int32, wordOrder: .little).decode([0xFFFF, 0xFFFF]) == -1)
        #expect(RegisterSpec(.holding, 0, .uint64, scale: 10).decode([0, 0, 0x0001, 0x0000]) == 655_360)
        #expect(RegisterSpec(.holding, 0, .uint32, invalidMarkers: true).decode([0xFFFF, 0xFFFF]).isNaN)
        #expect(RegisterSpec(.holding, 0, .int32, invalidMarkers: true).decode([0x7FFF, 0xFFFF]).isNaN)
        #expect(RegisterSpec(.holding, 0, .uint64, invalidMarkers: true).decode([0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF]).isNaN)
        #expect(RegisterSpec(.holding, 0, .uint32).decode([0xFFFF, 0xFFFF]) == 4_294_967_295, "markers only where the profile says")
        // T5: exponent -2 (0xFE), value 23010 → 230.10
        #expect(abs(RegisterSpec(.input, 0, .t5).decode([0xFE00, 0x59E2]) - 230.1) < 1e-9)
        // T6: exponent -3, value -1500 (24-bit two's complement) → -1.5
        #expect(abs(RegisterSpec(.input, 0, .t6).decode([0xFDFF, 0xFA24]) - -1.5) < 1e-9)
    }

    @Test("SDM630: every value in one 76-register read, the serial number apart")
    func sdm630Blocks() throws {
        let profile = try #require(BuiltInProfiles.all["eastron_sdm630"])
        #expect(profile.blocks == [
            RegisterBlock(
                function: .input, address: 0, count: 76,
                quantities: [.voltageL1, .voltageL2, .voltageL3, .currentL1, .currentL2, .currentL3, .powerW, .powerFactor, .frequency,
                    .energyImportWh, .energyExportWh]),
        ])
        #expect(profile.serialBlock == RegisterBlock(function: .holding, address: 0xFC00, count: 2, quantities: [.serialNumber]))
        #expect(profile.overlaps.isEmpty)
    }

    @Test("blocks: only adjacent registers merge without readAcross; function codes never mix; 125 at most")
    func blocks() {
        let profile = MeterProfile(
            name: "t",
            registers: [
                .voltageL1: RegisterSpec(.input, 0, .float32), .voltageL2: RegisterSpec(.input, 2, .float32),
                .currentL1: RegisterSpec(.input, 6, .float32), .energyImportWh: RegisterSpec(.holding, 2, .uint64),
                .frequency: RegisterSpec(.input, 200, .uint16),
            ])
        #expect(profile.blocks.map { [Int($0.function.rawValue), Int($0.address), Int($0.count)] } == [[3, 2, 4], [4, 0, 4], [4, 6, 2], [4, 200, 1]])
        var wide = profile
        wide.readAcross = 500
        #expect(wide.blocks.map { [Int($0.address), Int($0.count)] } == [[2, 4], [0, 8], [200, 1]], "0…201 would be 202 registers")
    }

    @Test("Iskra: energy counters with their exponent register, read in one request")
    func iskraCounters() throws {
        let profile = try #require(BuiltInProfiles.all["iskra_wm3m4"])
        let energy = try #require(profile.blocks.first { $0.quantities.contains(.energyImportWh) })
        #expect(energy.address == 414 && energy.count == 8)
        #expect(energy.quantities == [.energyImportWh, .energyExportWh])
        // 414: exponent 1, 415: exponent -2 (0xFFFE); 418/419: 1234; 420/421: 50000
        var words = [UInt16](repeating: 0, count: 8)
        words[0] = 1
        words[1] = 0xFFFE
        words[4] = 0
        words[5] = 1234
        words[6] = 0
        words[7] = 50_000
        let values = profile.values(of: energy, registers: words)
        #expect(values[.energyImportWh] == 12_340)
        #expect(values[.energyExportWh] == 500)
    }

    @Test("overlapping registers are found")
    func overlaps() {
        let profile = MeterProfile(
            name: "t", registers: [.voltageL1: RegisterSpec(.input, 0, .float32), .voltageL2: RegisterSpec(.input, 1, .float32),
                .currentL1: RegisterSpec(.holding, 1, .float32)])
        #expect(profile.overlaps.map { [$0.0, $0.1] } == [[.voltageL1, .voltageL2]])
    }

    @Test("every built-in profile is free of overlaps and has a name")
    func builtIns() {
        #expect(BuiltInProfiles.all.count == 8)
        for (name, profile) in BuiltInProfiles.all {
            #expect(profile.name == name)
            #expect(profile.overlaps.isEmpty, "\(name)")
            #expect(profile.registers[.voltageL1] != nil, "\(name)")
        }
    }
}
