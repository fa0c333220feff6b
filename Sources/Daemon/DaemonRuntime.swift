import Basics
import JosevContract
import Logging
import Modbus
import Mosquitto
import Station
import Synchronization
import Systemd

#if canImport(Glibc)
    import Glibc
#endif

/// The station's notifications, one independent stream per subscriber, subscribed before the
/// stored state is restored (so what the restoration changes reaches them too).
struct StationSubscriptions: Sendable {
    let announcer: AsyncStream<StationNotification>
    let sessions: AsyncStream<StationNotification>
    /// Nil without a `modbus:` block.
    let registerImage: AsyncStream<StationNotification>?
    /// Nil without an `uplink:` block.
    var uplink: AsyncStream<StationNotification>? = nil
}

/// What the daemon is doing, for `STATUS=` and `cs-companion status`.
final class DaemonStatus: Sendable {
    private let state: Mutex<State>

    private struct State {
        var configuration: DaemonConfiguration
        var ready = false
        var connected = false
        var lastError: String?
    }

    init(configuration: DaemonConfiguration) { state = Mutex(State(configuration: configuration)) }

    var configuration: DaemonConfiguration {
        get { state.withLock { $0.configuration } }
        set { state.withLock { $0.configuration = newValue } }
    }

    /// Marks the broker connected; whether this is the first connection, and the broker's address.
    func connected() -> (first: Bool, host: String, port: Int) {
        state.withLock { state in
            let first = !state.ready
            state.ready = true
            state.connected = true
            state.lastError = nil
            return (first, state.configuration.mqtt.host, state.configuration.mqtt.port)
        }
    }

    /// Marks the broker gone; whether it was connected until now.
    func disconnected(error: String?) -> Bool {
        state.withLock { state in
            let was = state.connected
            state.connected = false
            state.lastError = error
            return was
        }
    }

    var broker: (connected: Bool, host: String, port: Int, lastError: String?) {
        state.withLock { ($0.connected, $0.configuration.mqtt.host, $0.configuration.mqtt.port, $0.lastError) }
    }
}

/// The running daemon: its parts, built by `CompanionDaemon.run` in dependency order, and the
/// services of one `ServiceGroup` (Lifecycle/; graceful shutdown on SIGTERM/SIGINT, in reverse order):
///
/// - broker connection: up/down, state re-published after every (re)connect, READY=1, DISCONNECT;
/// - control socket and Modbus server (listening before the group starts, before READY=1);
/// - station subscribers: the Josev announcer, the session recorder, the Modbus register image;
/// - message intake: every message from `josev/cs` through the router, in order;
/// - ticker: the station's clock, the Modbus image's refresh, the sessions' meter samples, the disk
///   retries, the heartbeat;
/// - session pusher (with `ocpi.push`): the push outbox to the eMSP (docs/SESSIONS.md);
/// - watchdog: WATCHDOG=1 while the heartbeat is fresh; reload on SIGHUP; the shutdown notice.
final class DaemonRuntime: Sendable {
    let options: DaemonOptions
    let schemaDirectory: String
    let client: MosquittoClient
    let station: Station
    let router: ContractRouter
    let announcer: JosevAnnouncer
    let subscriptions: StationSubscriptions
    let ocppIdentity: OCPPIdentityBox
    /// The Modbus register map (nil without a `modbus:` block).
    let registerMap: AlfenRegisterMap?
    let notifier: SystemdNotifier
    let levelBox: LogLevelBox
    let logger: Logger
    let sessions: SessionRecorder?
    let deviceModel: DeviceModelStore?
    let backOffice: BackOfficeServices
    let status: DaemonStatus
    let heartbeat = Heartbeat()
    let shedReporter: IntakeShedReporter
    /// SIGTERM/SIGINT (graceful shutdown) and SIGHUP (reload).
    let signals: ProcessSignals

    init(
        options: DaemonOptions, schemaDirectory: String, configuration: DaemonConfiguration, client: MosquittoClient, station: Station,
        router: ContractRouter, announcer: JosevAnnouncer, subscriptions: StationSubscriptions, ocppIdentity: OCPPIdentityBox,
        registerMap: AlfenRegisterMap?, notifier: SystemdNotifier, levelBox: LogLevelBox, logger: Logger, sessions: SessionRecorder?, deviceModel: DeviceModelStore?,
        backOffice: BackOfficeServices, shedReporter: IntakeShedReporter, signals: ProcessSignals
    ) {
        self.options = options
        self.schemaDirectory = schemaDirectory
        self.client = client
        self.station = station
        self.router = router
        self.announcer = announcer
        self.subscriptions = subscriptions
        self.ocppIdentity = ocppIdentity
        self.registerMap = registerMap
        self.notifier = notifier
        self.levelBox = levelBox
        self.logger = logger
        self.sessions = sessions
        self.deviceModel = deviceModel
        self.backOffice = backOffice
        self.shedReporter = shedReporter
        self.signals = signals
        status = DaemonStatus(configuration: configuration)
    }

    func run() async -> DaemonExitCode {
        do {
            try client.subscribe(Topic.josevToCS, qos: .atLeastOnce)
        } catch {
            logger.critical("cannot subscribe to \(Topic.josevToCS): \(error)")
            return .failure
        }
        let configuration = status.configuration
        var services: [ServiceGroup.Member] = [
            .init(service: BrokerConnection(client: client, announcer: announcer, runtime: self, notifier: notifier, logger: logger))
        ]
        if let control = startControlServer(path: configuration.controlSocket) {
            services.append(.init(service: ControlService(server: control)))
        }
        let passedModbusSocket = PassedModbusSocket.choose(
            from: ListenSockets.take(), serverConfigured: configuration.modbus != nil && registerMap != nil, logger: logger)
        if let settings = configuration.modbus, let registerMap {
            do {
                services.append(
                    .init(
                        service: ModbusService(
                            server: try await startModbusServer(settings, map: registerMap, passedSocket: passedModbusSocket))))
            } catch {
                logger.critical("cannot start the Modbus server on \(settings.bind):\(settings.port): \(error)")
                for case let control as ControlService in services.map(\.service) { control.server.stop() }
                return .failure
            }
        }
        do {
            if let uplink = try UplinkService.make(
                configuration: configuration, station: station, notifications: subscriptions.uplink, logger: logger)
            {
                services.append(.init(service: uplink))
            }
        } catch {
            logger.error("no station uplink: \(error)")
        }
        let announcer = self.announcer
        let sessions = self.sessions
        if let registerMap, let registerImage = subscriptions.registerImage {
            services.append(
                .init(
                    service: StationSubscriber(
                        description: "Modbus register image", notifications: registerImage,
                        handle: { _ in await registerMap.refreshSnapshotIfChanged() })))
        }
        services.append(
            .init(
                service: StationSubscriber(
                    description: "Josev announcer", notifications: subscriptions.announcer, handle: { await announcer.announce($0) })))
        if let sessions {
            services.append(
                .init(
                    service: StationSubscriber(
                        description: "session recorder", notifications: subscriptions.sessions, handle: { await sessions.observe($0) })))
        }
        if let sessions, let ocpi = configuration.ocpi, ocpi.push {
            services.append(
                .init(
                    service: SessionPusher(
                        configuration: ocpi, recorder: sessions, logger: logger,
                        backlogChanged: { [self] in _ = notifier.status(statusLine()) })))
        }
        let backOffice = self.backOffice
        services += [
            .init(service: MessageIntake(client: client, router: router)),
            .init(service: shedReporter),
            .init(
                service: StationTicker(
                    station: station, heartbeat: heartbeat, registerMap: registerMap, sessions: sessions, logger: logger,
                    stallFile: getenv("CS_COMPANIOND_TEST_STALL").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 },
                    watchdogInterval: SystemdNotifier.recommendedPingInterval())),
            .init(
                service: OneShotService(description: "firmware update resumption") { await backOffice.resume() },
                successTerminationBehavior: .ignore),
        ]
        if let interval = SystemdNotifier.recommendedPingInterval() {
            services.append(
                .init(service: Watchdog(interval: interval, station: station, heartbeat: heartbeat, notifier: notifier, logger: logger)))
        }
        services += [
            .init(service: ReloadOnSIGHUP(runtime: self, signals: signals.stream([SIGHUP]))),
            .init(service: ShutdownNotice(notifier: notifier, logger: logger)),
        ]

        _ = notifier.status("connecting to broker \(configuration.mqtt.host):\(configuration.mqtt.port)")
        client.start()
        let group = ServiceGroup(services: services, shutdownRequests: signals.stream([SIGTERM, SIGINT]), logger: logger)
        do {
            try await group.run()
            return .success
        } catch {
            logger.critical("stopped by a failure: \(error)")
            return .failure
        }
    }

    /// The local control socket; its absence is logged, not fatal (the station still serves Josev).
    private func startControlServer(path: String) -> ControlServer? {
        let commands = ControlCommands(station: station, runtime: self)
        do {
            let server = try ControlServer(path: path, logger: logger) { request in await commands.handle(request) }
            server.start()
            logger.info("control socket at \(path)")
            return server
        } catch {
            logger.warning("no control socket: \(error)")
            return nil
        }
    }

    /// The Modbus TCP server with the Alfen-compatible map (PROFILE.md), listening before READY=1.
    /// With a socket systemd passed (`passedSocket`), that one is served instead of `bind:port`.
    private func startModbusServer(
        _ settings: DaemonConfiguration.Modbus, map: AlfenRegisterMap, passedSocket: Int32?
    ) async throws -> ModbusServer {
        var allow: [ModbusAddressRange] = []
        for text in settings.allow { allow.append(try ModbusAddressRange(text)) }
        let server = ModbusServer(
            configuration: ModbusServerConfiguration(
                host: settings.bind, port: settings.port, maxConnections: settings.maxClients,
                idleTimeout: .milliseconds(Int64(settings.idleTimeout * 1000)), allowList: allow, readOnly: settings.readOnly,
                listeningSocket: passedSocket),
            handler: map, logger: logger)
        let port = try await server.start()
        let place = passedSocket.map { "the socket systemd passed (fd \($0), port \(port))" } ?? "\(settings.bind):\(port)"
        logger.info(
            "Modbus TCP on \(place)\(settings.readOnly ? " (read-only)" : ""), \(allow.isEmpty ? "any client" : "clients \(settings.allow.joined(separator: ", "))")")
        return server
    }

    // MARK: Reload

    /// SIGHUP: reads the file again. An invalid file changes nothing; a valid one changes what can
    /// change live (station identity, limits, log level) and names what needs a restart.
    func reload() async {
        _ = notifier.reloading(status: "reloading \(options.configFile)")
        logger.info("reloading \(options.configFile)")
        let newConfiguration: DaemonConfiguration
        do {
            newConfiguration = try CompanionDaemon.loadConfiguration(options, schemaDirectory: schemaDirectory)
        } catch {
            for line in error.lines { logger.error("\(line)", metadata: MessageID.reloadRejected.metadata) }
            logger.error("reload rejected: keeping the running configuration", metadata: MessageID.reloadRejected.metadata)
            _ = notifier.ready(status: statusLine())
            return
        }
        let old = status.configuration
        let restart = old.restartNeeded(toApply: newConfiguration)
        var applied = newConfiguration
        if !restart.isEmpty {
            logger.warning("changes to \(restart.joined(separator: ", ")) need a restart (systemctl restart cs-companiond)")
            // Keep what cannot change live; take the rest.
            applied.mqtt = old.mqtt
            applied.stateDirectory = old.stateDirectory
            applied.controlSocket = old.controlSocket
            applied.hardware = old.hardware
            applied.board = old.board
            applied.freeVend = old.freeVend
            applied.localTokens = old.localTokens
            // The serial is the hardware's identity (OCPP, Modbus 157, the gridBox): restart only.
            let serial = old.station.identity.serialNumber
            if applied.ocpp.identity == applied.station.identity.serialNumber { applied.ocpp.identity = old.ocpp.identity }
            applied.station.identity.serialNumber = serial
            if restart.contains(where: { $0.hasPrefix("evses") }) {
                applied.station.evses = old.station.evses
            }
        }
        levelBox.level = applied.logLevel
        ocppIdentity.value = applied.ocpp
        status.configuration = applied
        await station.reconfigure(applied.station)
        logger.info("configuration reloaded", metadata: MessageID.reloaded.metadata)
        _ = notifier.ready(status: statusLine())
    }

    /// The human summary for `systemctl status` (STATUS=).
    func statusLine() -> String {
        let (connected, host, port, lastError) = status.broker
        let stats = router.statistics
        let broker = connected ? "connected to \(host):\(port)" : "broker \(host):\(port) unreachable\(lastError.map { " (\($0))" } ?? "")"
        let shed = client.messages.shed.messages
        let push = sessions?.pushBacklog.map { backlog in
            "; push backlog \(backlog.count)\(backlog.oldestCreated.map { ", oldest unsent \(DateTimeText.wholeSeconds(unixMilliseconds: $0))" } ?? "")\(backlog.held > 0 ? ", \(backlog.held) refused" : "")"
        } ?? ""
        return "\(broker); answered \(stats.answered), rejected \(stats.rejected), updates \(stats.updatesSent)"
            + (shed > 0 ? ", shed \(shed)" : "") + push
    }
}
