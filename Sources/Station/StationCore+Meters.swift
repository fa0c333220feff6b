import JosevContract

/// Time and meters: `tick`, the integration of the meters, their readings and the periodic `.meterValues`.
extension StationCore {

    /// Moves the station to `now` (default: the injected clock): integrates the meters, lets the
    /// hardware (or simulation) advance, handles what it reports, and emits the periodic `.meterValues`.
    mutating func tick(now instant: StationInstant? = nil) {
        let before = statusAndLimits()
        advanceTime(to: instant ?? now())
        expireReservations()
        settle()
        superviseContactors()
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

    /// Reads every meter after the outputs changed; the new power holds from now on.
    mutating func refreshMeters() {
        for evse in configuration.evses {
            let id = evse.evseID
            guard var meter = meters[id], let state = states[id] else { continue }
            let reading: MeterReading
            if let measured = hardware.readMeter(evseID: id) {
                reading = measured
                if let voltage = measured.dcVoltage, let current = measured.dcCurrent {
                    states[id]?.presentVoltage = voltage
                    states[id]?.presentCurrent = current
                }
            } else if evse.dc != nil, evse.ac == nil {
                reading = MeterReading(
                    frequency: policy.nominalFrequency, dcVoltage: state.presentVoltage, dcCurrent: state.contactorClosed ? state.presentCurrent : 0)
            } else {
                reading = MeterReading(frequency: policy.nominalFrequency)
            }
            meter.reading = reading
            if let register = reading.energyImportedWh { meter.energyImportedWh = register }
            if let register = reading.energyExportedWh { meter.energyExportedWh = register }
            meters[id] = meter
        }
    }

    func snapshot(_ evse: EVSEConfiguration, state: EVSEState, meter: MeterState) -> MeterSnapshot {
        let reading = meter.reading
        return MeterSnapshot(
            evseID: evse.evseID, timestamp: lastTime, voltage: reading.voltage, current: reading.current,
            power: reading.phasePower, activePower: reading.activePower, frequency: reading.frequency,
            powerFactor: reading.powerFactor, energyImportedWh: meter.energyImportedWh, energyExportedWh: meter.energyExportedWh,
            dcVoltage: reading.dcVoltage, dcCurrent: reading.dcCurrent, maxCurrentOffered: StationLimits.offeredCurrent(evse, state: state),
            transactionEnergyWh: state.transaction?.energyWh(meterNow: meter.energyImportedWh))
    }
}

/// The meter of one EVSE: the last reading and the registers the station integrates.
struct MeterState: Sendable {
    var reading = MeterReading()
    var energyImportedWh = 0.0
    var energyExportedWh = 0.0
    var lastUpdate: StationInstant
    var lastNotification: StationInstant?

    init(since start: StationInstant) { lastUpdate = start }

    /// Integrates the power of the last reading (constant since then) up to `instant`.
    mutating func integrate(until instant: StationInstant) {
        guard instant > lastUpdate else { return }
        let hours = (instant - lastUpdate).inSeconds / 3600
        lastUpdate = instant
        let power = reading.activePower
        guard power.isFinite else { return }
        if reading.energyImportedWh == nil, power > 0 { energyImportedWh += power * hours }
        if reading.energyExportedWh == nil, power < 0 { energyExportedWh += -power * hours }
    }
}
