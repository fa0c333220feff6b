import JosevContract

/// Time and meters: `tick`, the integration of the meters, their readings and the periodic `.meterValues`.
extension StationCore {

    /// Moves the station to `now` (default: the injected clock): integrates the meters, lets the
    /// hardware (or simulation) advance, handles what it reports, and emits the periodic `.meterValues`.
    mutating func tick(now instant: StationInstant? = nil) {
        let before = statusAndLimits()
        advanceTime(to: instant ?? now())
        expireReservations()
        expireConnectionTimeouts()
        settle()
        superviseContactors()
        superviseSocketLocks()
        settle()
        if let interval = policy.meterValuesInterval {
            for id in evseIDs {
                guard let state = states[id] else { continue }
                if state.contactorClosed || state.transaction != nil {
                    let since = meters[id]?.lastNotification ?? lastTime
                    if meters[id]?.lastNotification == nil { meters[id]?.lastNotification = since }
                    if lastTime - since >= interval {
                        meters[id]?.lastNotification = lastTime
                        emit(.meterValues(evseID: id))
                    }
                } else {
                    meters[id]?.lastNotification = nil
                }
            }
        }
        emitStatusChanges(since: before)
    }

    mutating func advanceTime(to instant: StationInstant) {
        let target = max(lastTime, instant)
        for id in evseIDs { meters[id]?.integrate(until: target) }
        lastTime = target
        hardware.advance(to: target)
    }

    /// Reads every meter after the outputs changed; the new power holds from now on. A meter the
    /// hardware cannot read is unknown: its values are not published as measured and nothing is
    /// integrated from it; its energy registers stay at the last values the meter counted.
    mutating func refreshMeters() {
        for evse in configuration.evses {
            let id = evse.evseID
            guard var meter = meters[id], let state = states[id] else { continue }
            var sample = hardware.sampleMeter(evseID: id)
            if sample.quality == .absent, evse.dc != nil, evse.ac == nil {
                // DC without a meter: the power electronics' own output measurement.
                sample = .measured(
                    MeterReading(
                        frequency: policy.nominalFrequency, dcVoltage: state.presentVoltage,
                        dcCurrent: state.contactorClosed ? state.presentCurrent : 0))
            }
            if sample.quality == .measured, sample.age > policy.meterMaxAge { sample.quality = .stale }
            meter.take(sample)
            if sample.quality == .measured, let reading = sample.reading, let voltage = reading.dcVoltage, let current = reading.dcCurrent {
                states[id]?.presentVoltage = voltage
                states[id]?.presentCurrent = current
            }
            if let register = meter.firstImportRegister {
                // The first register a meter reported: a session that started before it counts from it.
                if states[id]?.transaction != nil { states[id]?.transaction?.energyAtStartWh = register }
                meter.firstImportRegister = nil
            }
            meters[id] = meter
        }
    }

    func snapshot(_ evse: EVSEConfiguration, state: EVSEState, meter: MeterState) -> MeterSnapshot {
        let known = meter.quality.isKnown ? meter.reading : nil
        let unknown = PhaseValues(all: .nan)
        var snapshot = MeterSnapshot(
            evseID: evse.evseID, timestamp: lastTime, voltage: known?.voltage ?? unknown, current: known?.current ?? unknown,
            power: known?.phasePower ?? unknown, activePower: known?.activePower ?? .nan, frequency: known?.frequency ?? .nan,
            powerFactor: known?.powerFactor ?? .nan, energyImportedWh: meter.energyImportedWh, energyExportedWh: meter.energyExportedWh,
            dcVoltage: known?.dcVoltage, dcCurrent: known?.dcCurrent, maxCurrentOffered: StationLimits.offeredCurrent(evse, state: state),
            transactionEnergyWh: state.transaction?.energyWh(meterNow: meter.energyImportedWh))
        snapshot.quality = meter.quality
        snapshot.age = meter.measuredAt.map { lastTime - $0 }
        return snapshot
    }
}

/// The meter of one EVSE: the last reading, its quality, and the registers: the meter's own when
/// it has them, else integrated by the station from measured power (never from unknown power).
struct MeterState: Sendable {
    var reading: MeterReading?
    var quality: MeterQuality = .absent
    /// When the reading was taken (station time).
    var measuredAt: StationInstant?
    var energyImportedWh = 0.0
    var energyExportedWh = 0.0
    /// The meter reported its own import register for the first time at the last refresh.
    var firstImportRegister: Double?
    /// The meter's own import register has been read at least once.
    var hasImportRegister = false
    var lastUpdate: StationInstant
    var lastNotification: StationInstant?

    init(since start: StationInstant) { lastUpdate = start }

    /// Takes a new sample: a reading (measured or stale) replaces the last one; the registers
    /// follow the meter's own; an unavailable meter keeps the last registers.
    mutating func take(_ sample: MeterSample) {
        quality = sample.quality
        switch sample.quality {
        case .measured, .stale:
            reading = sample.reading
            measuredAt = lastUpdate + (.zero - sample.age)
        case .unavailable, .absent:
            reading = nil
        }
        if let register = sample.reading?.energyImportedWh ?? sample.lastEnergyImportedWh, register.isFinite {
            if !hasImportRegister { firstImportRegister = register }
            hasImportRegister = true
            energyImportedWh = register
        }
        if let register = sample.reading?.energyExportedWh ?? sample.lastEnergyExportedWh, register.isFinite {
            energyExportedWh = register
        }
    }

    /// Integrates the power of the last reading (constant since then) up to `instant`; only a
    /// measured reading without its own register counts.
    mutating func integrate(until instant: StationInstant) {
        guard instant > lastUpdate else { return }
        let hours = (instant - lastUpdate).inSeconds / 3600
        lastUpdate = instant
        guard quality == .measured, let reading else { return }
        let power = reading.activePower
        guard power.isFinite else { return }
        if reading.energyImportedWh == nil, !hasImportRegister, power > 0 { energyImportedWh += power * hours }
        if reading.energyExportedWh == nil, power < 0 { energyExportedWh += -power * hours }
    }
}
