import Logging
import Modbus
import Station
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// When the tick last completed a round, and how long it then meant to sleep: the main loop's
/// heartbeat, read by the watchdog.
final class Heartbeat: Sendable {
    private let last = Mutex<(at: ContinuousClock.Instant, pause: Duration)>((.now, .zero))

    /// A round completed; `pause`: the tick sleeps that long before the next one unless woken
    /// (zero while it ticks at its interval).
    func beat(pausing pause: Duration = .zero) { last.withLock { $0 = (.now, pause) } }

    var age: Duration { last.withLock { $0.at }.duration(to: .now) }

    /// The pause the last round announced.
    var pause: Duration { last.withLock { $0.pause } }
}

/// Advances the station's clock: meters integrate, the simulated hardware moves, periodic meter
/// values fall due; refreshes the Modbus register image (bounding how stale drifting values are);
/// samples the meters for the sessions' periods; retries the writes the disk refused; beats the heartbeat.
///
/// While the station is at rest (no EV, no session, no timer: `Station.enterRest`) and no write
/// waits for a retry, it sleeps until the station rings `restBell` or `restInterval` passes, so an
/// idle daemon does not wake four times a second for nothing.
struct StationTicker: Service {
    static let interval: Duration = .milliseconds(250)
    /// The longest sleep at rest (shorter with a watchdog: its ping interval).
    static let restInterval: Duration = .seconds(10)

    let station: Station
    let heartbeat: Heartbeat
    /// The Modbus register map (nil without a `modbus:` block).
    let registerMap: AlfenRegisterMap?
    let sessions: SessionRecorder?
    let logger: Logger
    /// Test hook (`CS_COMPANIOND_TEST_STALL=<file>`): while the file exists, the tick hangs as a hung
    /// call inside it would. Unset in production: the hook then costs nothing.
    let stallFile: String?
    /// The watchdog's ping interval (nil without one): the rest never outlasts it.
    let watchdogInterval: Duration?

    func run() async {
        if let stallFile {
            logger.warning("test hook armed: the main loop blocks while \(stallFile) exists (CS_COMPANIOND_TEST_STALL)")
        }
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            if let stallFile { await stallWhileExists(stallFile) }
            await station.tick()
            await registerMap?.refreshSnapshotIfChanged()
            await sessions?.sample()
            sessions?.retryPending()
            if stallFile == nil, sessions?.hasPendingWrites != true, await station.enterRest() {
                let pause = min(Self.restInterval, watchdogInterval ?? Self.restInterval)
                heartbeat.beat(pausing: pause)
                await cancelWhenGracefulShutdown { await station.restBell.wait(atMost: pause) }
                continue
            }
            heartbeat.beat()
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.interval) }
            } catch {
                return
            }
        }
    }

    /// The test hook: holds the tick while `file` exists. This task only, not its thread: every task
    /// of the daemon runs on the main thread (`MainLoop`), and a blocked thread would silence the
    /// watchdog's own report with the pings.
    private func stallWhileExists(_ file: String) async {
        guard access(file, F_OK) == 0 else { return }
        logger.warning("main loop blocked by the test hook (\(file))")
        while access(file, F_OK) == 0, !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
        logger.warning("main loop released by the test hook")
    }
}
