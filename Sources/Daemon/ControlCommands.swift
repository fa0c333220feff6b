import JSONSchema
import JosevContract
import Station

/// The commands of the local control socket, on top of the `Station`.
struct ControlCommands: Sendable {
    let station: Station
    let runtime: DaemonRuntime

    func handle(_ request: JSONObject) async -> JSONObject {
        guard let command = request["command"]?.stringValue else { return Self.failure("missing \"command\"") }
        switch command {
        case "status":
            return await status(evseID: request["evse_id"]?.stringValue)
        default:
            return Self.failure("unknown command '\(command)'")
        }
    }

    static func failure(_ message: String) -> JSONObject { ["ok": false, "error": .string(message)] }

    /// The station as JSON plus a human summary (`cs-companion status`).
    func status(evseID: String?) async -> JSONObject {
        let snapshot = await station.statusAndLimits(evseIDs: evseID.map { [$0] })
        let configuration = await station.configuration
        var evses: [JSONValue] = []
        var lines = ["\(configuration.identity.vendor) \(configuration.identity.model), serial \(configuration.identity.serialNumber), firmware \(configuration.identity.firmwareVersion)"]
        lines.append(runtime.statusLine())
        for entry in snapshot.evses {
            var object: JSONObject = ["evse_id": .string(entry.evseID), "status_code": .string(entry.statusCode.rawValue)]
            var line = "EVSE \(entry.evseID): \(entry.statusCode.rawValue)"
            if let ac = entry.ac {
                object["offered_current"] = .double(ac.maxCurrent.l1)
                object["rcd_error"] = .bool(ac.rcdError)
                line += ", AC offered \(ac.maxCurrent.l1) A/phase at \(ac.nominalVoltage) V"
            }
            if let dc = entry.dc {
                object["present_voltage"] = .double(dc.presentVoltage)
                object["present_current"] = .double(dc.presentCurrent)
                line += ", DC \(dc.presentVoltage) V \(dc.presentCurrent) A (max \(dc.maxCurrent) A, \(dc.maxPower) W)"
            }
            evses.append(.object(object))
            lines.append(line)
        }
        if evseID != nil, evses.isEmpty { return Self.failure("no EVSE '\(evseID ?? "")'") }
        return ["ok": true, "evses": .array(evses), "summary": .string(lines.joined(separator: "\n"))]
    }
}
