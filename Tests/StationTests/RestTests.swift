import Basics
import JosevContract
import Station
import Testing

/// The station at rest: the daemon's ticker sleeps, and the station wakes it when it leaves rest.
@Suite("station at rest")
struct RestTests {
    @Test("idle on simulated hardware: at rest; a plugged EV is not; the operation that leaves rest rings the bell")
    func restAndBell() async throws {
        let rig = Rig()
        #expect(await rig.station.enterRest())
        #expect(await rig.simulator.plug(evseID: Fixtures.ac, connectorID: 1, ev: SimulatedEV()))
        // Rung already: the wait returns at once instead of after an hour.
        await rig.station.restBell.wait(atMost: .seconds(3600))
        #expect(await !rig.station.enterRest())
        #expect(await rig.simulator.unplug(evseID: Fixtures.ac))
        await rig.advance(.milliseconds(250))
        #expect(await rig.station.enterRest(), "back at rest once the EV left")
    }

    @Test("an external setpoint is a timer: no rest while it runs; its valid time counts from the write, not from the last tick")
    func setpointAtRest() async throws {
        let rig = Rig(setpoints: SetpointPolicy(enabled: true, validTime: .seconds(30)))
        #expect(await rig.station.enterRest())
        // The ticker slept for a minute: the station's clock was last moved on then.
        rig.clock.advance(by: .seconds(60))
        _ = await rig.station.setExternalSetpoint(10, evseID: Fixtures.ac)
        #expect(await !rig.station.enterRest())
        await rig.advance(.seconds(1))
        let state = try #require(await rig.station.externalSetpointState(evseID: Fixtures.ac))
        #expect(state.setpoint == 10 && state.remaining == .seconds(29), "in effect for 29 s more, not expired at once: \(state)")
    }

    @Test("a fault keeps the tick going")
    func reservationAndFault() async throws {
        let rig = Rig()
        #expect(await rig.station.enterRest())
        #expect(await rig.station.fault(.rcdTripped, evseID: Fixtures.ac))
        #expect(await !rig.station.enterRest())
    }

    @Test("the published cs_status_and_limits follows every operation")
    func publishedFollows() async throws {
        let rig = Rig(setpoints: SetpointPolicy(enabled: true))
        #expect(rig.station.published.statusAndLimits == (await rig.station.statusAndLimits()))
        _ = await rig.station.setExternalSetpoint(10, evseID: Fixtures.ac)
        let after = await rig.station.statusAndLimits()
        #expect(rig.station.published.statusAndLimits == after)
        #expect(after.evses.first?.ac?.maxCurrent.l1 == 10, "\(after)")
    }
}

@Suite("doorbell")
struct DoorbellTests {
    @Test("a ring while nobody waits is kept for the next wait; a wait without a ring ends at its limit; cancellation ends it")
    func ringWaitCancel() async {
        let bell = Doorbell()
        bell.ring()
        await bell.wait(atMost: .seconds(3600))  // returns at once: rung before
        let clock = ContinuousClock()
        let started = clock.now
        await bell.wait(atMost: .milliseconds(50))
        #expect(clock.now - started >= .milliseconds(50))
        let waiter = Task { await bell.wait(atMost: .seconds(3600)) }
        waiter.cancel()
        await waiter.value
        let ringer = Task { await bell.wait(atMost: .seconds(3600)) }
        bell.ring()  // before or during the wait: either way it ends at once
        await ringer.value
    }
}
