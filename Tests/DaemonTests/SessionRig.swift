import Basics
import Logging
import Station
import Store
import TestSupport

@testable import Daemon

/// A station on simulated hardware with the session recorder on a real SQLite file, both on
/// injected clocks: the test moves time (`advance`) and the recorder samples as the daemon's tick
/// does, so a three-hour session runs in a moment.
struct SessionRig {
    static let ac = "DE*TST*E0001*1"

    let directory: TemporaryDirectory
    let configuration: DaemonConfiguration
    let clock: ManualClock
    let time: any TimeSource & Advancing
    let station: Station
    let simulator: EVSimulator
    let recorder: SessionRecorder
    /// The station's notifications not yet handed to the recorder.
    let notifications = Locked<[StationNotification]>([])

    /// A new station and recorder on `state` (a restart when a rig already used it).
    init(
        directory: TemporaryDirectory, freeVend: Bool = false, time: (any TimeSource & Advancing)? = nil, clock: ManualClock = ManualClock(),
        push: Bool = false
    ) throws {
        self.directory = directory
        configuration = try StatePersistenceTests.configuration(in: directory, modbus: false)
        self.clock = clock
        let time = time ?? ManualTime()
        self.time = time
        var policy = StationPolicy(localTokens: ["CAFE"])
        policy.freeVend = freeVend
        let notifications = notifications
        station = Station(
            configuration: configuration.station, hardware: SimulatedHardware(configuration: configuration.station), policy: policy,
            now: clock.closure, observer: { notification in notifications.withLock { $0.append(notification) } })
        simulator = EVSimulator(station: station)
        recorder = SessionRecorder.open(
            stateDirectory: directory.file("state"), station: station, logger: Logger(label: "test"), time: time, push: push)
    }

    var database: String { directory.file("state") + "/cs-companion.db" }

    /// Moves both clocks by `duration` in `step`s; after each the station ticks and the recorder
    /// samples (and gets the station's periodic meter values, as its subscription would).
    func advance(_ duration: Duration, step: Duration = .seconds(10)) async {
        var left = duration
        while left > .zero {
            let now = min(step, left)
            left -= now
            clock.advance(by: now)
            time.advance(by: now)
            await station.tick()
            await settle()
            await recorder.sample()
        }
    }

    /// Hands the station's notifications to the recorder, in order (its subscription in the daemon).
    func settle() async {
        let pending = notifications.withLock { list in
            defer { list = [] }
            return list
        }
        for notification in pending { await recorder.observe(notification) }
    }

    /// Plug, local card, a 16 A PWM and the EV asking for power.
    func plugAndCharge(current: Double = 16, transaction: String? = "tx-1") async {
        await simulator.plug(evseID: Self.ac, connectorID: 1, ev: SimulatedEV(maxCurrent: 32, phases: 3))
        _ = await station.rfid(uid: "CAFE", evseID: Self.ac)
        if let transaction {
            _ = await station.startTransaction(evseID: Self.ac, transactionID: transaction, token: .rfid("CAFE"))
            await recorder.transactionStarted(evseID: Self.ac, transactionID: transaction, token: .rfid("CAFE"))
        }
        _ = await station.applyPWM(evseID: Self.ac, hlc: false, current: current)
        await simulator.evRequestsPower(evseID: Self.ac)
        await settle()
    }

    /// Josev ends the transaction (the recorder first, as the handler does).
    func endTransaction(_ id: String = "tx-1") async {
        await recorder.transactionEnded(evseID: Self.ac, transactionID: id)
        _ = await station.endTransaction(transactionID: id, evseID: Self.ac)
    }

    /// The sessions as stored (a reader's own connection).
    func stored() throws -> [ChargingSessionRecord] {
        let store = try Store(path: database, readOnly: true)
        defer { store.close() }
        return try store.sessions()
    }
}

/// A clock the rig can move.
protocol Advancing: Sendable {
    func advance(by duration: Duration)
}

extension ManualTime: Advancing {}

/// The sum of a dimension over the periods.
func total(_ type: DimensionType, _ periods: [ChargingPeriod]) -> Double {
    periods.reduce(0) { $0 + ($1.dimensions.first { $0.type == type }?.volume ?? 0) }
}

extension ChargingPeriod {
    func volume(_ type: DimensionType) -> Double? { dimensions.first { $0.type == type }?.volume }
}

/// A `ManualTime` whose wall clock can also be stepped (an NTP correction, a wrong RTC set right):
/// the monotonic clock does not move with it.
final class SteppableTime: TimeSource, Advancing {
    private let base = ManualTime()
    private let step = Locked<Int64>(0)

    func unixMilliseconds() -> Int64 { base.unixMilliseconds() + step.withLock { $0 } }
    func monotonic() -> ContinuousClock.Instant { base.monotonic() }
    func sleep(for duration: Duration) async throws { try await base.sleep(for: duration) }
    func advance(by duration: Duration) { base.advance(by: duration) }
    /// Moves the wall clock only (negative: back).
    func stepWall(by milliseconds: Int64) { step.withLock { $0 += milliseconds } }
}
