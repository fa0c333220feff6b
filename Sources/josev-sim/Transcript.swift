// The readable transcript of a session: one line per message, from any thread, in arrival order.
import Foundation
import Basics
import JSONSchema
import Synchronization

/// Serialises lines to stdout and stamps them with the time since the session started.
final class Transcript: Sendable {
    private let start = ContinuousClock.now
    private let lock = Mutex<Void>(())

    init() {}

    /// Seconds since the start.
    var elapsed: Double { Self.seconds(ContinuousClock.now - start) }

    func offset(_ instant: ContinuousClock.Instant) -> Double { Self.seconds(instant - start) }

    /// A line that starts with the time offset: `+12.345s → cp_pwm request  evse_id=…`.
    func message(_ text: String, at instant: ContinuousClock.Instant = .now) {
        line(String(format: "%+9.3fs ", offset(instant)) + text)
    }

    /// A line with no time offset (step verdicts, notes), indented under the messages.
    func note(_ text: String) {
        line("           " + text)
    }

    func line(_ text: String) {
        // Written straight to fd 1, one write per line: no stdio buffer to flush when piped.
        lock.withLock { _ in
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
        }
    }

    static func seconds(_ duration: Duration) -> Double { duration.inSeconds }

    /// `850 µs`, `3.2 ms`, `1.20 s`.
    static func latency(_ seconds: Double) -> String {
        if seconds < 0.001 { return String(format: "%.0f µs", seconds * 1e6) }
        if seconds < 1 { return String(format: "%.1f ms", seconds * 1e3) }
        return String(format: "%.2f s", seconds)
    }
}

/// The fields worth showing for a message, as `key=value` pairs.
enum KeyFields {
    /// Keys shown whenever present at the top level of `data`, in this order.
    static let plain = [
        "evse_id", "connector_id", "service", "state", "status", "session_status", "hlc", "current", "error_state",
        "fault_state", "duty_cycle", "run_id", "cable_check_action", "cable_check_status", "isolation_level",
        "is_precharge", "token_type", "id_token", "transaction_id", "timestamp", "total_active_energy_imported",
        "power_active_import", "present_soc", "info", "connector_status", "request_id", "log_type", "location",
        "remote_location", "result", "filename",
    ]

    static func summary(name: String, data: JSONObject) -> String {
        var parts: [String] = []
        switch name {
        case "cs_parameters":
            if let count = data["number_of_evses"] { parts.append("number_of_evses=\(short(count))") }
            for evse in data["parameters"]?.arrayValue ?? [] {
                let services = (evse["connectors"]?.arrayValue ?? []).compactMap { $0["services"]?.objectValue?.keys }
                    .flatMap { $0 }
                parts.append("evse \(evse["evse_id"]?.stringValue ?? "?") [\(Set(services).sorted().joined(separator: ","))]")
            }
            return parts.joined(separator: "  ")
        case "device_model":
            for key in ["model", "identity", "security_profile"] {
                if let value = data[key] { parts.append("\(key)=\(short(value))") }
            }
            for evse in data["evses"]?.arrayValue ?? [] {
                parts.append("evse \(evse["ocpp_id"].map(short) ?? "?")=\(evse["iso15118_id"]?.stringValue ?? "?")")
            }
            return parts.joined(separator: " ")
        case "set_variable_validate":
            if let component = data["component"]?["name"]?.stringValue, let variable = data["variable"]?["name"]?.stringValue {
                parts.append("\(component).\(variable)=\(data["attribute_value"]?.stringValue ?? "?")")
            }
        case "device_model_update":
            for component in data["components"]?.arrayValue ?? [] {
                for variable in component["variables"]?.arrayValue ?? [] {
                    parts.append(
                        "\(component["name"]?.stringValue ?? "?").\(variable["name"]?.stringValue ?? "?")=\(variable["value"]?.stringValue ?? "?")")
                }
            }
        case "update_firmware":
            if data["signature"] != nil { parts.append("signed") }
        case "cs_status_and_limits":
            for evse in data["evses"]?.arrayValue ?? [] {
                var text = "evse \(evse["evse_id"]?.stringValue ?? "?") \(evse["status_code"]?.stringValue ?? "?")"
                if let ac = evse["ac"] {
                    let currents = ["l1", "l2", "l3"].compactMap { ac["max_current"]?[$0].map(short) }
                    text += " ac max_current=\(currents.joined(separator: "/")) rcd_error=\(ac["rcd_error"].map(short) ?? "?")"
                }
                if let dc = evse["dc"] {
                    text += " dc present=\(dc["present_voltage"].map(short) ?? "?") V/\(dc["present_current"].map(short) ?? "?") A"
                    if let isolation = dc["isolation_status"] { text += " isolation=\(short(isolation))" }
                }
                parts.append(text)
            }
            return parts.joined(separator: "  ")
        default:
            break
        }
        for key in plain {
            guard let value = data[key] else { continue }
            parts.append("\(key)=\(short(value))")
        }
        if let ac = data["ac"]?.objectValue { parts.append("ac=\(short(.object(ac)))") }
        if let dc = data["dc"]?.objectValue { parts.append("dc=\(short(.object(dc)))") }
        if let limits = data["ac_rated_limits"] ?? data["dc_rated_limits"] { parts.append("limits=\(short(limits))") }
        return parts.joined(separator: " ")
    }

    /// A value as short text: strings bare, small objects as compact JSON.
    static func short(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .double(let number): return number.rounded() == number && abs(number) < 1e9 ? String(Int(number)) : String(number)
        default:
            let text = value.serialized()
            return text.count > 80 ? String(text.prefix(77)) + "…" : text
        }
    }
}
