import JosevContract
import Station
import Testing

/// A connector Josev reports reserved: free vend and local tokens do not open it.
@Suite("reservations")
struct StationReservationTests {
    let id = Fixtures.ac

    @Test("free vend does not start a session on a reserved connector; Josev's authorization does")
    func freeVendWaits() async throws {
        var policy = StationPolicy(freeVend: true, localTokens: ["CAFE"])
        policy.reservationTimeout = nil
        let rig = Rig(policy: policy)
        #expect(await rig.station.setReserved(true, evseID: id, connectorID: 1) == true)
        #expect(await rig.station.setReserved(true, evseID: id, connectorID: 1) == false, "unchanged")
        #expect(await rig.station.setReserved(true, evseID: id, connectorID: 9) == nil, "unknown connector")
        #expect(rig.recorder.take().contains(.reservationChanged(evseID: id, connectorID: 1, reserved: true, expired: false)))
        #expect(await rig.simulator.plug(evseID: id, connectorID: 1))
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 16)
        #expect(await rig.simulator.evRequestsPower(evseID: id))
        #expect(await rig.station.contactorClosed(evseID: id) == false)
        #expect(await rig.station.contactorRefusal(evseID: id) == .notAuthorized)
        // The station's own card list is not asked: only Josev knows the reservation's driver.
        #expect(await rig.station.rfid(uid: "CAFE", evseID: id) == .pending)
        #expect(await rig.station.contactorClosed(evseID: id) == false)
        #expect(await rig.station.authorize(evseID: id, token: .rfid("CAFE"), decision: .accepted))
        #expect(await rig.station.contactorClosed(evseID: id) == true)
    }

    @Test("the end of a reservation restores free vend")
    func endRestoresFreeVend() async throws {
        let rig = Rig(policy: StationPolicy(freeVend: true))
        await rig.station.setReserved(true, evseID: id, connectorID: 1)
        #expect(await rig.simulator.plug(evseID: id, connectorID: 1))
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 16)
        #expect(await rig.simulator.evRequestsPower(evseID: id))
        #expect(await rig.station.contactorClosed(evseID: id) == false)
        #expect(await rig.station.setReserved(false, evseID: id, connectorID: 1) == true)
        #expect(await rig.station.contactorClosed(evseID: id) == true)
        #expect(await rig.station.state(of: id)?.reservedConnectorIDs == [])
    }

    @Test("a reservation Josev never ends is dropped after the timeout")
    func expiry() async throws {
        var policy = StationPolicy(freeVend: true)
        policy.reservationTimeout = .seconds(60)
        let rig = Rig(policy: policy)
        await rig.station.setReserved(true, evseID: id, connectorID: 1)
        await rig.advance(.seconds(59))
        #expect(await rig.station.state(of: id)?.reservedConnectorIDs == [1])
        _ = rig.recorder.take()
        await rig.advance(.seconds(1))
        #expect(await rig.station.state(of: id)?.reservedConnectorIDs == [])
        #expect(rig.recorder.take().contains(.reservationChanged(evseID: id, connectorID: 1, reserved: false, expired: true)))
    }
}
