import Logging
import Modbus
import ServiceLifecycle
import Station
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// When the tick last completed a round: the main loop's heartbeat, read by the watchdog.
final class Heartbeat: Sendable {
    private let last = Mutex<ContinuousClock.Instant>(.now)

    func beat() { last.withLock { $0 = .now } }

    var age: Duration { last.withLock { $0 }.duration(to: .now) }
}

/// Advances the station's clock: meters integrate, the simulated hardware moves, periodic meter
/// values fall due; refreshes the Modbus register image (bounding how stale drifting values are);
/// samples the meters for the sessions' periods; retries the writes the disk refused; beats the heartbeat.
struct StationTicker: Service {
    static let interval: Duration = .milliseconds(250)

    let station: Station
    let heartbeat: Heartbeat
    /// The Modbus register map (nil without a `modbus:` block).
    let registerMap: AlfenRegisterMap?
    let sessions: SessionRecorder?
    let logger: Logger
    /// Test hook (`CS_COMPANIOND_TEST_STALL=<file>`): while the file exists, the tick blocks its
    /// thread as a hung call would. Unset in production: the hook then costs nothing.
    let stallFile: String?

    func run() async {
        if let stallFile {
            logger.warning("test hook armed: the main loop blocks while \(stallFile) exists (CS_COMPANIOND_TEST_STALL)")
        }
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            if let stallFile { stallWhileExists(stallFile) }
            await station.tick()
            await registerMap?.refreshSnapshotIfChanged()
            await sessions?.sample()
            sessions?.retryPending()
            heartbeat.beat()
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.interval) }
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
}
