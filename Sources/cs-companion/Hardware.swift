import ArgumentParser
import Daemon
import JSONSchema

/// `cs-companion hardware …`: the board behind the daemon.
struct Hardware: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The station's hardware (hardware.driver: board).", subcommands: [Check.self, RCDReset.self, ClearLatched.self])

    /// `cs-companion hardware rcd-reset --evse ID`: only with no EV connected and the contactor open.
    struct RCDReset: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rcd-reset", abstract: "Reset a tripped RCD (no EV connected, contactor open).")
        @OptionGroup var control: ControlOptions
        func run() throws { try control.send("rcd-reset") }
    }

    /// `cs-companion hardware clear-latched --evse ID`: after the welded contactor was replaced.
    struct ClearLatched: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "clear-latched", abstract: "Clear a latched fault (contactor_welded) once the contactor was repaired.")
        @OptionGroup var control: ControlOptions
        func run() throws { try control.send("clear-latched-fault") }
    }

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
