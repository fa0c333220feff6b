import JosevContract
import Station
import Testing

@Suite("availability, reset, connector, unknown EVSEs, streams")
struct ManagementTests {
    let id = Fixtures.ac

    @Test("availability change while charging is scheduled and applied when the session ends")
    func availabilityScheduled() async throws {
        let rig = Rig()
        try await rig.startBasicSession()
        await rig.station.startTransaction(evseID: id, transactionID: "T1", token: .rfid("CAFE"))
        #expect(await rig.station.changeAvailability(.evse(id), operative: false) == .scheduled)
        #expect(await rig.station.contactorClosed(evseID: id) == true, "the running session goes on")
        #expect(await rig.station.state(of: id)?.operative == true)
        #expect(await rig.station.statusAndLimits().evses[0].statusCode == .ready)
        _ = rig.recorder.take()

        await rig.station.endTransaction(transactionID: "T1")
        let events = rig.recorder.take()
        let opened = try #require(events.firstIndex(of: .contactorChanged(evseID: id, closed: false)))
        let applied = try #require(events.firstIndex(of: .availabilityChanged(evseID: id, connectorID: nil, operative: false)))
        #expect(opened < applied)
        #expect(events.last == .statusAndLimitsChanged(evseIDs: [id]))
        let entry = await rig.station.statusAndLimits().evses[0]
        #expect(entry.statusCode == .notReady)
        #expect(entry.ac?.maxCurrent == PhaseValues(all: 0))

        // The EV is still there: no new session while inoperative.
        await rig.station.rfid(uid: "CAFE")
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 16)
        #expect(await rig.station.contactorRefusal(evseID: id) == .inoperative)
        #expect(await rig.station.changeAvailability(.evse(id), operative: true) == .accepted)
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 16)
        #expect(await rig.station.contactorClosed(evseID: id) == true)
    }

    @Test("station-wide: the idle EVSE goes at once, the charging one after its session")
    func stationWide() async throws {
        let rig = Rig([Fixtures.acEVSE, Fixtures.singlePhaseEVSE])
        try await rig.startBasicSession(evseID: Fixtures.ac)
        #expect(await rig.station.changeAvailability(.station, operative: false) == .scheduled)
        #expect(rig.recorder.take().contains(.availabilityChanged(evseID: Fixtures.single, connectorID: nil, operative: false)))
        #expect(await rig.station.state(of: Fixtures.single)?.isOperative == false)
        #expect(await rig.station.state(of: Fixtures.ac)?.isOperative == true)
        await rig.simulator.evStops(evseID: Fixtures.ac)
        #expect(rig.recorder.take().contains(.availabilityChanged(evseID: Fixtures.ac, connectorID: nil, operative: false)))
        #expect(await rig.station.state(of: Fixtures.ac)?.isOperative == false)
        #expect(await rig.station.changeAvailability(.station, operative: true) == .accepted)
        #expect(await rig.station.state(of: Fixtures.ac)?.isOperative == true)
        #expect(await rig.station.state(of: Fixtures.single)?.isOperative == true)
    }

    @Test("availability of unknown EVSEs or connectors is rejected")
    func availabilityRejected() async {
        let rig = Rig()
        #expect(await rig.station.changeAvailability(.evse("nope"), operative: false) == .rejected)
        #expect(await rig.station.changeAvailability(.connector(evseID: id, connectorID: 9), operative: false) == .rejected)
        #expect(await rig.station.changeAvailability(.evse(id), operative: true) == .accepted)
        #expect(rig.recorder.take().isEmpty, "nothing changed")
    }

    @Test("reset while charging is scheduled, carried out when the session ends")
    func resetScheduled() async throws {
        let rig = Rig()
        try await rig.startBasicSession()
        await rig.station.setExternalCurrentLimit(20, evseID: id)
        #expect(await rig.station.reset() == .scheduled)
        #expect(await rig.station.contactorClosed(evseID: id) == true)
        _ = rig.recorder.take()
        await rig.simulator.evStops(evseID: id)
        let events = rig.recorder.take()
        #expect(events.contains(.resetPerformed(evseIDs: [id])))
        let state = try #require(await rig.station.state(of: id))
        #expect(state.authorization == .none)
        #expect(state.pilotRequest == .off)
        #expect(state.externalCurrentLimit == nil)
        #expect(state.connectors[0].level == .b, "the EV is still plugged")
        #expect(await rig.station.controlPilot(evseID: id, connectorID: 1) == .b1)
        #expect(await rig.station.reset(evseID: "nope") == .rejected)
    }

    @Test("reset when idle is immediate; immediate reset stops a session; the meter register stays")
    func resetImmediate() async throws {
        let rig = Rig()
        #expect(await rig.station.reset(evseID: id) == .accepted)
        #expect(rig.recorder.take() == [.resetPerformed(evseIDs: [id])])
        try await rig.startBasicSession()
        await rig.advance(.seconds(360))
        #expect(rig.recorder.take() == [.meterValues(evseID: id)])
        #expect(await rig.station.reset(immediate: true) == .accepted)
        let events = rig.recorder.take()
        #expect(events.first == .resetPerformed(evseIDs: [id]))
        #expect(events.contactorChanges == [false])
        #expect(approximately(try #require(await rig.station.meterValues(evseID: id)).energyImportedWh, 1104, within: 0.01))
    }

    @Test("cs_connector: lock, refuse unlocking under load, unlock after")
    func connectorLock() async throws {
        let rig = Rig()
        #expect(await rig.station.connectorLock(evseID: id, connectorID: 1, action: .status) == .done(.unlocked))
        #expect(await rig.station.connectorLock(evseID: id, connectorID: 1, action: .lock) == .done(.locked))
        #expect(rig.recorder.take() == [.cableInfo(evseID: id, connectorID: 1, info: CableInfo(connected: false, lock: .locked))])
        try await rig.startBasicSession()
        #expect(await rig.station.connectorLock(evseID: id, connectorID: 1, action: .unlock) == .refusedWhileEnergized(.locked))
        await rig.simulator.evStops(evseID: id)
        #expect(await rig.station.connectorLock(evseID: id, connectorID: 1, action: .unlock) == .done(.unlocked))
        rig.hardware.jamLock(true, evseID: id)
        #expect(await rig.station.connectorLock(evseID: id, connectorID: 1, action: .lock) == .done(.error))
        #expect(await rig.station.connectorLock(evseID: id, connectorID: 2, action: .lock) == .unknownConnector)
        #expect(await rig.station.connectorLock(evseID: "nope", connectorID: 1, action: .status) == .unknownConnector)
    }

    @Test("unknown EVSE ids are rejected everywhere")
    func unknownEVSE() async {
        let rig = Rig()
        let station = rig.station
        let simulator = rig.simulator
        let nope = "DE*XXX*E9*9"
        #expect(await station.owns(evseID: nope) == false)
        #expect(await station.applyPWM(evseID: nope, hlc: false, current: 16) == .rejected(.unknownEVSE))
        #expect(await station.setContactor(evseID: nope, close: false) == .refused(.unknownEVSE))
        #expect(await station.contactorClosed(evseID: nope) == nil)
        #expect(await station.controlPilot(evseID: nope, connectorID: 1) == nil)
        #expect(await station.hlcCharging(evseID: nope, active: true) == false)
        #expect(await station.sessionStopped(evseID: nope) == false)
        #expect(await station.stopCharging(evseID: nope) == .rejected)
        #expect(await station.rfid(uid: "CAFE", evseID: nope) == .unknownEVSE)
        #expect(await station.requestAuthorization(evseID: nope, token: .rfid("CAFE")) == .unknownEVSE)
        #expect(await station.authorize(evseID: nope, token: nil, decision: .accepted) == false)
        #expect(await station.startTransaction(evseID: nope, transactionID: "T") == false)
        #expect(await station.endTransaction(transactionID: "T") == nil)
        #expect(await station.meterValues(evseID: nope) == nil)
        #expect(await station.offeredCurrent(evseID: nope) == nil)
        #expect(await station.cableCheck(evseID: nope, action: .start) == .failed(.unknownEVSE))
        #expect(await station.powerElectronicsSetpoint(evseID: nope, voltage: 400, target: .chargeCurrent(1)) == .rejected(.unknownEVSE))
        #expect(await simulator.plug(evseID: nope) == false)
        #expect(await simulator.plug(evseID: id, connectorID: 7) == false)
        #expect(await simulator.unplug(evseID: id) == false, "nothing plugged")
        #expect(await simulator.evRequestsPower(evseID: nope) == false)
        #expect(await simulator.evStops(evseID: nope) == false)
        #expect(await simulator.fault(.overcurrent, evseID: nope) == false)
        #expect(await simulator.clearFault(.overcurrent, evseID: nope) == false)
        #expect(await station.setEVMaxCurrent(10, evseID: nope) == false)
        #expect(await station.setConfiguredCurrentLimit(10, evseID: nope) == false)
        #expect(await station.setDCMeasurement(voltage: 1, current: 1, evseID: nope) == false)
        #expect(await station.setRCDError(true, evseID: nope) == false)
        #expect(rig.recorder.take().isEmpty)
    }

    @Test("every subscription carries what the observer saw, in order, independently of the others")
    func streams() async throws {
        let rig = Rig()
        let everything = await rig.station.subscribe(bufferingNewest: 1024)
        let statusReader = await rig.station.subscribe(bufferingNewest: 1024)
        await rig.simulator.plug(evseID: id, ev: SimulatedEV(cableRating: 20))
        await rig.station.rfid(uid: "CAFE")
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 16)
        await rig.simulator.evRequestsPower(evseID: id)
        await rig.station.setExternalCurrentLimit(10, evseID: id)
        await rig.simulator.evStops(evseID: id)
        await rig.simulator.unplug(evseID: id)
        let seen = rig.recorder.take()
        #expect(seen.count > 8)
        var all: [StationNotification] = []
        for await notification in everything {
            all.append(notification)
            if all.count == seen.count { break }
        }
        #expect(all == seen)
        let statusChanges = seen.filter { if case .statusAndLimitsChanged = $0 { true } else { false } }
        #expect(statusChanges.count == 2)  // plug (the cable's rating), external limit (below it, so unplug changes nothing)
        var read = 0
        var statusEvents: [StationNotification] = []
        for await notification in statusReader {
            read += 1
            if case .statusAndLimitsChanged = notification { statusEvents.append(notification) }
            if read == seen.count { break }
        }
        #expect(statusEvents == statusChanges)
    }

    @Test("a subscription that ended is dropped at the next notification; the others go on")
    func endedSubscription() async {
        let rig = Rig()
        let kept = await rig.station.subscribe(bufferingNewest: 8)
        do {
            let dropped = await rig.station.subscribe(bufferingNewest: 8)
            #expect(await rig.station.subscriberCount == 2)
            _ = dropped
        }
        await rig.station.setExternalCurrentLimit(10, evseID: id)
        #expect(await rig.station.subscriberCount == 1)
        var iterator = kept.makeAsyncIterator()
        #expect(await iterator.next() == .statusAndLimitsChanged(evseIDs: [id]))
    }

    @Test("hardware events from a driver: levels, cable, faults, cards")
    func driverEvents() async {
        let recorder = Recorder()
        let clock = ManualClock()
        let station = Station(
            configuration: Fixtures.configuration([Fixtures.acEVSE]), policy: StationPolicy(localTokens: ["CAFE"]),
            now: clock.closure, observer: { recorder.record($0) })
        let simulator = EVSimulator(station: station)
        await station.handle(.cable(evseID: id, connectorID: 1, connected: true, ratedCurrent: 16))
        await station.handle(.pilotLevel(evseID: id, connectorID: 1, level: .b))
        _ = await station.applyPWM(evseID: id, hlc: false, current: 32)
        await station.handle(.card(uid: "CAFE", evseID: nil))
        await station.handle(.pilotLevel(evseID: id, connectorID: 1, level: .c))
        #expect(await station.contactorClosed(evseID: id) == true)
        #expect(await station.state(of: id)?.connectors[0].signal == .nominal(current: 16), "the cable's rating caps the PWM")
        await station.handle(.fault(evseID: id, kind: .overcurrent))
        #expect(await station.contactorClosed(evseID: id) == false)
        let events = recorder.take()
        #expect(events.contains(.hardwareFault(evseID: id, kind: .overcurrent)))
        #expect(events.pilotStates == [.b1, .b2, .c2, .f])
        // No simulated board: the simulator reports the levels a board would measure.
        await simulator.clearFault(.overcurrent, evseID: id)
        #expect(await simulator.unplug(evseID: id))
        #expect(await station.controlPilot(evseID: id, connectorID: 1) == .a1)
    }

    @Test("reconfigure keeps the state of EVSEs that stay and drops removed ones")
    func reconfigure() async throws {
        let rig = Rig([Fixtures.acEVSE, Fixtures.singlePhaseEVSE])
        try await rig.startBasicSession()
        var changed = Fixtures.acEVSE
        changed.ac?.maxCurrent = 10
        await rig.station.reconfigure(Fixtures.configuration([changed]))
        #expect(await rig.station.owns(evseID: Fixtures.single) == false)
        #expect(await rig.station.contactorClosed(evseID: id) == true)
        #expect(await rig.station.meterValues(evseID: id)?.current == PhaseValues(all: 10))
        #expect(rig.recorder.take().contains(.statusAndLimitsChanged(evseIDs: [id])))
    }
}
