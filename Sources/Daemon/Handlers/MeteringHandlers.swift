import JosevContract
import Logging
import Station

// Contract §2.5, metering: meter_values (the request; the periodic update is sent by the
// JosevAnnouncer from the same reading).

extension MeterValuesRequest: RequestHandling {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        switch await MeterValues.reading(of: context.station, evseID: evseID) {
        case .known(let values):
            return context.respond(values)
        case .unknownMeter(let id, let quality):
            // meter_values requires voltage, current and frequency: unknown values are not sent as zeros.
            context.logger.notice("meter_values for \(id) not answered: its meter is \(quality.rawValue)", metadata: ["evse_id": "\(id)"])
            return .none
        case .unknownEVSE:
            context.logger.notice("meter_values for unknown EVSE '\(evseID ?? "-")' ignored")
            return .none
        }
    }
}

extension MeterValues {
    /// What `reading(of:evseID:)` found.
    enum Reading {
        case known(MeterValues)
        /// The meter's voltage, current and power are unknown now (no meter, silent, stale).
        case unknownMeter(evseID: String, quality: MeterQuality)
        case unknownEVSE
    }

    /// The EVSE's meter now (the first EVSE when none is named).
    static func reading(of station: Station, evseID: String?) async -> Reading {
        let configuration = await station.configuration
        guard let id = evseID ?? configuration.evses.first?.evseID, let snapshot = await station.meterValues(evseID: id) else {
            return .unknownEVSE
        }
        guard snapshot.quality.isKnown else { return .unknownMeter(evseID: id, quality: snapshot.quality) }
        var values = MeterValues(
            timestamp: WallClock.now(), evseID: id, voltage: snapshot.voltage, current: snapshot.current,
            powerFactor: snapshot.powerFactor, frequency: snapshot.frequency,
            totalActiveEnergyImported: (snapshot.energyImportedWh * 10).rounded() / 10, totalReactiveEnergyImported: 0)
        values.totalActiveEnergyExported = (snapshot.energyExportedWh * 10).rounded() / 10
        values.dcCurrent = snapshot.dcCurrent
        values.dcVoltage = snapshot.dcVoltage
        values.maxCurrentOffered = snapshot.maxCurrentOffered
        values.powerActiveImport = (max(0, snapshot.activePower) * 10).rounded() / 10
        return .known(values)
    }
}
