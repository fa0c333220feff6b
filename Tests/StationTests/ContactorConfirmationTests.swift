import JosevContract
import Station
import Synchronization
import Testing

/// A safety controller as the station sees it: it records the commands and confirms nothing by
/// itself; the test reports what the controller would (`Station.handle`).
final class ConfirmingBoard: StationHardware {
    struct Commands: Sendable {
        var contactor: [Bool] = []
        var pilot: [PilotSignal] = []
        var locks: [Bool] = []
        var rcdResets = 0
    }

    private let commands = Mutex(Commands())
    private let lockAnswer: Mutex<ConnectorLockState>

    init(lockAnswer: ConnectorLockState = .locked) { self.lockAnswer = Mutex(lockAnswer) }

    var recorded: Commands { commands.withLock { $0 } }
    var confirmsContactor: Bool { true }

    func setPilot(evseID: String, connectorID: Int, signal: PilotSignal) { commands.withLock { $0.pilot.append(signal) } }
    func setCurrentLimit(evseID: String, current: Double) {}
    func setContactor(evseID: String, closed: Bool) { commands.withLock { $0.contactor.append(closed) } }
    func setConnectorLock(evseID: String, connectorID: Int, locked: Bool) -> ConnectorLockState {
        commands.withLock { $0.locks.append(locked) }
        return locked ? lockAnswer.withLock { $0 } : .unlocked
    }
    func startIsolationTest(evseID: String) {}
    func isolationTestResult(evseID: String) -> IsolationStatus? { .noIMD }
    func setDCOutput(evseID: String, voltage: Double, current: Double) {}
    func stopDCOutput(evseID: String) {}
    func readMeter(evseID: String) -> MeterReading? { nil }
    func drainEvents() -> [HardwareEvent] { [] }
    func resetRCD(evseID: String) -> Bool {
        commands.withLock { $0.rcdResets += 1 }
        return true
    }
}

/// A station on a `ConfirmingBoard`, an AC EVSE, manual time.
struct ConfirmingRig {
    let id = Fixtures.ac
    let clock = ManualClock()
    let recorder = Recorder()
    let board: ConfirmingBoard
    let station: Station

    init(
        board: ConfirmingBoard = ConfirmingBoard(), configuration: StationConfiguration = Fixtures.configuration([Fixtures.acEVSE]),
        policy given: StationPolicy = StationPolicy(localTokens: ["CAFE"])
    ) {
        self.board = board
        let recorder = recorder
        var policy = given
        policy.contactorConfirmationTimeout = .seconds(2)
        station = Station(
            configuration: configuration, hardware: board, policy: policy, now: clock.closure,
            observer: { recorder.record($0) })
    }

    func advance(_ duration: Duration) async {
        clock.advance(by: duration)
        await station.tick()
    }

    /// Plug, local card, 16 A, EV in C: the station commands the contactor closed.
    func requestCharging() async {
        await station.handle(.pilotLevel(evseID: id, connectorID: 1, level: .b))
        #expect(await station.rfid(uid: "CAFE", evseID: id) == .acceptedLocally)
        _ = await station.applyPWM(evseID: id, hlc: false, current: 16)
        await station.handle(.pilotLevel(evseID: id, connectorID: 1, level: .c))
        #expect(board.recorded.contactor.last == true)
    }

    var faults: [HardwareFaultKind] {
        recorder.take().compactMap { if case .hardwareFault(_, let kind) = $0 { kind } else { nil } }
    }
}

@Suite("contactor confirmation and board faults")
struct ContactorConfirmationTests {
    @Test("a closed contactor is announced only once the hardware confirms it")
    func announcedOnConfirmation() async {
        let rig = ConfirmingRig()
        await rig.requestCharging()
        #expect(rig.recorder.take().contactorChanges.isEmpty)
        #expect(await rig.station.contactorClosed(evseID: rig.id) == false)
        await rig.advance(.seconds(1))
        await rig.station.handle(.contactor(evseID: rig.id, closed: true))
        #expect(rig.recorder.take().contactorChanges == [true])
        #expect(await rig.station.contactorClosed(evseID: rig.id) == true)
        await rig.advance(.seconds(5))
        #expect(await rig.station.state(of: rig.id)?.faults.isEmpty == true, "confirmed in time: no fault")

        _ = await rig.station.stopCharging(evseID: rig.id)
        #expect(rig.board.recorded.contactor.last == false)
        #expect(rig.recorder.take().contactorChanges.isEmpty, "open is announced when confirmed too")
        await rig.station.handle(.contactor(evseID: rig.id, closed: false))
        #expect(rig.recorder.take().contactorChanges == [false])
        await rig.advance(.seconds(5))
        #expect(await rig.station.state(of: rig.id)?.faults.isEmpty == true)
    }

    @Test("a close that is never confirmed: contactor_stuck_open, not charging, cleared when the EV leaves")
    func closeNotConfirmed() async {
        let rig = ConfirmingRig()
        await rig.requestCharging()
        _ = rig.recorder.take()
        await rig.advance(.milliseconds(1900))
        #expect(await rig.station.state(of: rig.id)?.faults.isEmpty == true)
        await rig.advance(.milliseconds(200))
        let notifications = rig.recorder.take()
        #expect(notifications.contains(.hardwareFault(evseID: rig.id, kind: .contactorStuckOpen)))
        #expect(notifications.contactorChanges.isEmpty, "never announced as closed")
        #expect(rig.board.recorded.contactor.last == false, "the command is withdrawn")
        #expect(rig.board.recorded.pilot.last == .fault)
        #expect(await rig.station.contactorClosed(evseID: rig.id) == false)
        #expect(await rig.station.meterValues(evseID: rig.id)?.energyImportedWh == 0, "no energy assumed")
        #expect(HardwareFaultKind.contactorStuckOpen.faultName == "other")

        await rig.station.handle(.pilotLevel(evseID: rig.id, connectorID: 1, level: .a))
        #expect(rig.recorder.take().contains(.hardwareFaultCleared(evseID: rig.id, kind: .contactorStuckOpen)))
        #expect(await rig.station.state(of: rig.id)?.faults.isEmpty == true)
    }

    @Test("feedback closed after an open command: latched contactor_welded, F, lock kept, no auto-clear")
    func welded() async {
        let rig = ConfirmingRig()
        await rig.requestCharging()
        #expect(await rig.station.connectorLock(evseID: rig.id, connectorID: 1, action: .lock) == .done(.locked))
        await rig.station.handle(.contactor(evseID: rig.id, closed: true))
        _ = await rig.station.stopCharging(evseID: rig.id)
        await rig.advance(.seconds(3))
        #expect(rig.faults == [.contactorWelded])
        let state = await rig.station.state(of: rig.id)
        #expect(state?.statusCode == .malfunction)
        #expect(rig.board.recorded.pilot.last == .fault)
        #expect(await rig.station.applyPWM(evseID: rig.id, hlc: false, current: 16) == .rejected(.faulted(.contactorWelded)))
        #expect(await rig.station.connectorLock(evseID: rig.id, connectorID: 1, action: .unlock) == .refusedWhileEnergized(.locked))
        #expect(rig.board.recorded.locks == [true], "never asked to unlock")

        // The hardware clearing its flag, the feedback opening, the EV leaving: still latched.
        await rig.station.handle(.faultCleared(evseID: rig.id, kind: .contactorWelded))
        await rig.station.handle(.pilotLevel(evseID: rig.id, connectorID: 1, level: .a))
        await rig.advance(.seconds(60))
        #expect(await rig.station.state(of: rig.id)?.faults == [.contactorWelded])
        #expect(await rig.station.clearLatchedFault(.contactorWelded, evseID: rig.id) == false, "the contact still reads closed")
        await rig.station.handle(.contactor(evseID: rig.id, closed: false))
        #expect(await rig.station.state(of: rig.id)?.faults == [.contactorWelded])
        #expect(await rig.station.clearLatchedFault(.contactorWelded, evseID: rig.id))
        #expect(await rig.station.state(of: rig.id)?.faults.isEmpty == true)
    }

    @Test("RCD trip: the controller opens, ground_fault, reset only unplugged, cleared when the RCD is armed")
    func rcdTrip() async {
        let rig = ConfirmingRig()
        await rig.requestCharging()
        await rig.station.handle(.contactor(evseID: rig.id, closed: true))
        _ = rig.recorder.take()
        await rig.station.handle([.fault(evseID: rig.id, kind: .rcdTripped), .contactor(evseID: rig.id, closed: false)])
        let notifications = rig.recorder.take()
        #expect(notifications.contains(.hardwareFault(evseID: rig.id, kind: .rcdTripped)))
        #expect(notifications.contactorChanges == [false])
        #expect(HardwareFaultKind.rcdTripped.faultName == "ground_fault")
        #expect(await rig.station.state(of: rig.id)?.rcdError == true)
        await rig.advance(.seconds(5))
        #expect(await rig.station.state(of: rig.id)?.faults == [.rcdTripped], "the opening was confirmed: nothing welded")

        #expect(await rig.station.resetRCD(evseID: rig.id) == .refusedWhilePlugged)
        #expect(rig.board.recorded.rcdResets == 0)
        // The pilot at F hides the EV from the CP; the cable still shows it.
        await rig.station.handle([
            .cable(evseID: rig.id, connectorID: 1, connected: true, ratedCurrent: 32), .pilotLevel(evseID: rig.id, connectorID: 1, level: .f),
        ])
        #expect(await rig.station.resetRCD(evseID: rig.id) == .refusedWhilePlugged)
        await rig.station.handle(.cable(evseID: rig.id, connectorID: 1, connected: false, ratedCurrent: nil))
        await rig.station.handle(.pilotLevel(evseID: rig.id, connectorID: 1, level: .a))
        #expect(await rig.station.state(of: rig.id)?.faults == [.rcdTripped], "unplugging does not clear it")
        #expect(await rig.station.resetRCD(evseID: rig.id) == .requested)
        #expect(rig.board.recorded.rcdResets == 1)
        await rig.station.handle(.faultCleared(evseID: rig.id, kind: .rcdTripped))
        #expect(await rig.station.state(of: rig.id)?.faults.isEmpty == true)
        #expect(await rig.station.resetRCD(evseID: rig.id) == .notTripped)
    }

    @Test("a lock that fails to engage: no start, lock_failure, cleared with the session")
    func lockFailure() async {
        let rig = ConfirmingRig(board: ConfirmingBoard(lockAnswer: .error))
        await rig.station.handle(.pilotLevel(evseID: rig.id, connectorID: 1, level: .b))
        #expect(await rig.station.connectorLock(evseID: rig.id, connectorID: 1, action: .lock) == .done(.error))
        #expect(rig.faults == [.lockFailure])
        #expect(await rig.station.rfid(uid: "CAFE", evseID: rig.id) == .acceptedLocally)
        #expect(await rig.station.applyPWM(evseID: rig.id, hlc: false, current: 16) == .rejected(.faulted(.lockFailure)))
        await rig.station.handle(.pilotLevel(evseID: rig.id, connectorID: 1, level: .c))
        #expect(rig.board.recorded.contactor.isEmpty, "never commanded closed")
        await rig.station.handle(.pilotLevel(evseID: rig.id, connectorID: 1, level: .a))
        #expect(await rig.station.state(of: rig.id)?.faults.isEmpty == true)

        // With the pilot at F the CP cannot see the EV leave; the cable can.
        await rig.station.handle([
            .pilotLevel(evseID: rig.id, connectorID: 1, level: .b), .lock(evseID: rig.id, connectorID: 1, state: .error),
            .cable(evseID: rig.id, connectorID: 1, connected: true, ratedCurrent: 32), .pilotLevel(evseID: rig.id, connectorID: 1, level: .f),
        ])
        #expect(rig.faults == [.lockFailure])
        await rig.station.handle(.cable(evseID: rig.id, connectorID: 1, connected: false, ratedCurrent: nil))
        #expect(await rig.station.state(of: rig.id)?.faults.isEmpty == true)
        await rig.station.handle(.pilotLevel(evseID: rig.id, connectorID: 1, level: .a))

        // Reported by the hardware on its own (the controller's lock_failed flag).
        await rig.station.handle(.pilotLevel(evseID: rig.id, connectorID: 1, level: .b))
        await rig.station.handle(.lock(evseID: rig.id, connectorID: 1, state: .error))
        #expect(rig.faults == [.lockFailure])
    }

    @Test("a lost link forgets the confirmation instead of calling the contactor welded")
    func linkLost() async {
        let rig = ConfirmingRig()
        await rig.requestCharging()
        await rig.station.handle(.contactor(evseID: rig.id, closed: true))
        _ = rig.recorder.take()
        await rig.station.handle(.fault(evseID: rig.id, kind: .boardLink))
        #expect(rig.board.recorded.contactor.last == false)
        #expect(rig.board.recorded.pilot.last == .fault)
        await rig.advance(.seconds(10))
        #expect(await rig.station.state(of: rig.id)?.faults == [.boardLink])
        #expect(await rig.station.state(of: rig.id)?.contactorConfirmed == nil)
        await rig.station.handle([.faultCleared(evseID: rig.id, kind: .boardLink), .contactor(evseID: rig.id, closed: false)])
        await rig.advance(.seconds(10))
        #expect(await rig.station.state(of: rig.id)?.faults.isEmpty == true)
    }

    @Test("board fault kinds map to hardware_fault names the schema allows")
    func faultNames() {
        let allowed: Set<String> = [
            "overcurrent_fault", "emergency_stop", "ground_fault", "energy_limit_reached", "power_loss", "power_quality", "reboot", "other",
        ]
        for kind in HardwareFaultKind.allCases { #expect(allowed.contains(kind.faultName), "\(kind)") }
        #expect(HardwareFaultKind.boardLink.rawValue == "board_link")
        #expect(HardwareFaultKind.diodeFault.rawValue == "diode_fault")
        #expect(HardwareFaultKind.contactorWelded.isLatched)
        #expect(!HardwareFaultKind.rcdTripped.isLatched)
    }

    @Test("NullHardware claims neither a passed insulation test nor a lock it does not have")
    func nullHardware() async {
        let hardware = NullHardware()
        #expect(hardware.isolationTestResult(evseID: Fixtures.dc) != .valid)
        #expect(hardware.setConnectorLock(evseID: Fixtures.ac, connectorID: 1, locked: true) == .unknown)
        #expect(!hardware.confirmsContactor)
        #expect(!hardware.resetRCD(evseID: Fixtures.ac))
    }
}
