/// Who sends a message of a given (name, type) on which topic.
public enum Direction: String, Sendable {
    /// Josev publishes on `josev/cs`; the CS consumes.
    case josevToCS
    /// The CS publishes on `cs/josev`.
    case csToJosev
    /// Either side may send it (contract §2.0: `authorization` and `device_model_update` updates,
    /// `data_transfer` and `ocpp_message`): the CS consumes it from `josev/cs` and publishes it on
    /// `cs/josev`. The one schema file serves both ways: received as written (objects Josev leaves
    /// open accept unknown keys), sent in its closed variant (`SchemaCatalog.validator(for: .sent)`).
    ///
    /// Formats: `SchemaCatalog` asserts `format` only for `.csToJosev`, so a `.both` schema is
    /// compiled with `format` as an annotation, as Josev's own validator reads it: asserting would
    /// make the CS refuse incoming payloads that Josev sends and accepts. What is lost on the way
    /// out is small and covered elsewhere: the only `format` in these schemas is the envelope's `id`
    /// `uuid`, and outgoing ids come from `EnvelopeID.random()`; the contract's date-time rule is a
    /// `pattern`, which is always checked.
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

/// One (name, type) of the catalogue: its payload type, type and direction. The name is the
/// payload type's `messageName`; the schema file is `schemas/<name>.<type>.json`.
public struct MessageRegistration: Sendable {
    public let payload: any ContractPayload.Type
    public let type: MessageType
    public let direction: Direction

    public init(_ payload: any ContractPayload.Type, _ type: MessageType, _ direction: Direction) {
        self.payload = payload
        self.type = type
        self.direction = direction
    }

    public var name: String { payload.messageName }
    public var entry: CatalogEntry { CatalogEntry(name, type, direction) }
    public var schemaFile: String { entry.schemaFile }
}

/// The message catalogue: the one place that says which messages cross `josev/cs` / `cs/josev`.
///
/// Each (name, type) is registered once, in `registrations`: its payload type (the typed model of
/// its `data`), its type and its direction; its schema file follows from its name and type. The
/// schema catalogue (`SchemaCatalog`), the payload registry (`ContractMessages`) and the daemon's
/// dispatch are all derived from this table. Adding a message means: its schema file, its model,
/// one line here, and (if the CS receives it) its handler in the daemon.
public enum MessageCatalog {
    /// One line per (name, type), grouped as contract §2.1–2.6. Josev-internal names (§2.0) have no
    /// line, and neither has `iso15118_charge_limit`: it travels on the internal topic
    /// `smart_charging/iso15118`, not on `josev/cs`/`cs/josev`, and the daemon does not subscribe to
    /// it (its model is in `ContractMessages.internalPayloadTypes`).
    public static let registrations: [MessageRegistration] = [
        MessageRegistration(CsParametersRequest.self, .request, .josevToCS),
        MessageRegistration(CsParameters.self, .response, .csToJosev),
        MessageRegistration(CsStatusAndLimitsRequest.self, .request, .josevToCS),
        MessageRegistration(CsStatusAndLimits.self, .response, .csToJosev),
        MessageRegistration(CsStatusAndLimits.self, .update, .csToJosev),
        MessageRegistration(DeviceModelRequest.self, .request, .josevToCS),
        MessageRegistration(DeviceModelResponse.self, .response, .csToJosev),
        MessageRegistration(DeviceModelUpdate.self, .update, .both),
        MessageRegistration(DeviceModelResetRequest.self, .request, .csToJosev),
        MessageRegistration(DeviceModelResetResponse.self, .response, .josevToCS),
        MessageRegistration(ServiceStatus.self, .update, .josevToCS),
        MessageRegistration(ServiceStatusRequest.self, .request, .csToJosev),
        MessageRegistration(ServiceStatus.self, .response, .josevToCS),
        MessageRegistration(BootStatusUpdate.self, .update, .josevToCS),
        MessageRegistration(WebsocketStatus.self, .update, .josevToCS),
        MessageRegistration(WebsocketStatusRequest.self, .request, .csToJosev),
        MessageRegistration(WebsocketStatus.self, .response, .josevToCS),
        MessageRegistration(ClockSyncUpdate.self, .update, .josevToCS),
        MessageRegistration(SetOCPPNetworkConnectionRequest.self, .request, .csToJosev),
        MessageRegistration(SetOCPPNetworkConnectionResponse.self, .response, .josevToCS),
        MessageRegistration(CPStatusUpdate.self, .update, .csToJosev),
        MessageRegistration(CPPWMRequest.self, .request, .josevToCS),
        MessageRegistration(CPPWMResponse.self, .response, .csToJosev),
        MessageRegistration(SLACStatusUpdate.self, .update, .josevToCS),
        MessageRegistration(SLACLinkStatusRequest.self, .request, .csToJosev),
        MessageRegistration(SLACLinkStatusResponse.self, .response, .josevToCS),
        MessageRegistration(SLACNetworkInfoRequest.self, .request, .csToJosev),
        MessageRegistration(SLACNetworkInfoResponse.self, .response, .josevToCS),
        MessageRegistration(SDPRequest.self, .request, .csToJosev),
        MessageRegistration(SDPResponse.self, .response, .josevToCS),
        MessageRegistration(CableInfoUpdate.self, .update, .csToJosev),
        MessageRegistration(CsConnectorRequest.self, .request, .josevToCS),
        MessageRegistration(CsConnectorResponse.self, .response, .csToJosev),
        MessageRegistration(ParkingBayUpdate.self, .update, .csToJosev),
        MessageRegistration(ConnectorAndChargingUpdate.self, .update, .josevToCS),
        MessageRegistration(ISO15118StateInfoUpdate.self, .update, .josevToCS),
        MessageRegistration(HLCChargingUpdate.self, .update, .josevToCS),
        MessageRegistration(CsContactorStatusRequest.self, .request, .josevToCS),
        MessageRegistration(CsContactorStatus.self, .response, .csToJosev),
        MessageRegistration(CsContactorStatus.self, .update, .csToJosev),
        MessageRegistration(CableCheckRequest.self, .request, .josevToCS),
        MessageRegistration(CableCheckResponse.self, .response, .csToJosev),
        MessageRegistration(PowerElectronicsSetpointRequest.self, .request, .josevToCS),
        MessageRegistration(PowerElectronicsSetpointResponse.self, .response, .csToJosev),
        MessageRegistration(EVRatedLimitsUpdate.self, .update, .josevToCS),
        MessageRegistration(DisplayParamsUpdate.self, .update, .josevToCS),
        MessageRegistration(AuthorizationRequest.self, .request, .csToJosev),
        MessageRegistration(AuthorizationResponse.self, .response, .josevToCS),
        MessageRegistration(AuthorizationUpdate.self, .update, .both),
        MessageRegistration(ProcessAuthorizedTokenRequest.self, .request, .josevToCS),
        MessageRegistration(ProcessAuthorizedTokenResponse.self, .response, .csToJosev),
        MessageRegistration(TransactionStatusUpdate.self, .update, .josevToCS),
        MessageRegistration(StopChargingRequest.self, .request, .josevToCS),
        MessageRegistration(StopChargingResponse.self, .response, .csToJosev),
        MessageRegistration(CostUpdatedUpdate.self, .update, .josevToCS),
        MessageRegistration(DisplayAndPersonalMsgUpdate.self, .update, .josevToCS),
        MessageRegistration(MeterValuesRequest.self, .request, .josevToCS),
        MessageRegistration(MeterValues.self, .response, .csToJosev),
        MessageRegistration(MeterValues.self, .update, .csToJosev),
        MessageRegistration(ChangeAvailabilityRequest.self, .request, .josevToCS),
        MessageRegistration(ChangeAvailabilityResponse.self, .response, .csToJosev),
        MessageRegistration(ChangeAvailabilityUpdate.self, .update, .csToJosev),
        MessageRegistration(ResetRequest.self, .request, .josevToCS),
        MessageRegistration(ResetResponse.self, .response, .csToJosev),
        MessageRegistration(UpdateFirmwareRequest.self, .request, .josevToCS),
        MessageRegistration(UpdateFirmwareResponse.self, .response, .csToJosev),
        MessageRegistration(FirmwareStatusUpdate.self, .update, .csToJosev),
        MessageRegistration(UploadLogsRequest.self, .request, .josevToCS),
        MessageRegistration(UploadLogsResponse.self, .response, .csToJosev),
        MessageRegistration(LogsStatusUpdate.self, .update, .csToJosev),
        MessageRegistration(HardwareFaultUpdate.self, .update, .csToJosev),
        MessageRegistration(NotifyEventUpdate.self, .update, .csToJosev),
        MessageRegistration(DataTransferRequest.self, .request, .both),
        MessageRegistration(DataTransferResponse.self, .response, .both),
        MessageRegistration(OCPPMessageRequest.self, .request, .both),
        MessageRegistration(OCPPMessageResponse.self, .response, .both),
        MessageRegistration(SetVariableValidateRequest.self, .request, .josevToCS),
        MessageRegistration(SetVariableValidateResponse.self, .response, .csToJosev),
        MessageRegistration(GenerateCSRRequest.self, .request, .josevToCS),
        MessageRegistration(GenerateCSRResponse.self, .response, .csToJosev),
        MessageRegistration(CertificateInstallationStatusUpdate.self, .update, .josevToCS),
    ]

    /// Every (name, type) with its direction and schema file, in the order of `registrations`.
    public static let entries: [CatalogEntry] = registrations.map(\.entry)

    /// Schema of the envelope every message must satisfy first.
    public static let envelopeSchemaFile = "envelope.json"
    /// Schema of the daemon's configuration file.
    public static let configSchemaFile = "config.schema.json"

    private static let byKey: [String: [MessageType: MessageRegistration]] = {
        var table: [String: [MessageType: MessageRegistration]] = [:]
        for registration in registrations where table[registration.name]?[registration.type] == nil {
            table[registration.name, default: [:]][registration.type] = registration
        }
        return table
    }()

    /// The registration of (name, type), or nil when the catalogue has none.
    public static func registration(name: String, type: MessageType) -> MessageRegistration? {
        byKey[name]?[type]
    }

    public static func entry(name: String, type: MessageType) -> CatalogEntry? {
        registration(name: name, type: type)?.entry
    }

    /// Whether the name is known at all (in any type).
    public static func knows(name: String) -> Bool { byKey[name] != nil }
}
