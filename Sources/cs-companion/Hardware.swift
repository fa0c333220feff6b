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

    /// `cs-companion hardware check`: the commissioning table of the safety controller and of the
    /// energy meters; exit 1 when something is wrong.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the hardware: the safety controller (link, MCU version, CP, PP, contactor commanded vs confirmed, lock, RCD) and the energy meters (values, bus statistics).",
            discussion: "Exit status 0 only when the link is up, every port is consistent and fault-free, and every meter answers plausibly.")

        @OptionGroup var control: ControlOptions

        func run() throws {
            let board: JSONObject
            let meters: (lines: [String], problems: [String], json: [JSONValue])
            do {
                board = try ControlClient.request(["command": "hardware-check"], path: control.socket)
                meters = try MeterSection.check(control)
            } catch {
                print("cs-companion: \(error)")
                throw ExitCode(1)
            }
            let healthy = board["ok"] == true && board["healthy"] == true && meters.problems.isEmpty
            if control.json || board["ok"] != true {
                var answer = board
                answer["meters"] = .array(meters.json)
                answer["meter_problems"] = .array(meters.problems.map { .string($0) })
                answer["healthy"] = .bool(healthy)
                print(JSONValue.object(answer).serialized(pretty: true))
            } else {
                print(board["summary"]?.stringValue ?? "")
                for line in meters.lines { print(line) }
                for problem in meters.problems { print("PROBLEM: \(problem)") }
                if !meters.json.isEmpty, meters.problems.isEmpty { print("meters: OK") }
            }
            if !healthy { throw ExitCode(1) }
        }
    }
}
