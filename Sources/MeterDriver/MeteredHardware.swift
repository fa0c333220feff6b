import JosevContract
import Station

/// A board (simulated, none, or a real driver) with real meters beside it: the meters' EVSEs
/// read their values from their buses' caches (never blocking the station), the others from the
/// board; the meters' `meter_communication` events join the board's.
public final class MeteredHardware: StationHardware {
    public let board: any StationHardware
    public let buses: [MeterBus]
    private let channels: [String: MeterChannel]
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(board: any StationHardware, buses: [MeterBus], now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.board = board
        self.buses = buses
        var channels: [String: MeterChannel] = [:]
        for bus in buses { for meter in bus.meters { channels[meter.evseID] = meter } }
        self.channels = channels
        self.now = now
    }

    /// The meter of an EVSE, if it has a configured one.
    public func meter(evseID: String) -> MeterChannel? { channels[evseID] }

    public func start() { for bus in buses { bus.start() } }
    public func stop() { for bus in buses { bus.stop() } }

    public func setPilot(evseID: String, connectorID: Int, signal: PilotSignal) { board.setPilot(evseID: evseID, connectorID: connectorID, signal: signal) }
    public func setCurrentLimit(evseID: String, current: Double) { board.setCurrentLimit(evseID: evseID, current: current) }
    public func setContactor(evseID: String, closed: Bool) { board.setContactor(evseID: evseID, closed: closed) }
    public func setPhases(evseID: String, phases: Int) { board.setPhases(evseID: evseID, phases: phases) }
    public func setConnectorLock(evseID: String, connectorID: Int, locked: Bool) -> ConnectorLockState {
        board.setConnectorLock(evseID: evseID, connectorID: connectorID, locked: locked)
    }
    public func startIsolationTest(evseID: String) { board.startIsolationTest(evseID: evseID) }
    public func isolationTestResult(evseID: String) -> IsolationStatus? { board.isolationTestResult(evseID: evseID) }
    public func setDCOutput(evseID: String, voltage: Double, current: Double) { board.setDCOutput(evseID: evseID, voltage: voltage, current: current) }
    public func stopDCOutput(evseID: String) { board.stopDCOutput(evseID: evseID) }
    public func advance(to now: StationInstant) { board.advance(to: now) }
    public var confirmsContactor: Bool { board.confirmsContactor }
    public func resetRCD(evseID: String) -> Bool { board.resetRCD(evseID: evseID) }
    public var boardDriver: any StationHardware { board.boardDriver }
    public func reconfigure(_ configuration: StationConfiguration) { board.reconfigure(configuration) }

    public func readMeter(evseID: String) -> MeterReading? {
        guard channels[evseID] != nil else { return board.readMeter(evseID: evseID) }
        let sample = sampleMeter(evseID: evseID)
        return sample.quality == .measured ? sample.reading : nil
    }

    public func sampleMeter(evseID: String) -> MeterSample {
        guard let channel = channels[evseID] else { return board.sampleMeter(evseID: evseID) }
        return channel.sample(at: now())
    }

    public func drainEvents() -> [HardwareEvent] {
        var events = board.drainEvents()
        for channel in channels.values.sorted(by: { $0.evseID < $1.evseID }) { events += channel.drainEvents() }
        return events
    }
}
