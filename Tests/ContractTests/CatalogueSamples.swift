import JSONSchema
import JosevContract

/// Samples for the catalogue tests: every sample of contract §3, plus a few local ones for
/// messages §3 has no sample for (`ocpp_message`) and for variants the mutation rows need
/// (optional parts that §3 leaves out). Every local sample must pass its schema.
enum CatalogueSamples {
    /// The local samples, written from the contract's tables (§2.1–2.6).
    static let local: [ContractSample] = [
        sample("device_model.res.full", "device_model", .response, """
            {"id":"3f1c2a7e-0000-4000-8000-000000000108","name":"device_model","type":"response","data":{
             "model":"Prototype 001","vendor":"ACME","identity":"CS001","ocpp_csms_url":"wss://csms.example.com/ocpp/CS001",
             "security_profile":2,"basic_auth_password":"secret-password-16","serial_number":"9783161484100",
             "firmware_version":"1.0.0","ocpp_version":"ocpp2.0.1","default_message_timeout":30,"sim_iccid":"8949000000000000000",
             "evses":[{"ocpp_id":1,"iso15118_id":"DE*PNX*E12345*1","power_kw":22.0,"supply_phases":3,
                       "connectors":[{"id":1,"connector_type":"cType2"}]}],
             "components":[{"name":"SecurityCtrlr","evse_id":1,"connector_id":1,
                            "variables":[{"name":"OrganizationName","value":"ACME","mutability":"ReadWrite",
                                          "data_type":"string","constant":false}]}]}}
            """),
        sample("connector_and_charging.upd.connector", "connector_and_charging", .update, """
            {"id":"3f1c2a7e-0000-4000-8000-000000000170","name":"connector_and_charging","type":"update",
             "data":{"evse_id":"DE*PNX*E12345*1","connector_id":1,"connector_status":"available"}}
            """),
        sample("meter_values.res.signed", "meter_values", .response, """
            {"id":"3f1c2a7e-0000-4000-8000-000000000106","name":"meter_values","type":"response","data":{
             "evse_id":"DE*PNX*E12345*1","timestamp":"2025-03-01T10:15:30Z",
             "voltage":{"l1":230.0,"l2":0,"l3":0},"current":{"l1":16.0,"l2":0,"l3":0},
             "power_factor":1,"frequency":50,"total_active_energy_imported":12345.0,"total_reactive_energy_imported":0,
             "signed_meter_values":[{"measurand":"Energy.Active.Import.Register","signed_meter_data":"AAEC",
                                     "signing_method":"ECDSA","encoding_method":"OCMF","public_key":"MFkw"}]}}
            """),
        sample("ocpp_message.req", "ocpp_message", .request, """
            {"id":"3f1c2a7e-0000-4000-8000-000000000180","name":"ocpp_message","type":"request","data":{
             "ocpp_version":"ocpp2.0.1","message_name":"GetVariables",
             "payload":{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}}}
            """),
        sample("ocpp_message.res.result", "ocpp_message", .response, """
            {"id":"3f1c2a7e-0000-4000-8000-000000000180","name":"ocpp_message","type":"response","data":{
             "ocpp_version":"ocpp2.0.1","message_type":"CallResult","payload":{"getVariableResult":[]}}}
            """),
        sample("ocpp_message.res.error", "ocpp_message", .response, """
            {"id":"3f1c2a7e-0000-4000-8000-000000000181","name":"ocpp_message","type":"response","data":{
             "ocpp_version":"ocpp2.0.1","message_type":"CallError","error_code":"NotImplemented",
             "error_description":"not supported","error_details":{}}}
            """),
    ]

    /// §3 samples of catalogue messages, then the local ones.
    static func all() throws -> [ContractSample] {
        try ContractSample.inCatalogue() + local
    }

    static func named(_ label: String) throws -> ContractSample? {
        try all().first { $0.label == label }
    }

    private static func sample(_ label: String, _ name: String, _ type: MessageType, _ text: String) -> ContractSample {
        do {
            return ContractSample(label: label, name: name, type: type, message: try JSONValue.parse(text))
        } catch {
            fatalError("local sample \(label) is not JSON: \(error)")
        }
    }
}

/// Contract §1.1: the (name, type) whose schemas tolerate extra envelope keys. Every other
/// envelope has `additionalProperties:false`.
let envelopeExceptions: Set<String> = [
    "cp_pwm.request", "cp_pwm.response", "cs_connector.request", "cs_connector.response",
    "cs_parameters.request", "cs_parameters.response", "cs_status_and_limits.request",
    "cs_status_and_limits.update", "sdp.request", "websocket_status.request",
]

/// The received messages whose `data` Josev's schema leaves open (issue 13): the two `{}`
/// requests ("an object with no fields defined") and the ones mqtt_api 3.10.0 writes without
/// `additionalProperties:false`. An unknown key there is accepted on the way in; where the CS also
/// sends the message (`.both`), it is refused on the way out.
let openDataMessages: Set<String> = [
    "cs_parameters.request", "cs_status_and_limits.request", "device_model.request", "cp_pwm.request",
    "cs_connector.request", "ocpp_message.request", "device_model_update.update", "ocpp_message.response",
]

/// Contract §1.1: the pattern every date-time carries (at most 3 fractional digits).
let dateTimePattern = #"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,3})?([Zz]|[+-]\d{2}:\d{2})?$"#

/// Samples of §3 that are deliberately not in the catalogue, with the reason.
let uncataloguedSamples: [String: String] = [
    "iso15118_charge_limit.upd": "travels on the Josev-internal topic smart_charging/iso15118, which the daemon does not subscribe to",
]

extension CatalogEntry {
    var key: String { "\(name).\(type.rawValue)" }
}

extension ContractSample {
    var key: String { "\(name).\(type.rawValue)" }
}
