import Basics
import JosevContract
import Station

/// Counters of one meter on its bus (`cs-companion hardware check`, `status`).
public struct MeterStatistics: Sendable, Equatable {
    public var requests = 0
    public var timeouts = 0
    /// Bad CRC, noise, a frame from another unit, a late or mismatched answer.
    public var framingErrors = 0
    public var exceptions = 0
    public var retries = 0
    /// Values dropped as implausible (NaN, invalid markers, out of range, energy going backwards).
    public var implausible = 0
    public var goodCycles = 0
    public var failedCycles = 0
    /// Latency of the last successful request and the largest seen, ms.
    public var lastLatencyMs = 0.0
    public var maxLatencyMs = 0.0
    /// Duration of the last cycle, ms.
    public var lastCycleMs = 0.0

    public init() {}
}

/// What the station may know of one meter, shared between its bus thread (writes) and the
/// station (reads): the last good values with their time, the health, and events to report.
public final class MeterChannel: Sendable {
    public struct State: Sendable {
        public var values: [MeterQuantity: Double] = [:]
        public var readAt: ContinuousClock.Instant?
        /// The meter's registers of its last good read, kept through outages.
        public var energyImportWh: Double?
        public var energyExportWh: Double?
        public var serialNumber: String?
        /// Cycles failed in a row.
        public var failedInRow = 0
        /// `meter_communication` is raised (offline, refused, or replaced).
        public var faulted = false
        /// Why the meter is refused for good (serial mismatch, replaced); nil: not refused.
        public var refusal: String?
        public var statistics = MeterStatistics()
        /// Events the station has not collected yet.
        public var pending: [HardwareEvent] = []
    }

    public let evseID: String
    public let unitID: UInt8
    public let profile: MeterProfile
    public let expectSerial: String?
    public let pollInterval: Duration
    public let offlineAfterFailedCycles: Int
    let state = Locked(State())

    public init(
        evseID: String, unitID: UInt8, profile: MeterProfile, expectSerial: String? = nil, pollInterval: Duration = .seconds(1),
        offlineAfterFailedCycles: Int = 2
    ) {
        self.evseID = evseID
        self.unitID = unitID
        self.profile = profile
        self.expectSerial = expectSerial
        self.pollInterval = pollInterval
        self.offlineAfterFailedCycles = max(1, offlineAfterFailedCycles)
    }

    public var current: State { state.current }

    /// Collects the events queued for the station.
    func drainEvents() -> [HardwareEvent] {
        state.withLock { state in
            let events = state.pending
            state.pending = []
            return events
        }
    }

    /// The station's view at `now`: measured (with its age) after a good cycle, unavailable while
    /// faulted or before the first good cycle; the registers of the last good cycle either way.
    func sample(at now: ContinuousClock.Instant) -> MeterSample {
        state.withLock { state in
            guard !state.faulted, let readAt = state.readAt else {
                return MeterSample(quality: .unavailable, lastEnergyImportedWh: state.energyImportWh, lastEnergyExportedWh: state.energyExportWh)
            }
            let values = state.values
            func value(_ quantity: MeterQuantity) -> Double { values[quantity] ?? .nan }
            var reading = MeterReading(
                voltage: PhaseValues(l1: value(.voltageL1), l2: value(.voltageL2), l3: value(.voltageL3)),
                current: PhaseValues(l1: value(.currentL1), l2: value(.currentL2), l3: value(.currentL3)),
                frequency: value(.frequency), powerFactor: values[.powerFactor].map(abs) ?? 1,
                energyImportedWh: state.energyImportWh, energyExportedWh: state.energyExportWh)
            reading.measuredActivePower = values[.powerW]
            return MeterSample(
                quality: .measured, reading: reading, age: readAt.duration(to: now), lastEnergyImportedWh: state.energyImportWh,
                lastEnergyExportedWh: state.energyExportWh)
        }
    }
}
