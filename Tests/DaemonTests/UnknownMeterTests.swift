import JosevContract
import Modbus
import Station
import Testing

@testable import Daemon

@Suite("an unknown meter is never published as zeros")
struct UnknownMeterTests {
    static let configuration = StationConfiguration(
        identity: StationIdentity(serialNumber: "S", vendor: "V", model: "M", firmwareVersion: "1", hardwareVersion: "A"),
        evses: [EVSEConfiguration(
            evseID: "E1", networkInterface: "eth1", ac: ACSupply(nominalVoltage: 230, maxCurrent: 16),
            connectors: [ConnectorConfiguration(id: 1, connectorType: .acThreePhaseCore)])])

    @Test("no meter: the Alfen map reads NaN with no meter-state bit; meter_values has nothing to send")
    func noMeter() async throws {
        let station = Station(configuration: Self.configuration)
        let view = try #require(await station.evseView(at: 0))
        let info = StationModbusAdapter.socketInfo(view)
        #expect(info.meter.state == [])
        #expect(info.meter.voltageLN.l1.isNaN && info.meter.current.l2.isNaN && info.meter.realPowerSum.isNaN && info.meter.frequency.isNaN)
        #expect(info.meter.realEnergyDeliveredSum == 0, "the register the station holds (none counted)")
        guard case .unknownMeter(let id, let quality) = await MeterValues.reading(of: station, evseID: "E1") else {
            Issue.record("meter_values would be sent")
            return
        }
        #expect(id == "E1" && quality == .absent)
    }

    @Test("a measured meter: the map's state is initialised + updated and the values are the meter's")
    func measured() async throws {
        let station = Station(configuration: Self.configuration, hardware: MeteredTestHardware())
        _ = await station.meterValues(evseID: "E1")  // reads the meter
        let info = StationModbusAdapter.socketInfo(try #require(await station.evseView(at: 0)))
        #expect(info.meter.state == [.initialised, .updated])
        #expect(info.meter.voltageLN.l1 == 230)
        guard case .known(let values) = await MeterValues.reading(of: station, evseID: "E1") else {
            Issue.record("meter_values not sent")
            return
        }
        #expect(values.voltage.l1 == 230)
    }
}
