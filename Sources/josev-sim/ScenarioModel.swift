// Scenarios as data: an array of steps (send / request / poll / expect / control / wait) and a
// runner that executes them against a SessionPeer, one verdict line per step.
import Foundation
import JSONSchema
import JosevContract

/// Values the steps refer to with `$name` placeholders in their JSON.
struct ScenarioContext: Sendable {
    /// `$evse`: from `--evse-id`, else the first EVSE of the `cs_parameters` answer.
    var evse: String?
    /// `$connector`
    var connector = 1
    /// `$uid`: the RFID card.
    var uid = "04A1B2C3"
    /// `$ev_current`: what the EV asks for per phase (A).
    var evCurrent = 16.0
    /// `$run`: the SLAC run id.
    var runID = String(UInt64.random(in: 0...UInt64.max), radix: 16, uppercase: true)
    /// `$tx`: the OCPP transaction id.
    var transactionID = EnvelopeID.random()
    /// Whether the EV can be driven (`--control-socket`).
    var hasEV = false

    /// Replaces the placeholders in strings that consist of one placeholder only.
    func fill(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text) where text.hasPrefix("$"):
            switch text {
            case "$evse": return .string(evse ?? "?")
            case "$connector": return .int(Int64(connector))
            case "$uid": return .string(uid)
            case "$ev_current": return .double(evCurrent)
            case "$run": return .string(runID)
            case "$tx": return .string(transactionID)
            case "$now": return .string(Self.timestamp())
            default: return value
            }
        case .array(let elements): return .array(elements.map(fill))
        case .object(let object): return .object(fill(object))
        default: return value
        }
    }

    func fill(_ object: JSONObject) -> JSONObject {
        JSONObject(object.members.map { JSONObject.Member(key: $0.key, value: fill($0.value)) })
    }

    /// `2025-03-01T10:15:30.123Z`: at most 3 fractional digits, as the contract requires.
    static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

/// A condition on a message's `data`. Paths are dotted keys; `evses[$evse]` picks the array
/// element whose `evse_id` is the session's EVSE.
enum Check: Sendable {
    case equals(String, JSONValue)
    case oneOf(String, [JSONValue])
    case present(String)
    /// The array at the path holds an object whose `key` (default `evse_id`) is `$evse`; the first
    /// one listed is adopted as `$evse` when the session has none yet.
    case listsEVSE(String, key: String = "evse_id")
    /// `components[]` (device_model, device_model_update) holds the component with the variable at
    /// this value.
    case deviceVariable(component: String, variable: String, value: String)

    var text: String {
        switch self {
        case .equals(let path, let value): "\(path)=\(KeyFields.short(value))"
        case .oneOf(let path, let values): "\(path) ∈ {\(values.map(KeyFields.short).joined(separator: ","))}"
        case .present(let path): "\(path) present"
        case .listsEVSE(let path, let key): "\(path)[].\(key) lists $evse"
        case .deviceVariable(let component, let variable, let value): "\(component).\(variable)=\(value)"
        }
    }

    /// nil when the data passes, else why not.
    func failure(_ data: JSONObject, _ context: inout ScenarioContext) -> String? {
        let evse = context.evse ?? "?"
        return rawFailure(data, &context)?.replacingOccurrences(of: "[$evse]", with: "[\(evse)]")
    }

    private func rawFailure(_ data: JSONObject, _ context: inout ScenarioContext) -> String? {
        switch self {
        case .equals(let path, let expected):
            let expected = context.fill(expected)
            guard let actual = Self.resolve(path, in: data, context) else { return "\(path) is missing (expected \(KeyFields.short(expected)))" }
            return actual == expected ? nil : "\(path) is \(KeyFields.short(actual)), expected \(KeyFields.short(expected))"
        case .oneOf(let path, let values):
            let values = values.map(context.fill)
            let list = values.map(KeyFields.short).joined(separator: ", ")
            guard let actual = Self.resolve(path, in: data, context) else { return "\(path) is missing (expected one of \(list))" }
            return values.contains(actual) ? nil : "\(path) is \(KeyFields.short(actual)), expected one of \(list)"
        case .present(let path):
            return Self.resolve(path, in: data, context) == nil ? "\(path) is missing" : nil
        case .listsEVSE(let path, let key):
            let listed = (Self.resolve(path, in: data, context)?.arrayValue ?? []).compactMap { $0[key]?.stringValue }
            guard let evse = context.evse else {
                guard let first = listed.first else { return "\(path) lists no EVSE" }
                context.evse = first
                return nil
            }
            return listed.contains(evse) ? nil : "\(path) lists \(listed.isEmpty ? "no EVSE" : listed.joined(separator: ", ")), not \(evse)"
        case .deviceVariable(let component, let variable, let value):
            let values = (data["components"]?.arrayValue ?? []).filter { $0["name"]?.stringValue == component }
                .flatMap { $0["variables"]?.arrayValue ?? [] }.filter { $0["name"]?.stringValue == variable }
                .compactMap { $0["value"]?.stringValue }
            if values.contains(value) { return nil }
            return values.isEmpty
                ? "components[] has no \(component).\(variable)"
                : "\(component).\(variable) is \(values.joined(separator: ", ")), expected \(value)"
        }
    }

    static func resolve(_ path: String, in data: JSONObject, _ context: ScenarioContext) -> JSONValue? {
        var current: JSONValue? = .object(data)
        for segment in path.split(separator: ".") {
            if let open = segment.firstIndex(of: "["), segment.hasSuffix("]") {
                let key = String(segment[..<open])
                let selector = context.fill(.string(String(segment[segment.index(after: open)..<segment.index(before: segment.endIndex)])))
                current = current?[key]?.arrayValue?.first { $0["evse_id"] == selector }
            } else {
                current = current?[String(segment)]
            }
            if current == nil { return nil }
        }
        return current
    }
}

/// A CS message a step waits for: name, type and conditions on its data.
struct Expectation: Sendable {
    let name: String
    let type: MessageType
    let checks: [Check]

    init(_ name: String, _ type: MessageType = .update, _ checks: [Check] = []) {
        self.name = name
        self.type = type
        self.checks = checks
    }

    var text: String {
        "\(name) \(type.rawValue)" + (checks.isEmpty ? "" : " with " + checks.map(\.text).joined(separator: ", "))
    }
}

struct Step: Sendable {
    enum Action: Sendable {
        /// An update to the CS.
        case update(String, JSONObject)
        /// A request; the answer must come (within 3 s for the time-critical names), have the same id
        /// and name, pass its schema and the checks.
        case request(String, JSONObject, [Check])
        /// The same request every `every` seconds until an answer passes `until` (each answer is
        /// checked as for `.request`), at most `attempts` times.
        case poll(String, JSONObject, until: [Check], then: [Check], every: Double, attempts: Int)
        /// One of these CS messages (received since the step marked `since`, or since the last
        /// send/request/control step) within `within` seconds of that point.
        case expect([Expectation], within: Double, since: String?)
        /// A command on the station's control socket (the EV or the driver).
        case control(JSONObject)
        case wait(Double)
        /// The CS updates `name` matching `checks` (received since the last send/request/control
        /// step) carry these values of `field` in this order (repeats of a value in a row count
        /// once, e.g. one `downloading` per attempt), all within `within` seconds. Fails as soon as
        /// a value comes that the order does not allow.
        case sequence(String, [Check], field: String, expected: [String], within: Double)
    }

    let label: String
    let action: Action
    var needsEV = false
    /// Only run without `--control-socket` (the no-EV variant of a check).
    var withoutEVOnly = false
    /// A failure is only a warning.
    var optional = false
    /// Remember where this step started, for a later `expect(since:)`.
    var mark: String?
    /// An `expect` that may match a message an earlier step already matched ("has been reported").
    var reuse = false

    static func update(_ name: String, _ data: JSONObject, _ label: String? = nil) -> Step {
        Step(label: label ?? "\(name) update", action: .update(name, data))
    }

    static func request(_ name: String, _ data: JSONObject = [:], _ checks: [Check] = [], _ label: String? = nil) -> Step {
        Step(label: label ?? "\(name) request", action: .request(name, data, checks))
    }

    static func expect(_ label: String, _ alternatives: [Expectation], within: Double = 3, since: String? = nil) -> Step {
        Step(label: label, action: .expect(alternatives, within: within, since: since))
    }

    static func control(_ label: String, _ command: JSONObject) -> Step {
        Step(label: label, action: .control(command), needsEV: true)
    }

    func ev() -> Step { var step = self; step.needsEV = true; return step }
    func noEV() -> Step { var step = self; step.withoutEVOnly = true; return step }
    func soft() -> Step { var step = self; step.optional = true; return step }
    func marked(_ name: String) -> Step { var step = self; step.mark = name; return step }
    func reusing() -> Step { var step = self; step.reuse = true; return step }
}

/// Requests that must be answered within 3 s (§2.8 item 2).
let timeCritical: [String: Double] = [
    "cp_pwm": 3, "cs_contactor_status": 3, "cable_check": 3, "power_electronics_setpoint": 3, "cs_status_and_limits": 3,
]

/// Executes the steps and prints one verdict per step.
final class ScenarioRunner {
    let name: String
    let peer: SessionPeer
    let control: ControlSocket?
    var context: ScenarioContext
    let timeout: Double
    let keepGoing: Bool
    private var transcript: Transcript { peer.transcript }

    /// Inbox position and time where the last send/request/control step started, and marked ones.
    private var anchor: (index: Int, at: ContinuousClock.Instant, label: String) = (0, .now, "start")
    private var marks: [String: (index: Int, at: ContinuousClock.Instant, label: String)] = [:]
    private(set) var latencies: [(String, Double)] = []

    init(name: String, peer: SessionPeer, control: ControlSocket?, context: ScenarioContext, timeout: Double, keepGoing: Bool) {
        self.name = name
        self.peer = peer
        self.control = control
        self.context = context
        self.timeout = timeout
        self.keepGoing = keepGoing
    }

    enum Outcome {
        case pass(String)
        case fail(String)
    }

    /// Runs every step; returns true when the CS behaved.
    func run(_ steps: [Step]) async -> Bool {
        var failures: [(Int, Step, String)] = []
        var warnings: [String] = []
        var skipped = 0
        var passed = 0
        if !context.hasEV {
            transcript.note("(no --control-socket: the EV and driver steps are skipped, so no C2, no card, no contactor closing)")
        }
        for (offset, step) in steps.enumerated() {
            let number = offset + 1
            if step.needsEV, !context.hasEV {
                transcript.note("– #\(number) \(step.label): skipped (needs --control-socket)")
                skipped += 1
                continue
            }
            if step.withoutEVOnly, context.hasEV { continue }
            let problemsBefore = peer.problemCount
            let now = ContinuousClock.now
            switch step.action {
            case .update, .request, .poll, .control:
                anchor = (peer.inboxCount, now, step.label)
            default: break
            }
            if let mark = step.mark { marks[mark] = (peer.inboxCount, now, step.label) }
            var outcome = await execute(step)
            if case .pass = outcome {
                // Problems seen in the background (schema, contactor, …) fail the step they happened in.
                let late = peer.problems(since: problemsBefore)
                if !late.isEmpty { outcome = .fail(late.joined(separator: "; ")) }
            }
            switch outcome {
            case .pass(let detail):
                passed += 1
                transcript.note("✓ #\(number) \(step.label)\(detail.isEmpty ? "" : ": " + detail)")
            case .fail(let reason) where step.optional:
                warnings.append("#\(number) \(step.label): \(reason)")
                transcript.note("⚠ #\(number) \(step.label): \(reason) (optional)")
            case .fail(let reason):
                failures.append((number, step, reason))
                transcript.note("✗ #\(number) \(step.label): \(reason)")
                if !keepGoing {
                    transcript.note("(stopping at the first failure; --keep-going runs the remaining \(steps.count - number) steps)")
                    return verdict(steps: steps, passed: passed, skipped: skipped, failures: failures, warnings: warnings)
                }
            }
        }
        // Late messages after the last step (e.g. a contactor closing again).
        let before = peer.problemCount
        try? await Task.sleep(for: .milliseconds(500))
        for late in peer.problems(since: before) { failures.append((steps.count, steps.last!, "after the last step: \(late)")) }
        return verdict(steps: steps, passed: passed, skipped: skipped, failures: failures, warnings: warnings)
    }

    private func verdict(steps: [Step], passed: Int, skipped: Int, failures: [(Int, Step, String)], warnings: [String]) -> Bool {
        let allWarnings = warnings + peer.warnings
        if !latencies.isEmpty {
            var names: [String] = []
            var byName: [String: [Double]] = [:]
            for (name, latency) in latencies {
                if byName[name] == nil { names.append(name) }
                byName[name, default: []].append(latency)
            }
            let text = names.map { name in
                let values = byName[name]!
                return "\(name) \(Transcript.latency(values.max()!))" + (values.count > 1 ? " (×\(values.count))" : "")
            }
            transcript.line("latency, worst per request: " + text.joined(separator: ", "))
        }
        let tail = "\(passed) passed, \(failures.count) failed, \(skipped) skipped\(skipped > 0 ? " (no --control-socket)" : ""), \(allWarnings.count) warning\(allWarnings.count == 1 ? "" : "s")"
        if let (number, step, reason) = failures.first {
            transcript.line("FAIL \(name): step \(number)/\(steps.count) \"\(step.label)\": \(reason)  [\(tail)]")
            return false
        }
        transcript.line("PASS \(name): \(steps.count) steps, \(tail)")
        return true
    }

    private func execute(_ step: Step) async -> Outcome {
        switch step.action {
        case .update(let name, let data):
            do {
                try peer.send(name: name, type: .update, data: context.fill(data))
                return .pass("")
            } catch {
                return .fail("could not publish: \(error)")
            }
        case .request(let name, let data, let checks):
            return await ask(name, data, checks)
        case .poll(let name, let data, let until, let then, let every, let attempts):
            var last = ""
            for attempt in 1...attempts {
                switch await ask(name, data, []) {
                case .fail(let reason): return .fail("attempt \(attempt): \(reason)")
                case .pass:
                    break
                }
                guard let answer = lastAnswer else { return .fail("attempt \(attempt): no answer") }
                let reasons = until.compactMap { $0.failure(answer.envelope.data, &context) }
                if reasons.isEmpty {
                    let final = then.compactMap { $0.failure(answer.envelope.data, &context) }
                    if !final.isEmpty { return .fail("after \(attempt) requests: " + final.joined(separator: "; ")) }
                    return .pass("after \(attempt) request\(attempt == 1 ? "" : "s")")
                }
                last = reasons.joined(separator: "; ")
                try? await Task.sleep(for: .seconds(every))
            }
            return .fail("still not \(until.map(\.text).joined(separator: ", ")) after \(attempts) requests (last: \(last))")
        case .expect(let alternatives, let within, let since):
            return await expect(alternatives, within: within, since: since, reuse: step.reuse)
        case .control(let command):
            return await drive(context.fill(command))
        case .wait(let seconds):
            try? await Task.sleep(for: .seconds(seconds))
            return .pass("")
        case .sequence(let name, let checks, let field, let expected, let within):
            return await sequence(name, checks, field: field, expected: expected, within: within)
        }
    }

    private func sequence(_ name: String, _ checks: [Check], field: String, expected: [String], within: Double) async -> Outcome {
        let origin = anchor
        let deadline = origin.at + .seconds(within)
        var seen: [String] = []
        while true {
            var context = self.context
            let matching = peer.messages(from: origin.index).filter { message in
                message.envelope.name == name && message.envelope.type == .update
                    && checks.allSatisfy { $0.failure(message.envelope.data, &context) == nil }
            }
            seen = []
            for message in matching {
                let value = message.envelope.data[field]?.stringValue ?? "(no \(field))"
                if seen.last != value { seen.append(value) }
            }
            let arrow = seen.joined(separator: " → ")
            if seen.count > expected.count || Array(expected.prefix(seen.count)) != seen {
                return .fail("\(name) \(field): \(arrow), expected \(expected.joined(separator: " → "))")
            }
            if seen == expected, let last = matching.last {
                let delay = Transcript.seconds(last.at - origin.at)
                return .pass("\(name) \(seen.last ?? "") \(Transcript.latency(delay)) after \(origin.label)")
            }
            if ContinuousClock.now >= deadline { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let sofar = seen.isEmpty ? "none came" : "only " + seen.joined(separator: " → ")
        return .fail("no \(name) \(expected.joined(separator: " → ")) within \(Self.format(within)) s of \(origin.label); \(sofar)")
    }

    private var lastAnswer: Received?

    /// Sends a request and checks its answer: arrival, time limit, id/name/type, schema, checks.
    private func ask(_ name: String, _ data: JSONObject, _ checks: [Check]) async -> Outcome {
        lastAnswer = nil
        let envelope: Envelope
        do {
            envelope = try peer.send(name: name, type: .request, data: context.fill(data))
        } catch {
            return .fail("could not publish: \(error)")
        }
        let limit = timeCritical[name]
        let deadline = ContinuousClock.now + .seconds(max(timeout, limit ?? 0))
        var exchange = peer.exchange(envelope.id)
        while exchange?.answer == nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
            exchange = peer.exchange(envelope.id)
        }
        guard let exchange, let answer = exchange.answer, let latency = exchange.latency else {
            return .fail("no \(name) response within \(Self.format(max(timeout, limit ?? 0))) s (id \(envelope.id))")
        }
        lastAnswer = answer
        latencies.append((name, latency))
        var reasons: [String] = []
        if let limit, latency > limit {
            reasons.append("late: answered after \(Transcript.latency(latency)), limit \(Self.format(limit)) s")
        }
        if answer.envelope.type != .response {
            reasons.append("answered with type \(answer.envelope.type.rawValue), not response")
        }
        if answer.envelope.name != name {
            reasons.append("answer to \(name) carries name \(answer.envelope.name)")
        }
        switch answer.verdict {
        case .invalid(let errors)?: reasons.append("fails the \(answer.envelope.name) response schema: " + errors.joined(separator: "; "))
        case .noSchema(let reason)?:
            if peer.options.allowMissingSchemas {
                peer.warnOnce("\(name).response", "\(name) response not checked: \(reason)")
            } else {
                reasons.append("cannot check it: \(reason)")
            }
        default: break
        }
        reasons += checks.compactMap { $0.failure(answer.envelope.data, &context) }
        if reasons.isEmpty {
            return .pass("\(Transcript.latency(latency))" + (limit.map { " (limit \(Self.format($0)) s)" } ?? ""))
        }
        return .fail(reasons.joined(separator: "; "))
    }

    private func expect(_ alternatives: [Expectation], within: Double, since: String?, reuse: Bool) async -> Outcome {
        let origin = since.flatMap { marks[$0] } ?? anchor
        let deadline = origin.at + .seconds(within)
        while true {
            var context = self.context
            let found = peer.take(from: origin.index, reuse: reuse) { message in
                alternatives.contains { expectation in
                    expectation.name == message.envelope.name && expectation.type == message.envelope.type
                        && expectation.checks.allSatisfy { $0.failure(message.envelope.data, &context) == nil }
                }
            }
            if let found {
                self.context = context
                let delay = Transcript.seconds(found.at - origin.at)
                return .pass("\(found.envelope.name) \(found.envelope.type.rawValue) \(Transcript.latency(delay)) after \(origin.label)")
            }
            if ContinuousClock.now >= deadline { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        // Say what came instead.
        let wanted = alternatives.map(\.text).joined(separator: " or ")
        var near: [String] = []
        for message in peer.messages(from: origin.index) {
            for expectation in alternatives where expectation.name == message.envelope.name && expectation.type == message.envelope.type {
                var context = self.context
                let reasons = expectation.checks.compactMap { $0.failure(message.envelope.data, &context) }
                near.append(reasons.isEmpty ? "\(message.envelope.name) already used by an earlier step" : reasons.joined(separator: ", "))
            }
        }
        let others = peer.messages(from: origin.index).count
        let seen = near.isEmpty
            ? "none of that name came (\(others) other CS message\(others == 1 ? "" : "s") since)"
            : "came instead: " + near.joined(separator: " | ")
        return .fail("no \(wanted) within \(Self.format(within)) s of \(origin.label); \(seen)")
    }

    private func drive(_ command: JSONObject) async -> Outcome {
        guard let control else { return .fail("no control socket") }
        let verb = command["command"]?.stringValue ?? "?"
        transcript.message("⚡ \(verb)  \(JSONValue.object(command).serialized())")
        do {
            let answer = try await control.request(command)
            transcript.message("⚡ \(verb) ← \(JSONValue.object(answer).serialized())")
            if answer["ok"]?.boolValue == true { return .pass("") }
            return .fail("the station refused it: \(answer["error"]?.stringValue ?? JSONValue.object(answer).serialized())")
        } catch {
            transcript.message("⚡ \(verb) ✗ \(error)")
            return .fail("control socket: \(error)")
        }
    }

    static func format(_ seconds: Double) -> String {
        seconds.rounded() == seconds ? String(Int(seconds)) : String(format: "%.1f", seconds)
    }
}
