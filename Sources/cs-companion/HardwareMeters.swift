import ArgumentParser
import Daemon
import JSONSchema

/// The meters part of `cs-companion hardware check` (the board part is the daemon's
/// `hardware-check` answer, `Hardware.swift`): per meter its serial number, V/A per phase,
/// frequency, import/export registers and the bus statistics, from the daemon's `status`.
enum MeterSection {
    /// The lines, the problems and the JSON of the meters the daemon reports.
    static func check(_ control: ControlOptions) throws -> (lines: [String], problems: [String], json: [JSONValue]) {
        var request: JSONObject = ["command": "status"]
        if let evse = control.evse { request["evse_id"] = .string(evse) }
        let answer = try ControlClient.request(request, path: control.socket)
        return MeterCheck.report(answer["evses"]?.arrayValue ?? [])
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
