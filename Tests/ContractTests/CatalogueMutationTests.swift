import JSONSchema
import JosevContract
import Testing

private func at(_ text: String) -> JSONPointer {
    JSONPointer(tokens: text.split(separator: "/", omittingEmptySubsequences: true).map(String.init))
}

private func text(_ count: Int) -> JSONValue { .string(String(repeating: "x", count: count)) }

private let phases: JSONValue = ["l1": 1.0, "l2": 1.0, "l3": 1.0]

/// Table-driven, one block per message of the catalogue, in the order of contract §2.1–2.6: a
/// change to a valid sample (§3, or a local one of `CatalogueSamples`) and whether Josev would
/// still accept it. The rows every message shares (an extra key in `data`, an extra envelope key,
/// `null` for a present key, `data` not an object) are generated: see `genericMutations()`.
let catalogueMutations: [Mutation] = [
    // cs_parameters, cs_status_and_limits requests (§2.1): data is an open object, but an object
    Mutation(sample: "cs_parameters.req", change: .set(at("/data"), []), valid: false, why: "data is an object"),
    Mutation(sample: "cs_parameters.req", change: .set(at("/type"), "update"), valid: false, why: "type is the schema const"),
    Mutation(sample: "cs_status_and_limits.req", change: .set(at("/data"), .null), valid: false, why: "data is an object, not null"),
    Mutation(sample: "cs_status_and_limits.req", change: .set(at("/name"), "cs_status"), valid: false, why: "name is the schema const"),
    // device_model (§2.1)
    Mutation(sample: "device_model.req", change: .set(at("/data"), []), valid: false, why: "data is an object"),
    Mutation(sample: "device_model.res", change: .remove(at("/data/identity")), valid: false, why: "identity required"),
    Mutation(sample: "device_model.res", change: .remove(at("/data/basic_auth_password")), valid: false, why: "basic_auth_password required"),
    Mutation(sample: "device_model.res", change: .remove(at("/data/evses")), valid: false, why: "evses required"),
    Mutation(sample: "device_model.res", change: .set(at("/data/security_profile"), 1.5), valid: false, why: "security_profile is an integer"),
    Mutation(sample: "device_model.res", change: .set(at("/data/security_profile"), "1"), valid: false, why: "security_profile is not a string"),
    Mutation(sample: "device_model.res", change: .set(at("/data/security_profile"), 4), valid: false, why: "security_profile is 1…3"),
    Mutation(sample: "device_model.res", change: .set(at("/data/security_profile"), 0), valid: false, why: "security_profile is 1…3"),
    Mutation(sample: "device_model.res", change: .set(at("/data/security_profile"), 2), valid: false, why: "security_profile 2 needs wss://, not ws://"),
    Mutation(sample: "device_model.res", change: .set(at("/data/ocpp_csms_url"), "wss://csms.example.com/ocpp/CS001"), valid: false, why: "security_profile 1 needs ws://"),
    Mutation(sample: "device_model.res", change: .set(at("/data/ocpp_csms_url"), "https://csms.example.com/ocpp"), valid: false, why: "ocpp_csms_url is ws:// or wss://"),
    Mutation(sample: "device_model.res.full", change: .set(at("/data/security_profile"), 3), valid: true, why: "security_profile 3 with wss://"),
    Mutation(sample: "device_model.res.full", change: .set(at("/data/ocpp_csms_url"), "ws://csms.example.com/ocpp/CS001"), valid: false, why: "security_profile 2 with ws:// fails"),
    Mutation(sample: "device_model.res.full", change: .set(at("/data/security_profile"), 1), valid: false, why: "wss:// with security_profile 1 fails"),
    Mutation(sample: "device_model.res.full", change: .set(at("/data/ocpp_version"), "ocpp2.0"), valid: false, why: "ocpp_version enum"),
    Mutation(sample: "device_model.res.full", change: .remove(at("/data/ocpp_version")), valid: true, why: "ocpp_version optional"),
    Mutation(sample: "device_model.res.full", change: .remove(at("/data/sim_iccid")), valid: true, why: "sim_iccid optional"),
    Mutation(sample: "device_model.res.full", change: .remove(at("/data/components")), valid: true, why: "components optional"),
    Mutation(sample: "device_model.res.full", change: .set(at("/data/default_message_timeout"), -1), valid: false, why: "default_message_timeout ≥ 0"),
    Mutation(sample: "device_model.res.full", change: .set(at("/data/default_message_timeout"), 2.5), valid: false, why: "default_message_timeout is an integer"),
    Mutation(sample: "device_model.res.full", change: .remove(at("/data/components/0/name")), valid: false, why: "components[].name required (item schema applied)"),
    Mutation(sample: "device_model.res.full", change: .set(at("/data/components/0/evse_id"), "1"), valid: false, why: "components[].evse_id is the OCPP integer id"),
    Mutation(sample: "device_model.res.full", change: .remove(at("/data/components/0/variables/0/value")), valid: false, why: "variables[].value required"),
    Mutation(sample: "device_model.res.full", change: .set(at("/data/components/0/variables/0/value"), 1), valid: false, why: "value is always a string"),
    Mutation(sample: "device_model.res.full", change: .set(at("/data/components/0/variables/0/mutability"), "RW"), valid: false, why: "mutability enum"),
    Mutation(sample: "device_model.res.full", change: .set(at("/data/components/0/variables/0/data_type"), "int"), valid: false, why: "data_type enum"),
    Mutation(sample: "device_model.res.full", change: .remove(at("/data/components/0/variables/0/data_type")), valid: true, why: "data_type optional"),
    Mutation(sample: "device_model.res.full", change: .set(at("/data/components/0/variables/0/extra"), 1), valid: false, why: "variables have additionalProperties false"),
    Mutation(sample: "device_model.res", change: .remove(at("/data/evses/0/power_kw")), valid: false, why: "evses[] fields required: item schema under items (quirk decision)"),
    Mutation(sample: "device_model.res", change: .set(at("/data/evses/0/ocpp_id"), 1.5), valid: false, why: "ocpp_id is an integer"),
    Mutation(sample: "device_model.res", change: .set(at("/data/evses/0/supply_phases"), "3"), valid: false, why: "supply_phases is an integer"),
    Mutation(sample: "device_model.res", change: .set(at("/data/evses/0/extra"), 1), valid: false, why: "evses[] have no other keys"),
    Mutation(sample: "device_model.res", change: .set(at("/data/evses/0/connectors/0/connector_type"), "Type2"), valid: false, why: "OCPP ConnectorEnum"),
    Mutation(sample: "device_model.res", change: .set(at("/data/evses/0/connectors/0/connector_type"), "s309-1P-16A"), valid: true, why: "OCPP ConnectorEnum value"),
    Mutation(sample: "device_model.res", change: .remove(at("/data/evses/0/connectors/0/id")), valid: false, why: "connectors[].id required"),
    // device_model_update (§2.1), both directions
    Mutation(sample: "device_model_update.upd", change: .remove(at("/data/components")), valid: false, why: "components required by Josev's dataclass"),
    Mutation(sample: "device_model_update.upd", change: .remove(at("/data/firmware_version")), valid: true, why: "firmware_version optional"),
    Mutation(sample: "device_model_update.upd", change: .set(at("/data/firmware_version"), 1), valid: false, why: "firmware_version is a string"),
    Mutation(sample: "device_model_update.upd", change: .set(at("/data/sim_imsi"), "262011234567890"), valid: true, why: "sim_imsi optional string"),
    Mutation(sample: "device_model_update.upd", change: .remove(at("/data/components/0/name")), valid: false, why: "components[].name required"),
    Mutation(sample: "device_model_update.upd", change: .set(at("/data/components/0/variables/0/data_type"), "string"), valid: false, why: "no data_type in the update's variables"),
    Mutation(sample: "device_model_update.upd", change: .set(at("/data/components/0/variables/0/values_list"), "a,b"), valid: false, why: "no values_list in the update's variables"),
    Mutation(sample: "device_model_update.upd", change: .set(at("/data/components/0/variables/0/mutability"), "Writable"), valid: false, why: "mutability enum"),
    Mutation(sample: "device_model_update.upd", change: .set(at("/data/components/0/evse_id"), 1), valid: true, why: "components[].evse_id integer"),
    Mutation(sample: "device_model_update.upd", change: .set(at("/data/components/0/evse_id"), 1.5), valid: false, why: "components[].evse_id is an integer"),
    // device_model_reset (§2.1)
    Mutation(sample: "device_model_reset.req", change: .set(at("/data/evse_id"), "DE*PNX*E12345*1"), valid: false, why: "no properties allowed"),
    Mutation(sample: "device_model_reset.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "device_model_reset.res", change: .set(at("/data/status"), "Accepted"), valid: false, why: "status enum"),
    Mutation(sample: "device_model_reset.res", change: .set(at("/data/rejected_reason"), "busy"), valid: true, why: "rejected_reason optional string"),
    Mutation(sample: "device_model_reset.res", change: .set(at("/data/rejected_reason"), 1), valid: false, why: "rejected_reason is a string"),
    // service_status (§2.1)
    Mutation(sample: "service_status.upd", change: .remove(at("/data/service")), valid: false, why: "service required in the update"),
    Mutation(sample: "service_status.upd", change: .remove(at("/data/api_version")), valid: false, why: "api_version required"),
    Mutation(sample: "service_status.upd", change: .set(at("/data/service"), "SLAC"), valid: false, why: "service enum"),
    Mutation(sample: "service_status.upd", change: .set(at("/data/service"), "gridcode"), valid: true, why: "§2.7: accept any service"),
    Mutation(sample: "service_status.upd", change: .set(at("/data/service"), "smart_charging"), valid: true, why: "smart_charging service"),
    Mutation(sample: "service_status.upd", change: .set(at("/data/status"), "busy"), valid: true, why: "busy status"),
    Mutation(sample: "service_status.upd", change: .set(at("/data/status"), "paused"), valid: false, why: "status enum"),
    Mutation(sample: "service_status.upd", change: .set(at("/data/software_version"), 1), valid: false, why: "software_version is a string"),
    Mutation(sample: "service_status.req", change: .remove(at("/data/service")), valid: true, why: "service optional in the request"),
    Mutation(sample: "service_status.req", change: .set(at("/data/service"), "smart_charging"), valid: true, why: "§2.7: accept any service"),
    Mutation(sample: "service_status.req", change: .set(at("/data/service"), "ocpp_service"), valid: false, why: "service enum"),
    Mutation(sample: "service_status.res", change: .set(at("/data/service"), "gridcode"), valid: true, why: "the response enum has gridcode"),
    Mutation(sample: "service_status.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "service_status.res", change: .remove(at("/data/software_version")), valid: false, why: "software_version required"),
    Mutation(sample: "service_status.res", change: .set(at("/data/status"), "Ready"), valid: false, why: "status enum, case-sensitive"),
    // boot_status (§2.1)
    Mutation(sample: "boot_status.upd", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "boot_status.upd", change: .set(at("/data/status"), "Accepted"), valid: false, why: "status enum"),
    Mutation(sample: "boot_status.upd", change: .set(at("/data/status"), "pending"), valid: true, why: "pending status"),
    Mutation(sample: "boot_status.upd", change: .set(at("/data/status"), 1), valid: false, why: "status is a string"),
    // websocket_status (§2.1)
    Mutation(sample: "websocket_status.upd", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "websocket_status.upd", change: .set(at("/data/status"), "open"), valid: false, why: "status enum"),
    Mutation(sample: "websocket_status.upd", change: .remove(at("/data/identity")), valid: true, why: "identity optional"),
    Mutation(sample: "websocket_status.upd", change: .remove(at("/data/security_profile")), valid: true, why: "security_profile optional"),
    Mutation(sample: "websocket_status.upd", change: .set(at("/data/security_profile"), 1.5), valid: false, why: "security_profile is an integer"),
    Mutation(sample: "websocket_status.upd", change: .set(at("/data/security_profile"), 4), valid: false, why: "security_profile is 1…3"),
    Mutation(sample: "websocket_status.upd", change: .set(at("/data/csms_url"), 1), valid: false, why: "csms_url is a string"),
    Mutation(sample: "websocket_status.upd", change: .set(at("/data/csms_url"), "not a uri"), valid: true, why: "format is an annotation on input, as in Josev's validator"),
    Mutation(sample: "websocket_status.req", change: .set(at("/data/status"), "connected"), valid: false, why: "the request's data is {}"),
    Mutation(sample: "websocket_status.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "websocket_status.res", change: .set(at("/data/status"), "Connected"), valid: false, why: "status enum"),
    Mutation(sample: "websocket_status.res", change: .set(at("/data/security_profile"), "2"), valid: false, why: "security_profile is an integer"),
    Mutation(sample: "websocket_status.res", change: .remove(at("/data/csms_url")), valid: true, why: "csms_url optional"),
    // clock_sync (§2.1)
    Mutation(sample: "clock_sync.upd", change: .remove(at("/data/current_time")), valid: false, why: "current_time required"),
    Mutation(sample: "clock_sync.upd", change: .set(at("/data/current_time"), "2025-03-01T10:00:00.123456Z"), valid: false, why: "6 fractional digits fail"),
    Mutation(sample: "clock_sync.upd", change: .set(at("/data/current_time"), "2025-03-01T10:00:00.123Z"), valid: true, why: "3 fractional digits pass"),
    Mutation(sample: "clock_sync.upd", change: .set(at("/data/current_time"), "2025-03-01T10:00:00+01:00"), valid: true, why: "numeric offset"),
    Mutation(sample: "clock_sync.upd", change: .set(at("/data/current_time"), "2025-03-01 10:00:00Z"), valid: false, why: "T separator"),
    Mutation(sample: "clock_sync.upd", change: .set(at("/data/current_time"), 1_740_823_200), valid: false, why: "a date-time is a string"),
    // set_ocpp_network_connection (§2.1)
    Mutation(sample: "set_ocpp_network_connection.req", change: .remove(at("/data/csms_url")), valid: false, why: "csms_url required"),
    Mutation(sample: "set_ocpp_network_connection.req", change: .remove(at("/data/security_profile")), valid: false, why: "security_profile required"),
    Mutation(sample: "set_ocpp_network_connection.req", change: .set(at("/data/csms_url"), "ws://csms.example.com/ocpp"), valid: false, why: "ws:// with security_profile 2 fails"),
    Mutation(sample: "set_ocpp_network_connection.req", change: .set(at("/data/security_profile"), 1), valid: false, why: "wss:// with security_profile 1 fails"),
    Mutation(sample: "set_ocpp_network_connection.req", change: .set(at("/data/security_profile"), 3), valid: true, why: "security_profile 3 with wss://"),
    Mutation(sample: "set_ocpp_network_connection.req", change: .set(at("/data/security_profile"), 2.5), valid: false, why: "security_profile is an integer"),
    Mutation(sample: "set_ocpp_network_connection.req", change: .set(at("/data/csms_url"), "https://csms.example.com/ocpp"), valid: false, why: "csms_url is ws:// or wss://"),
    Mutation(sample: "set_ocpp_network_connection.req", change: .remove(at("/data/identity")), valid: true, why: "identity optional"),
    Mutation(sample: "set_ocpp_network_connection.req", change: .remove(at("/data/basic_auth_password")), valid: true, why: "basic_auth_password optional"),
    Mutation(sample: "set_ocpp_network_connection.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "set_ocpp_network_connection.res", change: .set(at("/data/status"), "done"), valid: false, why: "status enum"),
    Mutation(sample: "set_ocpp_network_connection.res", change: .set(at("/data/reason"), "unreachable"), valid: true, why: "reason optional string"),
    // cp_status (§2.2)
    Mutation(sample: "cp_status.upd", change: .remove(at("/data/connector_id")), valid: false, why: "connector_id required now"),
    Mutation(sample: "cp_status.upd", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required"),
    Mutation(sample: "cp_status.upd", change: .remove(at("/data/state")), valid: false, why: "state required"),
    Mutation(sample: "cp_status.upd", change: .set(at("/data/connector_id"), 1.5), valid: false, why: "connector_id is an integer"),
    Mutation(sample: "cp_status.upd", change: .set(at("/data/connector_id"), "1"), valid: false, why: "connector_id is not a string"),
    Mutation(sample: "cp_status.upd", change: .set(at("/data/state"), "A0"), valid: false, why: "A0 is in the Python enum but the schema rejects it"),
    Mutation(sample: "cp_status.upd", change: .set(at("/data/state"), "b2"), valid: false, why: "state enum, case-sensitive"),
    Mutation(sample: "cp_status.upd", change: .set(at("/data/state"), "F"), valid: true, why: "state F"),
    Mutation(sample: "cp_status.upd", change: .set(at("/data/state"), "E1"), valid: false, why: "E has no digit"),
    Mutation(sample: "cp_status.upd", change: .remove(at("/data/duty_cycle")), valid: true, why: "duty_cycle optional"),
    Mutation(sample: "cp_status.upd", change: .set(at("/data/duty_cycle"), 101), valid: false, why: "duty_cycle is 0…100"),
    Mutation(sample: "cp_status.upd", change: .set(at("/data/duty_cycle"), -1), valid: false, why: "duty_cycle is 0…100"),
    Mutation(sample: "cp_status.upd", change: .set(at("/data/max_voltage"), 12.0), valid: true, why: "max_voltage optional number"),
    Mutation(sample: "cp_status.upd", change: .set(at("/data/max_voltage"), .null), valid: false, why: "null max_voltage (tux-evse) fails: omit it"),
    Mutation(sample: "cp_status.upd", change: .set(at("/data/min_voltage"), "-12"), valid: false, why: "min_voltage is a number"),
    // cp_pwm (§2.2)
    Mutation(sample: "cp_pwm.req.hlc", change: .remove(at("/data/hlc")), valid: false, why: "hlc required"),
    Mutation(sample: "cp_pwm.req.hlc", change: .remove(at("/data/error_state")), valid: false, why: "error_state required"),
    Mutation(sample: "cp_pwm.req.hlc", change: .remove(at("/data/fault_state")), valid: false, why: "fault_state required"),
    Mutation(sample: "cp_pwm.req.hlc", change: .set(at("/data/hlc"), "true"), valid: false, why: "hlc is boolean"),
    Mutation(sample: "cp_pwm.req.hlc", change: .set(at("/data/current"), 0), valid: true, why: "current 0 A: PWM off"),
    Mutation(sample: "cp_pwm.req.basic", change: .remove(at("/data/current")), valid: true, why: "current optional"),
    Mutation(sample: "cp_pwm.req.basic", change: .set(at("/data/current"), -1), valid: false, why: "current ≥ 0"),
    Mutation(sample: "cp_pwm.req.basic", change: .set(at("/data/current"), 15.95), valid: true, why: "multipleOfPrecision is not enforced"),
    Mutation(sample: "cp_pwm.req.basic", change: .set(at("/data/current"), "16"), valid: false, why: "current is a number"),
    Mutation(sample: "cp_pwm.res", change: .remove(at("/data/evse_id")), valid: false, why: "§2.7: the dataclass requires evse_id"),
    Mutation(sample: "cp_pwm.res", change: .remove(at("/data/status")), valid: false, why: "§2.7: the dataclass requires status"),
    Mutation(sample: "cp_pwm.res", change: .set(at("/data/status"), "ok"), valid: false, why: "status enum"),
    Mutation(sample: "cp_pwm.res", change: .set(at("/data/info"), "5 % PWM on"), valid: true, why: "info optional"),
    Mutation(sample: "cp_pwm.res", change: .set(at("/data/info"), 1), valid: false, why: "info is a string"),
    // slac_status (§2.2)
    Mutation(sample: "slac_status.upd", change: .remove(at("/data/run_id")), valid: false, why: "run_id required"),
    Mutation(sample: "slac_status.upd", change: .set(at("/data/run_id"), 1), valid: false, why: "run_id is a string"),
    Mutation(sample: "slac_status.upd", change: .set(at("/data/status"), "basic_charging"), valid: true, why: "basic_charging status"),
    Mutation(sample: "slac_status.upd", change: .set(at("/data/status"), "timeout"), valid: false, why: "status enum"),
    // slac_link_status, slac_network_info (§2.2)
    Mutation(sample: "slac_link_status.req", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required"),
    Mutation(sample: "slac_link_status.req", change: .set(at("/data/evse_id"), 1), valid: false, why: "evse_id is a string"),
    Mutation(sample: "slac_link_status.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "slac_link_status.res", change: .set(at("/data/status"), "disconnected"), valid: false, why: "status enum"),
    Mutation(sample: "slac_link_status.res", change: .set(at("/data/status"), "unknown"), valid: true, why: "unknown status"),
    Mutation(sample: "slac_network_info.req", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required"),
    Mutation(sample: "slac_network_info.res", change: .remove(at("/data/evse_id")), valid: true, why: "evse_id optional in the response"),
    Mutation(sample: "slac_network_info.res", change: .remove(at("/data/networks")), valid: false, why: "networks required"),
    Mutation(sample: "slac_network_info.res", change: .set(at("/data/networks"), []), valid: true, why: "no network"),
    Mutation(sample: "slac_network_info.res", change: .remove(at("/data/networks/0/mac_address")), valid: false, why: "networks[].mac_address required"),
    Mutation(sample: "slac_network_info.res", change: .set(at("/data/networks/0/station_role"), "cco"), valid: false, why: "station_role enum"),
    Mutation(sample: "slac_network_info.res", change: .set(at("/data/networks/0/access_network"), "Home"), valid: false, why: "access_network enum"),
    Mutation(sample: "slac_network_info.res", change: .set(at("/data/networks/0/num_coord_nws"), 1.5), valid: false, why: "num_coord_nws is an integer"),
    Mutation(sample: "slac_network_info.res", change: .set(at("/data/networks/0/extra"), 1), valid: false, why: "networks[] have no other keys"),
    // sdp (§2.2)
    Mutation(sample: "sdp.req", change: .remove(at("/data/security")), valid: false, why: "security required"),
    Mutation(sample: "sdp.req", change: .set(at("/data/security"), "TLS"), valid: false, why: "security enum"),
    Mutation(sample: "sdp.res", change: .set(at("/id"), "not-a-uuid"), valid: true, why: "the sdp response drops the uuid format"),
    Mutation(sample: "sdp.res", change: .set(at("/id"), 56), valid: false, why: "id is still a string"),
    Mutation(sample: "sdp.res", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required"),
    Mutation(sample: "sdp.res", change: .remove(at("/data/ip_address")), valid: true, why: "ip_address optional"),
    Mutation(sample: "sdp.res", change: .set(at("/data/port"), 64109.5), valid: false, why: "port is an integer"),
    Mutation(sample: "sdp.res", change: .set(at("/data/port"), "64109"), valid: false, why: "port is not a string"),
    Mutation(sample: "sdp.res", change: .set(at("/data/security"), "none"), valid: false, why: "security enum"),
    Mutation(sample: "sdp.res", change: .set(at("/data/error"), "no free port"), valid: true, why: "error optional string"),
    // cable_info (§2.2)
    Mutation(sample: "cable_info.upd", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required"),
    Mutation(sample: "cable_info.upd", change: .remove(at("/data/lock")), valid: true, why: "lock optional"),
    Mutation(sample: "cable_info.upd", change: .remove(at("/data/connection_status")), valid: true, why: "connection_status optional"),
    Mutation(sample: "cable_info.upd", change: .set(at("/data/rated_cable_current"), 32.5), valid: false, why: "rated_cable_current is an integer"),
    Mutation(sample: "cable_info.upd", change: .set(at("/data/lock"), "open"), valid: false, why: "lock enum"),
    Mutation(sample: "cable_info.upd", change: .set(at("/data/connection_status"), "plugged"), valid: false, why: "connection_status enum"),
    // cs_connector (§2.2)
    Mutation(sample: "cs_connector.req", change: .remove(at("/data/action")), valid: false, why: "action required"),
    Mutation(sample: "cs_connector.req", change: .remove(at("/data/connector_id")), valid: false, why: "connector_id required"),
    Mutation(sample: "cs_connector.req", change: .set(at("/data/action"), "toggle"), valid: false, why: "action enum"),
    Mutation(sample: "cs_connector.req", change: .set(at("/data/action"), "status"), valid: true, why: "status action"),
    Mutation(sample: "cs_connector.req", change: .set(at("/data/connector_id"), 1.5), valid: true, why: "the contract types this connector_id as a number (input: Josev's schema)"),
    Mutation(sample: "cs_connector.req", change: .set(at("/data/connector_id"), "1"), valid: false, why: "connector_id is a number"),
    Mutation(sample: "cs_connector.res", change: .set(at("/data/connector_id"), 1.5), valid: false, why: "the CS emits connector_id as an integer"),
    Mutation(sample: "cs_connector.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "cs_connector.res", change: .remove(at("/data/connector_id")), valid: false, why: "connector_id required"),
    Mutation(sample: "cs_connector.res", change: .set(at("/data/status"), "open"), valid: false, why: "status enum"),
    Mutation(sample: "cs_connector.res", change: .set(at("/data/info"), "motor stalled"), valid: true, why: "info optional"),
    // parking_bay (§2.2)
    Mutation(sample: "parking_bay.upd", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "parking_bay.upd", change: .set(at("/data/status"), "ev_arrived"), valid: false, why: "status enum"),
    Mutation(sample: "parking_bay.upd", change: .set(at("/data/status"), "ev_departed"), valid: true, why: "ev_departed"),
    Mutation(sample: "parking_bay.upd", change: .set(at("/data/evse_id"), 1), valid: false, why: "evse_id is a string"),
    // connector_and_charging (§2.2)
    Mutation(sample: "connector_and_charging.upd", change: .remove(at("/data/connector_status")), valid: true, why: "charging_status alone is enough"),
    Mutation(sample: "connector_and_charging.upd", change: .remove(at("/data/charging_status")), valid: true, why: "connector_status alone is enough"),
    Mutation(sample: "connector_and_charging.upd.connector", change: .remove(at("/data/connector_status")), valid: false, why: "at least one of connector_status, charging_status"),
    Mutation(sample: "connector_and_charging.upd", change: .remove(at("/data/connector_id")), valid: false, why: "connector_id required"),
    Mutation(sample: "connector_and_charging.upd", change: .set(at("/data/connector_id"), 1.5), valid: true, why: "the contract types this connector_id as a number"),
    Mutation(sample: "connector_and_charging.upd", change: .set(at("/data/connector_id"), "1"), valid: false, why: "connector_id is a number"),
    Mutation(sample: "connector_and_charging.upd", change: .set(at("/data/connector_status"), "free"), valid: false, why: "connector_status enum"),
    Mutation(sample: "connector_and_charging.upd", change: .set(at("/data/charging_status"), "Charging"), valid: false, why: "charging_status enum"),
    // iso15118_state_info (§2.3)
    Mutation(sample: "iso15118_state_info.upd", change: .remove(at("/data/session_status")), valid: false, why: "session_status required"),
    Mutation(sample: "iso15118_state_info.upd", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required"),
    Mutation(sample: "iso15118_state_info.upd", change: .set(at("/data/session_status"), "Welding"), valid: false, why: "session_status enum"),
    Mutation(sample: "iso15118_state_info.upd", change: .set(at("/data/session_status"), "ScheduleExchange"), valid: true, why: "ISO 15118-20 state"),
    Mutation(sample: "iso15118_state_info.upd", change: .remove(at("/data/info")), valid: true, why: "info optional"),
    Mutation(sample: "iso15118_state_info.upd", change: .set(at("/data/info"), "x"), valid: false, why: "info is an object"),
    Mutation(sample: "iso15118_state_info.upd", change: .set(at("/data/info/protocol"), "ISO_15118_3"), valid: false, why: "protocol enum"),
    Mutation(sample: "iso15118_state_info.upd", change: .set(at("/data/info/vendor_hint"), 1), valid: true, why: "info is an open object in Josev's schema"),
    Mutation(sample: "iso15118_state_info.upd", change: .set(at("/data/info/stop_action"), "Stop"), valid: false, why: "stop_action enum"),
    Mutation(sample: "iso15118_state_info.upd", change: .set(at("/data/info/session_id"), 1), valid: false, why: "session_id is a string"),
    Mutation(sample: "iso15118_state_info.upd.auth", change: .set(at("/data/info/selected_payment_option"), "eim"), valid: true, why: "§2.7: values in any case"),
    Mutation(sample: "iso15118_state_info.upd.auth", change: .set(at("/data/info/selected_payment_option"), "Pnc"), valid: true, why: "§2.7: values in any case"),
    Mutation(sample: "iso15118_state_info.upd.auth", change: .set(at("/data/info/selected_payment_option"), "card"), valid: false, why: "EIM or PNC only"),
    Mutation(sample: "iso15118_state_info.upd.auth", change: .set(at("/data/info/selectedPaymentOption"), "PNC"), valid: true, why: "§2.7: Python Josev's camelCase key"),
    Mutation(sample: "iso15118_state_info.upd.auth", change: .set(at("/data/info/selectedPaymentOption"), "RFID"), valid: false, why: "camelCase key has the same values"),
    Mutation(sample: "iso15118_state_info.upd.auth", change: .remove(at("/data/info/selected_payment_option")), valid: true, why: "every info key optional"),
    // hlc_charging (§2.3)
    Mutation(sample: "hlc_charging.upd", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "hlc_charging.upd", change: .set(at("/data/status"), "true"), valid: false, why: "status is boolean"),
    Mutation(sample: "hlc_charging.upd", change: .set(at("/data/status"), 1), valid: false, why: "status is boolean, not 1"),
    Mutation(sample: "hlc_charging.upd", change: .set(at("/data/status"), false), valid: true, why: "false on stop"),
    // cs_contactor_status (§2.3)
    Mutation(sample: "cs_contactor_status.req", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required"),
    Mutation(sample: "cs_contactor_status.req", change: .set(at("/data/action"), "close"), valid: false, why: "Josev no longer commands the contactor"),
    Mutation(sample: "cs_contactor_status.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "cs_contactor_status.res", change: .set(at("/data/status"), "open"), valid: false, why: "status enum (opened)"),
    Mutation(sample: "cs_contactor_status.res", change: .set(at("/data/info"), "welded"), valid: true, why: "info optional"),
    Mutation(sample: "cs_contactor_status.upd", change: .set(at("/data/status"), "Closed"), valid: false, why: "status enum, case-sensitive"),
    Mutation(sample: "cs_contactor_status.upd", change: .set(at("/data/status"), "error"), valid: true, why: "error status"),
    Mutation(sample: "cs_contactor_status.upd", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required"),
    // cable_check (§2.3)
    Mutation(sample: "cable_check.req.start", change: .remove(at("/data/cable_check_action")), valid: false, why: "cable_check_action required"),
    Mutation(sample: "cable_check.req.start", change: .set(at("/data/cable_check_action"), "stop"), valid: false, why: "cable_check_action enum"),
    Mutation(sample: "cable_check.req.start", change: .set(at("/data/cable_check_action"), "status"), valid: true, why: "status action"),
    Mutation(sample: "cable_check.res.ongoing", change: .remove(at("/data/cable_check_status")), valid: false, why: "cable_check_status required"),
    Mutation(sample: "cable_check.res.ongoing", change: .set(at("/data/cable_check_status"), "done"), valid: false, why: "cable_check_status enum"),
    Mutation(sample: "cable_check.res.finished", change: .remove(at("/data/isolation_level")), valid: true, why: "isolation_level optional in the schema"),
    Mutation(sample: "cable_check.res.finished", change: .set(at("/data/isolation_level"), "ok"), valid: false, why: "isolation_level enum"),
    Mutation(sample: "cable_check.res.finished", change: .set(at("/data/isolation_level"), "no_imd"), valid: true, why: "no_imd"),
    // power_electronics_setpoint (§2.3)
    Mutation(sample: "power_electronics_setpoint.req.dc", change: .remove(at("/data/dc/voltage")), valid: false, why: "§2.7: dc.voltage treated as required"),
    Mutation(sample: "power_electronics_setpoint.req.dc", change: .remove(at("/data/dc/charge_current")), valid: false, why: "dc needs exactly one target"),
    Mutation(sample: "power_electronics_setpoint.req.dc", change: .set(at("/data/dc/charge_power"), 800.0), valid: false, why: "dc takes exactly one target"),
    Mutation(sample: "power_electronics_setpoint.req.dc", change: .remove(at("/data/dc")), valid: false, why: "one of ac/dc required"),
    Mutation(sample: "power_electronics_setpoint.req.dc", change: .set(at("/data/dc/voltage"), -1), valid: false, why: "voltage ≥ 0"),
    Mutation(sample: "power_electronics_setpoint.req.dc", change: .set(at("/data/dc/extra"), 1), valid: false, why: "dc has additionalProperties false"),
    Mutation(sample: "power_electronics_setpoint.req.dc", change: .remove(at("/data/is_precharge")), valid: true, why: "is_precharge optional"),
    Mutation(sample: "power_electronics_setpoint.req.dc", change: .set(at("/data/is_precharge"), "yes"), valid: false, why: "is_precharge is boolean"),
    Mutation(sample: "power_electronics_setpoint.req.dc", change: .remove(at("/data/ev_limits")), valid: false, why: "ev_limits required"),
    Mutation(sample: "power_electronics_setpoint.req.dc", change: .remove(at("/data/ev_limits/maximum_voltage")), valid: false, why: "maximum_voltage required"),
    Mutation(sample: "power_electronics_setpoint.req.dc", change: .remove(at("/data/ev_limits/minimum_voltage")), valid: true, why: "minimum_voltage optional"),
    Mutation(sample: "power_electronics_setpoint.req.dc", change: .set(at("/data/ev_limits/maximum_voltage"), -1), valid: false, why: "maximum_voltage ≥ 0"),
    Mutation(sample: "power_electronics_setpoint.req.dc", change: .set(at("/data/ev_limits/extra"), 1), valid: true, why: "Josev leaves ev_limits open (issue 13)"),
    Mutation(sample: "power_electronics_setpoint.req.ac", change: .remove(at("/data/ac/charge_reactive_power")), valid: true, why: "reactive set-point optional"),
    Mutation(sample: "power_electronics_setpoint.req.ac", change: .set(at("/data/ac/charge_active_power"), -1), valid: false, why: "set-points ≥ 0"),
    Mutation(sample: "power_electronics_setpoint.req.ac", change: .set(at("/data/ac/power"), 1), valid: false, why: "ac has additionalProperties false"),
    Mutation(sample: "power_electronics_setpoint.req.ac", change: .set(at("/data/ac/discharge_current"), 5), valid: true, why: "discharge_current set-point"),
    Mutation(sample: "power_electronics_setpoint.req.ac", change: .remove(at("/data/ac")), valid: false, why: "one of ac/dc required"),
    Mutation(sample: "power_electronics_setpoint.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "power_electronics_setpoint.res", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required"),
    Mutation(sample: "power_electronics_setpoint.res", change: .set(at("/data/status"), "ok"), valid: false, why: "status enum"),
    // ev_rated_limits (§2.3)
    Mutation(sample: "ev_rated_limits.upd", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required"),
    Mutation(sample: "ev_rated_limits.upd", change: .remove(at("/data/ac_rated_limits")), valid: false, why: "one of ac/dc_rated_limits required"),
    Mutation(sample: "ev_rated_limits.upd", change: .set(at("/data/dc_rated_limits"), ["target_soc": 80]), valid: true, why: "dc_rated_limits beside ac"),
    Mutation(sample: "ev_rated_limits.upd", change: .remove(at("/data/departure_time")), valid: true, why: "departure_time optional"),
    Mutation(sample: "ev_rated_limits.upd", change: .set(at("/data/departure_time"), "2025-03-01T18:00:00.123456Z"), valid: false, why: "6 fractional digits fail"),
    Mutation(sample: "ev_rated_limits.upd", change: .set(at("/data/departure_time"), "2025-03-01T18:00:00.123Z"), valid: true, why: "3 fractional digits pass"),
    Mutation(sample: "ev_rated_limits.upd", change: .set(at("/data/ac_rated_limits/max_current"), "32"), valid: false, why: "max_current is a number"),
    Mutation(sample: "ev_rated_limits.upd", change: .set(at("/data/ac_rated_limits/max_charge_power"), phases), valid: true, why: "max_charge_power is {l1,l2,l3}"),
    Mutation(sample: "ev_rated_limits.upd", change: .set(at("/data/ac_rated_limits/max_charge_power"), 11000), valid: false, why: "max_charge_power is an object"),
    Mutation(sample: "ev_rated_limits.upd", change: .set(at("/data/ac_rated_limits/full_soc"), 100), valid: false, why: "full_soc is DC only"),
    Mutation(sample: "ev_rated_limits.upd", change: .remove(at("/data/ac_rated_limits/min_current")), valid: true, why: "every rated limit optional"),
    // display_params (§2.3)
    Mutation(sample: "display_params.upd", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required"),
    Mutation(sample: "display_params.upd", change: .remove(at("/data/present_soc")), valid: true, why: "present_soc optional"),
    Mutation(sample: "display_params.upd", change: .set(at("/data/present_soc"), "42"), valid: false, why: "present_soc is a number"),
    Mutation(sample: "display_params.upd", change: .set(at("/data/charging_complete"), true), valid: true, why: "charging_complete optional boolean"),
    Mutation(sample: "display_params.upd", change: .set(at("/data/inlet_hot"), "no"), valid: false, why: "inlet_hot is boolean"),
    // authorization (§2.4)
    Mutation(sample: "authorization.req", change: .remove(at("/data/token_type")), valid: false, why: "token_type required"),
    Mutation(sample: "authorization.req", change: .set(at("/data/token_type"), "e_maid"), valid: false, why: "no e_maid in the request"),
    Mutation(sample: "authorization.req", change: .set(at("/data/token_type"), "central"), valid: false, why: "no central in the request"),
    Mutation(sample: "authorization.req", change: .set(at("/data/token_type"), "iso14443"), valid: false, why: "token_type enum, case-sensitive"),
    Mutation(sample: "authorization.req", change: .set(at("/data/token_type"), "mac_address"), valid: true, why: "mac_address token"),
    Mutation(sample: "authorization.req", change: .remove(at("/data/id_token")), valid: true, why: "id_token optional"),
    Mutation(sample: "authorization.req", change: .remove(at("/data/evse_id")), valid: true, why: "evse_id optional"),
    Mutation(sample: "authorization.req", change: .set(at("/data/id_tag"), "04A2B3C4D5E6F7"), valid: false, why: "0.4.0 field id_tag"),
    Mutation(sample: "authorization.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "authorization.res", change: .set(at("/data/status"), "blocked"), valid: false, why: "status enum"),
    Mutation(sample: "authorization.res", change: .remove(at("/data/evse_id")), valid: true, why: "evse_id optional"),
    Mutation(sample: "authorization.res", change: .set(at("/data/group_id_token"), text(36)), valid: true, why: "group_id_token ≤ 36"),
    Mutation(sample: "authorization.res", change: .set(at("/data/group_id_token"), text(37)), valid: false, why: "group_id_token ≤ 36"),
    Mutation(sample: "authorization.res", change: .set(at("/data/group_id_token_type"), "e_maid"), valid: true, why: "full token_type enum"),
    Mutation(sample: "authorization.res", change: .set(at("/data/group_id_token_type"), "rfid"), valid: false, why: "0.4.0 rfid"),
    Mutation(sample: "authorization.res", change: .set(at("/data/cache_expiry_date_time"), "2025-03-02T10:00:00.123Z"), valid: true, why: "3 fractional digits pass"),
    Mutation(sample: "authorization.res", change: .set(at("/data/cache_expiry_date_time"), "2025-03-02T10:00:00.123456+00:00"), valid: false, why: "6 fractional digits fail"),
    Mutation(sample: "authorization.upd.cs", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required in the update"),
    Mutation(sample: "authorization.upd.cs", change: .remove(at("/data/token_type")), valid: false, why: "token_type required"),
    Mutation(sample: "authorization.upd.cs", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "authorization.upd.cs", change: .remove(at("/data/id_token")), valid: true, why: "id_token optional"),
    Mutation(sample: "authorization.upd.cs", change: .set(at("/data/token_type"), "rfid"), valid: false, why: "0.4.0 rfid"),
    Mutation(sample: "authorization.upd.cs", change: .set(at("/data/status"), "deauthorized"), valid: true, why: "deauthorized status"),
    Mutation(sample: "authorization.upd.cs", change: .set(at("/data/status"), "Accepted"), valid: false, why: "status enum"),
    Mutation(sample: "authorization.upd.josev", change: .set(at("/data/token_type"), "central"), valid: true, why: "full token_type enum in the update"),
    Mutation(sample: "authorization.upd.josev", change: .set(at("/data/id_token"), 123), valid: false, why: "id_token is a string"),
    // process_authorized_token (§2.4)
    Mutation(sample: "process_authorized_token.req", change: .remove(at("/data/token_type")), valid: false, why: "token_type required"),
    Mutation(sample: "process_authorized_token.req", change: .set(at("/data/token_type"), "central"), valid: true, why: "full token_type enum"),
    Mutation(sample: "process_authorized_token.req", change: .set(at("/data/token_type"), "RFID"), valid: false, why: "token_type enum"),
    Mutation(sample: "process_authorized_token.req", change: .remove(at("/data/id_token")), valid: true, why: "id_token optional"),
    Mutation(sample: "process_authorized_token.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "process_authorized_token.res", change: .set(at("/data/status"), "rejected"), valid: false, why: "accepted or discarded"),
    Mutation(sample: "process_authorized_token.res", change: .set(at("/data/status"), "discarded"), valid: true, why: "discarded"),
    Mutation(sample: "process_authorized_token.res", change: .remove(at("/data/evse_id")), valid: true, why: "evse_id optional"),
    // transaction_status (§2.4)
    Mutation(sample: "transaction_status.upd", change: .remove(at("/data/transaction_id")), valid: false, why: "transaction_id required"),
    Mutation(sample: "transaction_status.upd", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "transaction_status.upd", change: .set(at("/data/transaction_id"), 1), valid: false, why: "transaction_id is a string"),
    Mutation(sample: "transaction_status.upd", change: .set(at("/data/status"), "stopped"), valid: false, why: "status enum"),
    Mutation(sample: "transaction_status.upd", change: .set(at("/data/status"), "in_progress"), valid: true, why: "in_progress"),
    Mutation(sample: "transaction_status.upd", change: .remove(at("/data/token_type")), valid: true, why: "token_type optional"),
    Mutation(sample: "transaction_status.upd", change: .remove(at("/data/evse_id")), valid: true, why: "evse_id optional"),
    Mutation(sample: "transaction_status.upd", change: .set(at("/data/token_type"), "rfid"), valid: false, why: "token_type enum"),
    // stop_charging (§2.4)
    Mutation(sample: "stop_charging.req", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required"),
    Mutation(sample: "stop_charging.req", change: .set(at("/data/evse_id"), 1), valid: false, why: "evse_id is a string"),
    Mutation(sample: "stop_charging.res", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required"),
    Mutation(sample: "stop_charging.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "stop_charging.res", change: .set(at("/data/status"), "stopped"), valid: false, why: "status enum"),
    // cost_updated (§2.4)
    Mutation(sample: "cost_updated.upd", change: .remove(at("/data/currency")), valid: false, why: "currency required"),
    Mutation(sample: "cost_updated.upd", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required"),
    Mutation(sample: "cost_updated.upd", change: .set(at("/data/total_cost"), "4.2"), valid: false, why: "total_cost is a number"),
    Mutation(sample: "cost_updated.upd", change: .set(at("/data/custom_data"), ["vendor_id": "com.acme", "tariff": "night"]), valid: true, why: "custom_data: vendor_id plus free keys"),
    Mutation(sample: "cost_updated.upd", change: .set(at("/data/custom_data"), ["tariff": "night"]), valid: false, why: "custom_data.vendor_id required"),
    // display_and_personal_msg (§2.4)
    Mutation(sample: "display_and_personal_msg.upd", change: .remove(at("/data/content")), valid: false, why: "content required"),
    Mutation(sample: "display_and_personal_msg.upd", change: .remove(at("/data/display_msg_trigger_reason")), valid: false, why: "trigger reason required"),
    Mutation(sample: "display_and_personal_msg.upd", change: .set(at("/data/display_msg_trigger_reason"), "shown"), valid: false, why: "trigger reason enum"),
    Mutation(sample: "display_and_personal_msg.upd", change: .set(at("/data/content"), text(512)), valid: true, why: "content ≤ 512"),
    Mutation(sample: "display_and_personal_msg.upd", change: .set(at("/data/content"), text(513)), valid: false, why: "content ≤ 512"),
    Mutation(sample: "display_and_personal_msg.upd", change: .set(at("/data/priority"), "high"), valid: false, why: "priority enum"),
    Mutation(sample: "display_and_personal_msg.upd", change: .remove(at("/data/priority")), valid: true, why: "priority optional"),
    Mutation(sample: "display_and_personal_msg.upd", change: .set(at("/data/message_state"), "charging"), valid: true, why: "message_state"),
    Mutation(sample: "display_and_personal_msg.upd", change: .set(at("/data/message_state"), "busy"), valid: false, why: "message_state enum"),
    Mutation(sample: "display_and_personal_msg.upd", change: .set(at("/data/total_cost"), "1"), valid: false, why: "total_cost is a number"),
    Mutation(sample: "display_and_personal_msg.upd", change: .set(at("/data/start_date_time"), "2025-03-01T10:00:00Z"), valid: true, why: "start_date_time"),
    Mutation(sample: "display_and_personal_msg.upd", change: .set(at("/data/end_date_time"), "2025-03-01T10:00:00.1234Z"), valid: false, why: "4 fractional digits fail"),
    // meter_values (§2.5)
    Mutation(sample: "meter_values.req", change: .remove(at("/data/timestamp")), valid: false, why: "timestamp required"),
    Mutation(sample: "meter_values.req", change: .remove(at("/data/evse_id")), valid: true, why: "evse_id optional"),
    Mutation(sample: "meter_values.req", change: .set(at("/data/timestamp"), "2025-03-01T10:15:30.123456Z"), valid: false, why: "6 fractional digits fail"),
    Mutation(sample: "meter_values.req", change: .set(at("/data/timestamp"), "yesterday"), valid: false, why: "timestamp pattern"),
    Mutation(sample: "meter_values.res", change: .remove(at("/data/voltage")), valid: false, why: "voltage required"),
    Mutation(sample: "meter_values.res", change: .remove(at("/data/voltage/l3")), valid: false, why: "voltage has l1, l2 and l3"),
    Mutation(sample: "meter_values.res", change: .remove(at("/data/total_reactive_energy_imported")), valid: false, why: "total_reactive_energy_imported required"),
    Mutation(sample: "meter_values.res", change: .remove(at("/data/evse_id")), valid: true, why: "evse_id optional"),
    Mutation(sample: "meter_values.res", change: .set(at("/data/power_factor"), 1.1), valid: false, why: "power_factor is 0…1"),
    Mutation(sample: "meter_values.res", change: .set(at("/data/power_factor"), -0.1), valid: false, why: "power_factor is 0…1"),
    Mutation(sample: "meter_values.res", change: .set(at("/data/frequency"), "50"), valid: false, why: "frequency is a number"),
    Mutation(sample: "meter_values.res", change: .set(at("/data/timestamp"), "2025-03-01T10:15:30.123456+00:00"), valid: false, why: "microsecond ISO string fails"),
    Mutation(sample: "meter_values.res", change: .set(at("/data/timestamp"), "2025-03-01T10:15:30Z"), valid: true, why: "no fraction"),
    Mutation(sample: "meter_values.res", change: .set(at("/data/soc"), "50"), valid: false, why: "soc is a number"),
    Mutation(sample: "meter_values.res", change: .set(at("/data/max_discharge_power_l2"), 3000), valid: true, why: "EV-side optional number"),
    Mutation(sample: "meter_values.res", change: .set(at("/data/departure_time"), "2025-03-01T18:00:00Z"), valid: true, why: "departure_time optional date-time"),
    Mutation(sample: "meter_values.res", change: .set(at("/data/departure_time"), "2025-03-01T18:00:00.000001Z"), valid: false, why: "6 fractional digits fail"),
    Mutation(sample: "meter_values.res", change: .set(at("/data/dc_current"), 100.5), valid: true, why: "dc_current optional number"),
    Mutation(sample: "meter_values.res.signed", change: .remove(at("/data/signed_meter_values")), valid: true, why: "signed_meter_values optional"),
    Mutation(sample: "meter_values.res.signed", change: .remove(at("/data/signed_meter_values/0/measurand")), valid: false, why: "measurand required by the Python dataclass"),
    Mutation(sample: "meter_values.res.signed", change: .set(at("/data/signed_meter_values/0/measurand"), "SoC"), valid: false, why: "SoC is not in the schema's enum"),
    Mutation(sample: "meter_values.res.signed", change: .remove(at("/data/signed_meter_values/0/public_key")), valid: false, why: "public_key required"),
    Mutation(sample: "meter_values.res.signed", change: .set(at("/data/signed_meter_values/0/signing_method"), text(51)), valid: false, why: "signing_method ≤ 50"),
    Mutation(sample: "meter_values.res.signed", change: .set(at("/data/signed_meter_values/0/signed_meter_data"), text(2500)), valid: true, why: "signed_meter_data ≤ 2500"),
    Mutation(sample: "meter_values.res.signed", change: .set(at("/data/signed_meter_values/0/signed_meter_data"), text(2501)), valid: false, why: "signed_meter_data ≤ 2500"),
    Mutation(sample: "meter_values.res.signed", change: .set(at("/data/signed_meter_values/0/extra"), 1), valid: false, why: "items have additionalProperties false"),
    Mutation(sample: "meter_values.upd", change: .remove(at("/data/power_active_import")), valid: true, why: "power_active_import optional"),
    Mutation(sample: "meter_values.upd", change: .remove(at("/data/current")), valid: false, why: "current required"),
    Mutation(sample: "meter_values.upd", change: .set(at("/data/current/l1"), "16"), valid: false, why: "currents are numbers"),
    Mutation(sample: "meter_values.upd", change: .set(at("/data/timestamp"), "2025-03-01T10:16:00.1234Z"), valid: false, why: "4 fractional digits fail"),
    // change_availability (§2.6)
    Mutation(sample: "change_availability.req", change: .remove(at("/data/operational_status")), valid: false, why: "operational_status required"),
    Mutation(sample: "change_availability.req", change: .set(at("/data/operational_status"), "available"), valid: false, why: "operational_status enum"),
    Mutation(sample: "change_availability.req", change: .set(at("/data/connector_id"), 1.5), valid: false, why: "connector_id is an integer in the request"),
    Mutation(sample: "change_availability.req", change: .remove(at("/data/connector_id")), valid: true, why: "connector_id optional"),
    Mutation(sample: "change_availability.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "change_availability.res", change: .set(at("/data/status"), "scheduled"), valid: false, why: "status enum"),
    Mutation(sample: "change_availability.upd", change: .remove(at("/data/evse_id")), valid: false, why: "connector_id needs evse_id"),
    Mutation(sample: "change_availability.upd", change: .remove(at("/data/connector_id")), valid: true, why: "connector_id optional"),
    Mutation(sample: "change_availability.upd", change: .set(at("/data/connector_id"), 1.5), valid: false, why: "the CS emits connector_id as an integer"),
    Mutation(sample: "change_availability.upd", change: .set(at("/data/operational_status"), "Operative"), valid: false, why: "operational_status enum"),
    Mutation(sample: "change_availability.upd", change: .remove(at("/data/operational_status")), valid: false, why: "operational_status required"),
    // reset (§2.6)
    Mutation(sample: "reset.req", change: .set(at("/data/evse_id"), "DE*PNX*E12345*1"), valid: true, why: "evse_id optional"),
    Mutation(sample: "reset.req", change: .set(at("/data/evse_id"), 1), valid: false, why: "evse_id is a string"),
    Mutation(sample: "reset.req", change: .set(at("/data/type"), "Immediate"), valid: false, why: "no other keys"),
    Mutation(sample: "reset.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "reset.res", change: .set(at("/data/status"), "scheduled"), valid: false, why: "status enum"),
    // update_firmware, firmware_status (§2.6)
    Mutation(sample: "update_firmware.req", change: .remove(at("/data/request_id")), valid: false, why: "request_id required"),
    Mutation(sample: "update_firmware.req", change: .remove(at("/data/location")), valid: false, why: "location required"),
    Mutation(sample: "update_firmware.req", change: .remove(at("/data/retrieve_datetime")), valid: false, why: "retrieve_datetime required"),
    Mutation(sample: "update_firmware.req", change: .set(at("/data/request_id"), 42.5), valid: false, why: "request_id is an integer"),
    Mutation(sample: "update_firmware.req", change: .set(at("/data/location"), "file:///fw.bin"), valid: false, why: "location scheme"),
    Mutation(sample: "update_firmware.req", change: .set(at("/data/location"), "sftp://fw.example.com/fw.bin"), valid: true, why: "sftp location"),
    Mutation(sample: "update_firmware.req", change: .set(at("/data/retrieve_datetime"), "2025-03-01T10:00:00.123456Z"), valid: false, why: "6 fractional digits fail"),
    Mutation(sample: "update_firmware.req", change: .set(at("/data/install_datetime"), "2025-03-01T11:00:00.500Z"), valid: true, why: "install_datetime optional date-time"),
    Mutation(sample: "update_firmware.req", change: .remove(at("/data/retries")), valid: true, why: "retries optional"),
    Mutation(sample: "update_firmware.req", change: .set(at("/data/retries"), 1.5), valid: false, why: "retries is an integer"),
    Mutation(sample: "update_firmware.req", change: .set(at("/data/retry_interval"), "60"), valid: false, why: "retry_interval is an integer"),
    Mutation(sample: "update_firmware.req", change: .set(at("/data/signature"), "MEUCIQ"), valid: true, why: "signature optional string"),
    Mutation(sample: "update_firmware.res", change: .set(at("/data/status"), "accepted_canceled"), valid: true, why: "accepted_canceled"),
    Mutation(sample: "update_firmware.res", change: .set(at("/data/status"), "cancelled"), valid: false, why: "status enum"),
    Mutation(sample: "update_firmware.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "firmware_status.upd", change: .remove(at("/data/request_id")), valid: false, why: "request_id required"),
    Mutation(sample: "firmware_status.upd", change: .set(at("/data/request_id"), 4.2), valid: false, why: "request_id is an integer"),
    Mutation(sample: "firmware_status.upd", change: .set(at("/data/request_id"), "42"), valid: false, why: "request_id is not a string"),
    Mutation(sample: "firmware_status.upd", change: .set(at("/data/status"), "install_rebooting"), valid: true, why: "install_rebooting"),
    Mutation(sample: "firmware_status.upd", change: .set(at("/data/status"), "rebooting"), valid: false, why: "status enum"),
    // upload_logs, logs_status (§2.6)
    Mutation(sample: "upload_logs.req", change: .remove(at("/data/remote_location")), valid: false, why: "remote_location required"),
    Mutation(sample: "upload_logs.req", change: .remove(at("/data/log_type")), valid: false, why: "log_type required"),
    Mutation(sample: "upload_logs.req", change: .set(at("/data/log_type"), "debug_log"), valid: false, why: "log_type enum"),
    Mutation(sample: "upload_logs.req", change: .set(at("/data/remote_location"), "ftp://logs.example.com/in"), valid: true, why: "ftp location"),
    Mutation(sample: "upload_logs.req", change: .set(at("/data/remote_location"), "scp://logs.example.com/in"), valid: false, why: "location scheme"),
    Mutation(sample: "upload_logs.req", change: .set(at("/data/request_id"), 7.5), valid: false, why: "request_id is an integer"),
    Mutation(sample: "upload_logs.req", change: .set(at("/data/oldest_timestamp"), "2025-03-01T00:00:00Z"), valid: true, why: "oldest_timestamp optional date-time"),
    Mutation(sample: "upload_logs.req", change: .set(at("/data/latest_timestamp"), "2025-03-01T00:00:00.123456Z"), valid: false, why: "6 fractional digits fail"),
    Mutation(sample: "upload_logs.req", change: .set(at("/data/retry_interval"), 60), valid: true, why: "retry_interval optional integer"),
    Mutation(sample: "upload_logs.res", change: .remove(at("/data/filename")), valid: true, why: "filename optional"),
    Mutation(sample: "upload_logs.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "upload_logs.res", change: .set(at("/data/status"), "uploaded"), valid: false, why: "status enum of the response"),
    Mutation(sample: "upload_logs.res", change: .set(at("/data/filename"), 1), valid: false, why: "filename is a string"),
    Mutation(sample: "logs_status.upd", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "logs_status.upd", change: .set(at("/data/status"), "uploading"), valid: true, why: "uploading"),
    Mutation(sample: "logs_status.upd", change: .set(at("/data/status"), "done"), valid: false, why: "status enum"),
    Mutation(sample: "logs_status.upd", change: .set(at("/data/request_id"), 7.5), valid: false, why: "request_id is an integer"),
    // hardware_fault (§2.6)
    Mutation(sample: "hardware_fault.upd", change: .remove(at("/data/component_name")), valid: false, why: "component_name required"),
    Mutation(sample: "hardware_fault.upd", change: .remove(at("/data/evse_id")), valid: false, why: "evse_id required"),
    Mutation(sample: "hardware_fault.upd", change: .set(at("/data/fault_name"), "overheat"), valid: false, why: "fault_name enum"),
    Mutation(sample: "hardware_fault.upd", change: .set(at("/data/fault_name"), "other"), valid: true, why: "other"),
    Mutation(sample: "hardware_fault.upd", change: .set(at("/data/component_name"), 1), valid: false, why: "component_name is a string"),
    // notify_event (§2.6)
    Mutation(sample: "notify_event.upd", change: .remove(at("/data/event_id")), valid: false, why: "event_id required"),
    Mutation(sample: "notify_event.upd", change: .remove(at("/data/timestamp")), valid: false, why: "timestamp required"),
    Mutation(sample: "notify_event.upd", change: .set(at("/data/event_id"), 1001.5), valid: false, why: "event_id is an integer"),
    Mutation(sample: "notify_event.upd", change: .set(at("/data/timestamp"), "2025-03-01T10:16:00.123456Z"), valid: true, why: "no pattern on this timestamp (§2.6)"),
    Mutation(sample: "notify_event.upd", change: .set(at("/data/timestamp"), "not a date"), valid: false, why: "format date-time, asserted on what the CS sends"),
    Mutation(sample: "notify_event.upd", change: .set(at("/data/tech_code"), text(51)), valid: false, why: "tech_code ≤ 50"),
    Mutation(sample: "notify_event.upd", change: .set(at("/data/tech_info"), text(500)), valid: true, why: "tech_info ≤ 500"),
    Mutation(sample: "notify_event.upd", change: .set(at("/data/tech_info"), text(501)), valid: false, why: "tech_info ≤ 500"),
    Mutation(sample: "notify_event.upd", change: .set(at("/data/transaction_id"), text(37)), valid: false, why: "transaction_id ≤ 36"),
    Mutation(sample: "notify_event.upd", change: .remove(at("/data/tech_code")), valid: true, why: "tech_code optional"),
    // data_transfer (§2.6), both directions
    Mutation(sample: "data_transfer.req", change: .remove(at("/data/vendor_id")), valid: false, why: "vendor_id required"),
    Mutation(sample: "data_transfer.req", change: .set(at("/data/vendor_id"), 1), valid: false, why: "vendor_id is a string"),
    Mutation(sample: "data_transfer.req", change: .remove(at("/data/message_id")), valid: true, why: "message_id optional"),
    Mutation(sample: "data_transfer.req", change: .remove(at("/data/data")), valid: true, why: "data optional"),
    Mutation(sample: "data_transfer.req", change: .set(at("/data/data"), [1, "two"]), valid: true, why: "data is any JSON"),
    Mutation(sample: "data_transfer.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "data_transfer.res", change: .set(at("/data/status"), "unknown"), valid: false, why: "status enum"),
    Mutation(sample: "data_transfer.res", change: .set(at("/data/status"), "unknown_vendor_id"), valid: true, why: "unknown_vendor_id"),
    Mutation(sample: "data_transfer.res", change: .remove(at("/data/data")), valid: true, why: "data optional"),
    // ocpp_message (§2.6), both directions (local samples: §3 has none)
    Mutation(sample: "ocpp_message.req", change: .remove(at("/data/payload")), valid: false, why: "payload required"),
    Mutation(sample: "ocpp_message.req", change: .remove(at("/data/ocpp_version")), valid: false, why: "ocpp_version required"),
    Mutation(sample: "ocpp_message.req", change: .set(at("/data/message_name"), "Heartbeat"), valid: false, why: "message_name enum"),
    Mutation(sample: "ocpp_message.req", change: .set(at("/data/ocpp_version"), "2.0.1"), valid: false, why: "ocpp_version enum"),
    Mutation(sample: "ocpp_message.req", change: .set(at("/data/payload"), "x"), valid: false, why: "payload is an object"),
    Mutation(sample: "ocpp_message.req", change: .set(at("/data/payload/anything"), 1), valid: true, why: "payload is the OCPP payload, free"),
    Mutation(sample: "ocpp_message.res.result", change: .remove(at("/data/payload")), valid: false, why: "payload required for CallResult"),
    Mutation(sample: "ocpp_message.res.result", change: .set(at("/data/message_type"), "CallErr"), valid: false, why: "message_type enum"),
    Mutation(sample: "ocpp_message.res.result", change: .remove(at("/data/message_type")), valid: false, why: "message_type required"),
    Mutation(sample: "ocpp_message.res.error", change: .remove(at("/data/error_details")), valid: false, why: "error_details required for CallError"),
    Mutation(sample: "ocpp_message.res.error", change: .remove(at("/data/error_code")), valid: false, why: "error_code required for CallError"),
    Mutation(sample: "ocpp_message.res.error", change: .set(at("/data/error_description"), text(256)), valid: false, why: "error_description ≤ 255"),
    Mutation(sample: "ocpp_message.res.error", change: .set(at("/data/payload"), [:]), valid: true, why: "payload optional for CallError"),
    Mutation(sample: "ocpp_message.res.error", change: .set(at("/data/message_type"), "CallResult"), valid: false, why: "a CallResult needs payload"),
    // set_variable_validate (§2.6)
    Mutation(sample: "set_variable_validate.req", change: .remove(at("/data/component")), valid: false, why: "component required"),
    Mutation(sample: "set_variable_validate.req", change: .remove(at("/data/component/name")), valid: false, why: "component.name required"),
    Mutation(sample: "set_variable_validate.req", change: .remove(at("/data/variable/name")), valid: false, why: "variable.name required"),
    Mutation(sample: "set_variable_validate.req", change: .remove(at("/data/attribute_value")), valid: false, why: "attribute_value required"),
    Mutation(sample: "set_variable_validate.req", change: .set(at("/data/attribute_value"), 11000), valid: false, why: "attribute_value is a string"),
    Mutation(sample: "set_variable_validate.req", change: .set(at("/data/component/evse_id"), 1), valid: false, why: "component.evse_id is a string here"),
    Mutation(sample: "set_variable_validate.req", change: .set(at("/data/component/connector_id"), 1), valid: true, why: "component.connector_id integer"),
    Mutation(sample: "set_variable_validate.req", change: .set(at("/data/component/connector_id"), 1.5), valid: false, why: "component.connector_id is an integer"),
    Mutation(sample: "set_variable_validate.req", change: .set(at("/data/variable/unit"), "W"), valid: false, why: "variable has name and instance only"),
    Mutation(sample: "set_variable_validate.req", change: .remove(at("/data/attribute_type")), valid: true, why: "attribute_type optional (default Actual)"),
    Mutation(sample: "set_variable_validate.req", change: .set(at("/data/attribute_type"), "Minimum"), valid: false, why: "attribute_type enum"),
    Mutation(sample: "set_variable_validate.res", change: .remove(at("/data/result")), valid: false, why: "result required"),
    Mutation(sample: "set_variable_validate.res", change: .set(at("/data/result"), "ok"), valid: false, why: "result enum"),
    // generate_csr (§2.6)
    Mutation(sample: "generate_csr.req", change: .remove(at("/data/common_name")), valid: false, why: "common_name required"),
    Mutation(sample: "generate_csr.req", change: .remove(at("/data/certificate_type")), valid: false, why: "certificate_type required"),
    Mutation(sample: "generate_csr.req", change: .set(at("/data/certificate_type"), "csms_certificate"), valid: false, why: "certificate_type enum"),
    Mutation(sample: "generate_csr.req", change: .set(at("/data/algorithm"), "RSA"), valid: false, why: "algorithm enum"),
    Mutation(sample: "generate_csr.req", change: .remove(at("/data/algorithm")), valid: true, why: "algorithm may be omitted"),
    Mutation(sample: "generate_csr.req", change: .set(at("/data/evse_id"), "DE*PNX*E12345*1"), valid: true, why: "evse_id optional"),
    Mutation(sample: "generate_csr.res", change: .remove(at("/data/csr")), valid: false, why: "the dataclass has no default for csr"),
    Mutation(sample: "generate_csr.res", change: .set(at("/data/csr"), ""), valid: true, why: "csr may be empty"),
    Mutation(sample: "generate_csr.res", change: .set(at("/data/status"), "error"), valid: false, why: "status enum"),
    Mutation(sample: "generate_csr.res", change: .remove(at("/data/status")), valid: false, why: "status required"),
    // certificate_installation_status (§2.6)
    Mutation(sample: "certificate_installation_status.upd", change: .remove(at("/data/certificate_type")), valid: false, why: "certificate_type required"),
    Mutation(sample: "certificate_installation_status.upd", change: .remove(at("/data/status")), valid: false, why: "status required"),
    Mutation(sample: "certificate_installation_status.upd", change: .set(at("/data/status"), "removed"), valid: false, why: "status enum"),
    Mutation(sample: "certificate_installation_status.upd", change: .set(at("/data/status"), "failed_installation"), valid: true, why: "failed_installation"),
    Mutation(sample: "certificate_installation_status.upd", change: .set(at("/data/private_key_path"), "/etc/keys/v2g.key"), valid: true, why: "private_key_path optional on input"),
    Mutation(sample: "certificate_installation_status.upd", change: .set(at("/data/private_key_path"), 1), valid: false, why: "private_key_path is a string"),
]

/// Rows every message shares, made from every sample (§3 and local): an unknown key inside `data`
/// (fails: Josev's dataclasses raise, except the two `{}` requests whose data Josev's schema
/// leaves open), an extra envelope key (fails except for the §1.1 exceptions), `null` for each
/// key present in `data` (fails: optional keys are omitted, never null; `data_transfer`'s `data`
/// is any JSON), `data` not an object, and a numeric id.
func genericMutations() throws -> [Mutation] {
    var rows: [Mutation] = []
    for sample in try CatalogueSamples.all() {
        let key = sample.key
        let openData = openDataMessages.contains(key)
        rows.append(Mutation(
            sample: sample.label, change: .set(at("/data/unexpected_key"), 1), valid: openData,
            why: openData ? "Josev's schema leaves this message's data open" : "unknown key inside data"))
        if openData, MessageCatalog.entry(name: sample.name, type: sample.type)?.direction == .both {
            rows.append(Mutation(
                sample: sample.label, change: .set(at("/data/unexpected_key"), 1), valid: false,
                why: "the CS sends no unknown key in data", traffic: .sent))
        }
        let openEnvelope = envelopeExceptions.contains(key)
        rows.append(Mutation(
            sample: sample.label, change: .set(at("/timestamp"), "2025-03-01T10:00:00Z"), valid: openEnvelope,
            why: openEnvelope ? "§1.1 lists this envelope as tolerating extra keys" : "no extra envelope keys"))
        rows.append(Mutation(sample: sample.label, change: .set(at("/data"), "{}"), valid: false, why: "data is an object"))
        rows.append(Mutation(sample: sample.label, change: .set(at("/id"), 42), valid: false, why: "a numeric id fails"))
        for member in sample.message["data"]?.objectValue ?? JSONObject() {
            let anyJSON = sample.name == "data_transfer" && member.key == "data"
            rows.append(Mutation(
                sample: sample.label, change: .set(JSONPointer(tokens: ["data", member.key]), .null), valid: anyJSON,
                why: anyJSON ? "data_transfer's data is any JSON" : "\(member.key): null is not a value, omit it"))
        }
    }
    return rows
}

@Suite("catalogue mutations (table-driven)")
struct CatalogueMutationTests {
    static func check(_ mutation: Mutation) throws {
        let sample = try #require(try CatalogueSamples.named(mutation.sample), "no sample \(mutation.sample)")
        let mutated = mutation.apply(to: sample.message)
        #expect(mutated != sample.message, "\(mutation): the mutation changed nothing")
        let errors = try #require(catalog.validate(mutated, name: sample.name, type: sample.type, for: mutation.checkedTraffic(name: sample.name, type: sample.type)))
        if mutation.valid {
            #expect(errors.isEmpty, "\(mutation): \(errors)")
        } else {
            #expect(!errors.isEmpty, "\(mutation): accepted")
        }
    }

    @Test("each hand-written mutation passes or fails as Josev would", arguments: catalogueMutations)
    func mutation(_ mutation: Mutation) throws {
        try Self.check(mutation)
    }

    @Test("each generated mutation passes or fails as Josev would", arguments: try genericMutations())
    func genericMutation(_ mutation: Mutation) throws {
        try Self.check(mutation)
    }

    @Test("every catalogue entry has hand-written rows, at least one that must fail")
    func everyEntryCovered() throws {
        let samples = try CatalogueSamples.all()
        let keyOf = Dictionary(samples.map { ($0.label, $0.key) }, uniquingKeysWith: { first, _ in first })
        var failing: Set<String> = []
        for row in catalogueMutations + mutations {
            let key = try #require(keyOf[row.sample], "row on unknown sample \(row.sample)")
            if !row.valid { failing.insert(key) }
        }
        for entry in MessageCatalog.entries {
            #expect(failing.contains(entry.key), "\(entry.key) has no failing mutation row")
        }
    }

    @Test("every catalogue entry has a sample, and every local sample passes its schema")
    func samplesPass() throws {
        let samples = try CatalogueSamples.all()
        for entry in MessageCatalog.entries {
            #expect(samples.contains { $0.key == entry.key }, "\(entry.key) has no sample")
        }
        for sample in CatalogueSamples.local {
            let errors = try #require(catalog.validate(sample.message, name: sample.name, type: sample.type), "\(sample.label) not in the catalogue")
            #expect(errors.isEmpty, "\(sample.label): \(errors)")
            #expect(catalog.envelope.validate(sample.message).isEmpty, "\(sample.label): envelope")
        }
    }
}
