import ArgumentParser
import Daemon
import JSONSchema

/// `cs-companion hardware check`: commissioning. The meters part lives here (the board part is
/// its own file): per meter its serial number, V/A per phase, frequency, import/export registers
/// and the bus statistics; exit 1 when something is wrong.
struct Hardware: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Commissioning of the station's hardware.", subcommands: [HardwareCheck.self])
}

struct HardwareCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check the hardware the running daemon sees (meters: values and bus statistics); exit 1 when wrong.")

    @OptionGroup var control: ControlOptions

    func run() throws {
        var request: JSONObject = ["command": "status"]
        if let evse = control.evse { request["evse_id"] = .string(evse) }
        let answer: JSONObject
        do {
            answer = try ControlClient.request(request, path: control.socket)
        } catch {
            print("cs-companion: \(error)")
            throw ExitCode(1)
        }
        let report = MeterCheck.report(answer["evses"]?.arrayValue ?? [])
        if control.json {
            print(JSONValue.object(["ok": .bool(report.problems.isEmpty), "meters": .array(report.json), "problems": .array(report.problems.map { .string($0) })]).serialized(pretty: true))
        } else {
            for line in report.lines { print(line) }
            for problem in report.problems { print("PROBLEM: \(problem)") }
            if report.problems.isEmpty { print("meters: OK") }
        }
        if !report.problems.isEmpty { throw ExitCode(1) }
    }
}

/// What the meters of a `status` answer say, as lines and problems.
enum MeterCheck {
    /// Nominal 230 V ± 10 % (EN 50160), 50 Hz ± 1 %.
    static let voltageRange = 207.0...253.0
    static let frequencyRange = 49.5...50.5

    static func report(_ evses: [JSONValue]) -> (lines: [String], problems: [String], json: [JSONValue]) {
        var lines: [String] = [], problems: [String] = [], json: [JSONValue] = []
        for evse in evses {
            guard let meter = evse["meter"], let evseID = evse["evse_id"]?.stringValue else { continue }
            json.append(meter)
            let values = meter["values"]
            func number(_ key: String) -> Double? { values?[key]?.numberValue.map { ($0 * 10).rounded() / 10 } }
            func phases(_ prefix: String, _ unit: String) -> String {
                ["l1", "l2", "l3"].map { phase in number("\(prefix)_\(phase)").map { "\(phase.uppercased()) \($0) \(unit)" } ?? "\(phase.uppercased()) ?" }
                    .joined(separator: ", ")
            }
            let communication = meter["communication"]?.stringValue ?? "?"
            lines.append("EVSE \(evseID): meter unit \(meter["unit_id"]?.integerValue ?? 0) (\(meter["profile"]?.stringValue ?? "?")), \(communication)")
            lines.append("  serial number: \(meter["serial_number"]?.stringValue ?? "not read")")
            lines.append("  voltage: \(phases("voltage", "V"))")
            lines.append("  current: \(phases("current", "A"))")
            lines.append("  frequency: \(number("frequency").map { "\($0) Hz" } ?? "?")")
            lines.append("  phase rotation: not measured (the profiles read no phase angles)")
            lines.append(
                "  registers: import \(number("energy_import_wh").map { "\($0) Wh" } ?? "?"), export \(number("energy_export_wh").map { "\($0) Wh" } ?? "?")")
            let statistics = meter["statistics"]
            func count(_ key: String) -> Int64 { statistics?[key]?.integerValue ?? 0 }
            lines.append(
                "  bus: \(count("requests")) requests, \(count("timeouts")) timeouts, \(count("framing_errors")) CRC/framing errors, "
                    + "\(count("exceptions")) exceptions, \(count("implausible")) implausible values, latency \(statistics?["last_latency_ms"]?.numberValue ?? 0) ms "
                    + "(max \(statistics?["max_latency_ms"]?.numberValue ?? 0)), cycle \(statistics?["last_cycle_ms"]?.numberValue ?? 0) ms")
            if communication != "ok" {
                problems.append("\(evseID): meter \(communication)\(meter["refusal"]?.stringValue.map { ": \($0)" } ?? "")")
                continue
            }
            for phase in ["l1", "l2", "l3"] {
                if let volts = number("voltage_\(phase)"), !voltageRange.contains(volts) {
                    problems.append("\(evseID): voltage \(phase.uppercased()) \(volts) V outside \(voltageRange)")
                }
            }
            if let hertz = number("frequency"), !frequencyRange.contains(hertz) { problems.append("\(evseID): frequency \(hertz) Hz") }
            if number("energy_import_wh") == nil { problems.append("\(evseID): no import register") }
            if count("timeouts") + count("framing_errors") > max(1, count("requests") / 100) {
                problems.append("\(evseID): more than 1 % of the requests failed (\(count("timeouts")) timeouts, \(count("framing_errors")) framing errors)")
            }
        }
        return (lines, problems, json)
    }
}
