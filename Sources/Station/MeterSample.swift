/// How far the station trusts a meter's values.
public enum MeterQuality: String, Sendable, Equatable {
    /// Read from the meter (or the simulation) recently enough (`StationPolicy.meterMaxAge`).
    case measured
    /// The last reading is older than the station accepts: its values are unknown now; its energy
    /// registers are the last the meter counted.
    case stale
    /// The meter does not answer, answers nonsense, or was refused (`meter_communication`).
    case unavailable
    /// The EVSE has no meter at all.
    case absent

    /// Voltage, current, power and frequency can be shown as measured.
    public var isKnown: Bool { self == .measured }
}

/// What a driver knows of an EVSE's meter: the last reading with its age, or nothing.
///
/// A polled meter (`MeterDriver`) answers from its cache, so the reading may be old; a missing
/// or silent meter is `unavailable` (never a reading of zeros). `lastEnergy…` keep the meter's
/// registers of its last good cycle while it is unavailable: a session's energy is a difference
/// of those registers, never integrated from a power the station does not know.
public struct MeterSample: Sendable, Equatable {
    public var quality: MeterQuality
    /// The reading; nil unless `quality` is `.measured` or `.stale`.
    public var reading: MeterReading?
    /// How old the reading is (zero: read now).
    public var age: Duration
    /// The import register of the last good cycle, Wh (kept while the meter is unavailable).
    public var lastEnergyImportedWh: Double?
    public var lastEnergyExportedWh: Double?

    public init(
        quality: MeterQuality, reading: MeterReading? = nil, age: Duration = .zero, lastEnergyImportedWh: Double? = nil,
        lastEnergyExportedWh: Double? = nil
    ) {
        self.quality = quality
        self.reading = reading
        self.age = age
        self.lastEnergyImportedWh = lastEnergyImportedWh ?? reading?.energyImportedWh
        self.lastEnergyExportedWh = lastEnergyExportedWh ?? reading?.energyExportedWh
    }

    /// A reading taken now.
    public static func measured(_ reading: MeterReading, age: Duration = .zero) -> MeterSample {
        MeterSample(quality: .measured, reading: reading, age: age)
    }

    /// No meter on the EVSE.
    public static let absent = MeterSample(quality: .absent)
}
