@testable import BoardDriver
import PhyVerso
import Station
import Testing

@Suite("board driver: the MCU's reports and the host's commands (pure)")
struct BoardPortsTests {
    static let evse = "DE*PNX*E12345*1"
    static let configuration = StationConfiguration(
        identity: StationIdentity(serialNumber: "S", vendor: "V", model: "M", firmwareVersion: "1", hardwareVersion: "A"),
        evses: [
            EVSEConfiguration(
                evseID: evse, networkInterface: "eth1", ac: ACSupply(nominalVoltage: 230, maxCurrent: 32, phases: 3),
                connectors: [ConnectorConfiguration(id: 1, connectorType: .acThreePhaseCore)])
        ])

    func ports(lock: BoardSettings.Lock = .motor) -> BoardPorts {
        BoardPorts(
            settings: BoardSettings(port: "/dev/null", connectors: [.init(evseID: Self.evse, mcuConnector: 2, contactorFeedback: .nc, lock: lock)]),
            configuration: Self.configuration)
    }

    @Test("the boot configuration follows the YAML: unconfigured ports disabled, feedback polarity, lock type")
    func bootConfiguration() {
        let settings = BoardSettings(port: "/dev/null", connectors: [.init(evseID: Self.evse, mcuConnector: 2, contactorFeedback: .nc, lock: .motor)])
        let boot = settings.bootConfiguration
        #expect(boot.chargePorts.count == 2)
        #expect(boot.chargePorts[0].type == .disabled)
        #expect(boot.chargePorts[1].type == .ac)
        #expect(boot.chargePorts[1].feedbackActiveLow)
        #expect(boot.chargePorts[1].lock?.type == .hella)
        #expect(boot.chargePorts[1].hasSocket)
        let plain = BoardSettings(port: "/dev/null", connectors: [.init(evseID: Self.evse, mcuConnector: 1, contactorFeedback: .no, lock: .none)])
        #expect(plain.bootConfiguration.chargePorts[0].feedbackActiveLow == false)
        #expect(plain.bootConfiguration.chargePorts[0].lock == nil)
    }

    @Test("PWM in 0.01 %: F = 0, off = X1 = 10000, 16 A = 2667, 5 %")
    func pwm() {
        var ports = ports()
        #expect(ports.setPilot(evseID: Self.evse, signal: .fault) == [EverestToMcu(.pwmDutyCycle(0), connector: 2)])
        #expect(ports.setPilot(evseID: Self.evse, signal: .off) == [EverestToMcu(.pwmDutyCycle(10000), connector: 2)])
        #expect(ports.setPilot(evseID: Self.evse, signal: .nominal(current: 16)) == [EverestToMcu(.pwmDutyCycle(2667), connector: 2)])
        #expect(ports.setPilot(evseID: Self.evse, signal: .digital) == [EverestToMcu(.pwmDutyCycle(500), connector: 2)])
        #expect(ports.setPilot(evseID: "other", signal: .digital).isEmpty)
    }

    @Test("with a lock the coil waits for it; the socket unlocks only once the coil is confirmed open")
    func lockBeforeCoil() {
        var ports = ports()
        let now = ContinuousClock.now
        #expect(ports.setCoil(evseID: Self.evse, closed: true, now: now) == [EverestToMcu(.connectorLock(true), connector: 2)])
        let locked = ports.receive(.lockState(.locked), connector: 2, now: now)
        #expect(locked.replies == [EverestToMcu(.setCoilStateRequest(CoilState(coilType: .ac, closed: true)), connector: 2)])
        #expect(locked.events == [.lock(evseID: Self.evse, connectorID: 1, state: .locked)])
        let closed = ports.receive(.setCoilStateResponse(CoilState(coilType: .ac, closed: true)), connector: 2, now: now)
        #expect(closed.events == [.contactor(evseID: Self.evse, closed: true)])
        #expect(ports.setCoil(evseID: Self.evse, closed: false, now: now).count == 1)
        // Welded: the feedback stays closed, the socket stays locked.
        let welded = ports.receive(.setCoilStateResponse(CoilState(coilType: .ac, closed: true)), connector: 2, now: now)
        #expect(welded.replies.isEmpty)
        let open = ports.receive(.setCoilStateResponse(CoilState(coilType: .ac, closed: false)), connector: 2, now: now)
        #expect(open.replies == [EverestToMcu(.connectorLock(false), connector: 2)])
    }

    @Test("the MCU's flags become fault transitions; CP and PP become pilot and cable events")
    func flagsAndStates() {
        var ports = ports()
        let now = ContinuousClock.now
        var flags = ErrorFlags()
        flags.rcdTriggered = true
        flags.diodeFault = true
        let raised = ports.receive(.errorFlags(flags), connector: 2, now: now).events
        #expect(raised.contains(.fault(evseID: Self.evse, kind: .rcdTripped)))
        #expect(raised.contains(.fault(evseID: Self.evse, kind: .diodeFault)))
        flags.rcdTriggered = false
        #expect(ports.receive(.errorFlags(flags), connector: 2, now: now).events == [.faultCleared(evseID: Self.evse, kind: .rcdTripped)])
        flags.connectorLockFailed = true
        #expect(ports.receive(.errorFlags(flags), connector: 2, now: now).events == [.lock(evseID: Self.evse, connectorID: 1, state: .error)])
        #expect(ports.receive(.cpState(.c), connector: 2, now: now).events == [.pilotLevel(evseID: Self.evse, connectorID: 1, level: .c)])
        #expect(
            ports.receive(.ppState(.amps20), connector: 2, now: now).events
                == [.cable(evseID: Self.evse, connectorID: 1, connected: true, ratedCurrent: 20)])
        #expect(ports.receive(.cpState(.c), connector: 1, now: now).events.isEmpty, "a port nobody configured")
    }

    @Test("commanded vs reported: a lock that does not follow within the settle time is a lock failure, once")
    func compare() {
        var ports = ports()
        let start = ContinuousClock.now
        _ = ports.setLock(evseID: Self.evse, locked: true, now: start)
        #expect(ports.compare(now: start + .milliseconds(500), settle: .seconds(1)).isEmpty)
        #expect(ports.compare(now: start + .seconds(2), settle: .seconds(1)) == [.lock(evseID: Self.evse, connectorID: 1, state: .error)])
        #expect(ports.compare(now: start + .seconds(3), settle: .seconds(1)).isEmpty, "reported once")
        #expect(ports.reports[0].mismatches.contains { $0.hasPrefix("lock commanded locked") })
    }
}
