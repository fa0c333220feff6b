import JosevContract
import Station
import Testing

@Suite("contactor rules")
struct ContactorTests {
    let id = Fixtures.ac

    @Test("refuses to close in A and B, without authorization, with a fault, when inoperative")
    func refusals() async {
        let rig = Rig(policy: StationPolicy(localTokens: ["CAFE"], autoCloseContactor: false))
        let station = rig.station
        let simulator = rig.simulator
        #expect(await station.setContactor(evseID: id, close: true) == .refused(.pilotState(.a1)))
        await simulator.plug(evseID: id)
        #expect(await station.setContactor(evseID: id, close: true) == .refused(.pilotState(.b1)))
        _ = await station.applyPWM(evseID: id, hlc: false, current: 16)
        #expect(await station.setContactor(evseID: id, close: true) == .refused(.pilotState(.b2)))
        await simulator.evRequestsPower(evseID: id)
        #expect(await station.controlPilot(evseID: id, connectorID: 1) == .c2)
        #expect(await station.setContactor(evseID: id, close: true) == .refused(.notAuthorized))
        #expect(await station.rfid(uid: "BEEF", evseID: id) == .pending)
        #expect(await station.setContactor(evseID: id, close: true) == .refused(.notAuthorized))
        await station.authorize(evseID: id, token: .rfid("BEEF"), decision: .rejected)
        #expect(await station.setContactor(evseID: id, close: true) == .refused(.notAuthorized))
        await station.authorize(evseID: nil, token: .rfid("BEEF"), decision: .accepted)  // applies to the only EVSE
        #expect(await station.contactorRefusal(evseID: id) == nil)

        await simulator.fault(.overcurrent, evseID: id)
        #expect(await station.setContactor(evseID: id, close: true) == .refused(.fault(.overcurrent)))
        await simulator.clearFault(.overcurrent, evseID: id)
        // After a fault the pilot stays off until Josev asks again.
        #expect(await station.setContactor(evseID: id, close: true) == .refused(.pilotState(.b1)))
        _ = await station.applyPWM(evseID: id, hlc: false, current: 16)
        #expect(await station.controlPilot(evseID: id, connectorID: 1) == .c2)

        await station.setStatus(.malfunction, evseID: id)
        #expect(await station.setContactor(evseID: id, close: true) == .refused(.notReady(.malfunction)))
        await station.setStatus(.ready, evseID: id)

        #expect(await station.changeAvailability(.connector(evseID: id, connectorID: 1), operative: false) == .accepted)
        #expect(await station.setContactor(evseID: id, close: true) == .refused(.inoperative))
        #expect(await station.changeAvailability(.station, operative: true) == .accepted)
        #expect(await station.setContactor(evseID: id, close: true) == .refused(.inoperative), "the connector is still inoperative")
        #expect(await station.changeAvailability(.connector(evseID: id, connectorID: 1), operative: true) == .accepted)
        _ = await station.applyPWM(evseID: id, hlc: false, current: 16)

        #expect(await station.setContactor(evseID: id, close: true) == .closed)
        #expect(await station.contactorClosed(evseID: id) == true)
        #expect(await station.setContactor(evseID: "nope", close: true) == .refused(.unknownEVSE))
    }

    @Test("closes by itself in C2 once authorized; events come in order")
    func closesInC2() async {
        let rig = Rig()
        await rig.simulator.plug(evseID: id)
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 16)
        await rig.simulator.evRequestsPower(evseID: id)
        #expect(await rig.station.contactorClosed(evseID: id) == false)
        _ = rig.recorder.take()
        #expect(await rig.station.rfid(uid: "CAFE") == .acceptedLocally)
        #expect(rig.recorder.take() == [
            .authorizationChanged(evseID: id, state: .accepted(.rfid("CAFE")), local: true),
            .contactorChanged(evseID: id, closed: true),
        ])
    }

    @Test("free vend needs no token")
    func freeVend() async {
        let rig = Rig(policy: StationPolicy(freeVend: true))
        await rig.simulator.plug(evseID: id)
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 16)
        await rig.simulator.evRequestsPower(evseID: id)
        #expect(await rig.station.contactorClosed(evseID: id) == true)
    }

    @Test("HLC: C2 at 5 % closes only with hlc_charging true")
    func hlc() async {
        let rig = Rig()
        await rig.simulator.plug(evseID: id)
        _ = await rig.station.applyPWM(evseID: id, hlc: true)
        await rig.simulator.evRequestsPower(evseID: id)
        #expect(await rig.station.controlPilot(evseID: id, connectorID: 1) == .c2)
        #expect(await rig.station.contactorRefusal(evseID: id) == .noChargingRequest)
        _ = rig.recorder.take()
        #expect(await rig.station.hlcCharging(evseID: id, active: true))
        #expect(rig.recorder.take() == [
            .contactorChanged(evseID: id, closed: true),
            .cpStateChanged(evseID: id, connectorID: 1, state: .c2, duty: 5),  // announced again, as tux-evse does
        ])
    }

    @Test("HLC without trusting Josev's authorization needs a token")
    func hlcWithoutTrust() async {
        let rig = Rig(policy: StationPolicy(trustJosevAuthorization: false))
        await rig.simulator.plug(evseID: id)
        _ = await rig.station.applyPWM(evseID: id, hlc: true)
        await rig.simulator.evRequestsPower(evseID: id)
        await rig.station.hlcCharging(evseID: id, active: true)
        #expect(await rig.station.contactorRefusal(evseID: id) == .notAuthorized)
        #expect(await rig.station.startTransaction(evseID: id, transactionID: "T1", token: ChargingToken(id: "EMAID1", type: .eMAID)))
        #expect(await rig.station.contactorClosed(evseID: id) == true, "a transaction with a token is an authorization")
    }

    /// Every trigger opens at once, and the notifications say so in order.
    @Test("opens on hlc_charging false")
    func opensOnHLCFalse() async throws {
        let rig = Rig()
        await rig.simulator.plug(evseID: id)
        _ = await rig.station.applyPWM(evseID: id, hlc: true)
        await rig.simulator.evRequestsPower(evseID: id)
        await rig.station.hlcCharging(evseID: id, active: true)
        try #require(await rig.station.contactorClosed(evseID: id) == true)
        _ = rig.recorder.take()
        await rig.station.hlcCharging(evseID: id, active: false)
        #expect(rig.recorder.take() == [
            .contactorChanged(evseID: id, closed: false),
            .cpStateChanged(evseID: id, connectorID: 1, state: .c2, duty: 5),
        ])
        // A new PowerDelivery start closes again.
        await rig.station.hlcCharging(evseID: id, active: true)
        #expect(await rig.station.contactorClosed(evseID: id) == true)
        await rig.station.sessionStopped(evseID: id)
        #expect(rig.recorder.take().contactorChanges == [true, false])
    }

    @Test("opens on stop_charging: contactor first, then the PWM pauses and the EV goes to B")
    func opensOnStopCharging() async throws {
        let rig = Rig()
        try await rig.startBasicSession()
        #expect(await rig.station.stopCharging(evseID: id) == .accepted)
        #expect(rig.recorder.take() == [
            .contactorChanged(evseID: id, closed: false),
            .cpStateChanged(evseID: id, connectorID: 1, state: .c1, duty: 100),
            .cpStateChanged(evseID: id, connectorID: 1, state: .b1, duty: 100),
        ])
        // Stays stopped even if the PWM comes back, until a new authorization.
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 16)
        #expect(await rig.station.contactorRefusal(evseID: id) == .chargingStopped)
        #expect(await rig.station.contactorClosed(evseID: id) == false)
        await rig.station.rfid(uid: "CAFE")
        #expect(await rig.station.contactorClosed(evseID: id) == true)
        #expect(await rig.station.stopCharging(evseID: "nope") == .rejected)
    }

    @Test("opens on transaction ended")
    func opensOnTransactionEnded() async throws {
        let rig = Rig()
        try await rig.startBasicSession()
        await rig.station.startTransaction(evseID: id, transactionID: "T1", token: .rfid("CAFE"))
        let ended = await rig.station.endTransaction(transactionID: "T1")
        #expect(ended?.id == "T1")
        let events = rig.recorder.take()
        #expect(events.first == .contactorChanged(evseID: id, closed: false))
        #expect(events.contactorChanges == [false])
        #expect(await rig.station.state(of: id)?.authorization == EVSEAuthorization.none)
        #expect(await rig.station.endTransaction(transactionID: "T1") == nil)
    }

    @Test("opens on deauthorization")
    func opensOnDeauthorization() async throws {
        let rig = Rig()
        try await rig.startBasicSession()
        await rig.station.authorize(evseID: id, token: nil, decision: .deauthorized)
        let events = rig.recorder.take()
        #expect(events.first == .authorizationChanged(evseID: id, state: .none, local: false))
        #expect(events.contactorChanges == [false])
    }

    @Test("opens when the EV goes back to B")
    func opensOnB() async throws {
        let rig = Rig()
        try await rig.startBasicSession()
        await rig.simulator.evStops(evseID: id)
        #expect(rig.recorder.take() == [
            .cpStateChanged(evseID: id, connectorID: 1, state: .b2, duty: 16 / 0.6),
            .contactorChanged(evseID: id, closed: false),
        ])
    }

    @Test("opens on unplug (A)")
    func opensOnA() async throws {
        let rig = Rig()
        try await rig.startBasicSession()
        await rig.simulator.unplug(evseID: id)
        #expect(rig.recorder.take() == [
            .cpStateChanged(evseID: id, connectorID: 1, state: .a1, duty: 100),
            .cableInfo(evseID: id, connectorID: 1, info: CableInfo(connected: false, lock: .unlocked)),
            .contactorChanged(evseID: id, closed: false),
        ])
        #expect(await rig.station.state(of: id)?.authorization == EVSEAuthorization.none, "the session's authorization left with the EV")
    }

    @Test("opens on E (the EV shorts the pilot)")
    func opensOnE() async throws {
        let rig = Rig()
        try await rig.startBasicSession()
        await rig.simulator.fault(.pilotError, evseID: id)
        #expect(rig.recorder.take() == [
            .cpStateChanged(evseID: id, connectorID: 1, state: .e, duty: 16 / 0.6),
            .contactorChanged(evseID: id, closed: false),
        ])
        await rig.simulator.clearFault(.pilotError, evseID: id)
        #expect(rig.recorder.take().pilotStates == [.c2])
        #expect(await rig.station.contactorClosed(evseID: id) == true)
    }

    @Test("opens on a hardware fault: fault, contactor, F, status")
    func opensOnFault() async throws {
        let rig = Rig()
        try await rig.startBasicSession()
        await rig.simulator.fault(.emergencyStop, evseID: id)
        #expect(rig.recorder.take() == [
            .hardwareFault(evseID: id, kind: .emergencyStop),
            .contactorChanged(evseID: id, closed: false),
            .cpStateChanged(evseID: id, connectorID: 1, state: .f, duty: 0),
            .statusAndLimitsChanged(evseIDs: [id]),
        ])
        let entry = await rig.station.statusAndLimits().evses[0]
        #expect(entry.statusCode == .emergencyShutdown)
        #expect(entry.ac?.maxCurrent == PhaseValues(all: 0))
        #expect(await rig.station.applyPWM(evseID: id, hlc: false, current: 16) == .rejected(.faulted(.emergencyStop)))
        await rig.simulator.clearFault(.emergencyStop, evseID: id)
        #expect(rig.recorder.take() == [
            .hardwareFaultCleared(evseID: id, kind: .emergencyStop),
            .cpStateChanged(evseID: id, connectorID: 1, state: .b1, duty: 100),
            .statusAndLimitsChanged(evseIDs: [id]),
        ])
    }

    @Test("opens when the RCD trips; rcd_error is reported")
    func opensOnRCD() async throws {
        let rig = Rig()
        try await rig.startBasicSession()
        await rig.station.setRCDError(true, evseID: id)
        let events = rig.recorder.take()
        #expect(events.contactorChanges == [false])
        #expect(events.first == .hardwareFault(evseID: id, kind: .rcdTripped))
        let entry = await rig.station.statusAndLimits().evses[0]
        #expect(entry.ac?.rcdError == true)
        #expect(entry.statusCode == .malfunction)
        #expect(HardwareFaultKind.rcdTripped.faultName == "ground_fault")
        await rig.station.setRCDError(false, evseID: id)
        #expect(await rig.station.statusAndLimits().evses[0].ac?.rcdError == false)
    }

    @Test("an explicit open holds until something asks for energy again")
    func heldOpen() async throws {
        let rig = Rig()
        try await rig.startBasicSession()
        #expect(await rig.station.setContactor(evseID: id, close: false) == .opened)
        #expect(await rig.station.contactorClosed(evseID: id) == false)
        #expect(await rig.station.contactorRefusal(evseID: id) == nil, "an explicit close is allowed")
        await rig.advance(.seconds(5))
        #expect(await rig.station.contactorClosed(evseID: id) == false)
        #expect(await rig.station.setContactor(evseID: id, close: true) == .closed)
    }
}
