import JSONSchema
import Modbus

/// One identity for Josev, OCPP and the gridBox: the checks of the configuration that keep the
/// station's serial number and its EVSE numbering the same everywhere (no schema can say them).
///
/// * `station.serial_number` is the hardware's: Modbus register 157 (unit 200) holds at most 21
///   printable ASCII characters, and the gridBox identifies the station by that string while OCPP
///   gets it whole. A longer one, or one with other characters, would be cut or turned into `?` on
///   Modbus: refused.
/// * With a `modbus:` block, socket unit n is the n-th EVSE of `evses`; an `ocpp_evse_id` that
///   names another number would make OCPP's EVSE n and the gridBox's socket n different
///   connectors: refused.
enum IdentityConfig {
    static func check(_ root: JSONValue, problems: inout [ConfigProblem], located: (String, String) -> ConfigProblem) {
        if let serial = root["station"]?["serial_number"]?.stringValue {
            let limit = AlfenRegisterMap.serialNumberMaxLength
            if let bad = serial.unicodeScalars.first(where: { !(0x20..<0x7F).contains($0.value) }) {
                let shown = bad.isASCII ? "control character U+\(String(bad.value, radix: 16, uppercase: true))" : "'\(bad)'"
                problems.append(located(
                    "/station/serial_number",
                    "only printable ASCII fits Modbus register 157 (the gridBox reads the serial there); \(shown) does not"))
            } else if serial.count > limit {
                problems.append(located(
                    "/station/serial_number",
                    "\(serial.count) characters; Modbus register 157 holds at most \(limit) (the gridBox reads the serial there)"))
            }
        }
        guard let modbus = root["modbus"], modbus["enabled"]?.boolValue ?? true else { return }
        for (index, evse) in (root["evses"]?.arrayValue ?? []).enumerated() {
            guard let ocppID = evse["ocpp_evse_id"]?.integerValue, ocppID != index + 1 else { continue }
            problems.append(located(
                "/evses/\(index)/ocpp_evse_id",
                "OCPP EVSE \(ocppID) is Modbus socket unit \(index + 1) (the \(index + 1). EVSE of evses); OCPP and the gridBox would name different connectors: use \(index + 1) or reorder evses"))
        }
    }
}
