@testable import BoardDriver
import PhyVerso
import Station
import Testing

extension BoardPortsTests {
    @Test("a lock the station took itself stays locked when the coil opens (a pause); the station unlocks it")
    func hostLockKept() {
        var ports = ports()
        let now = ContinuousClock.now
        #expect(ports.setLock(evseID: Self.evse, locked: true, now: now) == [EverestToMcu(.connectorLock(true), connector: 2)])
        _ = ports.receive(.lockState(.locked), connector: 2, now: now)
        #expect(ports.setCoil(evseID: Self.evse, closed: true, now: now) == [
            EverestToMcu(.setCoilStateRequest(CoilState(coilType: .ac, closed: true)), connector: 2)
        ])
        _ = ports.receive(.setCoilStateResponse(CoilState(coilType: .ac, closed: true)), connector: 2, now: now)
        #expect(ports.setCoil(evseID: Self.evse, closed: false, now: now).count == 1)
        let open = ports.receive(.setCoilStateResponse(CoilState(coilType: .ac, closed: false)), connector: 2, now: now)
        #expect(open.replies.isEmpty, "no unlock behind the station's back")
        #expect(ports.setLock(evseID: Self.evse, locked: false, now: now) == [EverestToMcu(.connectorLock(false), connector: 2)])
    }
}
