import JosevContract
import Logging
import Mosquitto
import Systemd

/// The broker connection: logs it up and down, has the announcer re-publish the station's state
/// after every (re)connect (nothing is retained), sends READY=1 after the first connection (the
/// subscription to `josev/cs` is acknowledged by then), and disconnects cleanly at shutdown. It
/// stands first in the group, so it is the last to stop.
struct BrokerConnection: Service, CustomStringConvertible {
    let client: MosquittoClient
    let announcer: JosevAnnouncer
    let runtime: DaemonRuntime
    let notifier: SystemdNotifier
    let logger: Logger
    var description: String { "broker connection" }

    func run() async {
        changes: for await change in client.states.cancelOnGracefulShutdown() {
            switch change {
            case .connecting:
                logger.debug("connecting to the broker")
            case .connected:
                let (first, host, port) = runtime.status.connected()
                logger.info(
                    "connected to broker \(host):\(port), subscribed to \(Topic.josevToCS)", metadata: MessageID.brokerConnected.metadata)
                await announcer.republishState(reason: first ? "start" : "reconnected")
                if first {
                    _ = notifier.ready(status: runtime.statusLine())
                    logger.info("ready", metadata: MessageID.ready.metadata)
                } else {
                    _ = notifier.status(runtime.statusLine())
                }
            case .disconnected(let error):
                if runtime.status.disconnected(error: error?.description) {
                    logger.warning(
                        "lost the broker connection: \(error?.description ?? "closed"); reconnecting", metadata: MessageID.brokerLost.metadata)
                } else {
                    logger.debug("broker not reachable: \(error?.description ?? "closed")")
                }
                _ = notifier.status(runtime.statusLine())
            case .stopped:
                break changes
            }
        }
        await client.disconnect()
        logger.info("stopped")
    }
}
