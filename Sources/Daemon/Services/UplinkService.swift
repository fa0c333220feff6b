import JosevContract
import Logging
import Mosquitto
import Station

/// The station uplink (StationUplink.swift) as a service: its own broker connection (with the
/// `offline` will), the station's notifications, the periodic session scan and heartbeat, and the
/// daemon's job statuses read back from `cs/josev`. At shutdown: `offline`, then DISCONNECT.
struct UplinkService: Service, CustomStringConvertible {
    let uplink: StationUplink
    let client: MosquittoClient
    let notifications: AsyncStream<StationNotification>
    let logger: Logger
    var description: String { "station uplink" }

    /// The uplink's connection: the daemon's broker settings, a client id of its own, a persistent
    /// session (QoS 1 messages not yet acknowledged are sent again after a reconnect) and the will.
    static func make(
        configuration: DaemonConfiguration, station: Station, notifications: AsyncStream<StationNotification>?, logger: Logger
    ) throws -> UplinkService? {
        guard let settings = configuration.uplink, let notifications else { return nil }
        var connection = try CompanionDaemon.mosquittoConfiguration(configuration, logger: logger)
        connection.clientID = configuration.mqtt.clientID + "-uplink"
        connection.cleanSession = false
        connection.incoming = IncomingLimits()
        connection.will = StationUplink.will(base: StationUplink.base(settings, serial: configuration.station.identity.serialNumber))
        let client = try MosquittoClient(configuration: connection)
        let uplink = StationUplink(
            configuration: settings, serial: configuration.station.identity.serialNumber, client: client, station: station,
            stateDirectory: configuration.stateDirectory, logger: logger)
        try client.subscribe(Topic.csToJosev, qos: .atMostOnce)
        return UplinkService(uplink: uplink, client: client, notifications: notifications, logger: logger)
    }

    func run() async {
        logger.info("station uplink on the broker under \(uplink.base)/ (status, evse, sessions, jobs)")
        client.start()
        let uplink = self.uplink
        let client = self.client
        let notifications = self.notifications
        let interval = Duration.milliseconds(Int64(uplink.configuration.sessionScanInterval * 1000))
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await state in client.states where state == .connected { await uplink.connected() }
                }
                group.addTask {
                    for await notification in notifications { await uplink.observe(notification) }
                }
                group.addTask {
                    for await message in client.messages { await uplink.forwardJobStatus(message) }
                }
                group.addTask {
                    while (try? await Task.sleep(for: interval)) != nil { await uplink.tick() }
                }
            }
        }
        await uplink.stopping()
        await client.disconnect()
        let published = await uplink.published
        logger.info("station uplink stopped (\(published) messages published)")
    }
}
