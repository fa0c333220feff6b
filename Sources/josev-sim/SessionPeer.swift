// The Josev side of a session: one MQTT client that publishes on `josev/cs`, listens on `cs/josev`,
// prints every message, checks each one the CS sends against its schema, answers the CS's requests
// as Josev would, and watches the contactor against what §2.8 allows.
import Foundation
import JSONSchema
import JosevContract
import Mosquitto
import Synchronization

/// One message from the CS, as received.
struct Received: Sendable {
    let index: Int
    let at: ContinuousClock.Instant
    let envelope: Envelope
    let json: JSONValue
    let verdict: SchemaBook.Verdict?
}

/// A request sent to the CS and, once it came, its answer.
struct Exchange: Sendable {
    let name: String
    let sentAt: ContinuousClock.Instant
    var answer: Received?
    var latency: Double? { answer.map { Transcript.seconds($0.at - sentAt) } }
}

/// What the simulator knows about one EVSE from the messages so far.
struct EVSEView: Sendable {
    /// Last `cp_status.state` the CS reported (nil before the first).
    var cpState: String?
    /// Last contactor state the CS reported (update or response).
    var contactor: String?
    /// An authorization was accepted for this EVSE (by Josev's answer or the CS's own update).
    var authorized = false
    /// What Josev last said about energy: `hlc_charging true`, `cable_check start`, basic charging,
    /// ISO 15118-20 `ScheduleExchange` allow it; `hlc_charging false`, `stop_charging`,
    /// `SessionStop`, `transaction_status ended` withdraw it.
    var energyAllowed = false
    var energyReason = "no hlc_charging true, cable_check start or basic charging yet"

    /// Why a contactor may not be closed now, or nil when it may.
    var closeObjections: [String] {
        var objections: [String] = []
        if let cpState, cpState == "C2" || cpState == "D2" {
        } else {
            objections.append("CP is \(cpState ?? "unknown (no cp_status seen)"), not C2/D2")
        }
        if !authorized { objections.append("no accepted authorization") }
        if !energyAllowed { objections.append("Josev has not allowed energy (\(energyReason))") }
        return objections
    }
}

final class SessionPeer: Sendable {
    struct Options: Sendable {
        var allowMissingSchemas = false
        /// Josev's answer to the CS's `authorization` requests.
        var authorizationStatus = "accepted"
        var verbose = false
    }

    private struct State {
        var exchanges: [String: Exchange] = [:]
        var sentUpdates: Set<String> = []
        var inbox: [Received] = []
        var consumed: Set<Int> = []
        var problems: [String] = []
        var warnings: [String] = []
        var evses: [String: EVSEView] = [:]
        var warnedKeys: Set<String> = []
    }

    let client: MosquittoClient
    let schemas: SchemaBook?
    let transcript: Transcript
    let options: Options
    private let state = Mutex(State())

    init(host: String, port: Int, schemas: SchemaBook?, transcript: Transcript, options: Options) async throws {
        self.schemas = schemas
        self.transcript = transcript
        self.options = options
        var configuration = MosquittoConfiguration(
            host: host, port: port, clientID: "josev-sim-s\(ProcessInfo.processInfo.processIdentifier)")
        configuration.reconnect = ReconnectPolicy(initialDelay: .milliseconds(200), maximumDelay: .seconds(2))
        client = try MosquittoClient(configuration: configuration)
        try client.subscribe(Topic.csToJosev, qos: .atLeastOnce)
        try await client.connect()
        let messages = client.messages
        Task { [self] in
            for await message in messages {
                receive(message.payload, at: .now)
            }
        }
    }

    func close() async {
        await client.disconnect()
    }

    // MARK: Sending

    /// Publishes a message to the CS, prints it, and checks it against its schema (a failure there
    /// is the simulator's own bug, reported as a warning). Returns the envelope sent.
    @discardableResult
    func send(name: String, type: MessageType, data: JSONObject) throws -> Envelope {
        let envelope = Envelope(id: EnvelopeID.random(), name: name, type: type, data: data)
        let json = envelope.json
        let now = ContinuousClock.now
        state.withLock { state in
            if type == .request {
                state.exchanges[envelope.id] = Exchange(name: name, sentAt: now)
            } else {
                state.sentUpdates.insert(envelope.id)
            }
            noteSent(name: name, type: type, data: data, state: &state)
        }
        transcript.message("→ \(name) \(type.rawValue)  \(KeyFields.summary(name: name, data: data))", at: now)
        if let schemas {
            switch schemas.check(json, name: name, type: type) {
            case .valid: break
            case .invalid(let errors):
                warn("josev-sim's own \(name) \(type.rawValue) fails its schema: \(errors.joined(separator: "; "))")
            case .noSchema:
                break  // Josev→CS schemas are the other engineers' business; nothing to hold the sim to.
            }
        }
        try client.publish(topic: Topic.josevToCS, payload: json.serializedBytes(), qos: .atLeastOnce)
        return envelope
    }

    /// The answer to request `id`, once it arrived.
    func exchange(_ id: String) -> Exchange? {
        state.withLock { $0.exchanges[id] }
    }

    // MARK: Inbox

    var inboxCount: Int { state.withLock { $0.inbox.count } }

    /// The first unconsumed message at or after `from` that `matches`, consumed if found.
    func take(from: Int, reuse: Bool = false, where matches: (Received) -> Bool) -> Received? {
        state.withLock { state in
            guard from < state.inbox.count else { return nil }
            for message in state.inbox[from...] where (reuse || !state.consumed.contains(message.index)) && matches(message) {
                state.consumed.insert(message.index)
                return message
            }
            return nil
        }
    }

    func messages(from: Int) -> [Received] {
        state.withLock { from < $0.inbox.count ? Array($0.inbox[from...]) : [] }
    }

    // MARK: Problems found outside of any step

    var problemCount: Int { state.withLock { $0.problems.count } }

    func problems(since: Int) -> [String] {
        state.withLock { since < $0.problems.count ? Array($0.problems[since...]) : [] }
    }

    var warnings: [String] { state.withLock { $0.warnings } }

    func view(_ evse: String) -> EVSEView { state.withLock { $0.evses[evse] ?? EVSEView() } }

    private func problem(_ text: String) {
        state.withLock { $0.problems.append(text) }
        transcript.note("✗ \(text)")
    }

    /// A warning printed and counted once per key (e.g. one per message kind without a schema).
    func warnOnce(_ key: String, _ text: String) {
        guard state.withLock({ $0.warnedKeys.insert(key).inserted }) else { return }
        warn(text)
    }

    private func warn(_ text: String) {
        state.withLock { $0.warnings.append(text) }
        transcript.note("⚠ \(text)")
    }

    // MARK: Receiving

    private func receive(_ payload: [UInt8], at instant: ContinuousClock.Instant) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(payload)
        } catch {
            transcript.message("← (not JSON) \(String(decoding: payload.prefix(120), as: UTF8.self))", at: instant)
            problem("the CS published something that is not JSON on \(Topic.csToJosev): \(error)")
            return
        }
        guard let envelope = Envelope(json: json) else {
            transcript.message("← (not an envelope) \(json.serialized().prefix(120))", at: instant)
            problem("the CS published a message without a valid id/name/type/data envelope: \(json.serialized().prefix(200))")
            return
        }
        let verdict = schemas?.check(json, name: envelope.name, type: envelope.type)

        // Answers: matched by id.
        let answered: Exchange? = state.withLock { state in
            guard var exchange = state.exchanges[envelope.id] else { return nil }
            if exchange.answer != nil { return exchange }
            exchange.answer = Received(index: -1, at: instant, envelope: envelope, json: json, verdict: verdict)
            state.exchanges[envelope.id] = exchange
            return exchange
        }
        if let answered {
            let latency = Transcript.latency(Transcript.seconds(instant - answered.sentAt))
            let summary = KeyFields.summary(name: envelope.name, data: envelope.data)
            transcript.message("← \(envelope.name) \(envelope.type.rawValue)  \(summary)  [\(latency)]", at: instant)
            if answered.answer?.at != instant {
                problem("duplicate answer to \(answered.name) request \(envelope.id)")
            }
            if envelope.type == .response, envelope.name == "cs_contactor_status" {
                observeContactor(envelope, via: "response")
            }
            return
        }
        if envelope.type == .response {
            let wasUpdate = state.withLock { $0.sentUpdates.contains(envelope.id) }
            transcript.message("← \(envelope.name) response  (id \(envelope.id) matches no request)", at: instant)
            if wasUpdate {
                problem("the CS answered the \(envelope.name) update \(envelope.id): updates are never answered (§1.3)")
            } else {
                warn("a \(envelope.name) response with an unknown id \(envelope.id)")
            }
            return
        }

        // Updates and requests from the CS.
        let index = state.withLock { state in
            let received = Received(index: state.inbox.count, at: instant, envelope: envelope, json: json, verdict: verdict)
            state.inbox.append(received)
            return received.index
        }
        _ = index
        transcript.message(
            "← \(envelope.name) \(envelope.type.rawValue)  \(KeyFields.summary(name: envelope.name, data: envelope.data))",
            at: instant)
        switch verdict {
        case .invalid(let errors)?:
            problem("\(envelope.name) \(envelope.type.rawValue) from the CS fails its schema: \(errors.joined(separator: "; "))")
        case .noSchema(let reason)?:
            if options.allowMissingSchemas {
                warnOnce("\(envelope.name).\(envelope.type.rawValue)", "\(envelope.name) \(envelope.type.rawValue) not checked: \(reason)")
            } else {
                problem("\(envelope.name) \(envelope.type.rawValue) cannot be checked: \(reason)")
            }
        default: break
        }
        observe(envelope)
        if envelope.type == .request { answer(envelope) }
    }

    /// What a CS update or request tells about the EVSE.
    private func observe(_ envelope: Envelope) {
        let evse = envelope.data["evse_id"]?.stringValue ?? "?"
        switch (envelope.name, envelope.type) {
        case ("cp_status", .update):
            let cpState = envelope.data["state"]?.stringValue
            state.withLock { state in
                state.evses[evse, default: EVSEView()].cpState = cpState
                if let cpState, cpState.hasPrefix("A") {
                    state.evses[evse]?.authorized = false
                    state.evses[evse]?.energyAllowed = false
                    state.evses[evse]?.energyReason = "EV unplugged (CP \(cpState))"
                }
            }
        case ("authorization", .update):
            let status = envelope.data["status"]?.stringValue
            state.withLock { $0.evses[evse, default: EVSEView()].authorized = status == "accepted" }
        case ("cs_contactor_status", .update):
            observeContactor(envelope, via: "update")
        default:
            break
        }
    }

    /// Checks a contactor report against §2.8: closed only with CP C2/D2, an accepted
    /// authorization and Josev's go-ahead.
    private func observeContactor(_ envelope: Envelope, via kind: String) {
        let evse = envelope.data["evse_id"]?.stringValue ?? "?"
        guard let status = envelope.data["status"]?.stringValue else { return }
        let (previous, view) = state.withLock { state in
            let previous = state.evses[evse]?.contactor
            state.evses[evse, default: EVSEView()].contactor = status
            return (previous, state.evses[evse]!)
        }
        if status == "closed", previous != "closed" {
            let objections = view.closeObjections
            if !objections.isEmpty {
                problem("unexpected contactor: \(evse) reported closed (\(kind)) although \(objections.joined(separator: ", "))")
            }
        }
    }

    /// Josev answers the CS's requests: `authorization` (as OCPP would, per `--authorization`),
    /// `service_status` and `websocket_status` with plausible states. Other requests go unanswered,
    /// as Josev ignores names it has no handler for.
    private func answer(_ request: Envelope) {
        var data: JSONObject
        switch request.name {
        case "authorization":
            data = ["status": .string(options.authorizationStatus)]
            if let evse = request.data["evse_id"] { data["evse_id"] = evse }
            let evse = request.data["evse_id"]?.stringValue ?? "?"
            let accepted = options.authorizationStatus == "accepted"
            state.withLock { $0.evses[evse, default: EVSEView()].authorized = accepted }
        case "service_status":
            data = [
                "service": request.data["service"] ?? "iso15118", "software_version": "josev-sim",
                "api_version": "3.10.0", "status": "ready",
            ]
        case "websocket_status":
            data = ["status": "connected"]
        default:
            transcript.note("(josev-sim does not answer \(request.name) requests)")
            return
        }
        let response = request.response(data: data)
        transcript.message("→ \(response.name) response  \(KeyFields.summary(name: response.name, data: data))")
        do {
            try client.publish(topic: Topic.josevToCS, payload: response.json.serializedBytes(), qos: .atLeastOnce)
        } catch {
            problem("could not answer the CS's \(request.name) request: \(error)")
        }
    }

    /// What Josev's own messages change in the EVSE view.
    private func noteSent(name: String, type: MessageType, data: JSONObject, state: inout State) {
        guard let evse = data["evse_id"]?.stringValue else { return }
        var view = state.evses[evse] ?? EVSEView()
        func allow(_ allowed: Bool, _ reason: String) {
            view.energyAllowed = allowed
            view.energyReason = reason
        }
        switch (name, type) {
        case ("hlc_charging", .update):
            let on = data["status"]?.boolValue == true
            allow(on, on ? "hlc_charging true" : "hlc_charging false was sent")
        case ("cable_check", .request) where data["cable_check_action"]?.stringValue == "start":
            allow(true, "cable_check start")
        case ("slac_status", .update) where data["status"]?.stringValue == "basic_charging":
            allow(true, "basic charging")
        case ("cp_pwm", .request):
            if data["error_state"]?.boolValue == true || data["fault_state"]?.boolValue == true {
                allow(false, "cp_pwm error/fault state")
            } else if data["hlc"]?.boolValue == false, let current = data["current"]?.numberValue {
                allow(current > 0, current > 0 ? "basic charging PWM" : "cp_pwm 0 A was sent")
            }
        case ("iso15118_state_info", .update):
            switch data["session_status"]?.stringValue {
            case "ScheduleExchange"?: allow(true, "ISO 15118-20 ScheduleExchange")
            case "SessionStop"?: allow(false, "SessionStop was sent")
            default: break
            }
        case ("stop_charging", .request):
            allow(false, "stop_charging was sent")
        case ("transaction_status", .update) where data["status"]?.stringValue == "ended":
            allow(false, "transaction ended")
        case ("authorization", .update):
            view.authorized = data["status"]?.stringValue == "accepted"
        default:
            return
        }
        state.evses[evse] = view
    }
}
