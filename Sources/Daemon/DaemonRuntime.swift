import JosevContract
import Logging
import Modbus
import Mosquitto
import Station
import Synchronization
import Systemd
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// The running daemon: one structured task group of loops, each with one job.
///
/// - messages: every MQTT message from `josev/cs` through the router, one at a time, in order;
/// - connection: logs broker up/down, re-publishes the station's state after every (re)connect,
///   and sends READY=1 after the first connection (subscriptions are acknowledged by then);
/// - station events: a `cs_status_and_limits` update on every change of a status or a limit;
/// - tick: advances the station's clock, retries the writes the disk refused, and beats the main
///   loop's heartbeat;
/// - watchdog: WATCHDOG=1 at half of `WatchdogSec=`, only while the tick's heartbeat is fresh and
///   after the station actor answered, so a stuck daemon stops pinging and systemd restarts it;
/// - signals: SIGHUP reloads the configuration, SIGTERM/SIGINT stop gracefully.
final class DaemonRuntime: Sendable {
    let options: DaemonOptions
    let schemaDirectory: String
    let client: MosquittoClient
    let station: Station
    let router: ContractRouter
    let ocppIdentity: OCPPIdentityBox
    let modbusSource: StationModbusSource
    let notifier: SystemdNotifier
    let levelBox: LogLevelBox
    let logger: Logger
    let sessions: SessionRecorder?
    private let state: Mutex<RuntimeState>
    /// When the tick loop last completed a round (the main loop's heartbeat).
    private let heartbeat = Mutex<ContinuousClock.Instant>(.now)
    /// Test hook (`CS_COMPANIOND_TEST_STALL=<file>`): while the file exists, the tick loop blocks its
    /// thread as a hung call would. Unset in production: the hook then costs nothing.
    private let stallFile: String?

    static let tickInterval: Duration = .milliseconds(250)
    /// The heartbeat is fresh while the tick loop missed fewer than four rounds.
    static let heartbeatTolerance: Duration = .seconds(1)

    struct RuntimeState {
        var configuration: DaemonConfiguration
        var ready = false
        var connected = false
        var lastError: String?
    }

    init(
        options: DaemonOptions, schemaDirectory: String, configuration: DaemonConfiguration, client: MosquittoClient, station: Station,
        router: ContractRouter, ocppIdentity: OCPPIdentityBox, modbusSource: StationModbusSource, notifier: SystemdNotifier,
        levelBox: LogLevelBox, logger: Logger, sessions: SessionRecorder? = nil
    ) {
        self.sessions = sessions
        stallFile = getenv("CS_COMPANIOND_TEST_STALL").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        self.ocppIdentity = ocppIdentity
        self.modbusSource = modbusSource
        self.options = options
        self.schemaDirectory = schemaDirectory
        self.client = client
        self.station = station
        self.router = router
        self.notifier = notifier
        self.levelBox = levelBox
        self.logger = logger
        state = Mutex(RuntimeState(configuration: configuration))
    }

    func run() async -> DaemonExitCode {
        do {
            try client.subscribe(Topic.josevToCS, qos: .atLeastOnce)
        } catch {
            logger.critical("cannot subscribe to \(Topic.josevToCS): \(error)")
            return .failure
        }
        let signals = await UnixSignalsSequence(trapping: .sighup, .sigterm, .sigint)
        let configuration = state.withLock { $0.configuration }
        let control = startControlServer(path: configuration.controlSocket)
        var modbus: ModbusServer?
        if let settings = configuration.modbus {
            do {
                modbus = try await startModbusServer(settings)
            } catch {
                logger.critical("cannot start the Modbus server on \(settings.bind):\(settings.port): \(error)")
                control?.stop()
                return .failure
            }
        }
        if let stallFile {
            logger.warning("test hook armed: the main loop blocks while \(stallFile) exists (CS_COMPANIOND_TEST_STALL)")
        }
        _ = notifier.status("connecting to broker \(configuration.mqtt.host):\(configuration.mqtt.port)")
        client.start()

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.messageLoop() }
            group.addTask { await self.connectionLoop() }
            group.addTask { await self.stationLoop() }
            group.addTask { await self.tickLoop() }
            if let interval = SystemdNotifier.recommendedPingInterval() {
                group.addTask { await self.watchdogLoop(every: interval) }
            }
            // The signal loop returns on SIGTERM/SIGINT; then everything else is cancelled.
            await self.signalLoop(signals)
            group.cancelAll()
        }

        _ = notifier.stopping(status: "stopping")
        logger.info("stopping: disconnecting from the broker", metadata: MessageID.stopping.metadata)
        control?.stop()
        await modbus?.stop()
        await client.disconnect()
        logger.info("stopped")
        return .success
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
    private func startModbusServer(_ settings: DaemonConfiguration.Modbus) async throws -> ModbusServer {
        var allow: [ModbusAddressRange] = []
        for text in settings.allow { allow.append(try ModbusAddressRange(text)) }
        let map = AlfenRegisterMap(
            source: modbusSource, configuration: AlfenRegisterMap.Configuration(writesEnabled: !settings.readOnly, snapshotMaxAge: .milliseconds(500)),
            logger: logger)
        modbusSource.attach(map)  // refreshed on notifications and on the tick (ModbusBridge)
        let server = ModbusServer(
            configuration: ModbusServerConfiguration(
                host: settings.bind, port: settings.port, maxConnections: settings.maxClients,
                idleTimeout: .milliseconds(Int64(settings.idleTimeout * 1000)), allowList: allow, readOnly: settings.readOnly),
            handler: map, logger: logger)
        let port = try await server.start()
        logger.info(
            "Modbus TCP on \(settings.bind):\(port)\(settings.readOnly ? " (read-only)" : ""), \(allow.isEmpty ? "any client" : "clients \(settings.allow.joined(separator: ", "))")")
        return server
    }

    // MARK: Loops

    private func messageLoop() async {
        for await message in client.messages {
            if Task.isCancelled { break }
            await router.handle(topic: message.topic, payload: message.payload)
        }
    }

    private func connectionLoop() async {
        for await change in client.states {
            if Task.isCancelled { break }
            switch change {
            case .connecting:
                logger.debug("connecting to the broker")
            case .connected:
                let (first, host, port) = state.withLock { state in
                    let first = !state.ready
                    state.ready = true
                    state.connected = true
                    state.lastError = nil
                    return (first, state.configuration.mqtt.host, state.configuration.mqtt.port)
                }
                logger.info(
                    "connected to broker \(host):\(port), subscribed to \(Topic.josevToCS)", metadata: MessageID.brokerConnected.metadata)
                // Nothing is retained on the broker: Josev hears the current state again.
                await router.republishState(reason: first ? "start" : "reconnected")
                if first {
                    _ = notifier.ready(status: statusLine())
                    logger.info("ready", metadata: MessageID.ready.metadata)
                } else {
                    _ = notifier.status(statusLine())
                }
            case .disconnected(let error):
                let wasConnected = state.withLock { state in
                    let was = state.connected
                    state.connected = false
                    state.lastError = error?.description
                    return was
                }
                if wasConnected {
                    logger.warning(
                        "lost the broker connection: \(error?.description ?? "closed"); reconnecting",
                        metadata: MessageID.brokerLost.metadata)
                } else {
                    logger.debug("broker not reachable: \(error?.description ?? "closed")")
                }
                _ = notifier.status(statusLine())
            case .stopped:
                return
            }
        }
    }

    private func stationLoop() async {
        for await notification in await station.subscribe(bufferingNewest: 1024) {
            if Task.isCancelled { break }
            await modbusSource.refreshSnapshot()  // Modbus shows the change before Josev hears of it
            await router.publish(notification)
        }
    }

    /// Advances the station's clock: meters integrate, the simulated hardware moves, periodic
    /// meter values fall due; retries the writes the disk refused; beats the heartbeat.
    private func tickLoop() async {
        while !Task.isCancelled {
            if let stallFile { stallWhileExists(stallFile) }
            await station.tick()
            await modbusSource.refreshSnapshot()
            sessions?.retryPending()
            heartbeat.withLock { $0 = .now }
            do {
                try await Task.sleep(for: Self.tickInterval)
            } catch {
                return
            }
        }
    }

    /// The test hook: blocks this thread (not just this task) while `file` exists.
    private func stallWhileExists(_ file: String) {
        guard access(file, F_OK) == 0 else { return }
        logger.warning("main loop blocked by the test hook (\(file))")
        while access(file, F_OK) == 0 { usleep(20_000) }
        logger.warning("main loop released by the test hook")
    }

    /// WATCHDOG=1 only while the main loop's heartbeat is fresh and the station actor answers:
    /// a blocked loop stops the pings and systemd (WatchdogSec=) aborts and restarts the daemon.
    private func watchdogLoop(every interval: Duration) async {
        let clock = ContinuousClock()
        var withheld = false
        while !Task.isCancelled {
            let started = clock.now
            await station.heartbeat()
            let took = clock.now - started
            if took > interval {
                logger.warning("station answered the watchdog probe after \(took)", metadata: MessageID.watchdogLate.metadata)
            }
            let age = heartbeat.withLock { $0 }.duration(to: clock.now)
            if age <= max(Self.heartbeatTolerance, interval) {
                if withheld { logger.notice("main loop alive again; watchdog pings resume", metadata: MessageID.watchdogLate.metadata) }
                withheld = false
                _ = notifier.watchdog()
            } else if !withheld {
                withheld = true
                logger.error(
                    "main loop silent for \(age): WATCHDOG=1 withheld (systemd restarts the daemon when WatchdogSec= runs out)",
                    metadata: MessageID.watchdogLate.metadata)
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }

    private func signalLoop(_ signals: UnixSignalsSequence) async {
        for await signal in signals {
            switch signal {
            case .sighup:
                await reload()
            default:
                logger.info("received \(signal), shutting down")
                return
            }
        }
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
        let old = state.withLock { $0.configuration }
        let restart = old.restartNeeded(toApply: newConfiguration)
        var applied = newConfiguration
        if !restart.isEmpty {
            logger.warning("changes to \(restart.joined(separator: ", ")) need a restart (systemctl restart cs-companiond)")
            // Keep what cannot change live; take the rest.
            applied.mqtt = old.mqtt
            applied.stateDirectory = old.stateDirectory
            applied.controlSocket = old.controlSocket
            applied.hardware = old.hardware
            applied.freeVend = old.freeVend
            applied.localTokens = old.localTokens
            if restart.contains(where: { $0.hasPrefix("evses") }) {
                applied.station.evses = old.station.evses
            }
        }
        levelBox.level = applied.logLevel
        ocppIdentity.value = applied.ocpp
        state.withLock { $0.configuration = applied }
        await station.reconfigure(applied.station)
        logger.info("configuration reloaded", metadata: MessageID.reloaded.metadata)
        _ = notifier.ready(status: statusLine())
    }

    /// The human summary for `systemctl status` (STATUS=).
    func statusLine() -> String {
        let (connected, host, port, lastError) = state.withLock {
            ($0.connected, $0.configuration.mqtt.host, $0.configuration.mqtt.port, $0.lastError)
        }
        let stats = router.statistics
        let broker = connected ? "connected to \(host):\(port)" : "broker \(host):\(port) unreachable\(lastError.map { " (\($0))" } ?? "")"
        return "\(broker); answered \(stats.answered), rejected \(stats.rejected), updates \(stats.updatesSent)"
    }
}
