import JosevContract
import Station
import Testing

@Suite("charging sessions on simulated hardware")
struct SessionTests {
    @Test("AC basic charging: plug, RFID, 16 A, 1 h on 3 × 230 V, stop, unplug")
    func acBasicSession() async throws {
        let rig = Rig()
        let station = rig.station
        let simulator = rig.simulator
        let id = Fixtures.ac
        let duty = 16 / 0.6

        #expect(await simulator.plug(evseID: id, connectorID: 1, ev: SimulatedEV(maxCurrent: 32, phases: 3)))
        #expect(rig.recorder.take() == [
            .cableInfo(evseID: id, connectorID: 1, info: CableInfo(connected: true, lock: .unlocked)),
            .cpStateChanged(evseID: id, connectorID: 1, state: .b1, duty: 100),
        ])
        #expect(await station.rfid(uid: "CAFE") == .acceptedLocally)
        #expect(await station.startTransaction(evseID: id, transactionID: "T-1", token: .rfid("CAFE")))
        #expect(await station.applyPWM(evseID: id, hlc: false, current: 16) == .applied(.nominal(current: 16)))
        #expect(await simulator.evRequestsPower(evseID: id))
        #expect(rig.recorder.take() == [
            .authorizationChanged(evseID: id, state: .accepted(.rfid("CAFE")), local: true),
            .cpStateChanged(evseID: id, connectorID: 1, state: .b2, duty: duty),
            .cpStateChanged(evseID: id, connectorID: 1, state: .c2, duty: duty),
            .contactorChanged(evseID: id, closed: true),
        ])

        var meter = try #require(await station.meterValues(evseID: id))
        #expect(meter.current == PhaseValues(all: 16))
        #expect(meter.voltage == PhaseValues(all: 230))
        #expect(meter.power == PhaseValues(all: 3680))
        #expect(meter.activePower == 11040)
        #expect(meter.frequency == 50)
        #expect(meter.energyImportedWh == 0)

        // One hour in one-minute steps: a meter_values notification every minute.
        for _ in 0..<60 { await rig.advance(.seconds(60)) }
        let periodic = rig.recorder.take()
        #expect(periodic == Array(repeating: .meterValues(evseID: id), count: 60))

        meter = try #require(await station.meterValues(evseID: id))
        #expect(approximately(meter.energyImportedWh, 11040, within: 0.01), "\(meter.energyImportedWh)")
        #expect(approximately(meter.transactionEnergyWh ?? 0, 11040, within: 0.01))
        #expect(meter.timestamp == StationInstant(sinceOrigin: .seconds(3600)))

        #expect(await simulator.evStops(evseID: id))
        #expect(rig.recorder.take() == [
            .cpStateChanged(evseID: id, connectorID: 1, state: .b2, duty: duty),
            .contactorChanged(evseID: id, closed: false),
        ])
        await rig.advance(.seconds(600))
        let ended = try #require(await station.endTransaction(transactionID: "T-1", evseID: id))
        #expect(approximately(ended.energyWh(meterNow: 0), 11040, within: 0.01))
        #expect(ended.startedAt == .origin)
        #expect(ended.endedAt == StationInstant(sinceOrigin: .seconds(4200)))
        #expect(await simulator.unplug(evseID: id))
        #expect(rig.recorder.take().pilotStates == [.b1, .a1])

        meter = try #require(await station.meterValues(evseID: id))
        #expect(meter.current == PhaseValues(all: 0))
        #expect(approximately(meter.energyImportedWh, 11040, within: 0.01))
    }

    @Test("a single tick over an hour integrates the same energy")
    func oneTick() async throws {
        let rig = Rig()
        try await rig.startBasicSession()
        await rig.advance(.seconds(3600))
        #expect(rig.recorder.take() == [.meterValues(evseID: Fixtures.ac)])
        let meter = try #require(await rig.station.meterValues(evseID: Fixtures.ac))
        #expect(approximately(meter.energyImportedWh, 11040, within: 0.01))
    }

    @Test("the EV draws min(offered, its own maximum) on its phases")
    func evMaximum() async throws {
        let rig = Rig()
        try await rig.startBasicSession(current: 32, ev: SimulatedEV(maxCurrent: 10, phases: 2))
        let meter = try #require(await rig.station.meterValues(evseID: Fixtures.ac))
        #expect(meter.current == PhaseValues(l1: 10, l2: 10, l3: 0))
        #expect(meter.activePower == 4600)
    }

    @Test("single-phase EVSE: limit on l1, l2 and l3; a 3-phase EV draws on l1 only")
    func singlePhase() async throws {
        let rig = Rig([Fixtures.singlePhaseEVSE])
        let id = Fixtures.single
        #expect(await rig.station.statusAndLimits().evses[0].ac?.maxCurrent == PhaseValues(all: 32))
        try await rig.startBasicSession(evseID: id, current: 16, ev: SimulatedEV(phases: 3))
        await rig.station.setExternalCurrentLimit(13, evseID: id)
        #expect(await rig.station.statusAndLimits().evses[0].ac?.maxCurrent == PhaseValues(all: 13))
        let meter = try #require(await rig.station.meterValues(evseID: id))
        #expect(meter.voltage == PhaseValues(l1: 230, l2: 0, l3: 0))
        #expect(meter.current == PhaseValues(l1: 13, l2: 0, l3: 0))
        await rig.advance(.seconds(3600))
        #expect(approximately(try #require(await rig.station.meterValues(evseID: id)).energyImportedWh, 2990, within: 0.01))
    }

    @Test("an external limit lowers the offered current and the PWM; under 6 A the PWM pauses")
    func externalLimit() async throws {
        let rig = Rig()
        let id = Fixtures.ac
        try await rig.startBasicSession(current: 16)
        #expect(await rig.station.setExternalCurrentLimit(10, evseID: id))
        #expect(rig.recorder.take() == [
            .cpStateChanged(evseID: id, connectorID: 1, state: .c2, duty: 10 / 0.6),
            .statusAndLimitsChanged(evseIDs: [id]),
        ])
        #expect(await rig.station.offeredCurrent(evseID: id) == 10)
        #expect(await rig.station.meterValues(evseID: id)?.current == PhaseValues(all: 10))
        #expect(await rig.station.statusAndLimits().evses[0].ac?.maxCurrent == PhaseValues(all: 10))

        // Above the request: the request stays the ceiling. (An increase right after a change of the
        // offered current waits `PWMEncoding.adjustmentInterval`: issue 18, update storms.)
        await rig.station.setExternalCurrentLimit(20, evseID: id)
        await rig.advance(PWMEncoding.adjustmentInterval)
        #expect(await rig.station.meterValues(evseID: id)?.current == PhaseValues(all: 16))
        _ = rig.recorder.take()

        await rig.station.setExternalCurrentLimit(4.5, evseID: id)
        let paused = rig.recorder.take()
        #expect(paused == [
            .cpStateChanged(evseID: id, connectorID: 1, state: .c1, duty: 100),
            .contactorChanged(evseID: id, closed: false),
            .cpStateChanged(evseID: id, connectorID: 1, state: .b1, duty: 100),
            .statusAndLimitsChanged(evseIDs: [id]),
        ])
        await rig.station.setExternalCurrentLimit(nil, evseID: id)
        #expect(rig.recorder.take() == [
            .cpStateChanged(evseID: id, connectorID: 1, state: .b2, duty: 16 / 0.6),
            .cpStateChanged(evseID: id, connectorID: 1, state: .c2, duty: 16 / 0.6),
            .contactorChanged(evseID: id, closed: true),
            .statusAndLimitsChanged(evseIDs: [id]),
        ])
        #expect(await rig.station.setExternalCurrentLimit(10, evseID: "nope") == false)
    }

    @Test("configured, cable and EV limits take part in the minimum")
    func limits() async {
        let rig = Rig()
        let id = Fixtures.ac
        await rig.simulator.plug(evseID: id, ev: SimulatedEV(cableRating: 20))
        #expect(await rig.station.offeredCurrent(evseID: id) == 20)
        await rig.station.setConfiguredCurrentLimit(18, evseID: id)
        #expect(await rig.station.offeredCurrent(evseID: id) == 18)
        await rig.station.setEVMaxCurrent(12.34, evseID: id)
        #expect(await rig.station.offeredCurrent(evseID: id) == 12.34)
        #expect(await rig.station.applyPWM(evseID: id, hlc: false) == .applied(.nominal(current: 12.3)))
        await rig.simulator.unplug(evseID: id)
        #expect(await rig.station.offeredCurrent(evseID: id) == 18, "the EV's and the cable's limits left with it")
    }

    @Test("AC ISO 15118-2 with EIM: 5 %, SLAC, authorization via Josev, PowerDelivery, EV limits")
    func acHLCSession() async throws {
        let rig = Rig()
        let station = rig.station
        let simulator = rig.simulator
        let id = Fixtures.ac
        await simulator.plug(evseID: id)
        _ = await station.applyPWM(evseID: id, hlc: true)
        #expect(await station.rfid(uid: "04A2B3C4D5E6F7") == .pending)
        #expect(rig.recorder.take().contains(.authorizationRequested(evseID: id, token: .rfid("04A2B3C4D5E6F7"))))
        #expect(await station.authorize(evseID: id, token: .rfid("04A2B3C4D5E6F7"), decision: .accepted))
        await station.setEVMaxCurrent(20, evseID: id)
        await station.hlcCharging(evseID: id, active: true)
        #expect(await station.contactorClosed(evseID: id) == false, "the EV is still in B")
        await simulator.evRequestsPower(evseID: id)
        #expect(await station.contactorClosed(evseID: id) == true)
        #expect(await station.meterValues(evseID: id)?.current == PhaseValues(all: 20))
        await rig.advance(.seconds(1800))
        #expect(approximately(try #require(await station.meterValues(evseID: id)).energyImportedWh, 6900, within: 0.01))
        await station.hlcCharging(evseID: id, active: false)
        #expect(await station.contactorClosed(evseID: id) == false)
        await station.sessionStopped(evseID: id)
        await simulator.unplug(evseID: id)
        #expect(await station.state(of: id)?.hlcCharging == false)
    }

    @Test("DC: cable check closes for the insulation test, pre-charge, charge loop, stop")
    func dcSession() async throws {
        let rig = Rig([Fixtures.dcEVSE])
        let station = rig.station
        let simulator = rig.simulator
        let id = Fixtures.dc
        await simulator.plug(evseID: id, ev: SimulatedEV(maxCurrent: 150))
        _ = await station.applyPWM(evseID: id, hlc: true)
        #expect(await station.powerElectronicsSetpoint(evseID: id, voltage: 400, target: .chargeCurrent(2)) == .rejected(.contactorOpen))
        await simulator.evRequestsPower(evseID: id)
        #expect(await station.controlPilot(evseID: id, connectorID: 1) == .c2)
        #expect(await station.contactorRefusal(evseID: id) == .noChargingRequest, "DC never closes without a cable check or HLC")
        #expect(await station.cableCheck(evseID: id, action: .status) == .failed(.notStarted))
        _ = rig.recorder.take()

        #expect(await station.cableCheck(evseID: id, action: .start) == .ongoing)
        #expect(rig.recorder.take() == [.contactorChanged(evseID: id, closed: true), .statusAndLimitsChanged(evseIDs: [id])])
        #expect(await station.statusAndLimits().evses[0].dc?.isolationStatus == .invalid)
        await rig.advance(.seconds(1))
        #expect(await station.cableCheck(evseID: id, action: .status) == .ongoing)
        await rig.advance(.seconds(1))
        #expect(await station.cableCheck(evseID: id, action: .status) == .finished(.valid))
        #expect(await station.cableCheck(evseID: id, action: .status) == .finished(.valid))
        #expect(await station.statusAndLimits().evses[0].dc?.isolationStatus == .valid)
        #expect(await station.contactorClosed(evseID: id) == true)

        #expect(await station.powerElectronicsSetpoint(evseID: id, voltage: 400, target: .chargeCurrent(10), isPrecharge: true)
            == .accepted(voltage: 400, current: 2))
        var limits = try #require(await station.statusAndLimits().evses[0].dc)
        #expect(limits.presentVoltage == 400)
        #expect(limits.presentCurrent == 2)
        await station.hlcCharging(evseID: id, active: true)
        #expect(await station.powerElectronicsSetpoint(evseID: id, voltage: 400, target: .chargeCurrent(250))
            == .accepted(voltage: 400, current: 125), "50 kW at 400 V")
        #expect(await station.powerElectronicsSetpoint(evseID: id, voltage: 400, target: .chargePower(40_000))
            == .accepted(voltage: 400, current: 100))
        #expect(await station.powerElectronicsSetpoint(evseID: id, voltage: 1000, target: .chargeCurrent(10)) == .rejected(.voltageOutOfRange(1000)))
        #expect(await station.powerElectronicsSetpoint(evseID: id, voltage: 400, target: .dischargeCurrent(10)) == .rejected(.dischargeNotSupported))
        limits = try #require(await station.statusAndLimits().evses[0].dc)
        #expect(limits.presentCurrent == 100)
        let meter = try #require(await station.meterValues(evseID: id))
        #expect(meter.dcVoltage == 400 && meter.dcCurrent == 100 && meter.activePower == 40_000)

        await rig.advance(.seconds(1800))
        #expect(approximately(try #require(await station.meterValues(evseID: id)).energyImportedWh, 20_000, within: 0.01))

        _ = rig.recorder.take()
        await station.hlcCharging(evseID: id, active: false)
        let stopped = rig.recorder.take()
        #expect(stopped.contactorChanges == [false])
        limits = try #require(await station.statusAndLimits().evses[0].dc)
        #expect(limits.presentVoltage == 0 && limits.presentCurrent == 0, "welding detection sees 0 V")
        await station.sessionStopped(evseID: id)
        await simulator.unplug(evseID: id)
        #expect(await station.controlPilot(evseID: id, connectorID: 1) == .a1)
    }

    @Test("DC: an insulation fault ends the check and opens; no IMD reports no_imd")
    func dcIsolation() async {
        let rig = Rig([Fixtures.dcEVSE])
        let id = Fixtures.dc
        rig.hardware.setIsolationResult(.fault, evseID: id)
        await rig.simulator.plug(evseID: id)
        _ = await rig.station.applyPWM(evseID: id, hlc: true)
        #expect(await rig.station.cableCheck(evseID: id, action: .start) == .ongoing, "B2 is enough for the cable check")
        await rig.advance(.seconds(2))
        #expect(await rig.station.cableCheck(evseID: id, action: .status) == .finished(.fault))
        #expect(await rig.station.contactorClosed(evseID: id) == false)
        #expect(await rig.station.statusAndLimits().evses[0].dc?.isolationStatus == .fault)

        var noIMD = Fixtures.dcEVSE
        noIMD.dc?.isolationMonitor = false
        let other = Rig([noIMD])
        await other.simulator.plug(evseID: id)
        _ = await other.station.applyPWM(evseID: id, hlc: true)
        #expect(await other.station.cableCheck(evseID: id, action: .start) == .finished(.noIMD))
        #expect(await other.station.contactorClosed(evseID: id) == false)

        let ac = Rig()
        #expect(await ac.station.cableCheck(evseID: Fixtures.ac, action: .start) == .failed(.notDC))
        #expect(await ac.station.cableCheck(evseID: "nope", action: .start) == .failed(.unknownEVSE))
    }

    @Test("DC cable check is refused while inoperative or unplugged")
    func dcRefused() async {
        let rig = Rig([Fixtures.dcEVSE])
        let id = Fixtures.dc
        #expect(await rig.station.cableCheck(evseID: id, action: .start) == .failed(.contactor(.pilotState(.a1))))
        await rig.simulator.fault(.overTemperature, evseID: id)
        #expect(await rig.station.cableCheck(evseID: id, action: .start) == .failed(.contactor(.fault(.overTemperature))))
    }
}
