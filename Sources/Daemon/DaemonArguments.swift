import Logging

/// The command line of `cs-companiond`: a handful of flags, parsed by hand (issue 20: the daemon
/// does without swift-argument-parser, which alone brought 0.4 MB and, through it,
/// FoundationEssentials' 2.6 MB into the binary). `--name value` and `--name=value` both work.
public enum DaemonArguments {
    /// What the command line asks for.
    public enum Action: Equatable, Sendable {
        case run(DaemonOptions)
        case checkConfig(DaemonOptions)
        case help
        case version
    }

    /// A command line that cannot be run; `message` is one line for standard error.
    public struct UsageError: Error, Equatable, Sendable {
        public let message: String
        public init(message: String) { self.message = message }
    }

    /// `sysexits.h` EX_USAGE, as swift-argument-parser exits on a usage error.
    public static let usageExitCode: Int32 = 64

    public static let usage = """
        USAGE: cs-companiond [--config <file>] [--check-config] [--mqtt-host <host>] [--mqtt-port <port>]
                             [--state-dir <dir>] [--modbus-port <port>] [--control-socket <path>]
                             [--schema-dir <dir>] [--log-level <level>]

        Answers Josev over MQTT for this charging station (the CS side of the Josev contract).
        Runs as a systemd service (Type=notify). Logs go to journald when started by systemd, to
        stderr otherwise. SIGHUP reloads the configuration, SIGTERM stops. Exit code 78 means the
        configuration is invalid.

        OPTIONS:
          --config <file>         Configuration file (default: \(ConfigLoader.defaultPath)).
          --check-config          Validate the configuration, print every problem with its line and
                                  key path, and exit (0 = valid).
          --mqtt-host <host>      MQTT broker host (overrides mqtt.host).
          --mqtt-port <port>      MQTT broker port (overrides mqtt.port).
          --state-dir <dir>       State directory (overrides state_directory).
          --modbus-port <port>    Modbus TCP port (overrides modbus.port; enables the server).
          --control-socket <path> Local control socket (overrides control_socket).
          --schema-dir <dir>      Directory of the bundled JSON Schemas (default: next to the
                                  binary, then /usr/share/cs-companion/schemas).
          --log-level <level>     Log level (overrides log_level): trace, debug, info, notice,
                                  warning, error, critical.
          --version               Show the version.
          -h, --help              Show this help.
        """

    /// Parses the arguments after the program name.
    public static func parse(_ arguments: [String]) -> Result<Action, UsageError> {
        var options = DaemonOptions()
        var checkConfig = false
        var index = 0
        func fail(_ message: String) -> Result<Action, UsageError> { .failure(UsageError(message: message)) }
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            var name = argument
            var inline: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            }
            switch name {
            case "-h", "--help": return .success(.help)
            case "--version": return .success(.version)
            case "--check-config":
                guard inline == nil else { return fail("--check-config takes no value") }
                checkConfig = true
                continue
            default: break
            }
            guard ["--config", "--mqtt-host", "--mqtt-port", "--state-dir", "--modbus-port", "--control-socket", "--schema-dir", "--log-level"].contains(name)
            else { return fail("unknown option '\(argument)'") }
            let value: String
            if let inline {
                value = inline
            } else if index < arguments.count {
                value = arguments[index]
                index += 1
            } else {
                return fail("missing value for '\(name)'")
            }
            switch name {
            case "--config": options.configFile = value
            case "--mqtt-host": options.mqttHost = value
            case "--state-dir": options.stateDirectory = value
            case "--control-socket": options.controlSocket = value
            case "--schema-dir": options.schemaDirectory = value
            case "--mqtt-port", "--modbus-port":
                guard let port = Int(value), (1...65535).contains(port) else { return fail("\(name) must be 1...65535") }
                if name == "--mqtt-port" { options.mqttPort = port } else { options.modbusPort = port }
            default:  // --log-level
                guard let level = Logger.Level(rawValue: value) else { return fail("unknown --log-level '\(value)'") }
                options.logLevel = level
            }
        }
        return .success(checkConfig ? .checkConfig(options) : .run(options))
    }
}
