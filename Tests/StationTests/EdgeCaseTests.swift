import JosevContract
import Station
import Testing

@Suite("edge cases")
struct EdgeCaseTests {
    @Test("the most severe fault decides the status; all faults must clear")
    func faultSeverity() async {
        let rig = Rig()
        let id = Fixtures.ac
        await rig.simulator.fault(.overcurrent, evseID: id)
        #expect(await rig.station.statusAndLimits().evses[0].statusCode == .malfunction)
        await rig.simulator.fault(.emergencyStop, evseID: id)
        #expect(await rig.station.statusAndLimits().evses[0].statusCode == .emergencyShutdown)
        await rig.simulator.fault(.powerLoss, evseID: id)
        #expect(await rig.station.statusAndLimits().evses[0].statusCode == .emergencyShutdown)
        await rig.simulator.clearFault(.emergencyStop, evseID: id)
        #expect(await rig.station.statusAndLimits().evses[0].statusCode == .utilityInterruptEvent)
        await rig.simulator.clearFault(.powerLoss, evseID: id)
        await rig.simulator.clearFault(.overcurrent, evseID: id)
        #expect(await rig.station.statusAndLimits().evses[0].statusCode == .ready)
        // A fault reported twice is one fault.
        await rig.simulator.fault(.overcurrent, evseID: id)
        await rig.simulator.fault(.overcurrent, evseID: id)
        #expect(rig.recorder.take().filter { $0 == .hardwareFault(evseID: id, kind: .overcurrent) }.count == 2)  // once per episode
        #expect(await rig.station.state(of: id)?.faults == [.overcurrent])
    }

    @Test("ventilation: D2 charges like C2")
    func ventilation() async throws {
        let rig = Rig()
        try await rig.startBasicSession(ev: SimulatedEV(needsVentilation: true))
        #expect(await rig.station.controlPilot(evseID: Fixtures.ac, connectorID: 1) == .d2)
        #expect(await rig.station.meterValues(evseID: Fixtures.ac)?.current == PhaseValues(all: 16))
    }

    @Test("two connectors: the plugged one gets the pilot, the other stays A1")
    func twoConnectors() async {
        var evse = Fixtures.acEVSE
        evse.connectors = [
            ConnectorConfiguration(id: 1, connectorType: .acThreePhaseCore), ConnectorConfiguration(id: 2, connectorType: .acThreePhaseCore),
        ]
        let rig = Rig([evse])
        let id = Fixtures.ac
        await rig.simulator.plug(evseID: id, connectorID: 2)
        _ = await rig.station.applyPWM(evseID: id, hlc: true)
        #expect(rig.recorder.take() == [
            .cableInfo(evseID: id, connectorID: 2, info: CableInfo(connected: true, lock: .unlocked)),
            .cpStateChanged(evseID: id, connectorID: 2, state: .b1, duty: 100),
            .cpStateChanged(evseID: id, connectorID: 2, state: .b2, duty: 5),
        ])
        #expect(await rig.station.controlPilot(evseID: id, connectorID: 1) == .a1)
        #expect(await rig.simulator.plug(evseID: id, connectorID: 1) == false, "the simulated EVSE has one EV at a time")
        // A fault shows F on every connector.
        await rig.simulator.fault(.overTemperature, evseID: id)
        #expect(Set(rig.recorder.take().compactMap { n -> Int? in
            if case .cpStateChanged(_, let connector, .f, _) = n { connector } else { nil }
        }) == [1, 2])
        #expect(await rig.station.changeAvailability(.connector(evseID: id, connectorID: 1), operative: false) == .accepted)
        #expect(await rig.station.state(of: id)?.isOperative == true, "connector 2 is still operative")
    }

    @Test("meter_values notifications every interval of simulated time, only while charging")
    func meterInterval() async throws {
        let rig = Rig(policy: StationPolicy(localTokens: ["CAFE"], meterValuesInterval: .seconds(10)))
        await rig.advance(.seconds(100))
        #expect(rig.recorder.take().isEmpty, "idle")
        try await rig.startBasicSession()
        await rig.advance(.seconds(5))
        #expect(rig.recorder.take().isEmpty)
        await rig.advance(.seconds(5))
        #expect(rig.recorder.take() == [.meterValues(evseID: Fixtures.ac)])
        await rig.advance(.seconds(9))
        #expect(rig.recorder.take().isEmpty)
        await rig.simulator.evStops(evseID: Fixtures.ac)
        _ = rig.recorder.take()
        await rig.advance(.seconds(60))
        #expect(rig.recorder.take().isEmpty)
        #expect(approximately(try #require(await rig.station.meterValues(evseID: Fixtures.ac)).energyImportedWh, 11040.0 * 19 / 3600, within: 1e-6))
    }

    @Test("without a meter the station integrates the DC measurement it is given")
    func dcMeasurementWithoutMeter() async throws {
        let clock = ManualClock()
        let station = Station(configuration: Fixtures.configuration([Fixtures.dcEVSE]), now: clock.closure)
        let id = Fixtures.dc
        await station.handle(.pilotLevel(evseID: id, connectorID: 1, level: .b))
        _ = await station.applyPWM(evseID: id, hlc: true)
        await station.handle(.pilotLevel(evseID: id, connectorID: 1, level: .c))
        #expect(await station.cableCheck(evseID: id, action: .start) == .finished(.noIMD), "NullHardware never reports a test that did not run as passed")
        await station.hlcCharging(evseID: id, active: true)
        #expect(await station.contactorClosed(evseID: id) == true)
        await station.setDCMeasurement(voltage: 500, current: 60, evseID: id)
        clock.advance(by: .seconds(360))
        let meter = try #require(await station.meterValues(evseID: id))
        #expect(approximately(meter.energyImportedWh, 3000, within: 1e-6))
        #expect(await station.statusAndLimits().evses[0].dc?.presentVoltage == 500)
    }

    @Test("a shared reader's card goes to the EVSE waiting for one; Josev's answer finds it by token")
    func sharedReader() async {
        let rig = Rig([Fixtures.acEVSE, Fixtures.singlePhaseEVSE])
        await rig.simulator.plug(evseID: Fixtures.single)
        #expect(await rig.station.rfid(uid: "1234") == .pending)
        #expect(rig.recorder.take().contains(.authorizationRequested(evseID: Fixtures.single, token: .rfid("1234"))))
        #expect(await rig.station.authorize(evseID: nil, token: .rfid("1234"), decision: .accepted))
        #expect(await rig.station.state(of: Fixtures.single)?.authorization == .accepted(.rfid("1234")))
        #expect(await rig.station.authorize(evseID: nil, token: .rfid("9999"), decision: .accepted) == false)
    }

    @Test("time never runs backwards")
    func monotonic() async throws {
        let rig = Rig()
        try await rig.startBasicSession()
        await rig.station.tick(now: StationInstant(sinceOrigin: .seconds(3600)))
        await rig.station.tick(now: StationInstant(sinceOrigin: .seconds(1800)))
        let meter = try #require(await rig.station.meterValues(evseID: Fixtures.ac))
        #expect(approximately(meter.energyImportedWh, 11040, within: 0.01))
        #expect(meter.timestamp == StationInstant(sinceOrigin: .seconds(3600)))
    }
}
