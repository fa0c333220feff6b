// cs-companiond: the CS side of the Josev MQTT contract, as a systemd service.
import Daemon
import Glibc

@main
enum CompanionDaemonMain {
    static func main() async {
        switch DaemonArguments.parse(Array(CommandLine.arguments.dropFirst())) {
        case .success(.help):
            print(DaemonArguments.usage)
        case .success(.version):
            print(companionVersion)
        case .success(.checkConfig(let options)):
            exit(CompanionDaemon.checkConfiguration(options).rawValue)
        case .success(.run(let options)):
            exit(await CompanionDaemon.run(options).rawValue)
        case .failure(let error):
            CompanionDaemon.printError("error: \(error.message)\n\(DaemonArguments.usage)")
            exit(DaemonArguments.usageExitCode)
        }
    }
}
