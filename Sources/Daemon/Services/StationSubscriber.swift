import Station

/// One independent subscriber of the station's notifications (the Josev announcer, the session
/// recorder, the Modbus register image): its own stream, in the station's order, so a slow one
/// (a SQLite write) never delays another (Josev hearing of the change).
struct StationSubscriber: Service, CustomStringConvertible {
    let description: String
    let notifications: AsyncStream<StationNotification>
    let handle: @Sendable (StationNotification) async -> Void

    func run() async {
        for await notification in notifications.cancelOnGracefulShutdown() {
            await handle(notification)
        }
    }
}
