import Daemon
import Logging
import Testing

/// The daemon's own command-line parser (issue 20: no swift-argument-parser in the daemon).
@Suite("cs-companiond arguments")
struct DaemonArgumentsTests {
    @Test("every option, as '--name value' and '--name=value'")
    func everyOption() {
        var expected = DaemonOptions()
        expected.configFile = "/tmp/c.yaml"
        expected.mqttHost = "10.0.0.1"
        expected.mqttPort = 1884
        expected.stateDirectory = "/data/state"
        expected.modbusPort = 1502
        expected.controlSocket = "/run/c.sock"
        expected.schemaDirectory = "/usr/share/s"
        expected.logLevel = .debug
        let spaced = [
            "--config", "/tmp/c.yaml", "--mqtt-host", "10.0.0.1", "--mqtt-port", "1884", "--state-dir", "/data/state",
            "--modbus-port", "1502", "--control-socket", "/run/c.sock", "--schema-dir", "/usr/share/s", "--log-level", "debug",
        ]
        #expect(DaemonArguments.parse(spaced) == .success(.run(expected)))
        let joined = stride(from: 0, to: spaced.count, by: 2).map { "\(spaced[$0])=\(spaced[$0 + 1])" }
        #expect(DaemonArguments.parse(joined) == .success(.run(expected)))
        #expect(DaemonArguments.parse(spaced + ["--check-config"]) == .success(.checkConfig(expected)))
        #expect(DaemonArguments.parse([]) == .success(.run(DaemonOptions())))
        #expect(DaemonArguments.parse(["--help"]) == .success(.help))
        #expect(DaemonArguments.parse(["-h"]) == .success(.help))
        #expect(DaemonArguments.parse(["--version"]) == .success(.version))
    }

    @Test("usage errors say what is wrong", arguments: [
        (["--mqtt-port", "0"], "--mqtt-port must be 1...65535"),
        (["--modbus-port=70000"], "--modbus-port must be 1...65535"),
        (["--mqtt-port", "x"], "--mqtt-port must be 1...65535"),
        (["--log-level", "loud"], "unknown --log-level 'loud'"),
        (["--config"], "missing value for '--config'"),
        (["--frobnicate"], "unknown option '--frobnicate'"),
        (["extra"], "unknown option 'extra'"),
        (["--check-config=yes"], "--check-config takes no value"),
    ])
    func usageErrors(arguments: [String], message: String) {
        #expect(DaemonArguments.parse(arguments) == .failure(DaemonArguments.UsageError(message: message)))
    }
}
