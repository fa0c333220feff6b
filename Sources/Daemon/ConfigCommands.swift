import Basics
import JSONSchema
import JosevContract
import Store

/// `cs-companion config get|set|pending|history`: the technicians' way to the configuration keys,
/// with the same rules and pacing as Josev's changes. WriteOnly values are never shown.
extension ControlCommands {
    /// Shown instead of a WriteOnly value.
    static let hidden = "(write-only)"

    func configuration(_ command: String, _ request: JSONObject) -> JSONObject {
        guard let model = runtime.deviceModel else { return Self.failure("no device-model variables") }
        switch command {
        case "config-get":
            var records = model.records
            if let text = request["key"]?.stringValue {
                guard let key = DeviceModelRules.parseKey(text) else { return Self.failure("cannot read key '\(text)' (Component.Variable)") }
                guard let record = model.record(key) else { return Self.failure("unknown variable \(key)") }
                records = [record]
            }
            let lines = records.map { record in
                var line = "\(record.key) = \(Self.shown(record.value, record))"
                if let unit = record.unit { line += " \(unit)" }
                line += "  (\(record.mutability.rawValue), \(record.dataType.rawValue)"
                if let list = record.valuesListText { line += " of \(list)" }
                if record.minimum != nil || record.maximum != nil {
                    line += ", \(record.minimum.map(DeviceModelRules.format) ?? "")…\(record.maximum.map(DeviceModelRules.format) ?? "")"
                }
                if record.requiresRestart { line += ", needs a restart" }
                line += ")"
                if let pending = record.pendingValue { line += ", pending for the next start: \(Self.shown(pending, record))" }
                return line
            }
            return [
                "ok": true, "variables": .array(records.map { .object(Self.json($0)) }),
                "summary": .string(lines.isEmpty ? "no device-model variables configured" : lines.joined(separator: "\n")),
            ]
        case "config-set":
            guard let text = request["key"]?.stringValue, let value = request["value"]?.stringValue else {
                return Self.failure("config-set needs \"key\" and \"value\"")
            }
            guard let key = DeviceModelRules.parseKey(text) else { return Self.failure("cannot read key '\(text)' (Component.Variable)") }
            switch model.propose(key, value: value, source: .local) {
            case .applied(let record):
                return ["ok": true, "message": .string("\(key) = \(Self.shown(record.value, record)) applied and announced to Josev")]
            case .pendingRestart(let record):
                return [
                    "ok": true, "pending": true,
                    "message": .string("\(key) = \(Self.shown(value, record)) accepted; applied at the next start (needs a restart)"),
                ]
            case .unchanged(let record):
                return ["ok": true, "message": .string("\(key) is already \(Self.shown(record.value, record))")]
            case .rejected(let why):
                return ["ok": false, "error": .string("rejected: \(why)"), "reason": .string(why.reason)]
            }
        case "config-pending":
            var items: [JSONValue] = []
            var lines: [String] = []
            for change in model.awaitingConfirmation {
                guard let record = model.record(change.key) else { continue }
                items.append(.object([
                    "key": .string("\(change.key)"), "value": .string(Self.shown(change.value, record)),
                    "source": .string(change.source.rawValue), "state": "awaiting_confirmation",
                ]))
                lines.append("\(change.key) = \(Self.shown(change.value, record)) (by \(change.source.rawValue)): applied, awaiting Josev's confirmation")
            }
            for record in model.records {
                guard let pending = record.pendingValue else { continue }
                items.append(.object([
                    "key": .string("\(record.key)"), "value": .string(Self.shown(pending, record)),
                    "source": .string(record.pendingSource?.rawValue ?? "local"), "state": "pending_restart",
                ]))
                lines.append("\(record.key) = \(Self.shown(pending, record)) (by \(record.pendingSource?.rawValue ?? "local")): pending, applied at the next start")
            }
            return ["ok": true, "pending": .array(items), "summary": .string(lines.isEmpty ? "nothing pending" : lines.joined(separator: "\n"))]
        case "config-history":
            let limit = request["limit"]?.integerValue.map { Int($0) }
            do {
                let changes = try model.history(limit: limit)
                let items: [JSONValue] = changes.map { change in
                    var object: JSONObject = [
                        "key": .string("\(change.key)"), "source": .string(change.source.rawValue), "event": .string(change.event.rawValue),
                        "at": .string(WallClockText.format(change.at)),
                    ]
                    object["old_value"] = .string(change.redacted ? Self.hidden : change.oldValue ?? "")
                    object["new_value"] = .string(change.redacted ? Self.hidden : change.newValue ?? "")
                    return .object(object)
                }
                let lines = changes.map { change in
                    let old = change.redacted ? Self.hidden : change.oldValue ?? ""
                    let new = change.redacted ? Self.hidden : change.newValue ?? ""
                    return "\(WallClockText.format(change.at))  \(change.key): '\(old)' → '\(new)'  \(change.event.rawValue) by \(change.source.rawValue)"
                }
                return ["ok": true, "changes": .array(items), "summary": .string(lines.isEmpty ? "no changes recorded" : lines.joined(separator: "\n"))]
            } catch {
                return Self.failure("cannot read the history: \(error)")
            }
        default:
            return Self.failure("unknown command '\(command)'")
        }
    }

    static func shown(_ value: String, _ record: DeviceVariableRecord) -> String {
        record.mutability == .writeOnly ? hidden : value
    }

    static func json(_ record: DeviceVariableRecord) -> JSONObject {
        var object: JSONObject = [
            "key": .string("\(record.key)"), "component": .string(record.key.component), "variable": .string(record.key.variable),
            "value": .string(shown(record.value, record)), "mutability": .string(record.mutability.rawValue),
            "data_type": .string(record.dataType.rawValue), "requires_restart": .bool(record.requiresRestart),
        ]
        if !record.key.componentInstance.isEmpty { object["component_instance"] = .string(record.key.componentInstance) }
        if !record.key.evseID.isEmpty { object["evse_id"] = .string(record.key.evseID) }
        if record.key.connectorID != 0 { object["connector_id"] = .int(Int64(record.key.connectorID)) }
        if !record.key.variableInstance.isEmpty { object["variable_instance"] = .string(record.key.variableInstance) }
        if let unit = record.unit { object["unit"] = .string(unit) }
        if let list = record.valuesList { object["values_list"] = .array(list.map { .string($0) }) }
        if let minimum = record.minimum { object["min"] = .double(minimum) }
        if let maximum = record.maximum { object["max"] = .double(maximum) }
        if let pending = record.pendingValue { object["pending_value"] = .string(shown(pending, record)) }
        return object
    }
}

/// Unix milliseconds as the contract writes times.
enum WallClockText {
    static func format(_ milliseconds: Int64) -> String { DateTimeText.format(unixMilliseconds: milliseconds) ?? "\(milliseconds) ms" }
}
