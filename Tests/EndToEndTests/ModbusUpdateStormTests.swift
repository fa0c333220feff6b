import Foundation
import JSONSchema
import Modbus
import ModbusNIOClient
import Testing
import TestSupport

/// Issue 18, finding 8: two Modbus masters racing 10 A / 20 A setpoint writes must not turn into a
/// storm of `cs_status_and_limits` updates to Josev nor of log lines.
@Suite("Modbus write storm", .timeLimit(.minutes(1)))
struct ModbusUpdateStormTests {
    @Test("two masters racing 10 A / 20 A writes for 2 s: bounded updates to Josev, the last value wins, bounded log")
    func racingMasters() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let modbusPort = try freeLoopbackPort()
        let daemon = try DaemonProcess(
            config: ModbusEndToEndTests.config(brokerPort: broker.port, modbusPort: modbusPort, validTime: 60), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        let first = try await ModbusClient.connect(host: "127.0.0.1", port: modbusPort)
        let second = try await ModbusClient.connect(host: "127.0.0.1", port: modbusPort)
        let updatesBefore = josev.messages(name: "cs_status_and_limits", type: "update").count
        let infoBefore = daemon.logEntries(level: "info").count

        let stormTime = Duration.seconds(2)
        let started = ContinuousClock.now
        async let firstWrites = Self.race(first, value: 10, until: started + stormTime)
        async let secondWrites = Self.race(second, value: 20, until: started + stormTime)
        let writes = try await firstWrites + secondWrites
        let stormed = ContinuousClock.now - started
        // The last write, once both masters have stopped, decides the value.
        try await first.writeFloat32(unit: 1, address: 1210, value: 13)
        #expect(writes > 50, "the masters raced only \(writes) writes")

        #expect(await waitUntil(timeout: .seconds(5)) {
            Self.offered(josev.messages(name: "cs_status_and_limits", type: "update").last) == .double(13)
        }, "the last value never reached Josev")
        let updates = josev.messages(name: "cs_status_and_limits", type: "update").count - updatesBefore
        let seconds = Double(stormed.components.seconds) + Double(stormed.components.attoseconds) / 1e18
        // At most one update per 250 ms: about 4 a second, plus the final one and a margin.
        #expect(Double(updates) <= 10 * seconds + 2, "\(updates) cs_status_and_limits updates for \(writes) writes in \(stormed)")
        let infoLines = daemon.logEntries(level: "info").count - infoBefore
        #expect(infoLines < writes / 4 + 40, "\(infoLines) info lines for \(writes) writes")
        HostileReport.record("two Modbus masters racing 10 A / 20 A for 2 s", "writes", "\(writes)")
        HostileReport.record("two Modbus masters racing 10 A / 20 A for 2 s", "cs_status_and_limits updates", "\(updates)")
        HostileReport.record("two Modbus masters racing 10 A / 20 A for 2 s", "info log lines", "\(infoLines)")

        await first.close()
        await second.close()
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    /// Writes `value` to socket 1's setpoint, back to back, until `deadline`; returns how many.
    static func race(_ client: ModbusClient, value: Float, until deadline: ContinuousClock.Instant) async throws -> Int {
        var count = 0
        while ContinuousClock.now < deadline {
            try await client.writeFloat32(unit: 1, address: 1210, value: value)
            count += 1
        }
        return count
    }

    static func offered(_ message: JSONValue?) -> JSONValue? {
        message?["data"]?["evses"]?.arrayValue?.first?["ac"]?["max_current"]?["l1"]
    }
}
