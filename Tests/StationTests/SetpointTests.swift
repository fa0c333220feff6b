import JosevContract
import Station
import Testing

/// External (Modbus) setpoints: PROFILE.md §4.1/§4.2, registers 1206–1214.
@Suite("external setpoint")
struct SetpointTests {
    let id = Fixtures.ac
    static let enabled = SetpointPolicy(enabled: true)
    /// No periodic meter values: the notification lists stay about limits.
    static let quiet = StationPolicy(localTokens: ["CAFE"], meterValuesInterval: nil)

    func idle(_ applied: Double, setpoint: Double? = nil, remaining: Duration = .zero, phases: Int = 3) -> ExternalSetpointState {
        ExternalSetpointState(
            enabled: true, setpoint: setpoint, remaining: remaining, safeCurrent: 6, inEffect: setpoint != nil, applied: applied,
            phases: phases, phaseSwitchInProgress: false)
    }

    @Test("configuration: the safe current defaults to 6 A (or the EVSE maximum), the policy clamps nonsense")
    func configuration() {
        #expect(Fixtures.acEVSE.effectiveSafeCurrent == 6)
        var evse = Fixtures.acEVSE
        evse.safeCurrent = 10
        #expect(evse.effectiveSafeCurrent == 10)
        evse.safeCurrent = 50
        #expect(evse.effectiveSafeCurrent == 32, "never above the EVSE's maximum")
        evse.safeCurrent = .nan
        #expect(evse.effectiveSafeCurrent == 6)
        evse.safeCurrent = -3
        #expect(evse.effectiveSafeCurrent == 6)
        evse.safeCurrent = 0
        #expect(evse.effectiveSafeCurrent == 0, "0 A: no charging without the energy manager")
        evse.safeCurrent = nil
        evse.ac = ACSupply(nominalVoltage: 230, maxCurrent: 4)
        #expect(evse.effectiveSafeCurrent == 4)
        #expect(Fixtures.dcEVSE.effectiveSafeCurrent == 6)

        #expect(SetpointPolicy().effectiveValidTime == .seconds(60))
        #expect(SetpointPolicy(validTime: .seconds(10)).effectiveValidTime == .seconds(30))
        #expect(SetpointPolicy(validTime: .seconds(45)).effectiveValidTime == .seconds(45))
        #expect(SetpointPolicy(validTime: .seconds(2), testBench: true).effectiveValidTime == .seconds(2))
        #expect(SetpointPolicy(validTime: .zero, testBench: true).effectiveValidTime == .seconds(60))
        #expect(SetpointPolicy(validTime: .seconds(-5)).effectiveValidTime == .seconds(60))
        #expect(SetpointPolicy().effectivePhaseSwitchDwell == .seconds(5))
        #expect(SetpointPolicy(phaseSwitchDwell: .seconds(-1)).effectivePhaseSwitchDwell == .seconds(1))
        #expect(SetpointPolicy(testBench: true, phaseSwitchDwell: .seconds(-1)).effectivePhaseSwitchDwell == .zero)
        #expect(SetpointPolicy(minimumSwitchInterval: .seconds(-5)).effectiveMinimumSwitchInterval == .zero)
        #expect(SetpointPolicy().effectiveMinimumSwitchInterval == .seconds(60))
        #expect(SetpointPolicy(currentDecayTimeout: .seconds(-1)).effectiveCurrentDecayTimeout == .zero)
    }

    @Test("no setpoint at start: the safe current; a write sets the applied current and restarts the valid time, which counts down")
    func writeAndCountDown() async throws {
        let rig = Rig(setpoints: Self.enabled)
        let station = rig.station
        #expect(await station.externalSetpointState(evseID: id) == idle(6))
        #expect(await station.statusAndLimits().evses[0].ac?.maxCurrent == PhaseValues(all: 6))

        #expect(await station.setExternalSetpoint(16, evseID: id) == .accepted(idle(16, setpoint: 16, remaining: .seconds(60))))
        #expect(rig.recorder.take() == [.statusAndLimitsChanged(evseIDs: [id])])
        #expect(await station.statusAndLimits().evses[0].ac?.maxCurrent == PhaseValues(all: 16))

        await rig.advance(.seconds(10))
        #expect(await station.externalSetpointState(evseID: id)?.remaining == .seconds(50))
        #expect(await station.setExternalSetpoint(16, evseID: id) == .accepted(idle(16, setpoint: 16, remaining: .seconds(60))))
        #expect(rig.recorder.take().isEmpty, "the same value again: only the valid time restarts")

        await rig.advance(.seconds(59))
        #expect(await station.externalSetpointState(evseID: id) == idle(16, setpoint: 16, remaining: .seconds(1)))
        #expect(rig.recorder.take().isEmpty)
        await rig.advance(.seconds(1))
        #expect(rig.recorder.take() == [.statusAndLimitsChanged(evseIDs: [id])], "the tick falls back by itself")
        #expect(await station.externalSetpointState(evseID: id) == idle(6))
        #expect(await station.statusAndLimits().evses[0].ac?.maxCurrent == PhaseValues(all: 6))
    }

    @Test("a read after the valid time ran out falls back (and announces it) before it answers")
    func expiryOnRead() async {
        let rig = Rig(setpoints: SetpointPolicy(enabled: true, validTime: .seconds(2), testBench: true))
        _ = await rig.station.setExternalSetpoint(20, evseID: id)
        _ = rig.recorder.take()
        rig.clock.advance(by: .seconds(3))
        #expect(await rig.station.externalSetpointState(evseID: id) == idle(6))
        #expect(rig.recorder.take() == [.statusAndLimitsChanged(evseIDs: [id])])
    }

    @Test("basic charging: the PWM follows the applied current, and falls back to the safe current on expiry")
    func pwmFollows() async throws {
        let rig = Rig(policy: Self.quiet, setpoints: Self.enabled)
        let station = rig.station
        _ = await station.setExternalSetpoint(16, evseID: id)
        try await rig.startBasicSession(current: 32)
        #expect(await station.controlPilot(evseID: id, connectorID: 1) == .c2)
        #expect(await station.meterValues(evseID: id)?.current == PhaseValues(all: 16))

        _ = await station.setExternalSetpoint(10, evseID: id)
        #expect(rig.recorder.take() == [
            .cpStateChanged(evseID: id, connectorID: 1, state: .c2, duty: 10 / 0.6),
            .statusAndLimitsChanged(evseIDs: [id]),
        ])
        #expect(await station.meterValues(evseID: id)?.current == PhaseValues(all: 10))
        #expect(await station.externalSetpointState(evseID: id)?.applied == 10)

        await rig.advance(.seconds(60))
        #expect(rig.recorder.take() == [
            .cpStateChanged(evseID: id, connectorID: 1, state: .c2, duty: 10),
            .statusAndLimitsChanged(evseIDs: [id]),
        ])
        #expect(await station.meterValues(evseID: id)?.current == PhaseValues(all: 6))
        #expect(await station.contactorClosed(evseID: id) == true)

        // Josev's own request stays a ceiling: the setpoint above it does not raise the PWM.
        _ = await station.applyPWM(evseID: id, hlc: false, current: 12)
        _ = await station.setExternalSetpoint(20, evseID: id)
        await rig.advance(PWMEncoding.adjustmentInterval)  // the increase 6 → 12 A right after the fallback waits (issue 18)
        #expect(await station.meterValues(evseID: id)?.current == PhaseValues(all: 12))
        #expect(await station.externalSetpointState(evseID: id)?.applied == 12, "1206: what the socket really offers")
    }

    @Test("0 < setpoint < 6 A pauses (PWM off, applied 0); 6.45 A applies 6.4 A (rounded down); 0 A pauses too")
    func pauseAndRounding() async throws {
        let rig = Rig(policy: Self.quiet, setpoints: Self.enabled)
        let station = rig.station
        _ = await station.setExternalSetpoint(16, evseID: id)
        try await rig.startBasicSession(current: 32)

        guard case .accepted(let paused) = await station.setExternalSetpoint(5.9, evseID: id) else {
            Issue.record("5.9 A must be accepted")
            return
        }
        #expect(paused.applied == 0 && paused.setpoint == 5.9 && paused.inEffect)
        #expect(rig.recorder.take() == [
            .cpStateChanged(evseID: id, connectorID: 1, state: .c1, duty: 100),
            .contactorChanged(evseID: id, closed: false),
            .cpStateChanged(evseID: id, connectorID: 1, state: .b1, duty: 100),
            .statusAndLimitsChanged(evseIDs: [id]),
        ])
        #expect(await station.statusAndLimits().evses[0].ac?.maxCurrent == PhaseValues(all: 0))
        #expect(await station.meterValues(evseID: id)?.current == PhaseValues(all: 0))

        guard case .accepted(let resumed) = await station.setExternalSetpoint(6.45, evseID: id) else {
            Issue.record("6.45 A must be accepted")
            return
        }
        #expect(resumed.applied == 6.4 && resumed.setpoint == 6.45)
        #expect(rig.recorder.take() == [
            .cpStateChanged(evseID: id, connectorID: 1, state: .b2, duty: 6.4 / 0.6),
            .cpStateChanged(evseID: id, connectorID: 1, state: .c2, duty: 6.4 / 0.6),
            .contactorChanged(evseID: id, closed: true),
            .statusAndLimitsChanged(evseIDs: [id]),
        ])
        #expect(await station.statusAndLimits().evses[0].ac?.maxCurrent == PhaseValues(all: 6.4))
        #expect(await station.meterValues(evseID: id)?.current == PhaseValues(all: 6.4))

        _ = await station.setExternalSetpoint(7.246, evseID: id)
        #expect(await station.externalSetpointState(evseID: id)?.applied == 7.2)
        _ = await station.setExternalSetpoint(0, evseID: id)
        #expect(await station.controlPilot(evseID: id, connectorID: 1) == .b1)
        #expect(await station.externalSetpointState(evseID: id)?.applied == 0)
        #expect(await station.contactorClosed(evseID: id) == false)
    }

    @Test("above the hardware, cable or EV maximum: clamped; NaN, infinite, negative, absurd: rejected; off: refused")
    func clampsAndRejections() async {
        let rig = Rig(setpoints: Self.enabled)
        let station = rig.station
        let simulator = rig.simulator
        #expect(await station.setExternalSetpoint(40, evseID: id) == .accepted(idle(32, setpoint: 40, remaining: .seconds(60))))
        #expect(await station.setExternalSetpoint(.nan, evseID: id) == .rejected(.invalidValue))
        #expect(await station.setExternalSetpoint(-1, evseID: id) == .rejected(.invalidValue))
        #expect(await station.setExternalSetpoint(.infinity, evseID: id) == .rejected(.invalidValue))
        #expect(await station.setExternalSetpoint(100, evseID: id) == .rejected(.outOfRange(100)))
        #expect(await station.setExternalSetpoint(10, evseID: "nope") == .rejected(.unknownEVSE))
        #expect(await station.externalSetpointState(evseID: "nope") == nil)
        #expect(await station.externalSetpointState(evseID: id)?.setpoint == 40, "rejected writes change nothing")

        await simulator.plug(evseID: id, ev: SimulatedEV(cableRating: 20))
        #expect(await station.externalSetpointState(evseID: id)?.applied == 20)
        await station.setEVMaxCurrent(13.37, evseID: id)
        #expect(await station.externalSetpointState(evseID: id)?.applied == 13.3)
        await simulator.fault(.overcurrent, evseID: id)
        #expect(await station.externalSetpointState(evseID: id)?.applied == 0, "a faulted EVSE offers nothing")

        let off = Rig()
        #expect(await off.station.setExternalSetpoint(10, evseID: id) == .rejected(.disabled))
        #expect(await off.station.externalSetpointState(evseID: id) == ExternalSetpointState(
            enabled: false, setpoint: nil, remaining: .zero, safeCurrent: 6, inEffect: false, applied: 32, phases: 3,
            phaseSwitchInProgress: false))
        #expect(off.recorder.take().isEmpty)
    }

    @Test("HLC: the 5 % stays, only the limits change")
    func hlc() async throws {
        let rig = Rig(policy: Self.quiet, setpoints: Self.enabled)
        let station = rig.station
        let simulator = rig.simulator
        _ = await station.setExternalSetpoint(20, evseID: id)
        await simulator.plug(evseID: id)
        _ = await station.applyPWM(evseID: id, hlc: true)
        await station.rfid(uid: "CAFE", evseID: id)
        await station.hlcCharging(evseID: id, active: true)
        await simulator.evRequestsPower(evseID: id)
        try #require(await station.contactorClosed(evseID: id) == true)
        #expect(await station.meterValues(evseID: id)?.current == PhaseValues(all: 20))
        _ = rig.recorder.take()

        _ = await station.setExternalSetpoint(10, evseID: id)
        #expect(rig.recorder.take() == [.statusAndLimitsChanged(evseIDs: [id])])
        #expect(await station.statusAndLimits().evses[0].ac?.maxCurrent == PhaseValues(all: 10))
        #expect(await station.meterValues(evseID: id)?.current == PhaseValues(all: 10))

        _ = await station.setExternalSetpoint(3, evseID: id)
        #expect(rig.recorder.take() == [.statusAndLimitsChanged(evseIDs: [id])])
        #expect(await station.statusAndLimits().evses[0].ac?.maxCurrent == PhaseValues(all: 0))
        #expect(await station.controlPilot(evseID: id, connectorID: 1) == .c2, "5 % stays")
        #expect(await station.meterValues(evseID: id)?.current == PhaseValues(all: 0))
    }

    @Test("DC: the setpoint limits dc.max_current (0.1 A steps, no 6 A floor, clamped to the EVSE)")
    func dc() async {
        let dc = Fixtures.dc
        let rig = Rig([Fixtures.dcEVSE], setpoints: Self.enabled)
        let station = rig.station
        #expect(await station.statusAndLimits().evses[0].dc?.maxCurrent == 6)
        #expect(await station.setExternalSetpoint(125.55, evseID: dc) == .accepted(ExternalSetpointState(
            enabled: true, setpoint: 125.55, remaining: .seconds(60), safeCurrent: 6, inEffect: true, applied: 125.5, phases: 3,
            phaseSwitchInProgress: false)))
        #expect(rig.recorder.take() == [.statusAndLimitsChanged(evseIDs: [dc])])
        #expect(await station.statusAndLimits().evses[0].dc?.maxCurrent == 125.5)
        _ = await station.setExternalSetpoint(3, evseID: dc)
        #expect(await station.statusAndLimits().evses[0].dc?.maxCurrent == 3)
        _ = await station.setExternalSetpoint(500, evseID: dc)
        #expect(await station.statusAndLimits().evses[0].dc?.maxCurrent == 200)
        #expect(await station.externalSetpointState(evseID: dc)?.applied == 200)
        let events = rig.recorder.take()
        #expect(events == [.statusAndLimitsChanged(evseIDs: [dc]), .statusAndLimitsChanged(evseIDs: [dc])], "no PWM on DC")
    }

    @Test("a reset or a restart drops the setpoint: back to the safe current")
    func resetAndRestart() async {
        let rig = Rig(setpoints: Self.enabled)
        _ = await rig.station.setExternalSetpoint(16, evseID: id)
        _ = rig.recorder.take()
        #expect(await rig.station.reset(evseID: id) == .accepted)
        #expect(rig.recorder.take() == [.resetPerformed(evseIDs: [id]), .statusAndLimitsChanged(evseIDs: [id])])
        #expect(await rig.station.externalSetpointState(evseID: id) == idle(6))

        _ = await rig.station.setExternalSetpoint(16, evseID: id)
        let restarted = Station(configuration: Fixtures.configuration([Fixtures.acEVSE], setpoints: Self.enabled))
        #expect(await restarted.externalSetpointState(evseID: id)?.applied == 6)
        #expect(await restarted.externalSetpointState(evseID: id)?.setpoint == nil)
    }

    @Test("the local limit (setExternalCurrentLimit) has no valid time and takes part in the minimum next to the setpoint")
    func localLimit() async {
        let rig = Rig(setpoints: Self.enabled)
        let station = rig.station
        _ = await station.setExternalSetpoint(16, evseID: id)
        await station.setExternalCurrentLimit(10, evseID: id)
        #expect(await station.externalSetpointState(evseID: id) == idle(10, setpoint: 16, remaining: .seconds(60)))
        await station.setExternalCurrentLimit(nil, evseID: id)
        #expect(await station.externalSetpointState(evseID: id)?.applied == 16)
        await station.setExternalCurrentLimit(20, evseID: id)
        await rig.advance(.seconds(60))
        #expect(await station.externalSetpointState(evseID: id) == idle(6), "the setpoint expired; the local 20 A stays")
        #expect(await station.state(of: id)?.externalCurrentLimit == 20)
    }

    @Test("reconfiguring: switching external control off drops the setpoint; on applies the safe current")
    func reconfigure() async {
        let rig = Rig(setpoints: Self.enabled)
        _ = await rig.station.setExternalSetpoint(16, evseID: id)
        _ = rig.recorder.take()
        await rig.station.reconfigure(Fixtures.configuration([Fixtures.acEVSE]))
        #expect(rig.recorder.take() == [.statusAndLimitsChanged(evseIDs: [id])])
        #expect(await rig.station.offeredCurrent(evseID: id) == 32)
        var safe = Fixtures.acEVSE
        safe.safeCurrent = 8
        await rig.station.reconfigure(Fixtures.configuration([safe], setpoints: Self.enabled))
        #expect(await rig.station.externalSetpointState(evseID: id)?.applied == 8)
        #expect(await rig.station.externalSetpointState(evseID: id)?.setpoint == nil)
    }
}

/// Issue 18, finding 8: racing setpoints reach the pilot at a bounded rate.
@Suite("pilot adjustment coalescing")
struct PilotAdjustmentTests {
    let id = Fixtures.ac

    func duties(_ notifications: [StationNotification]) -> [Double] {
        notifications.compactMap {
            if case .cpStateChanged(_, _, _, let duty) = $0 { return duty }
            return nil
        }
    }

    @Test("100 racing 10 A / 20 A setpoints at one instant: the decrease at once, the increase once after the interval, last value wins")
    func racingSetpoints() async throws {
        let rig = Rig(setpoints: SetpointPolicy(enabled: true))
        let duty8 = try #require(PWMEncoding.dutyCycle(forCurrent: 8))
        let duty10 = try #require(PWMEncoding.dutyCycle(forCurrent: 10))
        let duty20 = try #require(PWMEncoding.dutyCycle(forCurrent: 20))
        try await rig.startBasicSession(current: 32)
        _ = await rig.station.setExternalSetpoint(10, evseID: id)
        let first = duties(rig.recorder.take())
        #expect(first == [duty10], "a decrease reaches the pilot at once")

        for round in 0..<100 { _ = await rig.station.setExternalSetpoint(round % 2 == 0 ? 20 : 10, evseID: id) }
        _ = await rig.station.setExternalSetpoint(20, evseID: id)
        let racing = duties(rig.recorder.take())
        #expect(racing.isEmpty, "increases inside the interval wait: \(racing)")

        await rig.advance(PWMEncoding.adjustmentInterval / 2)
        #expect(duties(rig.recorder.take()).isEmpty)
        await rig.advance(PWMEncoding.adjustmentInterval / 2)
        #expect(duties(rig.recorder.take()) == [duty20], "the last value, once")

        _ = await rig.station.setExternalSetpoint(8, evseID: id)
        #expect(duties(rig.recorder.take()) == [duty8], "a decrease never waits")
    }
}
