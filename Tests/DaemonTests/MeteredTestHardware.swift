import JosevContract
import Station

/// No board, but a meter: the EVSE reads 230 V, 0 A and an import register of 0 Wh (a station
/// without any meter answers no `meter_values`: its values are unknown, never zeros).
final class MeteredTestHardware: StationHardware {
    func setPilot(evseID: String, connectorID: Int, signal: PilotSignal) {}
    func setCurrentLimit(evseID: String, current: Double) {}
    func setContactor(evseID: String, closed: Bool) {}
    func setConnectorLock(evseID: String, connectorID: Int, locked: Bool) -> ConnectorLockState { locked ? .locked : .unlocked }
    func startIsolationTest(evseID: String) {}
    func isolationTestResult(evseID: String) -> IsolationStatus? { .valid }
    func setDCOutput(evseID: String, voltage: Double, current: Double) {}
    func stopDCOutput(evseID: String) {}
    func readMeter(evseID: String) -> MeterReading? { MeterReading(voltage: PhaseValues(all: 230), energyImportedWh: 0) }
    func drainEvents() -> [HardwareEvent] { [] }
}
