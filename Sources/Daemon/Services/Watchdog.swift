import Logging
import Station
import Systemd

/// WATCHDOG=1 at half of `WatchdogSec=`, only while the main loop's heartbeat is fresh and the
/// station actor answers: a blocked loop stops the pings and systemd aborts and restarts the daemon.
struct Watchdog: Service {
    /// The heartbeat is fresh while the tick missed fewer than four rounds.
    static let heartbeatTolerance: Duration = .seconds(1)

    let interval: Duration
    let station: Station
    let heartbeat: Heartbeat
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async {
        let clock = ContinuousClock()
        var withheld = false
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let started = clock.now
            await station.heartbeat()
            let took = clock.now - started
            if took > interval {
                logger.warning("station answered the watchdog probe after \(took)", metadata: MessageID.watchdogLate.metadata)
            }
            let age = heartbeat.age
            // At rest the tick sleeps on purpose (`StationTicker.restInterval`): that pause is no silence.
            if age <= max(Self.heartbeatTolerance, interval) + heartbeat.pause {
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
                try await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }
}
