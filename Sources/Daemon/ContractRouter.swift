import JSONSchema
import JosevContract
import Logging
import Station
import Synchronization
import Systemd

/// Where the router sends what it emits. The daemon passes its MQTT client; publishing while
/// disconnected throws, and the router decides per message what that means (see `send`).
public protocol MessagePublisher: Sendable {
    func publish(topic: String, payload: [UInt8]) throws
}

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

/// The contract router: validates every incoming envelope and payload, dispatches on (name,
/// type), answers on `cs/josev` with the same `id` and `name`, and validates every outgoing
/// message before it is published. Bad input is logged and survived, never answered with a crash.
public final class ContractRouter: Sendable {
    /// Payloads above this size are refused before parsing (the contract's largest messages
    /// are a few kB; a 1 MiB payload is an attack or a bug).
    public static let defaultMaxPayloadBytes = 256 * 1024

    public let schemas: SchemaCatalog
    public let station: Station
    let handlers: ContractHandlers
    let publisher: any MessagePublisher
    let logger: Logger
    let maxPayloadBytes: Int
    let state = Mutex(RouterState())
    /// (name, type) → catalogue entry and compiled schema, built once: per message, no linear scan
    /// of the catalogue and no `"name.type"` key string.
    let dispatch: [String: [MessageType: Dispatch]]

    struct Dispatch: Sendable {
        let entry: CatalogEntry
        let validator: JSONSchemaValidator?
    }

    struct RouterState {
        var lastStatusAndLimits: CsStatusAndLimits?
        var statistics = RouterStatistics()
        /// Requests the CS sent, by id, until Josev answers (or they expire).
        var pending: [String: PendingRequest] = [:]
        /// The last CP state and duty cycle published per EVSE and connector.
        var pilots: [String: [Int: (ControlPilotState, Double)]] = [:]
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

    public init(
        schemas: SchemaCatalog, station: Station, publisher: any MessagePublisher, logger: Logger,
        ocpp: @escaping @Sendable () -> OCPPIdentity = { OCPPIdentity.defaults },
        ocppConnected: @escaping @Sendable (Bool) -> Void = { _ in },
        sessions: SessionRecorder? = nil,
        deviceModel: DeviceModelStore? = nil,
        maxPayloadBytes: Int = ContractRouter.defaultMaxPayloadBytes
    ) {
        self.schemas = schemas
        self.station = station
        handlers = ContractHandlers(
            station: station, ocpp: ocpp, ocppConnected: ocppConnected, sessions: sessions, deviceModel: deviceModel, logger: logger)
        self.publisher = publisher
        self.logger = logger
        self.maxPayloadBytes = maxPayloadBytes
        var dispatch: [String: [MessageType: Dispatch]] = [:]
        for entry in MessageCatalog.entries where dispatch[entry.name]?[entry.type] == nil {
            dispatch[entry.name, default: [:]][entry.type] = Dispatch(
                entry: entry, validator: schemas.validator(name: entry.name, type: entry.type))
        }
        self.dispatch = dispatch
    }

    public var statistics: RouterStatistics { state.withLock { $0.statistics } }

    /// The configuration keys (for the control socket).
    public var deviceModel: DeviceModelStore? { handlers.deviceModel }

    // MARK: Incoming

    /// Handles one MQTT message from `josev/cs`.
    @discardableResult
    public func handle(topic: String, payload: [UInt8]) async -> RouteOutcome {
        let outcome = await route(topic: topic, payload: payload)
        state.withLock { $0.statistics.count(outcome) }
        return outcome
    }

    /// What a log line about one incoming message carries. The metadata is attached only when a
    /// line is really written: building a metadata dictionary per message cost more than parsing it.
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

    /// Writes one line about an incoming message, with its facts as metadata, if `level` is on.
    private func log(
        _ level: Logger.Level, _ facts: MessageFacts, _ message: @autoclosure () -> Logger.Message,
        metadata: Logger.Metadata? = nil
    ) {
        guard logger.logLevel <= level else { return }
        facts.logger(logger).log(level: level, message(), metadata: metadata)
    }

    private func route(topic: String, payload: [UInt8]) async -> RouteOutcome {
        var facts = MessageFacts(topic: topic)
        guard payload.count <= maxPayloadBytes else {
            log(.warning, facts, "payload of \(payload.count) bytes refused (limit \(maxPayloadBytes))", metadata: MessageID.payloadInvalid.metadata)
            return .rejected(reason: "payload too large")
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(payload, maxDepth: 64)
        } catch {
            log(.warning, facts, "payload is not JSON: \(error)", metadata: MessageID.payloadInvalid.metadata)
            return .rejected(reason: "not JSON")
        }
        let envelopeErrors = schemas.envelope.validate(json)
        guard envelopeErrors.isEmpty, let envelope = Envelope(json: json) else {
            log(.warning, facts, "invalid envelope: \(Self.summary(envelopeErrors))", metadata: MessageID.payloadInvalid.metadata)
            return .rejected(reason: "invalid envelope")
        }
        facts.name = envelope.name
        facts.type = envelope.type
        let target = dispatch[envelope.name]?[envelope.type]
        guard let target, target.entry.direction.isReceivedByCS else {
            if MessageCatalog.knows(name: envelope.name) {
                log(.debug, facts, "ignored \(envelope.name) \(envelope.type.rawValue): not a type the CS consumes")
            } else {
                log(.notice, facts, "ignored unknown message '\(envelope.name)' (\(envelope.type.rawValue))")
            }
            return .ignored(reason: "unknown (name, type)")
        }
        let entry = target.entry
        if let errors = target.validator?.validate(json), !errors.isEmpty {
            log(.warning, facts, "invalid \(entry.name) \(entry.type.rawValue): \(Self.summary(errors))", metadata: MessageID.payloadInvalid.metadata)
            return .rejected(reason: "schema")
        }
        let evseID = envelope.data["evse_id"]?.stringValue
        facts.evseID = evseID
        let foreign: Bool
        if let evseID { foreign = await !station.owns(evseID: evseID) } else { foreign = false }
        switch entry.type {
        case .request:
            // A request for a foreign EVSE still goes to its handler: it answers with the rejecting
            // status the schema offers, or with nothing where there is none.
            if foreign { log(.info, facts, "\(entry.name) request for foreign EVSE '\(evseID ?? "")'") }
            switch await handlers.request(envelope) {
            case .respond(let data):
                let sent = send(envelope.response(data: data), base: logger, facts: facts)
                return sent ? .answered(name: entry.name) : .failed(reason: "not sent")
            case .none:
                if foreign { return .ignored(reason: "foreign evse_id") }
                log(.notice, facts, "\(entry.name) request left unanswered")
                return .failed(reason: "no answer")
            }
        case .update:
            guard !foreign else {
                log(.info, facts, "ignored \(entry.name) update for foreign EVSE '\(evseID ?? "")'")
                return .ignored(reason: "foreign evse_id")
            }
            await handlers.consume(envelope)
            return .consumed(name: entry.name)
        case .response:
            guard let pending = state.withLock({ $0.pending.removeValue(forKey: envelope.id) }) else {
                log(.debug, facts, "ignored \(entry.name) response with an id the CS did not ask for")
                return .ignored(reason: "unknown response id")
            }
            if case .authorization(let evseID, let token) = pending.context {
                await handlers.authorizationAnswer(envelope, evseID: evseID, token: token)
            }
            return .consumed(name: entry.name)
        }
    }

    // MARK: Outgoing

    /// Validates and publishes one message from the CS. An invalid message is a bug in the
    /// daemon: it is logged as an error and not sent. When the broker is gone the message is
    /// dropped: an answer is retried by Josev, an update is re-sent after the reconnect.
    @discardableResult
    public func send(_ envelope: Envelope, logger: Logger? = nil) -> Bool {
        send(envelope, base: logger ?? self.logger, facts: nil)
    }

    /// `send`, with the facts of the message answered attached only when a line is written.
    private func send(_ envelope: Envelope, base: Logger, facts: MessageFacts?) -> Bool {
        func makeLogger() -> Logger { facts?.logger(base) ?? base }
        let json = envelope.json
        let validator =
            dispatch[envelope.name]?[envelope.type]?.validator ?? schemas.validator(name: envelope.name, type: envelope.type)
        guard let errors = validator?.validate(json) else {
            makeLogger().error("refused to send \(envelope.name) \(envelope.type.rawValue): no schema in the catalogue")
            return false
        }
        guard errors.isEmpty else {
            // A bug in the daemon, not bad input: no payload-invalid MESSAGE_ID, an error line.
            makeLogger().error("refused to send invalid \(envelope.name) \(envelope.type.rawValue): \(Self.summary(errors))")
            return false
        }
        do {
            try publisher.publish(topic: Topic.csToJosev, payload: json.serializedBytes())
        } catch {
            makeLogger().warning("could not publish \(envelope.name) \(envelope.type.rawValue): \(error)")
            return false
        }
        if base.logLevel <= .debug {
            makeLogger().debug("sent \(envelope.name) \(envelope.type.rawValue)", metadata: ["msg_id": "\(envelope.id)"])
        }
        return true
    }

    /// Publishes a `cs_status_and_limits` update when the station's answer differs from the last
    /// one published, or always with `force` (after every reconnect: nothing is retained).
    @discardableResult
    public func publishStatusAndLimits(force: Bool = false, reason: String) async -> Bool {
        let snapshot = await station.statusAndLimits()
        let changed = state.withLock { $0.lastStatusAndLimits != snapshot }
        guard force || changed else { return false }
        guard let data = Self.encode(snapshot, logger: logger) else { return false }
        let sent = send(.update(name: "cs_status_and_limits", data: data))
        if sent {
            state.withLock {
                $0.lastStatusAndLimits = snapshot
                $0.statistics.updatesSent += 1
            }
            logger.info("published cs_status_and_limits update (\(reason))")
        }
        return sent
    }

    // MARK: Helpers

    static func encode<T: Encodable>(_ value: T, logger: Logger) -> JSONObject? {
        do {
            guard case .object(let object) = try JSONValueEncoder().encode(value) else {
                logger.error("\(T.self) did not encode to a JSON object")
                return nil
            }
            return object
        } catch {
            logger.error("could not encode \(T.self): \(error)")
            return nil
        }
    }

    /// The first few errors as `pointer: message`, for one log line.
    static func summary(_ errors: [ValidationError], limit: Int = 3) -> String {
        guard !errors.isEmpty else { return "not an envelope" }
        var parts = errors.prefix(limit).map { "\($0.instancePointer.isEmpty ? "/" : $0.instancePointer): \($0.message)" }
        if errors.count > limit { parts.append("and \(errors.count - limit) more") }
        return parts.joined(separator: "; ")
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
