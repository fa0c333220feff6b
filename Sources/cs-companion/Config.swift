import ArgumentParser
import Daemon
import JSONSchema

/// `cs-companion config get|set|pending|history`: the configuration keys (OCPP device-model
/// variables) through the daemon's control socket, with the rules and pacing Josev's changes get.
struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read and change the station's configuration keys (OCPP device-model variables).",
        discussion: """
            Keys are written Component[instance]@EVSE/connector.Variable[instance], e.g. OCPPCommCtrlr.HeartbeatInterval \
            or EVSE@DE*PNX*E12345*1.Power (quote them for the shell). A change is judged like one from the back office \
            (read-only, unknown, wrong type, out of range, not in the list), applied and announced to Josev, and the next \
            change waits for Josev's confirmation; a key that needs a restart stays pending until the next start. \
            WriteOnly values are never shown.
            """,
        subcommands: [Get.self, Set.self, Pending.self, History.self]
    )

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show every key, or one, with its declaration.")
        @OptionGroup var control: ControlOptions
        @Argument(help: "Component.Variable (default: all).") var key: String?
        func run() throws {
            var fields: JSONObject = [:]
            if let key { fields["key"] = .string(key) }
            try control.send("config-get", fields)
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a key (source: local).")
        @OptionGroup var control: ControlOptions
        @Argument(help: "Component.Variable.") var key: String
        @Argument(help: "The new value, as OCPP writes it (a string).") var value: String
        func run() throws { try control.send("config-set", ["key": .string(key), "value": .string(value)]) }
    }

    struct Pending: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the change waiting for Josev's confirmation and the ones waiting for the next start.")
        @OptionGroup var control: ControlOptions
        func run() throws { try control.send("config-pending") }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the recorded changes (old, new, source, time), oldest first.")
        @OptionGroup var control: ControlOptions
        @Option(name: .long, help: "Only the newest N changes.") var limit: Int?
        func run() throws {
            var fields: JSONObject = [:]
            if let limit { fields["limit"] = .int(Int64(limit)) }
            try control.send("config-history", fields)
        }
    }

}
