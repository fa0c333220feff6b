import JosevContract
import Station
import Testing

/// 1/3-phase switching: PROFILE.md §4.3, register 1215.
@Suite("phase switching")
struct PhaseSwitchTests {
    let id = Fixtures.ac
    static let allowed = SetpointPolicy(allowPhaseSwitching: true)
    static let quiet = StationPolicy(localTokens: ["CAFE"], meterValuesInterval: nil)

    @Test("idle: switched at once; the meter follows on the phases in use; the limits stay on l1..l3")
    func idle() async throws {
        let rig = Rig(policy: Self.quiet, setpoints: Self.allowed)
        let station = rig.station
        let simulator = rig.simulator
        #expect(await station.externalSetpointState(evseID: id)?.phases == 3)
        #expect(await station.setPhases(1, evseID: id) == .accepted)
        #expect(rig.hardware.phases(evseID: id) == 1)
        #expect(await station.externalSetpointState(evseID: id)?.phases == 1)
        #expect(await station.state(of: id)?.activePhases == 1)
        #expect(rig.recorder.take().isEmpty, "nothing Josev must hear")
        #expect(await station.setPhases(1, evseID: id) == .accepted, "nothing to change")

        try await rig.startBasicSession(current: 16, ev: SimulatedEV(phases: 3))
        let meter = try #require(await station.meterValues(evseID: id))
        #expect(meter.current == PhaseValues(l1: 16, l2: 0, l3: 0))
        #expect(meter.voltage == PhaseValues(all: 230), "the supply keeps its three phases")
        #expect(await station.statusAndLimits().evses[0].ac?.maxCurrent == PhaseValues(all: 32))

        // The phases stay as requested across sessions.
        await simulator.evStops(evseID: id)
        await simulator.unplug(evseID: id)
        #expect(await station.externalSetpointState(evseID: id)?.phases == 1)
        #expect(await station.setPhases(3, evseID: id) == .accepted)
        #expect(rig.hardware.phases(evseID: id) == 3)
    }

    @Test("refused: not allowed, not 1 or 3, DC, single-phase supply, unknown EVSE, HLC charging")
    func refusals() async throws {
        #expect(await Rig().station.setPhases(1, evseID: id) == .refused(.notAllowed))
        let rig = Rig([Fixtures.acEVSE, Fixtures.dcEVSE, Fixtures.singlePhaseEVSE], policy: Self.quiet, setpoints: Self.allowed)
        let station = rig.station
        let simulator = rig.simulator
        #expect(await station.setPhases(2, evseID: id) == .refused(.invalidPhases(2)))
        #expect(await station.setPhases(0, evseID: id) == .refused(.invalidPhases(0)))
        #expect(await station.setPhases(1, evseID: Fixtures.dc) == .refused(.notAC))
        #expect(await station.setPhases(1, evseID: Fixtures.single) == .refused(.singlePhaseSupply))
        #expect(await station.setPhases(1, evseID: "nope") == .refused(.unknownEVSE))
        #expect(await station.externalSetpointState(evseID: Fixtures.single)?.phases == 1)
        #expect(await station.externalSetpointState(evseID: Fixtures.dc)?.phases == 3)

        await simulator.plug(evseID: id)
        _ = await station.applyPWM(evseID: id, hlc: true)
        await station.rfid(uid: "CAFE", evseID: id)
        await station.hlcCharging(evseID: id, active: true)
        await simulator.evRequestsPower(evseID: id)
        try #require(await station.contactorClosed(evseID: id) == true)
        #expect(await station.setPhases(1, evseID: id) == .refused(.highLevelCommunication))
        #expect(await station.externalSetpointState(evseID: id)?.phases == 3)
    }

    @Test("while charging: PWM off, the EV stops, contactor opens, dwell, switch, PWM on, contactor closes")
    func sequence() async throws {
        let rig = Rig(policy: Self.quiet, setpoints: Self.allowed)
        let station = rig.station
        try await rig.startBasicSession(current: 16, ev: SimulatedEV(phases: 3))
        #expect(await station.meterValues(evseID: id)?.current == PhaseValues(all: 16))

        #expect(await station.setPhases(1, evseID: id) == .switching)
        #expect(rig.recorder.take() == [
            .cpStateChanged(evseID: id, connectorID: 1, state: .c1, duty: 100),
            .cpStateChanged(evseID: id, connectorID: 1, state: .b1, duty: 100),
            .contactorChanged(evseID: id, closed: false),
        ])
        var state = try #require(await station.externalSetpointState(evseID: id))
        #expect(state.phases == 1, "1215 reads the requested value at once")
        #expect(state.phaseSwitchInProgress)
        #expect(rig.hardware.phases(evseID: id) == 3, "not switched before the dwell")
        #expect(await station.setPhases(1, evseID: id) == .switching, "asking again changes nothing")

        await rig.advance(.seconds(4))
        #expect(rig.recorder.take().isEmpty)
        #expect(rig.hardware.phases(evseID: id) == 3)

        await rig.advance(.seconds(1))
        #expect(rig.recorder.take() == [
            .cpStateChanged(evseID: id, connectorID: 1, state: .b2, duty: 16 / 0.6),
            .cpStateChanged(evseID: id, connectorID: 1, state: .c2, duty: 16 / 0.6),
            .contactorChanged(evseID: id, closed: true),
        ])
        #expect(rig.hardware.phases(evseID: id) == 1)
        state = try #require(await station.externalSetpointState(evseID: id))
        #expect(state.phases == 1 && !state.phaseSwitchInProgress)
        #expect(await station.meterValues(evseID: id)?.current == PhaseValues(l1: 16, l2: 0, l3: 0))

        // Rate limit: the next sequence may start 60 s after the last one started.
        #expect(await station.setPhases(3, evseID: id) == .refused(.rateLimited(retryAfter: .seconds(55))))
        #expect(await station.externalSetpointState(evseID: id)?.phases == 1)
        await rig.advance(.seconds(55))
        #expect(await station.setPhases(3, evseID: id) == .switching)
        await rig.advance(.seconds(5))
        #expect(await station.meterValues(evseID: id)?.current == PhaseValues(all: 16))
        #expect(rig.hardware.phases(evseID: id) == 3)
    }

    @Test("the contactor waits, PWM off, until the EV stops drawing, at most the decay timeout")
    func waitsForCurrent() async throws {
        // No simulation: the EV stays in C after the PWM went off (it never reacts).
        let clock = ManualClock()
        let recorder = Recorder()
        let configuration = Fixtures.configuration([Fixtures.acEVSE], setpoints: Self.allowed)
        let station = Station(
            configuration: configuration, policy: StationPolicy(freeVend: true, meterValuesInterval: nil), now: clock.closure,
            observer: { recorder.record($0) })
        let simulator = EVSimulator(station: station)
        await simulator.plug(evseID: id)
        _ = await station.applyPWM(evseID: id, hlc: false, current: 16)
        await simulator.evRequestsPower(evseID: id)
        try #require(await station.contactorClosed(evseID: id) == true)
        _ = recorder.take()

        #expect(await station.setPhases(1, evseID: id) == .switching)
        #expect(recorder.take() == [.cpStateChanged(evseID: id, connectorID: 1, state: .c1, duty: 100)])
        clock.advance(by: .seconds(2))
        await station.tick()
        #expect(recorder.take().isEmpty)
        #expect(await station.contactorClosed(evseID: id) == true, "the EV is still in C")
        clock.advance(by: .seconds(1))
        await station.tick()
        #expect(recorder.take() == [.contactorChanged(evseID: id, closed: false)])
        clock.advance(by: .seconds(5))
        await station.tick()
        #expect(recorder.take() == [
            .cpStateChanged(evseID: id, connectorID: 1, state: .c2, duty: 16 / 0.6),
            .contactorChanged(evseID: id, closed: true),
        ])
        #expect(await station.state(of: id)?.activePhases == 1)
    }

    @Test("a test bench may switch back to back; a new target during the sequence replaces the old one")
    func testBench() async throws {
        let bench = SetpointPolicy(testBench: true, allowPhaseSwitching: true, phaseSwitchDwell: .seconds(2), minimumSwitchInterval: .zero)
        let rig = Rig(policy: Self.quiet, setpoints: bench)
        let station = rig.station
        try await rig.startBasicSession(current: 16, ev: SimulatedEV(phases: 3))
        #expect(await station.setPhases(1, evseID: id) == .switching)
        #expect(await station.setPhases(3, evseID: id) == .switching)
        #expect(await station.externalSetpointState(evseID: id)?.phases == 3)
        await rig.advance(.seconds(2))
        #expect(await station.contactorClosed(evseID: id) == true)
        #expect(rig.hardware.phases(evseID: id) == 3)
        #expect(await station.meterValues(evseID: id)?.current == PhaseValues(all: 16))
    }

    @Test("unplugging during the sequence: the switch is still carried out, nothing resumes")
    func unplugDuring() async throws {
        let rig = Rig(policy: Self.quiet, setpoints: Self.allowed)
        let station = rig.station
        let simulator = rig.simulator
        try await rig.startBasicSession(current: 16, ev: SimulatedEV(phases: 3))
        #expect(await station.setPhases(1, evseID: id) == .switching)
        await simulator.unplug(evseID: id)
        await rig.advance(.seconds(5))
        #expect(rig.hardware.phases(evseID: id) == 1)
        #expect(await station.controlPilot(evseID: id, connectorID: 1) == .a1)
        #expect(await station.externalSetpointState(evseID: id)?.phaseSwitchInProgress == false)
    }
}
