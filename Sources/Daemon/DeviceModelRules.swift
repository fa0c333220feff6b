import Basics
import JosevContract
import Store

/// Why a change of a device-model variable was refused (logged; the contract's answer is only
/// `rejected`). Descriptions never contain the value of a WriteOnly variable.
public enum VariableRejection: Sendable, Equatable, CustomStringConvertible {
    case unknown
    case readOnly
    case wrongType(String)
    case outOfRange(String)
    case notInList(String)
    /// Another change is applied and waits for its confirmation (pacing).
    case busy(String)
    /// `attribute_type` other than `Actual`: the station keeps actual values only.
    case unsupportedAttribute(String)
    /// The change could not be made durable.
    case storeFailed(String)

    /// The short reason for logs and history: read-only, unknown, wrong type, ...
    public var reason: String {
        switch self {
        case .unknown: "unknown"
        case .readOnly: "read-only"
        case .wrongType: "wrong type"
        case .outOfRange: "out of range"
        case .notInList: "not in the list"
        case .busy: "busy"
        case .unsupportedAttribute: "unsupported attribute"
        case .storeFailed: "not stored"
        }
    }

    public var description: String {
        switch self {
        case .unknown, .readOnly: reason
        case .wrongType(let detail), .outOfRange(let detail), .notInList(let detail), .busy(let detail),
            .unsupportedAttribute(let detail), .storeFailed(let detail):
            "\(reason): \(detail)"
        }
    }
}

/// The rules a value must pass for its variable's declaration (pure; OCPP 2.0.1 DataEnum).
public enum DeviceModelRules {
    /// nil when `value` is valid for `record` (mutability not checked here).
    public static func check(_ value: String, for record: DeviceVariableRecord) -> VariableRejection? {
        let shown = record.mutability == .writeOnly ? "the value" : "'\(value)'"
        switch record.dataType {
        case .string:
            if let list = record.valuesList, !list.isEmpty, !list.contains(value) {
                return .notInList("\(shown) is not one of \(listText(record))")
            }
            return length(value.count, record: record, shown: shown)
        case .integer:
            guard isInteger(value), let number = Int64(value) else { return .wrongType("\(shown) is not an integer") }
            return range(Double(number), record: record, shown: shown)
        case .decimal:
            guard let number = decimal(value) else { return .wrongType("\(shown) is not a decimal number") }
            return range(number, record: record, shown: shown)
        case .boolean:
            return value == "true" || value == "false" ? nil : .wrongType("\(shown) is not true or false")
        case .dateTime:
            return DateTimeText.parse(value) == nil ? .wrongType("\(shown) is not a date-time (YYYY-MM-DDTHH:MM:SS[.mmm]Z)") : nil
        case .optionList:
            return (record.valuesList ?? []).contains(value) ? nil : .notInList("\(shown) is not one of \(listText(record))")
        case .sequenceList, .memberList:
            let members = value.isEmpty ? [] : value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let allowed = Set(record.valuesList ?? [])
            if let stranger = members.first(where: { !allowed.contains($0) }) {
                let what = record.mutability == .writeOnly ? "a member" : "'\(stranger)'"
                return .notInList("\(what) is not one of \(listText(record))")
            }
            if Set(members).count != members.count { return .wrongType("\(shown) lists a member twice") }
            return length(members.count, record: record, shown: shown, unit: "members")
        }
    }

    /// Digits with an optional sign, nothing else.
    static func isInteger(_ text: String) -> Bool {
        var digits = Substring(text)
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// A plain decimal (`-12.5`, `3`, `1e3`); no hex, no NaN, no infinity.
    static func decimal(_ text: String) -> Double? {
        guard !text.isEmpty, text.allSatisfy({ "0123456789+-.eE".contains($0) }), let number = Double(text), number.isFinite else {
            return nil
        }
        return number
    }

    private static func range(_ number: Double, record: DeviceVariableRecord, shown: String) -> VariableRejection? {
        if let minimum = record.minimum, number < minimum { return .outOfRange("\(shown) is below the minimum \(format(minimum))") }
        if let maximum = record.maximum, number > maximum { return .outOfRange("\(shown) is above the maximum \(format(maximum))") }
        return nil
    }

    private static func length(_ count: Int, record: DeviceVariableRecord, shown: String, unit: String = "characters")
        -> VariableRejection?
    {
        if let minimum = record.minimum, Double(count) < minimum {
            return .outOfRange("\(shown) has \(count) \(unit), fewer than \(format(minimum))")
        }
        if let maximum = record.maximum, Double(count) > maximum {
            return .outOfRange("\(shown) has \(count) \(unit), more than \(format(maximum))")
        }
        return nil
    }

    private static func listText(_ record: DeviceVariableRecord) -> String {
        let list = record.valuesList ?? []
        return list.isEmpty ? "(an empty list)" : list.joined(separator: ", ")
    }

    /// `32` rather than `32.0`.
    static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
    }

    /// Parses `Component[instance]@EVSE/connector.Variable[instance]` (the form `DeviceVariableKey` prints).
    public static func parseKey(_ text: String) -> DeviceVariableKey? {
        guard let split = firstOutsideBrackets(".", in: Substring(text)) else { return nil }
        let componentPart = text[..<split]
        let variablePart = text[text.index(after: split)...]
        guard let (variable, variableInstance) = nameAndInstance(variablePart) else { return nil }
        var rest = componentPart
        var connector = 0
        var evse = ""
        if let at = firstOutsideBrackets("@", in: rest) {
            var location = rest[rest.index(after: at)...]
            if let slash = location.lastIndex(of: "/") {
                guard let number = Int(location[location.index(after: slash)...]), number > 0 else { return nil }
                connector = number
                location = location[..<slash]
            }
            evse = String(location)
            rest = rest[..<at]
        }
        guard let (component, componentInstance) = nameAndInstance(rest), !(evse.isEmpty && componentPart.contains("@")) else {
            return nil
        }
        return DeviceVariableKey(
            component: component, componentInstance: componentInstance, evseID: evse, connectorID: connector, variable: variable,
            variableInstance: variableInstance)
    }

    private static func firstOutsideBrackets(_ character: Character, in text: Substring) -> String.Index? {
        var depth = 0
        for index in text.indices {
            switch text[index] {
            case "[": depth += 1
            case "]": depth -= 1
            case character where depth == 0: return index
            default: break
            }
        }
        return nil
    }

    private static func nameAndInstance(_ text: Substring) -> (String, String)? {
        guard !text.isEmpty else { return nil }
        guard let open = text.firstIndex(of: "[") else { return text.contains("]") ? nil : (String(text), "") }
        guard text.hasSuffix("]") else { return nil }
        let name = text[..<open]
        let instance = text[text.index(after: open)..<text.index(before: text.endIndex)]
        guard !name.isEmpty, !instance.isEmpty else { return nil }
        return (String(name), String(instance))
    }
}
