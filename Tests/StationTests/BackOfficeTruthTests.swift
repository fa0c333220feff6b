import JosevContract
import Station
import Testing

/// Issue 16, points 1–3 in the station: the connection timeout, the socket lock held through the
/// session, the EV-side disconnect, and a reset that waits for idle or ends a stopped session.
@Suite("connection timeout, socket lock, reset")
struct BackOfficeTruthTests {
    let id = Fixtures.ac
    static let socketEVSE = EVSEConfiguration(
        evseID: Fixtures.ac, networkInterface: "eth1", ac: ACSupply(nominalVoltage: 230, maxCurrent: 32, phases: 3),
        connectors: [ConnectorConfiguration(id: 1, connectorType: .acThreePhaseCore, socket: true)])
    static let remote = ChargingToken(id: "REMOTE-1", type: .central)

    static func policy(_ change: (inout StationPolicy) -> Void = { _ in }) -> StationPolicy {
        var policy = StationPolicy(localTokens: ["CAFE"])
        policy.connectionTimeout = .seconds(300)
        change(&policy)
        return policy
    }

    static func timedOut(_ events: [StationNotification]) -> [StationNotification] {
        events.filter { if case .connectionTimedOut = $0 { true } else { false } }
    }

    static func locks(_ events: [StationNotification]) -> [ConnectorLockState] {
        events.compactMap { if case .cableInfo(_, _, let info) = $0 { info.lock } else { nil } }
    }

    // MARK: Connection timeout

    @Test("a remote start with no plug-in is dropped after the connection timeout; the next car does not charge on it")
    func remoteStartExpires() async throws {
        let rig = Rig(policy: Self.policy())
        #expect(await rig.station.authorize(evseID: id, token: Self.remote, decision: .accepted))
        await rig.advance(.seconds(299))
        #expect(Self.timedOut(rig.recorder.take()).isEmpty)
        #expect(await rig.station.state(of: id)?.authorization == .accepted(Self.remote))
        await rig.advance(.seconds(2))
        #expect(Self.timedOut(rig.recorder.take()) == [.connectionTimedOut(evseID: id, token: Self.remote, transactionID: nil)])
        #expect(await rig.station.state(of: id)?.authorization == EVSEAuthorization.none)

        // The next car: no authorization, no energy.
        #expect(await rig.simulator.plug(evseID: id))
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 16)
        #expect(await rig.simulator.evRequestsPower(evseID: id))
        #expect(await rig.station.contactorClosed(evseID: id) == false)
        #expect(await rig.station.contactorRefusal(evseID: id) == .notAuthorized)
    }

    @Test("an EV plugged in within the timeout keeps the authorization; a transaction started for it stops authorizing after the timeout")
    func pluggedInTimeAndTransaction() async throws {
        let rig = Rig(policy: Self.policy { $0.connectionTimeout = .seconds(60) })
        #expect(await rig.station.authorize(evseID: id, token: Self.remote, decision: .accepted))
        await rig.advance(.seconds(30))
        #expect(await rig.simulator.plug(evseID: id))
        await rig.advance(.seconds(120))
        #expect(Self.timedOut(rig.recorder.take()).isEmpty)
        #expect(await rig.station.state(of: id)?.authorization == .accepted(Self.remote))
        #expect(await rig.simulator.unplug(evseID: id))

        // Josev started the transaction on the authorization, before any EV.
        #expect(await rig.station.startTransaction(evseID: id, transactionID: "T-1", token: Self.remote))
        _ = rig.recorder.take()
        await rig.advance(.seconds(61))
        #expect(Self.timedOut(rig.recorder.take()) == [.connectionTimedOut(evseID: id, token: Self.remote, transactionID: "T-1")])
        let state = try #require(await rig.station.state(of: id))
        #expect(state.transaction?.id == "T-1", "the transaction is Josev's to end")
        #expect(state.transactionStopped)
        #expect(await rig.simulator.plug(evseID: id))
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 16)
        #expect(await rig.simulator.evRequestsPower(evseID: id))
        #expect(await rig.station.contactorClosed(evseID: id) == false)
    }

    @Test("the timeout follows a policy change while running; none: never")
    func policyChange() async {
        let rig = Rig(policy: Self.policy())
        await rig.station.updatePolicy { $0.connectionTimeout = .seconds(10) }
        #expect(await rig.station.authorize(evseID: id, token: Self.remote, decision: .accepted))
        await rig.advance(.seconds(11))
        #expect(Self.timedOut(rig.recorder.take()).count == 1)
        await rig.station.updatePolicy { $0.connectionTimeout = nil }
        #expect(await rig.station.authorize(evseID: id, token: Self.remote, decision: .accepted))
        await rig.advance(.seconds(86400))
        #expect(Self.timedOut(rig.recorder.take()).isEmpty)
    }

    // MARK: EV-side disconnect

    @Test("StopTxOnEVSideDisconnect false: the authorization survives the EV leaving, for the connection timeout")
    func evSideDisconnectKeepsAuthorization() async throws {
        let rig = Rig(policy: Self.policy { $0.stopTransactionOnEVSideDisconnect = false })
        try await rig.startBasicSession()
        #expect(await rig.simulator.unplug(evseID: id))
        #expect(await rig.station.state(of: id)?.authorization == .accepted(.rfid("CAFE")))
        #expect(await rig.simulator.plug(evseID: id))
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 16)
        #expect(await rig.simulator.evRequestsPower(evseID: id))
        #expect(await rig.station.contactorClosed(evseID: id) == true, "the EV came back: charging resumes without a new card")

        let stopping = Rig(policy: Self.policy())
        try await stopping.startBasicSession()
        #expect(await stopping.simulator.unplug(evseID: id))
        #expect(await stopping.station.state(of: id)?.authorization == EVSEAuthorization.none)
    }

    // MARK: Socket lock

    @Test("a socket locks before the contactor closes, stays locked through a pause, refuses unlocking, unlocks after the stop")
    func socketLockHeld() async throws {
        let rig = Rig([Self.socketEVSE], policy: Self.policy())
        #expect(await rig.simulator.plug(evseID: id))
        #expect(await rig.station.rfid(uid: "CAFE", evseID: id) == .acceptedLocally)
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 16)
        _ = rig.recorder.take()
        #expect(await rig.simulator.evRequestsPower(evseID: id))
        let events = rig.recorder.take()
        let lockIndex = try #require(events.firstIndex { if case .cableInfo(_, _, let info) = $0 { info.lock == .locked } else { false } })
        let closeIndex = try #require(events.firstIndex(of: .contactorChanged(evseID: id, closed: true)))
        #expect(lockIndex < closeIndex, "locked before the contactor closes: \(events)")

        #expect(await rig.station.connectorLock(evseID: id, connectorID: 1, action: .unlock) == .refusedWhileEnergized(.locked))
        #expect(await rig.simulator.evStops(evseID: id))
        #expect(await rig.station.contactorClosed(evseID: id) == false)
        #expect(await rig.station.connectorLock(evseID: id, connectorID: 1, action: .unlock) == .refusedWhileSessionRuns(.locked))
        #expect(await rig.station.state(of: id)?.connectors.first?.cable.lock == .locked, "a pause keeps the cable locked")
        _ = rig.recorder.take()

        #expect(await rig.station.stopCharging(evseID: id) == .accepted)
        #expect(Self.locks(rig.recorder.take()) == [.unlocked])
        #expect(await rig.station.connectorLock(evseID: id, connectorID: 1, action: .status) == .done(.unlocked))
    }

    @Test("a tethered cable is never locked by the station")
    func tetheredNotLocked() async throws {
        let rig = Rig(policy: Self.policy())
        #expect(await rig.simulator.plug(evseID: id))
        #expect(await rig.station.rfid(uid: "CAFE", evseID: id) == .acceptedLocally)
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 16)
        _ = rig.recorder.take()
        #expect(await rig.simulator.evRequestsPower(evseID: id))
        #expect(await rig.station.contactorClosed(evseID: id) == true)
        #expect(Self.locks(rig.recorder.take()).isEmpty)
    }

    @Test("a socket lock that fails to engage stops the start with lock_failure")
    func jammedSocket() async throws {
        let rig = Rig([Self.socketEVSE], policy: Self.policy())
        rig.hardware.jamLock(true, evseID: id)
        #expect(await rig.simulator.plug(evseID: id))
        #expect(await rig.station.rfid(uid: "CAFE", evseID: id) == .acceptedLocally)
        _ = await rig.station.applyPWM(evseID: id, hlc: false, current: 16)
        #expect(await rig.simulator.evRequestsPower(evseID: id))
        #expect(await rig.station.contactorClosed(evseID: id) == false)
        let events = rig.recorder.take()
        #expect(events.contains(.hardwareFault(evseID: id, kind: .lockFailure)))
        #expect(events.contactorChanges.isEmpty)
        #expect(await rig.station.contactorRefusal(evseID: id) == .fault(.lockFailure))
    }

    @Test("a lock the hardware does not confirm is not assumed: the contactor waits, and a missing confirmation is a lock_failure")
    func unconfirmedLock() async {
        let socket = Fixtures.configuration([Self.socketEVSE])
        let waiting = ConfirmingRig(board: ConfirmingBoard(lockAnswer: .unknown), configuration: socket)
        await waiting.station.handle(.pilotLevel(evseID: waiting.id, connectorID: 1, level: .b))
        #expect(await waiting.station.rfid(uid: "CAFE", evseID: waiting.id) == .acceptedLocally)
        _ = await waiting.station.applyPWM(evseID: waiting.id, hlc: false, current: 16)
        await waiting.station.handle(.pilotLevel(evseID: waiting.id, connectorID: 1, level: .c))
        #expect(waiting.board.recorded.locks == [true])
        #expect(waiting.board.recorded.contactor.isEmpty, "no close before the lock is confirmed")
        await waiting.station.handle(.lock(evseID: waiting.id, connectorID: 1, state: .locked))
        #expect(waiting.board.recorded.contactor == [true])

        let silent = ConfirmingRig(board: ConfirmingBoard(lockAnswer: .unknown), configuration: socket)
        await silent.station.handle(.pilotLevel(evseID: silent.id, connectorID: 1, level: .b))
        #expect(await silent.station.rfid(uid: "CAFE", evseID: silent.id) == .acceptedLocally)
        _ = await silent.station.applyPWM(evseID: silent.id, hlc: false, current: 16)
        await silent.station.handle(.pilotLevel(evseID: silent.id, connectorID: 1, level: .c))
        _ = silent.faults
        await silent.advance(.seconds(3))
        #expect(silent.faults == [.lockFailure])
        #expect(silent.board.recorded.contactor.isEmpty)
    }

    /// A socket on a board that confirms, charging a transaction; then the EV leaves with the cable
    /// still in the socket (pilot A, proximity still connected).
    static func evSideDisconnect(unlock: Bool) async -> ConfirmingRig {
        var policy = StationPolicy(localTokens: ["CAFE"])
        policy.unlockConnectorOnEVSideDisconnect = unlock
        let rig = ConfirmingRig(configuration: Fixtures.configuration([socketEVSE]), policy: policy)
        await rig.station.handle([
            .cable(evseID: rig.id, connectorID: 1, connected: true, ratedCurrent: 32), .pilotLevel(evseID: rig.id, connectorID: 1, level: .b),
        ])
        #expect(await rig.station.startTransaction(evseID: rig.id, transactionID: "T-EV", token: .rfid("CAFE")))
        _ = await rig.station.applyPWM(evseID: rig.id, hlc: false, current: 16)
        await rig.station.handle(.pilotLevel(evseID: rig.id, connectorID: 1, level: .c))
        await rig.station.handle(.contactor(evseID: rig.id, closed: true))
        #expect(rig.board.recorded.locks == [true])
        await rig.station.handle(.pilotLevel(evseID: rig.id, connectorID: 1, level: .a))
        await rig.station.handle(.contactor(evseID: rig.id, closed: false))
        #expect(rig.board.recorded.contactor == [true, false])
        return rig
    }

    @Test("UnlockConnectorOnEVSideDisconnect: the socket unlocks when the EV leaves; false keeps the cable locked until Josev unlocks it")
    func unlockOnEVSideDisconnect() async {
        let unlocking = await Self.evSideDisconnect(unlock: true)
        #expect(unlocking.board.recorded.locks == [true, false])

        let keeping = await Self.evSideDisconnect(unlock: false)
        #expect(keeping.board.recorded.locks == [true], "the cable stays locked in while the transaction runs")
        #expect(await keeping.station.state(of: keeping.id)?.connectors.first?.cable.lock == .locked)
        // The help desk (OCPP UnlockConnector through Josev): the EV is gone, so the unlock is done.
        #expect(await keeping.station.connectorLock(evseID: keeping.id, connectorID: 1, action: .unlock) == .done(.unlocked))
        #expect(keeping.board.recorded.locks == [true, false])
    }

    // MARK: Reset

    @Test("reset: scheduled while a session runs; at once once Josev stopped it, keeping the transaction for Josev to end")
    func resetIdleOrStopped() async throws {
        let rig = Rig(policy: Self.policy())
        try await rig.startBasicSession()
        #expect(await rig.station.startTransaction(evseID: id, transactionID: "T-9"))
        #expect(await rig.station.reset(evseID: id) == .scheduled)
        #expect(await rig.station.contactorClosed(evseID: id) == true)
        _ = rig.recorder.take()
        #expect(await rig.station.stopCharging(evseID: id) == .accepted)
        let events = rig.recorder.take()
        #expect(events.contains(.resetPerformed(evseIDs: [id])))
        #expect(events.contactorChanges == [false])
        let state = try #require(await rig.station.state(of: id))
        #expect(state.transaction?.id == "T-9")
        #expect(state.transactionStopped)

        // An EVSE reset and a station reset both waiting: both run once Josev stops the session.
        let both = Rig([Fixtures.acEVSE, Fixtures.dcEVSE], policy: Self.policy())
        try await both.startBasicSession()
        #expect(await both.station.startTransaction(evseID: id, transactionID: "T-11"))
        #expect(await both.station.reset(evseID: id) == .scheduled)
        #expect(await both.station.reset() == .scheduled)
        _ = both.recorder.take()
        #expect(await both.station.stopCharging(evseID: id) == .accepted)
        let performed = both.recorder.take().filter { if case .resetPerformed = $0 { true } else { false } }
        #expect(performed == [.resetPerformed(evseIDs: [id]), .resetPerformed(evseIDs: [id, Fixtures.dc])])

        let stopped = Rig(policy: Self.policy())
        try await stopped.startBasicSession()
        #expect(await stopped.station.startTransaction(evseID: id, transactionID: "T-10"))
        #expect(await stopped.station.stopCharging(evseID: id) == .accepted)
        #expect(await stopped.station.reset(evseID: id) == .accepted, "Josev stopped the session: the reset runs at once")
    }
}
