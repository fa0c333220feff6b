// cs-companiond: the CS side of the Josev MQTT contract, as a systemd service.
import ArgumentParser
import Daemon
import Logging

@main
struct CompanionDaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cs-companiond",
        abstract: "Answers Josev over MQTT for this charging station (the CS side of the Josev contract).",
        discussion: """
            Runs as a systemd service (Type=notify). Logs go to journald when started by systemd, to stderr \
            otherwise. SIGHUP reloads the configuration, SIGTERM stops. Exit code 78 means the configuration is invalid.
            """,
        version: companionVersion
    )

    @Option(name: .long, help: "Configuration file.")
    var config: String = ConfigLoader.defaultPath

    @Flag(name: .long, help: "Validate the configuration, print every problem with its line and key path, and exit (0 = valid).")
    var checkConfig = false

    @Option(name: .long, help: "MQTT broker host (overrides mqtt.host).")
    var mqttHost: String?

    @Option(name: .long, help: "MQTT broker port (overrides mqtt.port).")
    var mqttPort: Int?

    @Option(name: .long, help: "State directory (overrides state_directory).")
    var stateDir: String?

    @Option(name: .long, help: "Modbus TCP port (overrides modbus.port; enables the server).")
    var modbusPort: Int?

    @Option(name: .long, help: "Local control socket (overrides control_socket).")
    var controlSocket: String?

    @Option(name: .long, help: "Directory of the bundled JSON Schemas (default: next to the binary, then /usr/share/cs-companion/schemas).")
    var schemaDir: String?

    @Option(name: .long, help: "Log level (overrides log_level): trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    func validate() throws {
        if let mqttPort, !(1...65535).contains(mqttPort) { throw ValidationError("--mqtt-port must be 1...65535") }
        if let modbusPort, !(1...65535).contains(modbusPort) { throw ValidationError("--modbus-port must be 1...65535") }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown --log-level '\(logLevel)'") }
    }

    func run() async throws {
        var options = DaemonOptions()
        options.configFile = config
        options.mqttHost = mqttHost
        options.mqttPort = mqttPort
        options.stateDirectory = stateDir
        options.controlSocket = controlSocket
        options.modbusPort = modbusPort
        options.schemaDirectory = schemaDir
        options.logLevel = logLevel.flatMap(Logger.Level.init(rawValue:))
        let code = checkConfig ? CompanionDaemon.checkConfiguration(options) : await CompanionDaemon.run(options)
        if code != .success { throw ExitCode(code.rawValue) }
    }
}


