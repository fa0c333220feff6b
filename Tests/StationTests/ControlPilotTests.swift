import JosevContract
import Station
import Testing

@Suite("control pilot and PWM")
struct ControlPilotTests {
    @Test("IEC 61851-1 duty cycle table", arguments: [
        (6.0, 10.0), (16.0, 26.6667), (32.0, 53.3333), (51.0, 85.0), (63.0, 89.2), (80.0, 96.0),
    ])
    func dutyCycleTable(current: Double, duty: Double) throws {
        let computed = try #require(PWMEncoding.dutyCycle(forCurrent: current))
        #expect(approximately(computed, duty, within: 0.005), "\(current) A → \(computed) %")
        #expect(approximately(PilotSignal.nominal(current: current).dutyCycle, duty, within: 0.005))
        let back = try #require(PWMEncoding.current(forDutyCycle: computed))
        #expect(approximately(back, current, within: 1e-9))
    }

    @Test("currents the PWM cannot represent, and the fixed signals")
    func unrepresentable() {
        #expect(PWMEncoding.dutyCycle(forCurrent: 5) == nil)
        #expect(PWMEncoding.dutyCycle(forCurrent: 5.99) == nil)
        #expect(PWMEncoding.dutyCycle(forCurrent: 80.1) == nil)
        #expect(PWMEncoding.dutyCycle(forCurrent: .nan) == nil)
        #expect(PWMEncoding.representableCurrent(atMost: 5.9) == nil)
        #expect(PWMEncoding.representableCurrent(atMost: 15.76) == 15.7)
        #expect(PWMEncoding.representableCurrent(atMost: 15.7) == 15.7)
        #expect(PWMEncoding.representableCurrent(atMost: 120) == 80)
        #expect(PWMEncoding.representableCurrent(atMost: .infinity) == 80)
        #expect(PilotSignal.off.dutyCycle == 100)
        #expect(PilotSignal.digital.dutyCycle == 5)
        #expect(PilotSignal.error.dutyCycle == 0)
        #expect(PilotSignal.fault.dutyCycle == 0)
        #expect(PWMEncoding.current(forDutyCycle: 5) == nil)
        #expect(PWMEncoding.current(forDutyCycle: 100) == nil)
    }

    @Test("CP states: letter from the EV, digit from the PWM")
    func states() {
        #expect(ControlPilotState(level: .b, pwm: false) == .b1)
        #expect(ControlPilotState(level: .c, pwm: true) == .c2)
        #expect(ControlPilotState(level: .e, pwm: true) == .e)
        #expect(ControlPilotState.d2.requestsEnergy && ControlPilotState.c2.requestsEnergy)
        #expect(!ControlPilotState.c1.requestsEnergy && !ControlPilotState.b2.requestsEnergy)
        #expect(ControlPilotState.allCases.map(\.rawValue) == ["A1", "A2", "B1", "B2", "C1", "C2", "D1", "D2", "E", "F"])
    }

    @Test("cp_pwm requests map to signals; 0 A is PWM off, under 6 A pauses, HLC is 5 %")
    func applyPWM() async {
        let rig = Rig()
        let station = rig.station
        let id = Fixtures.ac
        #expect(await station.applyPWM(evseID: id, hlc: false, current: 16) == .applied(.nominal(current: 16)))
        #expect(await station.applyPWM(evseID: id, hlc: false, current: 0) == .applied(.off))
        #expect(await station.applyPWM(evseID: id, hlc: false, current: 5) == .limited(.off, requested: 5))
        #expect(await station.applyPWM(evseID: id, hlc: true) == .applied(.digital))
        #expect(await station.applyPWM(evseID: id, hlc: true, current: 16) == .applied(.digital))
        #expect(await station.applyPWM(evseID: id, hlc: false, current: 40) == .limited(.nominal(current: 32), requested: 40))
        #expect(await station.applyPWM(evseID: id, hlc: false, current: 13.37) == .limited(.nominal(current: 13.3), requested: 13.37))
        #expect(await station.applyPWM(evseID: id, hlc: false) == .applied(.nominal(current: 32)))
        #expect(await station.applyPWM(evseID: id, hlc: false, current: -1) == .rejected(.invalidCurrent(-1)))
        #expect(await station.applyPWM(evseID: id, hlc: false, current: 16, errorState: true) == .applied(.error))
        #expect(await station.applyPWM(evseID: id, hlc: false, current: 16, errorState: true, faultState: true) == .applied(.fault))
        #expect(await station.applyPWM(evseID: "nope", hlc: true) == .rejected(.unknownEVSE))
    }

    @Test("plug-in reports B1, then B2 once the PWM runs; E and F from cp_pwm show on the pilot")
    func plugSequence() async {
        let rig = Rig()
        let id = Fixtures.ac
        #expect(await rig.station.controlPilot(evseID: id, connectorID: 1) == .a1)
        await rig.simulator.plug(evseID: id, ev: SimulatedEV(cableRating: 20))
        #expect(rig.recorder.take() == [
            .cableInfo(evseID: id, connectorID: 1, info: CableInfo(connected: true, ratedCurrent: 20, lock: .unlocked)),
            .cpStateChanged(evseID: id, connectorID: 1, state: .b1, duty: 100),
            .statusAndLimitsChanged(evseIDs: [id]),  // the cable's 20 A rating lowers the offered current
        ])
        #expect(await rig.station.statusAndLimits().evses[0].ac?.maxCurrent == PhaseValues(all: 20))
        #expect(await rig.station.applyPWM(evseID: id, hlc: true) == .applied(.digital))
        #expect(rig.recorder.take() == [.cpStateChanged(evseID: id, connectorID: 1, state: .b2, duty: 5)])
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 0, errorState: true)
        #expect(rig.recorder.take() == [.cpStateChanged(evseID: id, connectorID: 1, state: .e, duty: 0)])
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 0, faultState: true)
        #expect(rig.recorder.take() == [.cpStateChanged(evseID: id, connectorID: 1, state: .f, duty: 0)])
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 0)
        #expect(rig.recorder.take() == [.cpStateChanged(evseID: id, connectorID: 1, state: .b1, duty: 100)])
    }

    @Test("a PWM asked for before plug-in starts after B1")
    func pwmBeforePlug() async {
        let rig = Rig()
        let id = Fixtures.ac
        _ = await rig.station.applyPWM(evseID: id, hlc: true)
        #expect(rig.recorder.take().isEmpty)
        await rig.simulator.plug(evseID: id)
        #expect(rig.recorder.take().pilotStates == [.b1, .b2])
    }

    @Test("policy: the pilot starts at 5 % on plug-in for boards that do it themselves")
    func pilotOnPlugIn() async {
        let rig = Rig(policy: StationPolicy(pilotOnPlugIn: .digital))
        await rig.simulator.plug(evseID: Fixtures.ac)
        #expect(rig.recorder.take().pilotStates == [.b1, .b2])
        await rig.simulator.unplug(evseID: Fixtures.ac)
        #expect(rig.recorder.take().pilotStates == [.a1])
    }
}
