import BoardDriver
import Logging
import Station

/// `hardware.driver: board` at start: the serial link opened, the MCU's boot handshake checked
/// against the YAML (a contradiction refuses the start, exit 78), then — once the station exists —
/// the power-on self-test and the tasks that keep the link alive and feed the station.
enum BoardStartup {
    /// Nil unless `hardware.driver` is `board`.
    static func start(_ configuration: DaemonConfiguration, logger: Logger) async throws(BoardStartError) -> BoardHardware? {
        guard configuration.hardware == .board else { return nil }
        guard let settings = configuration.board else { throw BoardStartError(reason: "driver: board without a 'board:' block") }
        let board = try BoardHardware(settings: settings, configuration: configuration.station) { line in
            logger.notice("\(line)")
        }
        let keepAlive = Task { await board.run() }
        do {
            try await board.awaitBoot()
        } catch {
            keepAlive.cancel()
            board.close()
            throw error
        }
        // Before the station sees any event: a passed test's own trip and reset are not reported.
        if settings.rcdSelfTest { await board.rcdSelfTest() }
        keepAlive.cancel()
        logger.info("board on \(settings.port): \(settings.connectors.count) connector(s), MCU '\(board.report().firmware ?? "silent")'")
        return board
    }

    /// The self-test, then the keep-alives and the event feed for as long as the daemon runs.
    /// An EVSE that fails the self-test stays faulted with the reason (logged, `hardware check`).
    static func attach(_ board: BoardHardware, to station: Station) async {
        Task { await board.run() }
        Task {
            for await _ in board.wakeups { await station.handle(.eventsQueued) }
        }
        await board.selfTest()
        await station.handle(.eventsQueued)
    }
}
