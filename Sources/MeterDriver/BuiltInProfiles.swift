/// The meters stations ship with. Addresses are 0-based PDU addresses; every profile names the
/// source it was checked against (docs/HARDWARE.md lists them too).
public enum BuiltInProfiles {
    public static let all: [String: MeterProfile] = [
        "eastron_sdm630": eastron("eastron_sdm630"),
        "eastron_sdm72d_m_2": eastron("eastron_sdm72d_m_2"),
        "abb_b23": abb("abb_b23"),
        "abb_b24": abb("abb_b24"),
        "carlo_gavazzi_em340": carloGavazziEM340,
        "inepro_pro380": ineproPRO380,
        "dzg_dvh4013": dzgDVH4013,
        "iskra_wm3m4": iskraWM3M4,
    ]

    /// Eastron SDM630 v2 and SDM72D-M-2: FC4, float32 high word first, SI units, energy in kWh.
    /// Source: volkszaehler/mbmd `meters/rs485/sdm.go` (SDM630) and `sdm72v2.go` (SDM72DM v2):
    /// V 0x00/02/04, I 0x06/08/0A, P 0x34, cos φ 0x3E, Hz 0x46, import 0x48, export 0x4A (EVerest's
    /// GenericPowermeter model `Eastron_SDM630-V2.yaml` is said to agree, 30073 = 0x48; it was not in
    /// the search index). The whole input range 0x00…0x4B answers, so one 76-register read carries
    /// every value. Serial number: holding 0xFC00 (64512), 2 registers, as a Home Assistant Eastron
    /// integration reads it (SDM230); Oppleo's SDM630v2 map reads 40043/40045 instead and mbmd none:
    /// check it on a device before relying on `expect_serial`.
    static func eastron(_ name: String) -> MeterProfile {
        MeterProfile(
            name: name,
            registers: [
                .voltageL1: RegisterSpec(.input, 0x00, .float32), .voltageL2: RegisterSpec(.input, 0x02, .float32),
                .voltageL3: RegisterSpec(.input, 0x04, .float32),
                .currentL1: RegisterSpec(.input, 0x06, .float32), .currentL2: RegisterSpec(.input, 0x08, .float32),
                .currentL3: RegisterSpec(.input, 0x0A, .float32),
                .powerW: RegisterSpec(.input, 0x34, .float32), .powerFactor: RegisterSpec(.input, 0x3E, .float32),
                .frequency: RegisterSpec(.input, 0x46, .float32),
                .energyImportWh: RegisterSpec(.input, 0x48, .float32, scale: 1000),
                .energyExportWh: RegisterSpec(.input, 0x4A, .float32, scale: 1000),
                .serialNumber: RegisterSpec(.holding, 0xFC00, .uint32),
            ],
            readAcross: 0x40)
    }

    /// ABB B23/B24: FC3, big-endian integers, all-ones = invalid. Source: volkszaehler/mbmd
    /// `meters/rs485/abb.go`: V 0x5B00.. u32 ÷10, I 0x5B0C.. u32 ÷100 (unsigned: the sign is in
    /// the power), P 0x5B14 i32 ÷100, cos φ 0x5B3A i16 ÷1000, Hz 0x5B2C u16 ÷100, import 0x5000
    /// and export 0x5004 u64 ÷100 kWh (= ×10 Wh); NaN markers 0xFF… / 0x7FFF… (`wrapTransform`).
    static func abb(_ name: String) -> MeterProfile {
        MeterProfile(
            name: name,
            registers: [
                .voltageL1: RegisterSpec(.holding, 0x5B00, .uint32, scale: 0.1, invalidMarkers: true),
                .voltageL2: RegisterSpec(.holding, 0x5B02, .uint32, scale: 0.1, invalidMarkers: true),
                .voltageL3: RegisterSpec(.holding, 0x5B04, .uint32, scale: 0.1, invalidMarkers: true),
                .currentL1: RegisterSpec(.holding, 0x5B0C, .uint32, scale: 0.01, invalidMarkers: true),
                .currentL2: RegisterSpec(.holding, 0x5B0E, .uint32, scale: 0.01, invalidMarkers: true),
                .currentL3: RegisterSpec(.holding, 0x5B10, .uint32, scale: 0.01, invalidMarkers: true),
                .powerW: RegisterSpec(.holding, 0x5B14, .int32, scale: 0.01, invalidMarkers: true),
                .frequency: RegisterSpec(.holding, 0x5B2C, .uint16, scale: 0.01, invalidMarkers: true),
                .powerFactor: RegisterSpec(.holding, 0x5B3A, .int16, scale: 0.001, invalidMarkers: true),
                .energyImportWh: RegisterSpec(.holding, 0x5000, .uint64, scale: 10, invalidMarkers: true),
                .energyExportWh: RegisterSpec(.holding, 0x5004, .uint64, scale: 10, invalidMarkers: true),
            ])
    }

    /// Carlo Gavazzi EM340 (EM330/ET340): FC4, int32 low word first. Source: volkszaehler/mbmd
    /// `meters/rs485/carlogavazzi-ex3x0.go`: V 0x00.. ÷10, I 0x0C.. ÷1000, P 0x28 ÷10, cos φ 0x31
    /// i16 ÷1000, Hz 0x33 i16 ÷10, import 0x34 and export 0x4E ÷10 kWh (= ×100 Wh).
    static let carloGavazziEM340 = MeterProfile(
        name: "carlo_gavazzi_em340",
        registers: [
            .voltageL1: RegisterSpec(.input, 0x00, .int32, wordOrder: .little, scale: 0.1),
            .voltageL2: RegisterSpec(.input, 0x02, .int32, wordOrder: .little, scale: 0.1),
            .voltageL3: RegisterSpec(.input, 0x04, .int32, wordOrder: .little, scale: 0.1),
            .currentL1: RegisterSpec(.input, 0x0C, .int32, wordOrder: .little, scale: 0.001),
            .currentL2: RegisterSpec(.input, 0x0E, .int32, wordOrder: .little, scale: 0.001),
            .currentL3: RegisterSpec(.input, 0x10, .int32, wordOrder: .little, scale: 0.001),
            .powerW: RegisterSpec(.input, 0x28, .int32, wordOrder: .little, scale: 0.1),
            .powerFactor: RegisterSpec(.input, 0x31, .int16, scale: 0.001),
            .frequency: RegisterSpec(.input, 0x33, .int16, scale: 0.1),
            .energyImportWh: RegisterSpec(.input, 0x34, .int32, wordOrder: .little, scale: 100),
            .energyExportWh: RegisterSpec(.input, 0x4E, .int32, wordOrder: .little, scale: 100),
        ])

    /// Inepro PRO380-Mod (the WAGO 879-30x0 map): FC3, float32 high word first; power in kW.
    /// Source: volkszaehler/mbmd `meters/rs485/inepro.go`: V 0x5002.., Hz 0x5008, I 0x500C..,
    /// P 0x5012 (kW: mbmd scales ÷0.001), cos φ 0x502A, import 0x600C, export 0x6018 kWh;
    /// SmartEVSE issue #89 (PRO380 = WAGO map).
    static let ineproPRO380 = MeterProfile(
        name: "inepro_pro380",
        registers: [
            .voltageL1: RegisterSpec(.holding, 0x5002, .float32), .voltageL2: RegisterSpec(.holding, 0x5004, .float32),
            .voltageL3: RegisterSpec(.holding, 0x5006, .float32), .frequency: RegisterSpec(.holding, 0x5008, .float32),
            .currentL1: RegisterSpec(.holding, 0x500C, .float32), .currentL2: RegisterSpec(.holding, 0x500E, .float32),
            .currentL3: RegisterSpec(.holding, 0x5010, .float32),
            .powerW: RegisterSpec(.holding, 0x5012, .float32, scale: 1000),
            .powerFactor: RegisterSpec(.holding, 0x502A, .float32),
            .energyImportWh: RegisterSpec(.holding, 0x600C, .float32, scale: 1000),
            .energyExportWh: RegisterSpec(.holding, 0x6018, .float32, scale: 1000),
        ])

    /// DZG DVH4013: FC3, uint32 high word first. Source: volkszaehler/mbmd `meters/rs485/dzg.go`:
    /// import power 0x00 ÷10 W, V 0x04.. ÷100, I 0x0A.. ÷1000, cos φ 0x10 ÷1000, Hz 0x12 ÷1000,
    /// import 0x4000 and export 0x4100 ÷1000 kWh (= raw Wh). 0x14 answers "illegal address", so
    /// blocks stay within 0x00…0x13.
    static let dzgDVH4013 = MeterProfile(
        name: "dzg_dvh4013",
        registers: [
            .powerW: RegisterSpec(.holding, 0x00, .uint32, scale: 0.1),
            .voltageL1: RegisterSpec(.holding, 0x04, .uint32, scale: 0.01), .voltageL2: RegisterSpec(.holding, 0x06, .uint32, scale: 0.01),
            .voltageL3: RegisterSpec(.holding, 0x08, .uint32, scale: 0.01),
            .currentL1: RegisterSpec(.holding, 0x0A, .uint32, scale: 0.001), .currentL2: RegisterSpec(.holding, 0x0C, .uint32, scale: 0.001),
            .currentL3: RegisterSpec(.holding, 0x0E, .uint32, scale: 0.001),
            .powerFactor: RegisterSpec(.holding, 0x10, .uint32, scale: 0.001),
            .frequency: RegisterSpec(.holding, 0x12, .uint32, scale: 0.001),
            .energyImportWh: RegisterSpec(.holding, 0x4000, .uint32),
            .energyExportWh: RegisterSpec(.holding, 0x4100, .uint32),
        ],
        readAcross: 2)

    /// Iskra WM3M4/WM3M4C: FC4, Iskra's T5 (unsigned) and T6 (signed) formats: the high byte a
    /// signed decimal exponent, the low 24 bits the value. Source: EVerest
    /// `modules/HardwareDrivers/PowerMeters/RsIskraMeter/src/main.rs` (`read_meter_value`: input
    /// registers Hz 105 T5, V 107/109/111 T5, I 126/128/130 T6, P 140 T6; import counter 418 with
    /// its exponent in 414, export 420 with 415, Wh) and `utils.rs` (`from_t5_format`,
    /// `from_t6_format`, `counter`: a signed 32-bit value × 10^exponent), after Iskra's WM3M4 user
    /// manual v1.14. Addresses are decimal. Billing (OCMF) is not read here.
    static let iskraWM3M4 = MeterProfile(
        name: "iskra_wm3m4",
        registers: [
            .frequency: RegisterSpec(.input, 105, .t5),
            .voltageL1: RegisterSpec(.input, 107, .t5), .voltageL2: RegisterSpec(.input, 109, .t5),
            .voltageL3: RegisterSpec(.input, 111, .t5),
            .currentL1: RegisterSpec(.input, 126, .t6), .currentL2: RegisterSpec(.input, 128, .t6),
            .currentL3: RegisterSpec(.input, 130, .t6),
            .powerW: RegisterSpec(.input, 140, .t6),
            .energyImportWh: RegisterSpec(.input, 418, .int32, exponentAddress: 414),
            .energyExportWh: RegisterSpec(.input, 420, .int32, exponentAddress: 415),
        ],
        readAcross: 4)
}
