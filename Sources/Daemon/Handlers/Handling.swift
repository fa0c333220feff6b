import JSONSchema
import JosevContract
import Logging
import Station

/// What a handler may use. Built once at start, in dependency order: the outbox first, then the
/// back office and the device model (which send through it), then this context, then the router.
struct HandlerContext: Sendable {
    let station: Station
    let outbox: Outbox
    /// The OCPP identity for `device_model` (replaced on reload).
    let ocpp: @Sendable () -> OCPPIdentity
    /// Told whether OCPP's websocket to the back office is up (`websocket_status`; Modbus 1104).
    let ocppConnected: @Sendable (Bool) -> Void
    /// Records the sessions (nil when the store cannot be used).
    let sessions: SessionRecorder?
    /// The configuration keys (nil: none declared, every change is rejected as unknown).
    let deviceModel: DeviceModelStore?
    /// Firmware updates and log uploads (nil: `update_firmware` and `upload_logs` are rejected).
    let backOffice: BackOfficeServices?
    /// The last `cs_status_and_limits` answer, encoded.
    let statusAndLimits: EncodedStatusAndLimits
    let logger: Logger

    init(
        station: Station, outbox: Outbox, ocpp: @escaping @Sendable () -> OCPPIdentity = { .defaults },
        ocppConnected: @escaping @Sendable (Bool) -> Void = { _ in }, sessions: SessionRecorder? = nil,
        deviceModel: DeviceModelStore? = nil, backOffice: BackOfficeServices? = nil, logger: Logger
    ) {
        self.station = station
        self.outbox = outbox
        self.ocpp = ocpp
        self.ocppConnected = ocppConnected
        self.sessions = sessions
        self.deviceModel = deviceModel
        self.backOffice = backOffice
        statusAndLimits = EncodedStatusAndLimits()
        self.logger = logger
    }

    /// The answer carrying a payload; an encoding failure is a bug, logged by the outbox, and
    /// nothing is sent.
    func respond(_ payload: some ContractPayload) -> Answer {
        outbox.encode(payload).map(Answer.respond) ?? .none
    }
}

/// What the router established about one incoming message before its handler runs.
struct IncomingMessage: Sendable {
    let envelope: Envelope
    /// The `evse_id` of `data` names an EVSE this station does not have (checked once, by the router).
    let foreignEVSE: Bool
}

/// A handler's answer to a request.
enum Answer: Sendable {
    /// The response's data.
    case respond(JSONObject)
    /// The response's data, shared with other answers (serialized and validated once).
    case respondPrepared(PreparedAnswer)
    /// No answer owed or possible (the handler logged why).
    case none
}

/// A request the CS answers: the payload type of its `data` implements the answer, in the handler
/// file of its group (`Handlers/<Group>Handlers.swift`, mirroring `JosevContract/Messages/`).
/// Requests get the answer their schema offers, a rejecting one when the station refuses.
protocol RequestHandling: ContractPayload {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer
}

/// An update the CS consumes: it changes the station or is logged, and is never answered.
protocol UpdateHandling: ContractPayload {
    func consume(in context: HandlerContext, _ message: IncomingMessage) async
}

/// Josev's response to a request the CS sent (`pending` says what the CS asked and why).
protocol ResponseHandling: ContractPayload {
    func consume(in context: HandlerContext, answering pending: PendingRequest) async
}

/// The handler of one registration of `MessageCatalog`, found once at start from its payload type.
enum MessageHandler: Sendable {
    case request(any RequestHandling.Type)
    case update(any UpdateHandling.Type)
    case response(any ResponseHandling.Type)

    /// The handler the registration's payload type implements for its type, if any.
    init?(_ registration: MessageRegistration) {
        switch registration.type {
        case .request:
            guard let handler = registration.payload as? any RequestHandling.Type else { return nil }
            self = .request(handler)
        case .update:
            guard let handler = registration.payload as? any UpdateHandling.Type else { return nil }
            self = .update(handler)
        case .response:
            guard let handler = registration.payload as? any ResponseHandling.Type else { return nil }
            self = .response(handler)
        }
    }
}

extension ChargingToken {
    /// A token as Josev names it (its type by the contract's raw value; central when unknown).
    init(josevID: String?, josevType: String?) {
        self.init(id: josevID ?? "", type: josevType.flatMap(ChargingTokenType.init(rawValue:)) ?? .central)
    }
}
