import Logging
import JosevContract
import Station
import Synchronization
import Testing

@testable import MeterDriver

/// A line whose answers the test scripts: each read takes the next queued outcome (or, when the
/// queue is empty, answers from `registers`).
final class ScriptedLine: RegisterTransport {
    var registers: [UInt16: UInt16] = [:]
    var queued: [RegisterReadError] = []
    /// Bytes a recovery finds on the line after a timeout (a late answer).
    var lateBytes = 0
    private(set) var reads = 0
    private(set) var recoveries = 0

    func read(unit: UInt8, function: RegisterSpec.FunctionCode, address: UInt16, count: UInt16) -> Result<[UInt16], RegisterReadError> {
        reads += 1
        if !queued.isEmpty { return .failure(queued.removeFirst()) }
        return .success((0..<count).map { registers[address + $0] ?? 0 })
    }

    func recover(after error: RegisterReadError) -> Int {
        recoveries += 1
        defer { lateBytes = 0 }
        return lateBytes
    }

    /// An SDM630 reading 230 V, `amps` A, 50 Hz and `importKWh`.
    func sdm630(amps: Float = 16, importKWh: Float, serial: UInt32 = 12_345_678) {
        func put(_ address: UInt16, _ value: Float) {
            registers[address] = UInt16(value.bitPattern >> 16)
            registers[address + 1] = UInt16(value.bitPattern & 0xFFFF)
        }
        for address: UInt16 in [0, 2, 4] { put(address, 230) }
        for address: UInt16 in [6, 8, 10] { put(address, amps) }
        put(0x34, 3 * 230 * amps)
        put(0x3E, 1)
        put(0x46, 50)
        put(0x48, importKWh)
        put(0x4A, 0)
        registers[0xFC00] = UInt16(serial >> 16)
        registers[0xFC01] = UInt16(serial & 0xFFFF)
    }
}

@Suite("meter polling: the fault rules on a scripted line")
struct PollingTests {
    let line = ScriptedLine()
    let channel: MeterChannel
    var polling: MeterPolling

    init() throws {
        let profile = try #require(BuiltInProfiles.all["eastron_sdm630"])
        channel = MeterChannel(evseID: "E1", unitID: 11, profile: profile, expectSerial: "12345678", offlineAfterFailedCycles: 2)
        polling = MeterPolling(transport: line, gap: .zero, logger: Logger(label: "test"), now: { ContinuousClock.now })
    }

    var sample: MeterSample { channel.sample(at: ContinuousClock.now) }

    @Test("a good cycle: two requests (values, serial), measured values, the register in Wh")
    mutating func good() {
        line.sdm630(importKWh: 1234.5)
        polling.poll(channel)
        #expect(line.reads == 2)
        #expect(sample.quality == .measured)
        #expect(sample.reading?.voltage == PhaseValues(all: 230))
        #expect(abs((sample.reading?.activePower ?? 0) - 11_040) < 1e-6)
        #expect(sample.reading?.energyImportedWh == 1_234_500)
        #expect(channel.current.serialNumber == "12345678")
        #expect(channel.drainEvents().isEmpty)
    }

    @Test("silent: the first timeout ends the cycle; 2 failed cycles raise meter_communication; one good cycle clears it")
    mutating func silent() {
        line.sdm630(importKWh: 100)
        polling.poll(channel)
        line.queued = [.timeout, .timeout]
        polling.poll(channel)
        #expect(line.reads == 3, "the serial block was not asked after the timeout")
        #expect(channel.drainEvents().isEmpty, "one failed cycle is not yet offline")
        polling.poll(channel)
        #expect(channel.drainEvents() == [.fault(evseID: "E1", kind: .meterCommunication)])
        #expect(sample.quality == .unavailable)
        #expect(sample.reading == nil)
        #expect(sample.lastEnergyImportedWh == 100_000, "the last register is kept")
        #expect(channel.current.statistics.timeouts == 2)
        polling.poll(channel)
        #expect(channel.drainEvents() == [.faultCleared(evseID: "E1", kind: .meterCommunication)])
        #expect(sample.quality == .measured)
    }

    @Test("bad CRC, another unit's frame, a mismatched frame: no value, counted, flushed, retried once")
    mutating func framing() {
        line.sdm630(importKWh: 5)
        for error in [RegisterReadError.badCRC, .wrongUnit, .badData] {
            line.queued = [error]
            polling.poll(channel)
            #expect(sample.quality == .measured, "\(error): the retry succeeded")
        }
        #expect(channel.current.statistics.framingErrors == 3)
        #expect(channel.current.statistics.retries == 3)
        #expect(line.recoveries == 3)
        line.queued = [.badCRC, .badCRC]
        polling.poll(channel)
        #expect(channel.current.statistics.retries == 4, "once only")
        #expect(channel.current.failedInRow == 1)
    }

    @Test("a late answer: counted as a framing error, flushed, retried once")
    mutating func late() {
        line.sdm630(importKWh: 5)
        line.queued = [.timeout]
        line.lateBytes = 157
        polling.poll(channel)
        #expect(channel.current.statistics.framingErrors == 1)
        #expect(channel.current.statistics.timeouts == 0)
        #expect(channel.current.failedInRow == 0)
        #expect(line.reads == 3)
    }

    @Test("implausible values are dropped and counted: NaN, an energy register going backwards")
    mutating func implausible() {
        line.sdm630(importKWh: 10)
        polling.poll(channel)
        line.sdm630(importKWh: 9)
        polling.poll(channel)
        #expect(sample.reading?.energyImportedWh == 10_000)
        line.registers[0] = 0x7FC0
        line.registers[1] = 0
        line.sdm630(importKWh: 11)
        line.registers[0] = 0x7FC0
        polling.poll(channel)
        #expect(sample.reading?.voltage.l1 == 230, "the last good voltage stays")
        #expect(sample.reading?.energyImportedWh == 11_000)
        #expect(channel.current.statistics.implausible == 2)
    }

    @Test("expect_serial mismatch: refused (meter_communication), never cleared by good cycles")
    mutating func wrongSerial() {
        line.sdm630(importKWh: 10, serial: 87_654_321)
        polling.poll(channel)
        #expect(channel.drainEvents() == [.fault(evseID: "E1", kind: .meterCommunication)])
        polling.poll(channel)
        #expect(channel.drainEvents().isEmpty)
        #expect(sample.quality == .unavailable)
        #expect(channel.current.refusal?.contains("87654321") == true)
    }

    @Test("meter replaced while running: fault, and the old meter's register stays the last one")
    mutating func replaced() throws {
        let profile = try #require(BuiltInProfiles.all["eastron_sdm630"])
        let open = MeterChannel(evseID: "E2", unitID: 11, profile: profile)
        line.sdm630(importKWh: 10, serial: 1)
        polling.poll(open)
        line.sdm630(importKWh: 2, serial: 2)
        polling.poll(open)
        #expect(open.drainEvents() == [.fault(evseID: "E2", kind: .meterCommunication)])
        #expect(open.sample(at: ContinuousClock.now).lastEnergyImportedWh == 10_000)
    }
}
