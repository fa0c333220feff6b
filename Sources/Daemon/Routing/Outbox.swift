import JSONSchema
import JosevContract
import Logging
import Station
import Synchronization

/// Where the outbox publishes. The daemon passes its MQTT client; publishing while disconnected
/// throws, and the outbox logs and drops the message (see `send`).
public protocol MessagePublisher: Sendable {
    func publish(topic: String, payload: [UInt8]) throws
}

/// A request of the CS waiting for Josev's response.
struct PendingRequest: Sendable {
    enum Context: Sendable {
        case authorization(evseID: String, token: ChargingToken)
        case other
    }

    let name: String
    let context: Context
    let sentAt: ContinuousClock.Instant
}

/// Everything the CS publishes on `cs/josev` passes here: validated against its schema, then
/// published. An invalid message is a bug in the daemon: it is logged as an error and not sent.
/// When the broker is gone the message is dropped: an answer is retried by Josev, an update is
/// re-sent after the reconnect (`JosevAnnouncer.republishState`).
final class Outbox: Sendable {
    /// How long a request of the CS waits for Josev's response before it is forgotten.
    static let pendingLifetime: Duration = .seconds(60)

    let publisher: any MessagePublisher
    let logger: Logger
    /// (name, type) → compiled schema of what the CS sends (the strict reading: every object closed),
    /// built once from the catalogue.
    private let validators: [String: [MessageType: JSONSchemaValidator]]
    private let state = Mutex(State())

    private struct State {
        /// Requests the CS sent, by id, until Josev answers (or they expire).
        var pending: [String: PendingRequest] = [:]
        var updatesSent = 0
    }

    init(schemas: SchemaCatalog, publisher: any MessagePublisher, logger: Logger) {
        self.publisher = publisher
        self.logger = logger
        var validators: [String: [MessageType: JSONSchemaValidator]] = [:]
        for registration in MessageCatalog.registrations where registration.direction.isSentByCS {
            if let validator = schemas.validator(name: registration.name, type: registration.type, for: .sent) {
                validators[registration.name, default: [:]][registration.type] = validator
            }
        }
        self.validators = validators
    }

    /// Updates published since start.
    var updatesSent: Int { state.withLock { $0.updatesSent } }

    /// Validates and publishes one message; `facts` (of the message answered) go on a line only
    /// when one is written.
    @discardableResult
    func send(_ envelope: Envelope, facts: MessageFacts? = nil) -> Bool {
        func lineLogger() -> Logger { facts?.logger(logger) ?? logger }
        let json = envelope.json
        guard let validator = validators[envelope.name]?[envelope.type] else {
            lineLogger().error("refused to send \(envelope.name) \(envelope.type.rawValue): not a message the CS sends")
            return false
        }
        let errors = validator.validate(json)
        guard errors.isEmpty else {
            // A bug in the daemon, not bad input: no payload-invalid MESSAGE_ID, an error line.
            lineLogger().error("refused to send invalid \(envelope.name) \(envelope.type.rawValue): \(ValidationSummary.of(errors))")
            return false
        }
        return publish(json.serializedBytes(), of: envelope, lineLogger: lineLogger())
    }

    /// A `response` whose data is `prepared`'s: the first one is validated and serialized in full
    /// (`send(_:facts:)`); once one passed, later ones reuse the prepared bytes.
    @discardableResult
    func send(_ response: Envelope, prepared: PreparedAnswer, facts: MessageFacts? = nil) -> Bool {
        guard prepared.isValidated else {
            guard send(response, facts: facts) else { return false }
            prepared.markValidated()
            return true
        }
        return publish(prepared.bytes(of: response), of: response, lineLogger: facts?.logger(logger) ?? logger)
    }

    private func publish(_ bytes: [UInt8], of envelope: Envelope, lineLogger: Logger) -> Bool {
        do {
            try publisher.publish(topic: Topic.csToJosev, payload: bytes)
        } catch {
            lineLogger.warning("could not publish \(envelope.name) \(envelope.type.rawValue): \(error)")
            return false
        }
        if envelope.type == .update { state.withLock { $0.updatesSent += 1 } }
        if logger.logLevel <= .debug {
            lineLogger.debug("sent \(envelope.name) \(envelope.type.rawValue)", metadata: ["msg_id": "\(envelope.id)"])
        }
        return true
    }

    /// Publishes an update of the CS.
    @discardableResult
    func sendUpdate(_ payload: some ContractPayload) -> Bool {
        guard let data = encode(payload) else { return false }
        return send(.update(name: type(of: payload).messageName, data: data))
    }

    /// Sends a request of the CS and remembers it until Josev answers (or `pendingLifetime` passes).
    @discardableResult
    func sendRequest(_ payload: some ContractPayload, context: PendingRequest.Context) -> Bool {
        guard let data = encode(payload) else { return false }
        let request = Envelope.request(name: type(of: payload).messageName, data: data)
        let now = ContinuousClock.now
        state.withLock { state in
            state.pending = state.pending.filter { now - $0.value.sentAt < Self.pendingLifetime }
            state.pending[request.id] = PendingRequest(name: request.name, context: context, sentAt: now)
        }
        let sent = send(request)
        if !sent { _ = state.withLock { $0.pending.removeValue(forKey: request.id) } }
        return sent
    }

    /// The request of the CS that a response with this id answers (removed: answered once).
    func takePending(id: String) -> PendingRequest? {
        state.withLock { $0.pending.removeValue(forKey: id) }
    }

    /// A payload as an envelope's `data`; an encoding failure is a bug, logged.
    func encode(_ payload: some ContractPayload) -> JSONObject? {
        do {
            return try payload.encodedData()
        } catch {
            logger.error("cannot encode \(type(of: payload)): \(error)")
            return nil
        }
    }
}

/// Validation errors on one log line.
enum ValidationSummary {
    /// The first few errors as `pointer: message`.
    static func of(_ errors: [ValidationError], limit: Int = 3) -> String {
        guard !errors.isEmpty else { return "not an envelope" }
        var parts = errors.prefix(limit).map { "\($0.instancePointer.isEmpty ? "/" : $0.instancePointer): \($0.message)" }
        if errors.count > limit { parts.append("and \(errors.count - limit) more") }
        return parts.joined(separator: "; ")
    }
}
