// `josev-sim load`: the benchmark's load generator. N requests with at most K outstanding, matched
// by id; latency percentiles, throughput, timeouts and invalid answers.
//
// Kept cheap per message: payloads are built before the clock starts; a request's id encodes its
// index (a per-run UUID prefix + 12 hex digits), so an answer is matched by reading its id straight
// from the bytes, with no JSON parsing and no dictionary; the answer that frees a slot sends the
// next request from the receiving task. Answers are parsed and schema-checked after the run.
import ArgumentParser
import Foundation
import JSONSchema
import JosevContract
import Mosquitto
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load generator: N requests, at most K in flight; prints req/s and latency percentiles.",
        discussion: """
            Exits 1 when a request timed out, could not be sent or got an invalid answer. After 2 × K \
            timeouts in a row the responder is taken as gone: the run ends and the requests left are \
            reported as abandoned instead of each waiting out its timeout.
            """)

    @OptionGroup var connection: Connection

    @Option(name: .long, help: "Number of requests (N).")
    var requests = 10_000

    @Option(name: .long, help: "Requests outstanding at most (K).")
    var inFlight = 1

    @Option(name: .long, help: "Request name.")
    var name = "cs_status_and_limits"

    @Option(name: .long, help: "The requests' data as JSON (default {}).")
    var data = "{}"

    @Option(name: .long, help: "MQTT QoS of the requests and of the subscription: 0 or 1.")
    var qos = 1

    @Flag(name: .long, help: "Print the figures as one JSON object.")
    var json = false

    @Flag(name: .long, help: "Skip checking the answers against the schema after the run.")
    var noValidate = false

    mutating func validate() throws {
        guard requests > 0 else { throw ArgumentParser.ValidationError("--requests must be at least 1") }
        guard inFlight > 0 else { throw ArgumentParser.ValidationError("--in-flight must be at least 1") }
        guard qos == 0 || qos == 1 else { throw ArgumentParser.ValidationError("--qos must be 0 or 1") }
    }

    func run() async throws {
        guard case .object(let requestData) = try JSONValue.parse(data) else {
            throw ArgumentParser.ValidationError("--data must be a JSON object")
        }
        let schemas = noValidate ? nil : try SchemaBook.load(connection.schemaDir)
        let mqttQoS: MQTTQoS = qos == 0 ? .atMostOnce : .atLeastOnce
        let generator = try LoadGenerator(name: name, data: requestData, count: requests)
        var configuration = MosquittoConfiguration(
            host: connection.host, port: connection.port, clientID: "josev-sim-l\(ProcessInfo.processInfo.processIdentifier)")
        configuration.tcpNoDelay = true
        let client = try MosquittoClient(configuration: configuration)
        try client.subscribe(Topic.csToJosev, qos: mqttQoS)
        try await client.connect()

        let run = LoadRun(
            generator: generator, client: client, qos: mqttQoS, inFlight: inFlight,
            timeoutNanos: UInt64(connection.timeout * 1e9), keepAnswers: schemas != nil)
        let figures = await run.start()
        await client.disconnect()

        var invalid = 0
        var firstProblem: String?
        if let schemas {
            for (_, payload) in run.answers() {
                guard let message = try? JSONValue.parse(payload) else {
                    invalid += 1
                    firstProblem = firstProblem ?? "an answer is not JSON"
                    continue
                }
                let problem: String?
                if message["name"]?.stringValue != name {
                    problem = "answer carries name \(message["name"]?.stringValue ?? "none"), not \(name)"
                } else if message["type"]?.stringValue != "response" {
                    problem = "answer has type \(message["type"]?.stringValue ?? "none"), not response"
                } else if !schemas.isValid(message, name: name, type: .response) {
                    if case .invalid(let errors) = schemas.check(message, name: name, type: .response) {
                        problem = "fails the \(name) response schema: " + errors.joined(separator: "; ")
                    } else {
                        problem = "fails the envelope or \(name) response schema"
                    }
                } else {
                    problem = nil
                }
                if let problem {
                    invalid += 1
                    firstProblem = firstProblem ?? problem
                }
            }
            if !schemas.has(name: name, type: .response) {
                firstProblem = firstProblem ?? "no \(name).response.json: answers checked against the envelope only"
            }
        }
        report(figures, invalid: invalid, validated: schemas != nil, note: firstProblem)
        if figures.timeouts > 0 || figures.sendErrors > 0 || figures.abandoned > 0 || invalid > 0 || figures.answered == 0 {
            throw ExitCode(1)
        }
    }

    private func report(_ figures: LoadFigures, invalid: Int, validated: Bool, note: String?) {
        let sorted = figures.latencies.sorted()
        func percentile(_ p: Double) -> UInt64 {
            guard !sorted.isEmpty else { return 0 }
            let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
            return sorted[min(max(rank, 0), sorted.count - 1)]
        }
        let mean = sorted.isEmpty ? 0 : Double(sorted.reduce(0, +)) / Double(sorted.count)
        let rate = figures.elapsed > 0 ? Double(figures.answered) / figures.elapsed : 0
        let micro: (UInt64) -> Double = { (Double($0) / 100).rounded() / 10 }
        if json {
            var latency: JSONObject = [:]
            latency["min"] = .double(micro(sorted.first ?? 0))
            latency["p50"] = .double(micro(percentile(50)))
            latency["p90"] = .double(micro(percentile(90)))
            latency["p99"] = .double(micro(percentile(99)))
            latency["max"] = .double(micro(sorted.last ?? 0))
            latency["mean"] = .double((mean / 1000 * 10).rounded() / 10)
            var object: JSONObject = [:]
            object["name"] = .string(name)
            object["requests"] = .int(Int64(requests))
            object["in_flight"] = .int(Int64(inFlight))
            object["qos"] = .int(Int64(qos))
            object["answered"] = .int(Int64(figures.answered))
            object["timeouts"] = .int(Int64(figures.timeouts))
            object["invalid"] = validated ? .int(Int64(invalid)) : .null
            object["late"] = .int(Int64(figures.late))
            object["duplicates"] = .int(Int64(figures.duplicates))
            object["send_errors"] = .int(Int64(figures.sendErrors))
            object["abandoned"] = .int(Int64(figures.abandoned))
            object["elapsed_s"] = .double((figures.elapsed * 1e6).rounded() / 1e6)
            object["requests_per_s"] = .double((rate * 10).rounded() / 10)
            object["latency_us"] = .object(latency)
            if let note { object["note"] = .string(note) }
            print(JSONValue.object(object).serialized())
            return
        }
        func text(_ nanos: UInt64) -> String { Transcript.latency(Double(nanos) / 1e9) }
        print("load: \(requests) × \(name) request, at most \(inFlight) in flight, QoS \(qos), \(connection.host):\(connection.port)")
        print(
            "  answered \(figures.answered), timeouts \(figures.timeouts) (> \(ScenarioRunner.format(connection.timeout)) s), "
                + "invalid \(validated ? String(invalid) : "not checked"), late \(figures.late), duplicates \(figures.duplicates), "
                + "send errors \(figures.sendErrors)"
                + (figures.abandoned > 0 ? ", abandoned \(figures.abandoned) (\(2 * inFlight) timeouts in a row: the responder stopped answering)" : ""))
        print(String(format: "  %.3f s, %.0f requests/s", figures.elapsed, rate))
        if sorted.isEmpty {
            print("  latency: no answers")
        } else {
            print(
                "  latency min \(text(sorted.first ?? 0)), p50 \(text(percentile(50))), p90 \(text(percentile(90))), "
                    + "p99 \(text(percentile(99))), max \(text(sorted.last ?? 0)), mean \(text(UInt64(mean)))")
        }
        if let note { print("  note: \(note)") }
    }
}

/// The requests of one run, built before the clock starts.
struct LoadGenerator: Sendable {
    /// `xxxxxxxx-xxxx-4xxx-8xxx-` (24 bytes), random per run; the last 12 hex digits are the index.
    let prefix: [UInt8]
    let payloads: [[UInt8]]

    init(name: String, data: JSONObject, count: Int) throws {
        let random = EnvelopeID.random()
        let prefixText = String(random.prefix(14)) + "4" + String(random.dropFirst(15).prefix(4)) + "8"
            + String(random.dropFirst(20).prefix(3)) + "-"
        prefix = Array(prefixText.utf8)
        precondition(prefix.count == 24)
        let placeholder = prefixText + "000000000000"
        let template = Envelope(id: placeholder, name: name, type: .request, data: data).json.serializedBytes()
        guard let offset = LoadGenerator.find(Array(placeholder.utf8), in: template) else {
            throw SimError("internal: id not found in the request template")
        }
        let digits = offset + 24
        let hex = Array("0123456789abcdef".utf8)
        var payloads: [[UInt8]] = []
        payloads.reserveCapacity(count)
        for index in 0..<count {
            var payload = template
            var value = UInt64(index)
            for position in stride(from: digits + 11, through: digits, by: -1) {
                payload[position] = hex[Int(value & 0xF)]
                value >>= 4
            }
            payloads.append(payload)
        }
        self.payloads = payloads
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<start + needle.count].elementsEqual(needle) { return start }
        }
        return nil
    }

    /// The request index an answer belongs to: its `"id":"<prefix><12 hex>"`, read from the bytes.
    func index(of payload: [UInt8]) -> Int? {
        let key: [UInt8] = Array(#""id":""#.utf8)
        return payload.withUnsafeBufferPointer { bytes -> Int? in
            let count = bytes.count
            var position = 0
            while position + key.count + 36 <= count {
                if bytes[position] == key[0], bytes[position + 1] == key[1], bytes[position + 2] == key[2],
                    bytes[position + 3] == key[3], bytes[position + 4] == key[4], bytes[position + 5] == key[5]
                {
                    let start = position + key.count
                    var matches = true
                    for offset in 0..<24 where bytes[start + offset] != prefix[offset] {
                        matches = false
                        break
                    }
                    if matches {
                        var value = 0
                        for offset in 24..<36 {
                            let byte = bytes[start + offset]
                            let digit: Int
                            switch byte {
                            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - UInt8(ascii: "0"))
                            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(byte - UInt8(ascii: "a")) + 10
                            default: return nil
                            }
                            value = value << 4 | digit
                        }
                        return value < payloads.count ? value : nil
                    }
                }
                position += 1
            }
            return nil
        }
    }
}

struct LoadFigures: Sendable {
    var answered = 0
    var timeouts = 0
    var late = 0
    var duplicates = 0
    var sendErrors = 0
    /// Requests not sent or given up because the responder stopped answering (see `LoadRun`).
    var abandoned = 0
    var elapsed = 0.0
    var latencies: [UInt64] = []
}

/// Monotonic nanoseconds.
@inline(__always) func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

final class LoadRun: Sendable {
    private struct State {
        /// 0 not sent, 1 outstanding, 2 answered, 3 timed out or not sent.
        var status: [UInt8]
        var sentAt: [UInt64]
        var outstanding = Set<Int>()
        var next = 0
        var done = 0
        var figures = LoadFigures()
        var firstSend: UInt64 = 0
        var lastDone: UInt64 = 0
        /// Timeouts since the last answer.
        var timeoutsInARow = 0
        var answers: [(Int, [UInt8])] = []
    }

    private let generator: LoadGenerator
    private let client: MosquittoClient
    private let qos: MQTTQoS
    private let inFlight: Int
    private let timeoutNanos: UInt64
    private let keepAnswers: Bool
    private let state: Mutex<State>
    /// A responder that let this many requests in a row time out has stopped answering (twice the
    /// requests in flight: every one outstanding, and the next round too): the run ends there
    /// instead of waiting out every remaining request's timeout.
    private var giveUpAfter: Int { 2 * inFlight }
    private let finished: AsyncStream<Void>.Continuation
    private let finishedStream: AsyncStream<Void>

    init(generator: LoadGenerator, client: MosquittoClient, qos: MQTTQoS, inFlight: Int, timeoutNanos: UInt64, keepAnswers: Bool) {
        self.generator = generator
        self.client = client
        self.qos = qos
        self.inFlight = inFlight
        self.timeoutNanos = timeoutNanos
        self.keepAnswers = keepAnswers
        let count = generator.payloads.count
        var state = State(status: [UInt8](repeating: 0, count: count), sentAt: [UInt64](repeating: 0, count: count))
        state.figures.latencies.reserveCapacity(count)
        if keepAnswers { state.answers.reserveCapacity(count) }
        self.state = Mutex(state)
        (finishedStream, finished) = AsyncStream.makeStream(of: Void.self)
    }

    func answers() -> [(Int, [UInt8])] { state.withLock { $0.answers } }

    /// Runs to the end: every request answered or timed out.
    func start() async -> LoadFigures {
        let messages = client.messages
        let receiver = Task { [self] in
            for await message in messages {
                received(message.payload, at: monotonicNanos())
            }
        }
        let sweeper = Task { [self] in
            let period = max(min(timeoutNanos / 10, 100_000_000), 1_000_000)
            while !Task.isCancelled {
                try? await Task.sleep(for: .nanoseconds(Int64(period)))
                sweep(now: monotonicNanos())
            }
        }
        let first = state.withLock { state in
            state.firstSend = monotonicNanos()
            return (0..<min(inFlight, generator.payloads.count)).map { _ in Self.claim(&state, at: state.firstSend) }
        }
        for index in first { send(index) }
        for await _ in finishedStream { break }
        sweeper.cancel()
        receiver.cancel()
        return state.withLock { state in
            var figures = state.figures
            figures.elapsed = Double(state.lastDone - state.firstSend) / 1e9
            return figures
        }
    }

    /// Marks the next request as sent; nil when all are.
    private static func claim(_ state: inout State, at now: UInt64) -> Int? {
        guard state.next < state.status.count else { return nil }
        let index = state.next
        state.next += 1
        state.status[index] = 1
        state.sentAt[index] = now
        state.outstanding.insert(index)
        return index
    }

    private func send(_ index: Int?) {
        guard let index else { return }
        do {
            try client.publish(topic: Topic.josevToCS, payload: generator.payloads[index], qos: qos)
        } catch {
            let next: Int? = state.withLock { state in
                guard state.status[index] == 1 else { return nil }
                state.status[index] = 3
                state.outstanding.remove(index)
                state.figures.sendErrors += 1
                return complete(&state, at: monotonicNanos())
            }
            send(next)
        }
    }

    /// Ends the run: the outstanding requests and those not sent yet are abandoned.
    private func abandon(_ state: inout State, at now: UInt64) {
        for index in state.outstanding { state.status[index] = 3 }
        state.outstanding.removeAll()
        state.figures.abandoned = state.status.count - state.done
        state.next = state.status.count
        state.done = state.status.count
        state.lastDone = now
        finished.yield()
        finished.finish()
    }

    /// Counts one request as finished, and returns the next to send.
    private func complete(_ state: inout State, at now: UInt64) -> Int? {
        state.done += 1
        state.lastDone = now
        if state.done == state.status.count {
            finished.yield()
            finished.finish()
            return nil
        }
        return Self.claim(&state, at: now)
    }

    private func received(_ payload: [UInt8], at now: UInt64) {
        guard let index = generator.index(of: payload) else { return }  // not ours (e.g. an update)
        let next: Int? = state.withLock { state in
            switch state.status[index] {
            case 1:
                state.status[index] = 2
                state.outstanding.remove(index)
                state.figures.answered += 1
                state.timeoutsInARow = 0
                state.figures.latencies.append(now - state.sentAt[index])
                if keepAnswers { state.answers.append((index, payload)) }
                return complete(&state, at: now)
            case 2:
                state.figures.duplicates += 1
                return nil
            default:
                state.figures.late += 1
                return nil
            }
        }
        send(next)
    }

    private func sweep(now: UInt64) {
        let next: [Int] = state.withLock { state in
            let expired = state.outstanding.filter { now > state.sentAt[$0] && now - state.sentAt[$0] > timeoutNanos }
            var next: [Int] = []
            for index in expired where state.status[index] == 1 {
                state.status[index] = 3
                state.outstanding.remove(index)
                state.figures.timeouts += 1
                state.timeoutsInARow += 1
                if state.timeoutsInARow >= giveUpAfter {
                    state.done += 1  // this one counts as timed out, the rest as abandoned
                    abandon(&state, at: now)
                    return []
                }
                if let claimed = complete(&state, at: now) { next.append(claimed) }
            }
            return next
        }
        for index in next { send(index) }
    }
}
