import JosevContract
import Station
import Synchronization
import Testing

/// Sees every notification synchronously, in order.
final class Recorder: Sendable {
    private let list = Mutex<[StationNotification]>([])

    func record(_ notification: StationNotification) { list.withLock { $0.append(notification) } }

    /// What was recorded since the last call.
    func take() -> [StationNotification] {
        list.withLock { list in
            let taken = list
            list = []
            return taken
        }
    }
}

enum Fixtures {
    static let identity = StationIdentity(serialNumber: "S1", vendor: "V", model: "M", firmwareVersion: "1.0", hardwareVersion: "A")
    static let ac = "DE*TST*E1*1"
    static let dc = "DE*TST*E1*2"
    static let single = "DE*TST*E1*3"

    static let acEVSE = EVSEConfiguration(
        evseID: ac, networkInterface: "eth1", ac: ACSupply(nominalVoltage: 230, maxCurrent: 32, phases: 3),
        connectors: [ConnectorConfiguration(id: 1, connectorType: .acThreePhaseCore)])
    static let dcEVSE = EVSEConfiguration(
        evseID: dc, networkInterface: "eth2",
        dc: DCSupply(maxCurrent: 200, minCurrent: 0, maxVoltage: 920, minVoltage: 150, maxPower: 50_000),
        connectors: [ConnectorConfiguration(id: 1, connectorType: .dcComboCore)])
    static let singlePhaseEVSE = EVSEConfiguration(
        evseID: single, networkInterface: "eth3", ac: ACSupply(nominalVoltage: 230, maxCurrent: 32, phases: 1),
        connectors: [ConnectorConfiguration(id: 1, connectorType: .acSinglePhaseCore)])

    static func configuration(_ evses: [EVSEConfiguration], setpoints: SetpointPolicy = SetpointPolicy()) -> StationConfiguration {
        StationConfiguration(identity: identity, evses: evses, setpoints: setpoints)
    }
}

/// A station on simulated hardware with manual time.
struct Rig {
    let clock = ManualClock()
    let recorder = Recorder()
    let hardware: SimulatedHardware
    let station: Station
    /// Plugs, unplugs and drives the simulated EV on `hardware`.
    let simulator: EVSimulator

    init(
        _ evses: [EVSEConfiguration] = [Fixtures.acEVSE], policy: StationPolicy = StationPolicy(localTokens: ["CAFE"]),
        setpoints: SetpointPolicy = SetpointPolicy()
    ) {
        let configuration = Fixtures.configuration(evses, setpoints: setpoints)
        hardware = SimulatedHardware(configuration: configuration)
        let recorder = recorder
        station = Station(
            configuration: configuration, hardware: hardware, policy: policy, now: clock.closure,
            observer: { recorder.record($0) })
        simulator = EVSimulator(station: station)
    }

    /// Advances simulated time and lets the station catch up.
    func advance(_ duration: Duration) async {
        clock.advance(by: duration)
        await station.tick()
    }

    /// Plug, local RFID, 16 A PWM, EV asks for energy: charging on the AC EVSE. Drops the notifications.
    func startBasicSession(evseID: String = Fixtures.ac, current: Double = 16, ev: SimulatedEV = SimulatedEV()) async throws {
        #expect(await simulator.plug(evseID: evseID, connectorID: 1, ev: ev))
        #expect(await station.rfid(uid: "CAFE", evseID: evseID) == .acceptedLocally)
        _ = await station.applyPWM(evseID: evseID, hlc: false, current: current)
        #expect(await simulator.evRequestsPower(evseID: evseID))
        try #require(await station.contactorClosed(evseID: evseID) == true)
        _ = recorder.take()
    }
}

func approximately(_ a: Double, _ b: Double, within tolerance: Double = 1e-6) -> Bool { abs(a - b) <= tolerance }

extension [StationNotification] {
    var contactorChanges: [Bool] {
        compactMap { if case .contactorChanged(_, let closed) = $0 { closed } else { nil } }
    }

    var pilotStates: [ControlPilotState] {
        compactMap { if case .cpStateChanged(_, _, let state, _) = $0 { state } else { nil } }
    }
}
