import JSONSchema
import JosevContract
import Logging
import Station
import Synchronization
import Systemd

/// What became of one incoming message (returned for tests and counted for `STATUS=`).
public enum RouteOutcome: Sendable, Equatable {
    /// A request answered on `cs/josev`.
    case answered(name: String)
    /// An update consumed.
    case consumed(name: String)
    /// Well-formed but not for us: unknown name, a type we do not take, a foreign EVSE.
    case ignored(reason: String)
    /// Malformed: not JSON, a broken envelope, or data that fails its schema.
    case rejected(reason: String)
    /// The answer could not be sent (invalid answer, broker gone).
    case failed(reason: String)
}

/// What a log line about one incoming message carries. The metadata is attached only when a line
/// is really written: building a metadata dictionary per message cost more than parsing it.
struct MessageFacts {
    var topic: String
    var name: String?
    var type: MessageType?
    var evseID: String?

    func logger(_ base: Logger) -> Logger {
        var log = base
        log[metadataKey: "topic"] = "\(topic)"
        if let name { log[metadataKey: "msg_name"] = "\(name)" }
        if let type { log[metadataKey: "msg_type"] = "\(type.rawValue)" }
        if let evseID { log[metadataKey: "evse_id"] = "\(evseID)" }
        return log
    }
}

/// The gate every message from `josev/cs` passes: not retained (stale), size, JSON, envelope, the
/// message's own schema, the owner check of its `evse_id` (once), for a request an `id` its answer
/// can carry (a UUID), and not an envelope id handled lately (a repeated request gets its answer
/// again); then the handler its registration names, and the answer through the outbox (validated,
/// published on `cs/josev` with the same `id` and `name`). Bad input is logged and survived, never
/// answered with a crash.
///
/// The dispatch table is derived from `MessageCatalog.registrations`: one route per (name, type)
/// the CS receives, with its compiled schema and the handler its payload type implements.
public final class ContractRouter: Sendable {
    /// Payloads above this size are refused before parsing (the contract's largest messages
    /// are a few kB; a 1 MiB payload is an attack or a bug).
    public static let defaultMaxPayloadBytes = 256 * 1024

    let schemas: SchemaCatalog
    let context: HandlerContext
    let logger: Logger
    let maxPayloadBytes: Int
    private let counters = Mutex(RouterStatistics())
    /// Keys a newer Josev may add where its schemas leave objects open: logged once at debug.
    private let unknownKeys: UnknownKeyLog
    private let routes: [String: [MessageType: Route]]
    /// Requests and updates handled lately, by envelope id: a redelivery is not acted on twice.
    private let recent: RecentMessages
    /// Retained messages (stale: left on the broker, delivered at every subscribe), logged per interval.
    private let retainedLog: IntervalLog
    /// Requests whose id the answer could not carry (not a UUID), logged per interval.
    private let badIDLog: IntervalLog
    /// Malformed messages: each logged while they are few, then one line per second.
    private let invalidLines: LineBudget
    /// Messages of a name the contract does not know, likewise.
    private let unknownLines: LineBudget

    /// One (name, type) the CS receives.
    struct Route: Sendable {
        let registration: MessageRegistration
        let validator: JSONSchemaValidator?
        /// Nil: consumed without action (responses to requests the CS never sends, for example).
        let handler: MessageHandler?
    }

    init(
        schemas: SchemaCatalog, context: HandlerContext, maxPayloadBytes: Int = ContractRouter.defaultMaxPayloadBytes,
        recentCapacity: Int = RecentMessages.defaultCapacity, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.schemas = schemas
        recent = RecentMessages(capacity: recentCapacity)
        retainedLog = IntervalLog(now: now)
        badIDLog = IntervalLog(now: now)
        invalidLines = LineBudget(now: now)
        unknownLines = LineBudget(now: now)
        self.context = context
        logger = context.logger
        self.maxPayloadBytes = maxPayloadBytes
        unknownKeys = UnknownKeyLog(schemas: schemas)
        var routes: [String: [MessageType: Route]] = [:]
        for registration in MessageCatalog.registrations where registration.direction.isReceivedByCS {
            routes[registration.name, default: [:]][registration.type] = Route(
                registration: registration, validator: schemas.validator(name: registration.name, type: registration.type, for: .received),
                handler: MessageHandler(registration))
        }
        self.routes = routes
    }

    /// The route of (name, type), if the CS receives it (tests check every registration has one).
    func route(name: String, type: MessageType) -> Route? { routes[name]?[type] }

    public var statistics: RouterStatistics {
        var statistics = counters.withLock { $0 }
        statistics.updatesSent = context.outbox.updatesSent
        return statistics
    }

    /// Handles one MQTT message from `josev/cs`. `retained`: the broker delivered it with the retain
    /// flag, so it is stale (left on the broker, delivered again at every subscribe): ignored, never answered.
    @discardableResult
    public func handle(topic: String, payload: [UInt8], retained: Bool = false) async -> RouteOutcome {
        let outcome: RouteOutcome
        if retained {
            if let unwritten = retainedLog.due() {
                let more = unwritten > 0 ? " (\(unwritten) more since the last line)" : ""
                logger.notice("ignored a retained message on \(topic): stale, neither acted on nor answered\(more)", metadata: ["topic": "\(topic)"])
            }
            outcome = .ignored(reason: "retained")
        } else {
            outcome = await route(topic: topic, payload: payload)
        }
        counters.withLock { $0.count(outcome) }
        return outcome
    }

    /// Writes one line about an incoming message, with its facts as metadata, if `level` is on.
    private func log(
        _ level: Logger.Level, _ facts: MessageFacts, _ message: @autoclosure () -> Logger.Message, metadata: Logger.Metadata? = nil
    ) {
        guard logger.logLevel <= level else { return }
        facts.logger(logger).log(level: level, message(), metadata: metadata)
    }

    /// A message that passed the gate up to its own schema.
    private struct Admitted {
        let envelope: Envelope
        let route: Route
        var facts: MessageFacts
    }

    private enum Admission {
        case settled(RouteOutcome)
        case admitted(Admitted)
    }

    /// Size, JSON, envelope, route and schema: everything decided without the station.
    private func admit(topic: String, payload: [UInt8]) -> Admission {
        var facts = MessageFacts(topic: topic)
        guard payload.count <= maxPayloadBytes else {
            logInvalid(facts, "payload of \(payload.count) bytes refused (limit \(maxPayloadBytes))")
            return .settled(.rejected(reason: "payload too large"))
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(payload, maxDepth: 64)
        } catch {
            logInvalid(facts, "payload is not JSON: \(error)")
            return .settled(.rejected(reason: "not JSON"))
        }
        let envelopeErrors = schemas.envelope.validate(json)
        guard envelopeErrors.isEmpty, let envelope = Envelope(json: json) else {
            logInvalid(facts, "invalid envelope: \(ValidationSummary.of(envelopeErrors))")
            return .settled(.rejected(reason: "invalid envelope"))
        }
        facts.name = envelope.name
        facts.type = envelope.type
        guard let route = routes[envelope.name]?[envelope.type] else {
            if MessageCatalog.knows(name: envelope.name) {
                log(.debug, facts, "ignored \(envelope.name) \(envelope.type.rawValue): not a type the CS consumes")
            } else {
                logWithin(
                    unknownLines, .notice, facts, "ignored unknown message '\(envelope.name)' (\(envelope.type.rawValue))",
                    counting: "unknown message(s)")
            }
            return .settled(.ignored(reason: "unknown (name, type)"))
        }
        let name = envelope.name
        if let errors = route.validator?.validate(json), !errors.isEmpty {
            logInvalid(facts, "invalid \(name) \(envelope.type.rawValue): \(ValidationSummary.of(errors))")
            return .settled(.rejected(reason: "schema"))
        }
        if logger.logLevel <= .debug { unknownKeys.note(json, name: name, type: envelope.type, logger: facts.logger(logger)) }
        facts.evseID = envelope.data["evse_id"]?.stringValue
        return .admitted(Admitted(envelope: envelope, route: route, facts: facts))
    }

    /// The payload-invalid warning about one message, within `invalidLines`.
    private func logInvalid(_ facts: MessageFacts, _ message: @autoclosure () -> String) {
        logWithin(invalidLines, .warning, facts, message(), counting: "invalid message(s)", metadata: MessageID.payloadInvalid.metadata)
    }

    /// A line about one message within `budget` (a flood of bad input writes one line per second,
    /// with the count of those it did not write: "(N more `what` since the last line)").
    private func logWithin(
        _ budget: LineBudget, _ level: Logger.Level, _ facts: MessageFacts, _ message: @autoclosure () -> String,
        counting what: String, metadata: Logger.Metadata? = nil
    ) {
        guard logger.logLevel <= level, let unwritten = budget.take() else { return }
        let more = unwritten > 0 ? " (\(unwritten) more \(what) since the last line)" : ""
        facts.logger(logger).log(level: level, "\(message())\(more)", metadata: metadata)
    }

    private func route(topic: String, payload: [UInt8]) async -> RouteOutcome {
        let admitted: Admitted
        switch admit(topic: topic, payload: payload) {
        case .settled(let outcome): return outcome
        case .admitted(let message): admitted = message
        }
        let envelope = admitted.envelope, facts = admitted.facts, name = envelope.name
        let evseID = facts.evseID
        let foreign: Bool
        if let evseID { foreign = await !context.station.owns(evseID: evseID) } else { foreign = false }
        let message = IncomingMessage(envelope: envelope, foreignEVSE: foreign)

        switch admitted.route.handler {
        case .request(let handler):
            if let settled = screen(request: envelope, facts: facts) { return settled }
            // A request for a foreign EVSE still goes to its handler: it answers with the rejecting
            // status the schema offers, or with nothing where there is none.
            if foreign { log(.info, facts, "\(name) request for foreign EVSE '\(evseID ?? "")'") }
            guard let request = decode(handler, envelope, facts) else { return .failed(reason: "no answer") }
            return deliver(await request.answer(in: context, message), to: envelope, facts: facts, foreign: foreign)
        case .update(let handler):
            guard !foreign else {
                log(.info, facts, "ignored \(name) update for foreign EVSE '\(evseID ?? "")'")
                return .ignored(reason: "foreign evse_id")
            }
            guard recent.handled(envelope.id) == nil else {
                log(.info, facts, "ignored repeated \(name) update \(envelope.id)")
                return .ignored(reason: "duplicate id")
            }
            recent.remember(envelope.id, .update)
            if let update = decode(handler, envelope, facts) { await update.consume(in: context, message) }
            return .consumed(name: name)
        case .response(let handler):
            guard let pending = context.outbox.takePending(id: envelope.id) else {
                log(.debug, facts, "ignored \(name) response with an id the CS did not ask for")
                return .ignored(reason: "unknown response id")
            }
            if let response = decode(handler, envelope, facts) { await response.consume(in: context, answering: pending) }
            return .consumed(name: name)
        case nil:
            if envelope.type == .response, context.outbox.takePending(id: envelope.id) == nil {
                log(.debug, facts, "ignored \(name) response with an id the CS did not ask for")
                return .ignored(reason: "unknown response id")
            }
            log(.debug, facts, "\(name) \(envelope.type.rawValue) consumed")
            return envelope.type == .request ? .failed(reason: "no answer") : .consumed(name: name)
        }
    }

    /// Decides before acting: a request whose answer could not carry its id (the outgoing
    /// envelope's `id` must be a UUID) is refused, not acted on and left unanswered; a repeated one
    /// gets its first answer again. Nil: the request is to be answered.
    private func screen(request envelope: Envelope, facts: MessageFacts) -> RouteOutcome? {
        let name = envelope.name
        guard isUUID(envelope.id) else {
            if let unwritten = badIDLog.due() {
                let more = unwritten > 0 ? " (\(unwritten) more since the last line)" : ""
                log(.notice, facts, "refused \(name) request: its id '\(envelope.id)' is not a UUID, an answer could not carry it\(more)",
                    metadata: MessageID.payloadInvalid.metadata)
            }
            return .rejected(reason: "id not a UUID")
        }
        if case .request(let answer) = recent.handled(envelope.id) {
            guard let answer else {
                log(.info, facts, "ignored repeated \(name) request \(envelope.id): left unanswered the first time")
                return .ignored(reason: "duplicate id")
            }
            log(.info, facts, "repeated \(name) request \(envelope.id): the same answer published again")
            return context.outbox.send(answer, facts: facts) ? .answered(name: name) : .failed(reason: "not sent")
        }
        return nil
    }

    /// Publishes a handler's answer to `envelope` (remembered for a repeated request).
    private func deliver(_ answer: Answer, to envelope: Envelope, facts: MessageFacts, foreign: Bool) -> RouteOutcome {
        let name = envelope.name
        switch answer {
        case .respond(let data):
            let response = envelope.response(data: data)
            recent.remember(envelope.id, .request(answer: response))
            let sent = context.outbox.send(response, facts: facts)
            return sent ? .answered(name: name) : .failed(reason: "not sent")
        case .respondPrepared(let prepared):
            let response = envelope.response(data: prepared.data)
            recent.remember(envelope.id, .request(answer: response))
            let sent = context.outbox.send(response, prepared: prepared, facts: facts)
            return sent ? .answered(name: name) : .failed(reason: "not sent")
        case .none:
            recent.remember(envelope.id, .request(answer: nil))
            if foreign { return .ignored(reason: "foreign evse_id") }
            log(.notice, facts, "\(name) request left unanswered")
            return .failed(reason: "no answer")
        }
    }

    /// On the MQTT network thread, for each small message as it arrives. A message the gate refuses
    /// or ignores (not JSON, a broken envelope, an unknown name, a schema error) is settled right
    /// here: it owes no answer and changes nothing, so it never queues in front of a good one (a
    /// flood of bad input costs its parsing, not the latency of the requests between). While no
    /// earlier message is queued or being handled (`intakeIdle`), a request whose answer is a pure
    /// read of what the station published (`ImmediateAnswering`) is answered here too, one hand-off
    /// less each way. Returns false, having done nothing that shows, for any other message: the
    /// intake then takes it as usual (and checks it again).
    public func answerAtOnce(topic: String, payload: [UInt8], retained: Bool, intakeIdle: Bool) -> Bool {
        guard !retained else { return false }
        let outcome: RouteOutcome
        switch admit(topic: topic, payload: payload) {
        case .settled(let settled):
            outcome = settled
        case .admitted(let admitted):
            guard intakeIdle, admitted.facts.evseID == nil, case .request(let handler)? = admitted.route.handler,
                let immediate = handler as? any ImmediateAnswering.Type
            else { return false }
            if let settled = screen(request: admitted.envelope, facts: admitted.facts) {
                outcome = settled
            } else {
                outcome = deliver(immediate.answerAtOnce(in: context), to: admitted.envelope, facts: admitted.facts, foreign: false)
            }
        }
        counters.withLock { $0.count(outcome) }
        return true
    }

    /// The typed payload of a message that passed its schema; a failure (the schema allows what the
    /// model cannot hold) is logged once with the place.
    private func decode<Payload>(_ type: Payload.Type, _ envelope: Envelope, _ facts: MessageFacts) -> Payload?
    where Payload: ContractPayload {
        do {
            return try Payload(data: .object(envelope.data))
        } catch {
            logInvalid(facts, "cannot read \(envelope.name) \(envelope.type.rawValue): \(error)")
            return nil
        }
    }
}

/// Counters for `STATUS=` and tests.
public struct RouterStatistics: Sendable, Equatable {
    public var answered = 0
    public var consumed = 0
    public var ignored = 0
    public var rejected = 0
    public var failed = 0
    public var updatesSent = 0

    mutating func count(_ outcome: RouteOutcome) {
        switch outcome {
        case .answered: answered += 1
        case .consumed: consumed += 1
        case .ignored: ignored += 1
        case .rejected: rejected += 1
        case .failed: failed += 1
        }
    }
}
