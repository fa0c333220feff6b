import ArgumentParser
import Daemon
import JSONSchema

/// `cs-companion hardware …`: the board behind the daemon.
struct Hardware: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The station's hardware (hardware.driver: board).", subcommands: [Check.self])

    /// `cs-companion hardware check`: the commissioning table; exit 1 when something is wrong.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the safety controller: link, MCU version, CP, PP, contactor commanded vs confirmed, lock, RCD.",
            discussion: "Exit status 0 only when the link is up and every port is consistent and fault-free.")

        @OptionGroup var control: ControlOptions

        func run() throws {
            let answer: JSONObject
            do {
                answer = try ControlClient.request(["command": "hardware-check"], path: control.socket)
            } catch {
                print("cs-companion: \(error)")
                throw ExitCode(1)
            }
            if control.json || answer["ok"] != true {
                print(JSONValue.object(answer).serialized(pretty: true))
            } else {
                print(answer["summary"]?.stringValue ?? "")
            }
            if answer["ok"] != true || answer["healthy"] != true { throw ExitCode(1) }
        }
    }
}
