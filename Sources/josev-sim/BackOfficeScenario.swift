// The back-office scenario: what OCPP's back office (CSMS) makes Josev ask of the CS, one after the
// other: a configuration change (and a refused one), a reservation, a firmware update and a log
// upload (docs/BACKOFFICE.md, docs/FIRMWARE.md).
import Foundation
import JSONSchema

/// What the back-office scenario needs from the command line: where the image and the log upload
/// are, the signature, and which device-model variables to change.
struct BackOfficeInputs: Sendable {
    /// `location` of `update_firmware` (http, https, ftp, ftps, sftp).
    var firmwareURL = "http://127.0.0.1:8000/firmware.img"
    /// Base64 signature of the image (with `signingCertificate`), or nil for an unsigned update.
    var signature: String?
    /// PEM certificate of the signing key.
    var signingCertificate: String?
    /// `remote_location` of `upload_logs`.
    var logUploadURL = "http://127.0.0.1:8000/logs/"
    var logType = "diagnostics_log"
    /// A ReadWrite integer variable of the station (`Component.Variable`) and the value it gets.
    var variable = "OCPPCommCtrlr.HeartbeatInterval"
    /// Different values each run, so a second run on the same station still makes a change.
    var value = String(Int.random(in: 6...360) * 10)
    /// A ReadOnly variable: its change must be refused.
    var readOnlyVariable = "ChargingStation.Model"
    var firmwareRequestID = Int.random(in: 1000...9999)
    var logRequestID = Int.random(in: 1000...9999)

    var signed: Bool { signature != nil && signingCertificate != nil }

    /// The statuses a successful update goes through (docs/FIRMWARE.md "What happens"); no
    /// `download_scheduled` (retrieve now) and no `install_scheduled` (no car charges by then).
    var firmwareStatuses: [String] {
        ["downloading", "downloaded"] + (signed ? ["signature_verified"] : []) + ["installing", "installed"]
    }

    /// A signature file: Base64 text as it goes in the request, or the raw bytes of
    /// `openssl dgst -sign`, which are encoded here.
    static func signature(fromFile path: String) throws -> String {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        if let text = String(data: bytes, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty,
            Data(base64Encoded: text) != nil
        {
            return text
        }
        return bytes.base64EncodedString()
    }

    /// `Component.Variable` as the two names.
    static func split(_ key: String) -> (component: String, variable: String)? {
        let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (parts[0], parts[1])
    }
}

extension Scenario {
    static func backOffice(_ inputs: BackOfficeInputs) -> [Step] {
        configurationChange(inputs) + backOfficeReservation + firmwareUpdate(inputs) + logUpload(inputs)
    }

    static func setVariable(_ key: (component: String, variable: String), _ value: String) -> JSONObject {
        ["component": ["name": .string(key.component)], "variable": ["name": .string(key.variable)], "attribute_value": .string(value)]
    }

    // MARK: OCPP SetVariables → set_variable_validate, device_model_update both ways

    static func configurationChange(_ inputs: BackOfficeInputs) -> [Step] {
        let key = BackOfficeInputs.split(inputs.variable) ?? ("OCPPCommCtrlr", "HeartbeatInterval")
        let readOnly = BackOfficeInputs.split(inputs.readOnlyVariable) ?? ("ChargingStation", "Model")
        let name = "\(key.component).\(key.variable)"
        let other = String((Int(inputs.value) ?? 60) + 10)
        let announced = Check.deviceVariable(component: key.component, variable: key.variable, value: inputs.value)
        let announcedOther = Check.deviceVariable(component: key.component, variable: key.variable, value: other)
        return [
            .request(
                "set_variable_validate", setVariable(key, inputs.value), [.equals("result", "accepted")],
                "set_variable_validate \(name)=\(inputs.value) → accepted (applied before the answer)"),
            .expect(
                "CS announces the change (device_model_update \(name)=\(inputs.value))",
                [Expectation("device_model_update", .update, [announced])]),
            .request(
                "set_variable_validate", setVariable(key, other), [.equals("result", "accepted")],
                "set_variable_validate \(name)=\(other) before Josev confirmed → accepted (changes in a row are applied in order)"),
            .expect(
                "CS announces the second change (device_model_update \(name)=\(other))",
                [Expectation("device_model_update", .update, [announcedOther])]),
            .update(
                "device_model_update",
                ["components": [["name": .string(key.component), "variables": [["name": .string(key.variable), "value": .string(inputs.value)]]]]],
                "device_model_update \(name)=\(inputs.value) (Josev confirms the first change; not a change back)"),
            .update(
                "device_model_update",
                ["components": [["name": .string(key.component), "variables": [["name": .string(key.variable), "value": .string(other)]]]]],
                "device_model_update \(name)=\(other) (Josev confirms the second change)"),
            .request(
                "set_variable_validate", setVariable(readOnly, "X-\(inputs.value)"), [.equals("result", "rejected")],
                "set_variable_validate \(readOnly.component).\(readOnly.variable) → rejected (read-only)"),
            .request("device_model", [:], [announcedOther], "device_model → serves \(name)=\(other)"),
        ]
    }

    // MARK: OCPP ReserveNow / CancelReservation → connector_and_charging

    /// Reserved, another driver plugs in and waits (no card: the contactor stays open), leaves, and
    /// the reservation is cancelled.
    static let backOfficeReservation: [Step] =
        [connectorStatus("reserved")] + plug + [
            slac("matching"),
            slac("basic_charging"),
            .request(
                "cp_pwm", ["evse_id": evse, "hlc": false, "current": "$ev_current", "error_state": false, "fault_state": false],
                [.equals("evse_id", evse), .equals("status", "valid")], "cp_pwm request hlc:false current → valid"),
        ] + evDraws + [
            Step(label: "another driver waits 1 s (no authorization)", action: .wait(1)).ev(),
            contactorRequest("opened", "cs_contactor_status request → opened (reserved: the plug-in waits for authorization)"),
            Step.control("⚡ EV stops asking for power", ["command": "ev", "evse_id": evse, "stop": true]),
            Step.control("⚡ the other driver unplugs", ["command": "unplug", "evse_id": evse]),
            cpStatus("CS reports CP A (cp_status A1/A2)", ["A1", "A2"]).ev(),
            slac("unmatched"),
            connectorStatus("available"),
            .request(
                "cs_status_and_limits", [:], [.equals("evses[$evse].status_code", "evse_ready")],
                "cs_status_and_limits → evse_ready after the cancellation"),
        ]

    // MARK: OCPP UpdateFirmware → update_firmware, firmware_status

    static func firmwareUpdate(_ inputs: BackOfficeInputs) -> [Step] {
        var data: JSONObject = [
            "request_id": .int(Int64(inputs.firmwareRequestID)), "location": .string(inputs.firmwareURL), "retrieve_datetime": "$now",
            "retries": 1, "retry_interval": 1,
        ]
        if inputs.signed, let signature = inputs.signature, let certificate = inputs.signingCertificate {
            data["signature"] = .string(signature)
            data["signing_certificate"] = .string(certificate)
        }
        return [
            .request(
                "update_firmware", data, [.equals("status", "accepted")],
                "update_firmware \(inputs.signed ? "signed" : "unsigned") image → accepted"),
            Step(
                label: "firmware_status \(inputs.firmwareStatuses.joined(separator: " → "))",
                action: .sequence(
                    "firmware_status", [.equals("request_id", .int(Int64(inputs.firmwareRequestID)))], field: "status",
                    expected: inputs.firmwareStatuses, within: 120)),
        ]
    }

    // MARK: OCPP GetLog → upload_logs, logs_status

    static func logUpload(_ inputs: BackOfficeInputs) -> [Step] {
        [
            .request(
                "upload_logs",
                [
                    "request_id": .int(Int64(inputs.logRequestID)), "log_type": .string(inputs.logType),
                    "remote_location": .string(inputs.logUploadURL), "retries": 1, "retry_interval": 1,
                ],
                [.equals("status", "accepted"), .present("filename")], "upload_logs \(inputs.logType) → accepted with the file name"),
            Step(
                label: "logs_status uploading → uploaded",
                action: .sequence(
                    "logs_status", [.equals("request_id", .int(Int64(inputs.logRequestID)))], field: "status",
                    expected: ["uploading", "uploaded"], within: 60)),
        ]
    }
}
