/// Who sends a message of a given (name, type) on which topic.
public enum Direction: String, Sendable {
    /// Josev publishes on `josev/cs`; the CS consumes.
    case josevToCS
    /// The CS publishes on `cs/josev`.
    case csToJosev
    /// Either side may send it (contract §2.0: `authorization` and `device_model_update` updates,
    /// `data_transfer` and `ocpp_message`): the CS consumes it from `josev/cs` and publishes it on
    /// `cs/josev`, and the one schema serves both ways.
    ///
    /// Formats: `SchemaCatalog` asserts `format` only for `.csToJosev`, so a `.both` schema is
    /// compiled with `format` as an annotation, as Josev's own validator reads it. One compiled
    /// validator serves both directions, and asserting would make the CS refuse incoming payloads
    /// that Josev sends and accepts. What is lost on the way out is small and covered elsewhere: the
    /// only `format` in these schemas is the envelope's `id` `uuid`, and outgoing ids come from
    /// `EnvelopeID.random()`; the contract's date-time rule is a `pattern`, which is always checked.
    case both

    /// The topic the message travels on; for `.both`, the one the CS publishes it on (it also
    /// arrives on `josev/cs`: see `topics`).
    public var topic: String { self == .josevToCS ? Topic.josevToCS : Topic.csToJosev }

    /// Every topic the message may travel on.
    public var topics: [String] {
        switch self {
        case .josevToCS: [Topic.josevToCS]
        case .csToJosev: [Topic.csToJosev]
        case .both: [Topic.josevToCS, Topic.csToJosev]
        }
    }

    /// Whether the CS consumes it from `josev/cs` (`.josevToCS` and `.both`).
    public var isReceivedByCS: Bool { self != .csToJosev }

    /// Whether the CS publishes it on `cs/josev` (`.csToJosev` and `.both`).
    public var isSentByCS: Bool { self != .josevToCS }
}

/// One (name, type) that crosses `josev/cs` / `cs/josev`, with its schema file in `schemas/`.
public struct CatalogEntry: Sendable, Hashable {
    public let name: String
    public let type: MessageType
    public let direction: Direction

    public init(_ name: String, _ type: MessageType, _ direction: Direction) {
        self.name = name
        self.type = type
        self.direction = direction
    }

    /// `schemas/<name>.<type>.json`.
    public var schemaFile: String { "\(name).\(type.rawValue).json" }
}

/// The message catalogue: the one place that says which messages the CS handles, in which
/// direction, and where their schemas are. Adding a message means adding its line here, its
/// schema file, its typed model and its handler.
public enum MessageCatalog {
    /// One line per schema file, grouped as contract §2.1–2.6 (the first five are the core
    /// messages the daemon answers today). Josev-internal names (§2.0) have no entry, and neither
    /// has `iso15118_charge_limit`: it travels on the internal topic `smart_charging/iso15118`,
    /// not on `josev/cs`/`cs/josev`, and the daemon does not subscribe to it.
    public static let entries: [CatalogEntry] = [
        CatalogEntry("cs_parameters", .request, .josevToCS),
        CatalogEntry("cs_parameters", .response, .csToJosev),
        CatalogEntry("cs_status_and_limits", .request, .josevToCS),
        CatalogEntry("cs_status_and_limits", .response, .csToJosev),
        CatalogEntry("cs_status_and_limits", .update, .csToJosev),
        CatalogEntry("device_model", .request, .josevToCS),
        CatalogEntry("device_model", .response, .csToJosev),
        CatalogEntry("device_model_update", .update, .both),
        CatalogEntry("device_model_reset", .request, .csToJosev),
        CatalogEntry("device_model_reset", .response, .josevToCS),
        CatalogEntry("service_status", .update, .josevToCS),
        CatalogEntry("service_status", .request, .csToJosev),
        CatalogEntry("service_status", .response, .josevToCS),
        CatalogEntry("boot_status", .update, .josevToCS),
        CatalogEntry("websocket_status", .update, .josevToCS),
        CatalogEntry("websocket_status", .request, .csToJosev),
        CatalogEntry("websocket_status", .response, .josevToCS),
        CatalogEntry("clock_sync", .update, .josevToCS),
        CatalogEntry("set_ocpp_network_connection", .request, .csToJosev),
        CatalogEntry("set_ocpp_network_connection", .response, .josevToCS),
        CatalogEntry("cp_status", .update, .csToJosev),
        CatalogEntry("cp_pwm", .request, .josevToCS),
        CatalogEntry("cp_pwm", .response, .csToJosev),
        CatalogEntry("slac_status", .update, .josevToCS),
        CatalogEntry("slac_link_status", .request, .csToJosev),
        CatalogEntry("slac_link_status", .response, .josevToCS),
        CatalogEntry("slac_network_info", .request, .csToJosev),
        CatalogEntry("slac_network_info", .response, .josevToCS),
        CatalogEntry("sdp", .request, .csToJosev),
        CatalogEntry("sdp", .response, .josevToCS),
        CatalogEntry("cable_info", .update, .csToJosev),
        CatalogEntry("cs_connector", .request, .josevToCS),
        CatalogEntry("cs_connector", .response, .csToJosev),
        CatalogEntry("parking_bay", .update, .csToJosev),
        CatalogEntry("connector_and_charging", .update, .josevToCS),
        CatalogEntry("iso15118_state_info", .update, .josevToCS),
        CatalogEntry("hlc_charging", .update, .josevToCS),
        CatalogEntry("cs_contactor_status", .request, .josevToCS),
        CatalogEntry("cs_contactor_status", .response, .csToJosev),
        CatalogEntry("cs_contactor_status", .update, .csToJosev),
        CatalogEntry("cable_check", .request, .josevToCS),
        CatalogEntry("cable_check", .response, .csToJosev),
        CatalogEntry("power_electronics_setpoint", .request, .josevToCS),
        CatalogEntry("power_electronics_setpoint", .response, .csToJosev),
        CatalogEntry("ev_rated_limits", .update, .josevToCS),
        CatalogEntry("display_params", .update, .josevToCS),
        CatalogEntry("authorization", .request, .csToJosev),
        CatalogEntry("authorization", .response, .josevToCS),
        CatalogEntry("authorization", .update, .both),
        CatalogEntry("process_authorized_token", .request, .josevToCS),
        CatalogEntry("process_authorized_token", .response, .csToJosev),
        CatalogEntry("transaction_status", .update, .josevToCS),
        CatalogEntry("stop_charging", .request, .josevToCS),
        CatalogEntry("stop_charging", .response, .csToJosev),
        CatalogEntry("cost_updated", .update, .josevToCS),
        CatalogEntry("display_and_personal_msg", .update, .josevToCS),
        CatalogEntry("meter_values", .request, .josevToCS),
        CatalogEntry("meter_values", .response, .csToJosev),
        CatalogEntry("meter_values", .update, .csToJosev),
        CatalogEntry("change_availability", .request, .josevToCS),
        CatalogEntry("change_availability", .response, .csToJosev),
        CatalogEntry("change_availability", .update, .csToJosev),
        CatalogEntry("reset", .request, .josevToCS),
        CatalogEntry("reset", .response, .csToJosev),
        CatalogEntry("update_firmware", .request, .josevToCS),
        CatalogEntry("update_firmware", .response, .csToJosev),
        CatalogEntry("firmware_status", .update, .csToJosev),
        CatalogEntry("upload_logs", .request, .josevToCS),
        CatalogEntry("upload_logs", .response, .csToJosev),
        CatalogEntry("logs_status", .update, .csToJosev),
        CatalogEntry("hardware_fault", .update, .csToJosev),
        CatalogEntry("notify_event", .update, .csToJosev),
        CatalogEntry("data_transfer", .request, .both),
        CatalogEntry("data_transfer", .response, .both),
        CatalogEntry("ocpp_message", .request, .both),
        CatalogEntry("ocpp_message", .response, .both),
        CatalogEntry("set_variable_validate", .request, .josevToCS),
        CatalogEntry("set_variable_validate", .response, .csToJosev),
        CatalogEntry("generate_csr", .request, .josevToCS),
        CatalogEntry("generate_csr", .response, .csToJosev),
        CatalogEntry("certificate_installation_status", .update, .josevToCS),
    ]

    /// Schema of the envelope every message must satisfy first.
    public static let envelopeSchemaFile = "envelope.json"
    /// Schema of the daemon's configuration file.
    public static let configSchemaFile = "config.schema.json"

    public static func entry(name: String, type: MessageType) -> CatalogEntry? {
        entries.first { $0.name == name && $0.type == type }
    }

    /// Whether the name is known at all (in any type).
    public static func knows(name: String) -> Bool {
        entries.contains { $0.name == name }
    }
}
