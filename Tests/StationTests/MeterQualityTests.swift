import JosevContract
import Station
import Synchronization
import Testing

/// No board, and a meter whose every sample the test sets (as a polled meter's cache would).
final class ScriptedMeterHardware: StationHardware {
    private let sample = Mutex<MeterSample>(.absent)

    func set(_ new: MeterSample) { sample.withLock { $0 = new } }

    func setPilot(evseID: String, connectorID: Int, signal: PilotSignal) {}
    func setCurrentLimit(evseID: String, current: Double) {}
    func setContactor(evseID: String, closed: Bool) {}
    func setConnectorLock(evseID: String, connectorID: Int, locked: Bool) -> ConnectorLockState { locked ? .locked : .unlocked }
    func startIsolationTest(evseID: String) {}
    func isolationTestResult(evseID: String) -> IsolationStatus? { .valid }
    func setDCOutput(evseID: String, voltage: Double, current: Double) {}
    func stopDCOutput(evseID: String) {}
    func readMeter(evseID: String) -> MeterReading? { sample.withLock { $0.reading } }
    func sampleMeter(evseID: String) -> MeterSample { sample.withLock { $0 } }
    func drainEvents() -> [HardwareEvent] { [] }
}

@Suite("meter quality: unknown is never 0")
struct MeterQualityTests {
    let clock = ManualClock()
    let meter = ScriptedMeterHardware()
    let station: Station
    let id = Fixtures.ac

    init() {
        station = Station(
            configuration: Fixtures.configuration([Fixtures.acEVSE]), hardware: meter, policy: StationPolicy(freeVend: true),
            now: clock.closure)
    }

    static func reading(amps: Double, importWh: Double) -> MeterReading {
        MeterReading(voltage: PhaseValues(all: 230), current: PhaseValues(all: amps), frequency: 50.02, energyImportedWh: importWh)
    }

    /// Plug in, 16 A PWM, EV in C: the contactor closes (free vend).
    func charge() async throws {
        await station.handle(.pilotLevel(evseID: id, connectorID: 1, level: .b))
        _ = await station.applyPWM(evseID: id, hlc: false, current: 16)
        await station.handle(.pilotLevel(evseID: id, connectorID: 1, level: .c))
        try #require(await station.contactorClosed(evseID: id) == true)
    }

    func advance(_ duration: Duration) async {
        clock.advance(by: duration)
        await station.tick()
    }

    @Test("no meter: values unknown (NaN), not 0 V/0 A/0 W, and nothing integrated while charging")
    func absent() async throws {
        try await charge()
        await advance(.seconds(3600))
        let snapshot = try #require(await station.meterValues(evseID: id))
        #expect(snapshot.quality == .absent)
        #expect(snapshot.voltage.l1.isNaN && snapshot.current.l1.isNaN && snapshot.activePower.isNaN && snapshot.frequency.isNaN)
        #expect(snapshot.energyImportedWh == 0)
        #expect(snapshot.age == nil)
    }

    @Test("the meter's import register is the session's energy; an unavailable meter keeps its last register")
    func registerIsTheTruth() async throws {
        meter.set(.measured(Self.reading(amps: 16, importWh: 1_000)))
        try await charge()
        #expect(await station.startTransaction(evseID: id, transactionID: "T1"))
        meter.set(.measured(Self.reading(amps: 16, importWh: 1_500)))
        await advance(.seconds(60))
        var snapshot = try #require(await station.meterValues(evseID: id))
        #expect(snapshot.quality == .measured)
        #expect(snapshot.voltage == PhaseValues(all: 230) && snapshot.frequency == 50.02)
        #expect(snapshot.transactionEnergyWh == 500, "register difference, not 16 A · 230 V integrated")

        meter.set(MeterSample(quality: .unavailable, lastEnergyImportedWh: 1_500))
        await advance(.seconds(3600))
        snapshot = try #require(await station.meterValues(evseID: id))
        #expect(snapshot.quality == .unavailable)
        #expect(snapshot.activePower.isNaN && snapshot.current.l2.isNaN)
        #expect(snapshot.energyImportedWh == 1_500, "kept, and not integrated from the last power")
        #expect(snapshot.transactionEnergyWh == 500)

        meter.set(.measured(Self.reading(amps: 16, importWh: 1_800)))
        await advance(.seconds(1))
        let ended = try #require(await station.endTransaction(transactionID: "T1"))
        #expect(ended.energyWh(meterNow: 0) == 800)
    }

    @Test("a reading older than meterMaxAge is stale: values unknown, its register still counts")
    func stale() async throws {
        meter.set(.measured(Self.reading(amps: 10, importWh: 2_000), age: .seconds(30)))
        await advance(.seconds(1))
        let snapshot = try #require(await station.meterValues(evseID: id))
        #expect(snapshot.quality == .stale)
        #expect(snapshot.voltage.l1.isNaN)
        #expect(snapshot.energyImportedWh == 2_000)
        #expect(snapshot.age.map { $0 >= .seconds(30) } == true)
    }

    @Test("a session that started before the first register counts from that register, not from 0")
    func firstRegister() async throws {
        meter.set(MeterSample(quality: .unavailable))
        try await charge()
        #expect(await station.startTransaction(evseID: id, transactionID: "T2"))
        meter.set(.measured(Self.reading(amps: 16, importWh: 123_456)))
        await advance(.seconds(1))
        #expect(await station.meterValues(evseID: id)?.transactionEnergyWh == 0)
        meter.set(.measured(Self.reading(amps: 16, importWh: 123_556)))
        await advance(.seconds(1))
        #expect(await station.meterValues(evseID: id)?.transactionEnergyWh == 100)
    }

    @Test("meter_communication: the contactor opens and no new session starts until it clears")
    func communicationFault() async throws {
        meter.set(.measured(Self.reading(amps: 0, importWh: 10)))
        await station.handle(.fault(evseID: id, kind: .meterCommunication))
        #expect(await station.statusAndLimits().evses[0].statusCode == .malfunction)
        #expect(HardwareFaultKind.meterCommunication.faultName == "other")
        await station.handle(.pilotLevel(evseID: id, connectorID: 1, level: .b))
        _ = await station.applyPWM(evseID: id, hlc: false, current: 16)
        await station.handle(.pilotLevel(evseID: id, connectorID: 1, level: .c))
        #expect(await station.contactorClosed(evseID: id) == false)
        await station.handle(.faultCleared(evseID: id, kind: .meterCommunication))
        _ = await station.applyPWM(evseID: id, hlc: false, current: 16)
        #expect(await station.contactorClosed(evseID: id) == true)
    }
}
