import Logging
import Systemd

/// SIGHUP (`systemctl reload`) reloads the configuration.
struct ReloadOnSIGHUP: Service, CustomStringConvertible {
    let runtime: DaemonRuntime
    /// SIGHUP, from `ProcessSignals`.
    let signals: AsyncStream<Int32>
    var description: String { "reload on SIGHUP" }

    func run() async {
        for await _ in signals.cancelOnGracefulShutdown() {
            await runtime.reload()
        }
    }
}

/// The first service to hear of a graceful shutdown (SIGTERM/SIGINT; it stands last in the group,
/// which shuts down in reverse order): tells systemd STOPPING=1 and the journal why.
struct ShutdownNotice: Service, CustomStringConvertible {
    let notifier: SystemdNotifier
    let logger: Logger
    var description: String { "shutdown notice" }

    func run() async {
        guard (try? await gracefulShutdown()) != nil else { return }
        _ = notifier.stopping(status: "stopping")
        logger.info("stopping: disconnecting from the broker", metadata: MessageID.stopping.metadata)
    }
}
