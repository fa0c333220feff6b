// cs-companiond: the CS side of the Josev MQTT contract, as a systemd service.
import Daemon
import Glibc
import MainLoop

@main
enum CompanionDaemonMain {
    /// Synchronous on purpose: the executors must be in place before the first task exists; the
    /// daemon then runs as a task on the main thread's loop (MainLoopExecutor), which never returns.
    static func main() {
        switch DaemonArguments.parse(Array(CommandLine.arguments.dropFirst())) {
        case .success(.help):
            print(DaemonArguments.usage)
        case .success(.version):
            print(companionVersion)
        case .success(.checkConfig(let options)):
            exit(CompanionDaemon.checkConfiguration(options).rawValue)
        case .success(.run(let options)):
            MainLoopExecutors.install()
            Task.detached { exit(await CompanionDaemon.run(options).rawValue) }
            MainLoopExecutors.run()
        case .failure(let error):
            CompanionDaemon.printError("error: \(error.message)\n\(DaemonArguments.usage)")
            exit(DaemonArguments.usageExitCode)
        }
    }
}
