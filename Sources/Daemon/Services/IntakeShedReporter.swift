import JosevContract
import Logging
import Mosquitto
import Systemd

/// Logs the MQTT messages the client shed (its bounded intake was full): at once for the first,
/// then at most one line per `interval` with the count since the previous line. Sleeps while
/// nothing is shed.
struct IntakeShedReporter: Service {
    static let interval = Duration.seconds(10)

    let totals: AsyncStream<ShedCount>
    let logger: Logger

    /// The reporter and the callback the MQTT client calls after each shed message.
    static func make(logger: Logger) -> (IntakeShedReporter, @Sendable (ShedCount) -> Void) {
        let (totals, continuation) = AsyncStream.makeStream(of: ShedCount.self, bufferingPolicy: .bufferingNewest(1))
        return (IntakeShedReporter(totals: totals, logger: logger), { continuation.yield($0) })
    }

    func run() async {
        var reported = ShedCount()
        for await total in totals.cancelOnGracefulShutdown() {
            logger.warning(
                "MQTT intake full: shed \(total.messages - reported.messages) message(s) from \(Topic.josevToCS) unread",
                metadata: MessageID.intakeShed.metadata.merging([
                    "shed_bytes": "\(total.bytes - reported.bytes)", "shed_total": "\(total.messages)",
                    "shed_total_bytes": "\(total.bytes)",
                ]) { $1 })
            reported = total
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.interval) }
            } catch {
                return
            }
        }
    }
}
