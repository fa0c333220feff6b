import JSONSchema
import Store

/// Decoding of the `device_model:` block (after `config.schema.json` passed): the declared
/// variables with their defaults, and the checks no schema can say (a default its own rules
/// refuse, a variable declared twice, an EVSE that is not configured, a range upside down).
enum DeviceModelConfig {
    static func decode(
        _ block: JSONValue?, evseIDs: [String], problems: inout [ConfigProblem], located: (String, String) -> ConfigProblem
    ) -> DeviceModelSettings {
        var settings = DeviceModelSettings()
        guard let block else { return settings }
        if let timeout = block["confirm_timeout"]?.numberValue { settings.confirmTimeout = timeout }
        var seen: [DeviceVariableKey: Int] = [:]
        for (index, item) in (block["variables"]?.arrayValue ?? []).enumerated() {
            let base = "/device_model/variables/\(index)"
            let evseID = item["evse_id"]?.stringValue ?? ""
            if !evseID.isEmpty, !evseIDs.contains(evseID) {
                problems.append(located(base + "/evse_id", "no EVSE '\(evseID)' is configured"))
            }
            let key = DeviceVariableKey(
                component: item["component"]?.stringValue ?? "", componentInstance: item["component_instance"]?.stringValue ?? "",
                evseID: evseID, connectorID: Int(item["connector_id"]?.integerValue ?? 0), variable: item["variable"]?.stringValue ?? "",
                variableInstance: item["variable_instance"]?.stringValue ?? "")
            if let first = seen[key] {
                problems.append(located(base, "\(key) is already declared by device_model.variables[\(first)]"))
            }
            seen[key] = index
            let record = DeviceVariableRecord(
                key: key, value: scalarText(item["value"]) ?? "", unit: item["unit"]?.stringValue,
                mutability: item["mutability"]?.stringValue.flatMap(DeviceVariableMutability.init(rawValue:)) ?? .readWrite,
                dataType: item["data_type"]?.stringValue.flatMap(DeviceVariableDataType.init(rawValue:)) ?? .string,
                valuesList: item["values_list"]?.arrayValue?.compactMap(\.stringValue), minimum: item["min"]?.numberValue,
                maximum: item["max"]?.numberValue, requiresRestart: item["requires_restart"]?.boolValue ?? false)
            if let minimum = record.minimum, let maximum = record.maximum, minimum > maximum {
                problems.append(located(base + "/min", "min \(DeviceModelRules.format(minimum)) is above max \(DeviceModelRules.format(maximum))"))
            }
            switch record.dataType {
            case .optionList, .sequenceList, .memberList:
                if record.valuesList?.isEmpty ?? true {
                    problems.append(located(base + "/values_list", "\(record.dataType.rawValue) needs a values_list"))
                }
            default: break
            }
            if let member = record.valuesList?.first(where: { $0.contains(",") }) {
                problems.append(located(base + "/values_list", "'\(member)' contains a comma (OCPP lists are comma-separated)"))
            }
            if let problem = DeviceModelRules.check(record.value, for: record) {
                // The default of a WriteOnly variable is never repeated here.
                problems.append(located(base + "/value", "the default is refused by its own declaration: \(problem)"))
            }
            settings.variables.append(record)
        }
        return settings
    }

    /// A YAML scalar as the device model writes values: strings as they are, integers without a
    /// fraction, booleans as true/false.
    static func scalarText(_ value: JSONValue?) -> String? {
        guard let value else { return nil }
        if let text = value.stringValue { return text }
        if let flag = value.boolValue { return flag ? "true" : "false" }
        if let integer = value.integerValue { return String(integer) }
        if let number = value.numberValue { return DeviceModelRules.format(number) }
        return nil
    }
}
