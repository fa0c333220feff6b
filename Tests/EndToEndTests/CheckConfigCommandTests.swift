import Foundation
import Testing
import TestSupport

/// `cs-companiond --check-config`: the built binary checks a configuration file and exits.
@Suite("cs-companiond --check-config")
struct CheckConfigCommandTests {
    @Test("--check-config exits 0 for the example and 78 with key paths for a broken file")
    func checkConfigCommand() async throws {
        let directory = try TemporaryDirectory()
        let good = try await runCheck(configFile: Repository.exampleConfig)
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("OK"))

        let brokenFile = try directory.write(
            "broken.yaml", stationConfigYAML(port: 1884).replacingOccurrences(of: "max_current: 32", with: "max_current: 2000"),
            permissions: 0o644)
        let broken = try await runCheck(configFile: brokenFile)
        #expect(broken.status == 78)
        #expect(broken.output.contains("broken.yaml:22:20:"), "\(broken.output)")
        #expect(broken.output.contains("evses[0].ac.max_current"), "\(broken.output)")
    }

    func runCheck(configFile: String) async throws -> (status: Int32, output: String) {
        try await Repository.run("cs-companiond", ["--check-config", "--config", configFile, "--schema-dir", Repository.schemas])
    }
}
