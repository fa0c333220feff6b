import JosevContract
import Logging
import Station

// Contract §2.5, metering: meter_values (the request; the periodic update is sent by the
// JosevAnnouncer from the same reading).

extension MeterValuesRequest: RequestHandling {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        guard let values = await MeterValues.reading(of: context.station, evseID: evseID) else {
            context.logger.notice("meter_values for unknown EVSE '\(evseID ?? "-")' ignored")
            return .none
        }
        return context.respond(values)
    }
}

extension MeterValues {
    /// The EVSE's meter now (the first EVSE when none is named); nil for an unknown EVSE.
    static func reading(of station: Station, evseID: String?) async -> MeterValues? {
        let configuration = await station.configuration
        guard let id = evseID ?? configuration.evses.first?.evseID, let snapshot = await station.meterValues(evseID: id) else {
            return nil
        }
        var values = MeterValues(
            timestamp: WallClock.now(), evseID: id, voltage: snapshot.voltage, current: snapshot.current,
            powerFactor: snapshot.powerFactor, frequency: snapshot.frequency,
            totalActiveEnergyImported: (snapshot.energyImportedWh * 10).rounded() / 10, totalReactiveEnergyImported: 0)
        values.totalActiveEnergyExported = (snapshot.energyExportedWh * 10).rounded() / 10
        values.dcCurrent = snapshot.dcCurrent
        values.dcVoltage = snapshot.dcVoltage
        values.maxCurrentOffered = snapshot.maxCurrentOffered
        values.powerActiveImport = (max(0, snapshot.activePower) * 10).rounded() / 10
        return values
    }
}
