import BoardDriver
import JSONSchema
import JosevContract
import Logging
import Modbus
import Mosquitto
import Station
import Store
import Synchronization
import Systemd

#if canImport(Glibc)
    import Glibc
#endif

/// Exit codes of `cs-companiond`, as systemd sees them. 78 (EX_CONFIG) is in the unit's
/// `RestartPreventExitStatus=`: a broken `/etc` file does not make systemd loop.
public enum DaemonExitCode: Int32, Sendable {
    case success = 0
    case failure = 1
    case configuration = 78
}

/// Command-line choices; each override wins over the configuration file.
public struct DaemonOptions: Sendable, Equatable {
    public var configFile: String = ConfigLoader.defaultPath
    public var mqttHost: String?
    public var mqttPort: Int?
    public var stateDirectory: String?
    public var controlSocket: String?
    public var modbusPort: Int?
    public var schemaDirectory: String?
    public var logLevel: Logger.Level?

    public init() {}
}

/// The version reported in logs and `--version`.
public let companionVersion = "0.1.0"

/// Wires the daemon together: configuration, station, MQTT, router, systemd, signals.
public enum CompanionDaemon {
    /// The schema directory to use: the option, else the first default that exists.
    public static func schemaDirectory(_ options: DaemonOptions) -> String? {
        options.schemaDirectory ?? SchemaCatalog.findDefaultDirectory()
    }

    /// Loads the configuration with the command-line overrides applied.
    public static func loadConfiguration(_ options: DaemonOptions, schemaDirectory: String) throws(ConfigError) -> DaemonConfiguration {
        let loader: ConfigLoader
        do {
            loader = try ConfigLoader(schemaDirectory: schemaDirectory)
        } catch {
            throw ConfigError(file: error.file, problems: [ConfigProblem(pointer: "", message: error.reason)])
        }
        var configuration = try loader.load(file: options.configFile)
        if let host = options.mqttHost { configuration.mqtt.host = host }
        if let port = options.mqttPort { configuration.mqtt.port = port }
        if let directory = options.stateDirectory { configuration.stateDirectory = directory }
        if let socket = options.controlSocket { configuration.controlSocket = socket }
        if let port = options.modbusPort {
            if configuration.modbus == nil { configuration.modbus = DaemonConfiguration.Modbus() }
            configuration.modbus?.port = port
        }
        if let level = options.logLevel { configuration.logLevel = level }
        return configuration
    }

    /// `--check-config`: validates and prints every problem; 0 when valid, 78 otherwise.
    public static func checkConfiguration(_ options: DaemonOptions) -> DaemonExitCode {
        guard let directory = schemaDirectory(options) else {
            printError("cs-companiond: no schema directory found (tried \(SchemaCatalog.defaultDirectories().joined(separator: ", "))); use --schema-dir")
            return .configuration
        }
        do {
            let configuration = try loadConfiguration(options, schemaDirectory: directory)
            if let file = configuration.mqtt.credentialsFile { _ = try MQTTCredentials.load(file: file) }
            print("\(options.configFile): OK (\(configuration.station.evses.count) EVSE(s), broker \(configuration.mqtt.host):\(configuration.mqtt.port))")
            return .success
        } catch {
            for line in error.lines { printError(line) }
            return .configuration
        }
    }

    /// Runs the daemon until SIGTERM/SIGINT. Returns the exit code.
    public static func run(_ options: DaemonOptions) async -> DaemonExitCode {
        // First, before this function starts any thread (each inherits the mask): SIGTERM, SIGINT
        // and SIGHUP blocked, to be read from a signalfd (ProcessSignals); every other signal
        // unblocked (a parent may have started us with signals blocked: Foundation's Process does).
        // In cs-companiond this runs on the main thread (MainLoop), so every thread blocks them;
        // where an async main leaves the main thread to libdispatch (sigsuspend with an empty mask),
        // ProcessSignals forwards what lands there to its reader.
        ProcessSignals.blockHandled()
        MemoryPolicy.apply()
        signal(SIGPIPE, SIG_IGN)
        let levelBox = LogSetup.bootstrap(identifier: "cs-companiond", level: options.logLevel ?? .info)
        let logger = Logger(label: "cs-companiond")
        let notifier = SystemdNotifier()
        let signals: ProcessSignals
        switch ProcessSignals.start() {
        case .success(let started): signals = started
        case .failure(let error):
            logger.critical("cannot read signals: \(error)")
            return .failure
        }

        guard let schemaDirectory = schemaDirectory(options) else {
            logger.critical(
                "no schema directory found (tried \(SchemaCatalog.defaultDirectories().joined(separator: ", "))); use --schema-dir",
                metadata: MessageID.configInvalid.metadata)
            _ = notifier.status("no schemas installed")
            return .configuration
        }
        let configuration: DaemonConfiguration
        do {
            configuration = try loadConfiguration(options, schemaDirectory: schemaDirectory)
        } catch {
            for line in error.lines { logger.critical("\(line)", metadata: MessageID.configInvalid.metadata) }
            _ = notifier.status("configuration invalid: \(options.configFile)")
            return .configuration
        }
        levelBox.level = configuration.logLevel
        let schemas: SchemaCatalog
        do {
            schemas = try SchemaCatalog(directory: schemaDirectory)
        } catch {
            logger.critical("schema \(error)", metadata: MessageID.configInvalid.metadata)
            return .configuration
        }
        logger.info(
            "cs-companiond \(companionVersion) starting: \(configuration.station.evses.count) EVSE(s), broker \(configuration.mqtt.host):\(configuration.mqtt.port), schemas \(schemaDirectory)",
            metadata: MessageID.started.metadata)

        let client: MosquittoClient
        let (shedReporter, onIncomingShed) = IntakeShedReporter.make(logger: logger)
        do {
            client = try MosquittoClient(
                configuration: try mosquittoConfiguration(configuration, logger: logger, onIncomingShed: onIncomingShed))
        } catch let error as ConfigError {
            for line in error.lines { logger.critical("\(line)", metadata: MessageID.configInvalid.metadata) }
            return .configuration
        } catch {
            logger.critical("cannot set up the MQTT client: \(error)", metadata: MessageID.configInvalid.metadata)
            return .configuration
        }

        // Built in dependency order: whatever sends to Josev gets the outbox; the router gets the
        // handlers. The station's subscribers subscribe before anything changes it (restored state).
        let board: BoardHardware?
        do {
            board = try await BoardStartup.start(configuration, logger: logger)
        } catch {
            logger.critical("hardware.board: \(error.reason)", metadata: MessageID.configInvalid.metadata)
            _ = notifier.status("board refused: \(error.reason)")
            return .configuration
        }
        let station = makeStation(configuration, hardware: board)
        let subscriptions = StationSubscriptions(
            announcer: await station.subscribe(), sessions: await station.subscribe(),
            registerImage: configuration.modbus == nil ? nil : await station.subscribe(),
            uplink: configuration.uplink == nil ? nil : await station.subscribe())
        if let board { await BoardStartup.attach(board, to: station) }
        let outbox = Outbox(schemas: schemas, publisher: MosquittoPublisher(client: client), logger: logger)
        let identity = OCPPIdentityBox(configuration.ocpp)
        let modbusAdapter = StationModbusAdapter(station: station, logger: logger)
        let registerMap = configuration.modbus.map { settings in
            AlfenRegisterMap(
                source: modbusAdapter,
                configuration: AlfenRegisterMap.Configuration(writesEnabled: !settings.readOnly, snapshotMaxAge: .milliseconds(500)),
                logger: logger)
        }
        let sessions = SessionRecorder.open(
            stateDirectory: configuration.stateDirectory, station: station, logger: logger, push: configuration.ocpi?.push ?? false,
            periodLength: .milliseconds(Int64((configuration.ocpi?.updateInterval ?? 300) * 1000)))
        await sessions.recover()
        await sessions.restoreState()
        let stationKeys = StationOwnedKeys()
        let deviceModel = makeDeviceModel(configuration, outbox: outbox, logger: logger, applied: stationKeys.follow)
        deviceModel.applyAll()
        Task { await stationKeys.run(station: station, logger: logger) }
        let backOffice = BackOfficeServices.make(
            configuration: configuration, station: station, outbox: outbox, logger: logger, sessions: sessions)
        let context = HandlerContext(
            station: station, outbox: outbox, ocpp: { identity.value },
            ocppConnected: { connected in
                if modbusAdapter.setOCPPConnected(connected), let registerMap { Task { _ = await registerMap.refreshSnapshot() } }
            },
            sessions: sessions, deviceModel: deviceModel, backOffice: backOffice, logger: logger)
        let router = ContractRouter(schemas: schemas, context: context)
        let announcer = JosevAnnouncer(station: station, outbox: outbox, deviceModel: deviceModel, logger: logger)
        let runtime = DaemonRuntime(
            options: options, schemaDirectory: schemaDirectory, configuration: configuration, client: client, station: station,
            router: router, announcer: announcer, subscriptions: subscriptions, ocppIdentity: identity, registerMap: registerMap,
            notifier: notifier, levelBox: levelBox, logger: logger, sessions: sessions, deviceModel: deviceModel, backOffice: backOffice,
            shedReporter: shedReporter, signals: signals)
        return await runtime.run()
    }

    /// The station with its hardware driver and authorization policy.
    static func makeStation(_ configuration: DaemonConfiguration, hardware board: (any StationHardware)? = nil) -> Station {
        var policy = StationPolicy()
        policy.freeVend = configuration.freeVend
        policy.localTokens = Set(configuration.localTokens)
        policy.reservationTimeout =
            configuration.reservationTimeout > 0 ? .milliseconds(Int64(configuration.reservationTimeout * 1000)) : nil
        configuration.sessionControl.apply(to: &policy)
        let board: any StationHardware =
            switch configuration.hardware {
            case .simulated: SimulatedHardware(configuration: configuration.station)
            case .none: NullHardware()
            case .board: board ?? NullHardware()
            }
        let hardware = MeterWiring.hardware(board: board, meters: configuration.meters, logger: Logger(label: "cs-companiond.meters"))
        return Station(configuration: configuration.station, hardware: hardware, policy: policy)
    }

    /// The configuration keys, kept in the state directory's database (changes pending for this
    /// start are applied here); `applied` hears every value in force (`StationOwnedKeys` follows
    /// those the station honours).
    static func makeDeviceModel(
        _ configuration: DaemonConfiguration, outbox: Outbox, logger: Logger,
        applied: @escaping @Sendable (DeviceVariableRecord) -> Void = { _ in }
    ) -> DeviceModelStore {
        let ocpp = configuration.ocpp.ocppEVSEIDs
        let ids = Dictionary(
            configuration.station.evses.enumerated().map { index, evse in (evse.evseID, ocpp[evse.evseID] ?? index + 1) },
            uniquingKeysWith: { first, _ in first })
        return DeviceModelStore.open(
            settings: configuration.deviceModel, stateDirectory: configuration.stateDirectory, logger: logger, ocppEVSEIDs: ids,
            announce: { outbox.sendUpdate($0) }, applied: applied)
    }

    /// Room in an MQTT packet besides the payload: fixed header, topic, packet id, MQTT 5 properties.
    static let mqttPacketOverhead = 4096

    static func mosquittoConfiguration(
        _ configuration: DaemonConfiguration, logger: Logger, onIncomingShed: (@Sendable (ShedCount) -> Void)? = nil
    ) throws -> MosquittoConfiguration {
        let mqtt = configuration.mqtt
        var username = mqtt.username
        var password = mqtt.password
        if let file = mqtt.credentialsFile {
            let credentials = try MQTTCredentials.load(file: file)
            username = credentials.username
            password = credentials.password
        }
        var settings = MosquittoConfiguration(
            host: mqtt.host, port: mqtt.port, clientID: mqtt.clientID, keepAlive: mqtt.keepAlive, cleanSession: true,
            username: username, password: password,
            tls: mqtt.tls.map {
                TLSConfiguration(caFile: $0.caFile, caPath: $0.caPath, certFile: $0.certFile, keyFile: $0.keyFile, verifyPeer: $0.verifyPeer)
            },
            reconnect: ReconnectPolicy(
                initialDelay: .milliseconds(Int(mqtt.reconnectInitialDelay * 1000)),
                multiplier: 2,
                maximumDelay: .milliseconds(Int(mqtt.reconnectMaxDelay * 1000)),
                jitter: 0.1)
        )
        // Hostile input (issue 18): the broker never sends us a packet over the payload limit, and
        // what waits for the router is bounded, large messages in a lane of their own.
        settings.maximumIncomingPacketSize = UInt32(ContractRouter.defaultMaxPayloadBytes + Self.mqttPacketOverhead)
        settings.incoming = IncomingLimits()
        settings.onIncomingShed = onIncomingShed
        let mqttLogger = logger
        settings.logHandler = { level, line in
            switch level {
            case .error: mqttLogger.error("libmosquitto: \(line)")
            case .warning: mqttLogger.warning("libmosquitto: \(line)")
            default: mqttLogger.trace("libmosquitto: \(line)")
            }
        }
        return settings
    }

    public static func printError(_ line: String) {
        var line = line + "\n"
        line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}

/// Sends the outbox's messages through the MQTT client, QoS 1, never retained (contract §1.2).
struct MosquittoPublisher: MessagePublisher {
    let client: MosquittoClient

    func publish(topic: String, payload: [UInt8]) throws {
        try client.publish(topic: topic, payload: payload, qos: .atLeastOnce, retain: false)
    }
}
