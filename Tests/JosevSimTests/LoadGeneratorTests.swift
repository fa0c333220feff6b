import JSONSchema
import Testing
import TestSupport

@Suite("josev-sim load", .timeLimit(.minutes(1)))
struct LoadGeneratorTests {
    static func figures(_ output: String) throws -> JSONValue {
        let line = try #require(output.split(separator: "\n").last { $0.hasPrefix("{") }, "\(output)")
        return try JSONValue.parse(String(line))
    }

    @Test("every request answered and checked against its schema by the real daemon")
    func answered() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: stationConfigYAML(port: broker.port, logLevel: "info"), directory: directory)
        #expect(await daemon.waitUntilReady())
        let run = try await Repository.run("josev-sim", [
            "load", "--host", "127.0.0.1", "--port", "\(broker.port)", "--schema-dir", Repository.schemas,
            "--name", "cs_status_and_limits", "--requests", "500", "--in-flight", "8", "--json",
        ])
        #expect(run.status == 0, "\(run.output)")
        let figures = try Self.figures(run.output)
        #expect(figures["answered"] == 500)
        #expect(figures["invalid"] == 0)
        #expect(figures["abandoned"] == 0)
        #expect(await daemon.stop() == 0)
    }

    @Test("a responder that stopped answering ends the run after 2 × in-flight timeouts, the rest abandoned")
    func givesUp() async throws {
        let broker = try await TestBroker()  // nobody answers on cs/josev
        let run = try await Repository.run("josev-sim", [
            "load", "--host", "127.0.0.1", "--port", "\(broker.port)", "--schema-dir", Repository.schemas,
            "--name", "cs_parameters", "--requests", "1000", "--in-flight", "4", "--timeout", "0.3", "--json",
        ])
        #expect(run.status == 1, "\(run.output)")
        let figures = try Self.figures(run.output)
        #expect(figures["answered"] == 0)
        #expect(figures["timeouts"] == 8)
        #expect(figures["abandoned"] == 992)
    }
}
