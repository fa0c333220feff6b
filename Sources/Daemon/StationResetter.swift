import BackOffice
import Basics
import Logging
import Station

/// Josev's `reset` (OCPP Reset): the station's part first — now, or scheduled until the
/// addressed EVSEs are idle (`Station.reset`, `EVSEState.idleForReset`) — then, once the station
/// did it and the session store has written what it had queued, the configured `reset.command`
/// (whole station) or `reset.evse_command` (one EVSE). The answer (`accepted`) goes out before the
/// command starts: the command runs in a task of its own, no sooner than `answerGrace` after the
/// reset was answered (the router publishes the answer when the handler returns, and libmosquitto's
/// network thread needs a moment to hand it to the broker before a reboot stops everything).
final class StationResetter: Sendable {
    static let answerGrace = Duration.seconds(1)

    let station: Station
    let settings: ResetConfiguration
    let sessions: SessionRecorder?
    /// The command's output goes to `<directory>/reset.out` (its tail is logged on a failure).
    let directory: String
    let logger: Logger

    init(station: Station, settings: ResetConfiguration, sessions: SessionRecorder?, directory: String, logger: Logger) {
        self.station = station
        self.settings = settings
        self.sessions = sessions
        self.directory = directory
        self.logger = logger
    }

    /// Resets the station (nil) or one EVSE; the command follows the station's reset.
    func reset(evseID: String?) async -> StationResetResult {
        // Subscribed before the reset: a scheduled one performed at any later time is seen.
        let notifications = await station.subscribe()
        let result = await station.reset(evseID: evseID)
        let scope = evseID ?? "the station"
        let command = self.command(for: evseID)
        switch result {
        case .rejected:
            break
        case .accepted:
            Task {
                try? await Task.sleep(for: Self.answerGrace)
                await self.run(command, scope: scope)
            }
        case .scheduled:
            logger.notice("reset of \(scope) scheduled: a session runs that Josev has not stopped; the reset follows when it ends")
            let all = await station.evseIDs
            let wanted = Set(evseID.map { [$0] } ?? all)
            Task {
                for await notification in notifications {
                    guard case .resetPerformed(let evseIDs) = notification, wanted.isSubset(of: Set(evseIDs)) else { continue }
                    await self.run(command, scope: scope)
                    return
                }
            }
        }
        return result
    }

    /// The configured command for this scope, `{evse_id}` filled in.
    func command(for evseID: String?) -> [String]? {
        guard let evseID else { return settings.command }
        return settings.evseCommand?.map { $0.replacing(text: "{evse_id}", with: evseID) }
    }

    private func run(_ command: [String]?, scope: String) async {
        guard let command else {
            logger.info("reset of \(scope) done (no reset command configured: the station's state only)")
            return
        }
        await waitForStoredState()
        logger.notice("reset of \(scope): the state is saved; running \(command.joined(separator: " "))")
        let output = directory + "/reset.out"
        let outcome = await ExternalCommand.run(command, environment: [:], output: output, timeout: .seconds(settings.timeout))
        if outcome == .exited(0) {
            logger.info("reset command of \(scope) finished (\(outcome))")
        } else {
            logger.error("reset command of \(scope) failed (\(outcome)): \(ExternalCommand.tail(of: output))")
        }
    }

    /// Until the session store has no write waiting (sessions, reservations, availability), at
    /// most the command's timeout: a disk that refuses writes must not block a reboot for ever.
    private func waitForStoredState() async {
        guard let sessions else { return }
        let deadline = ContinuousClock.now + .seconds(settings.timeout)
        while sessions.pendingWrites > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
