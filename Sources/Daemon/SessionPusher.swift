import BackOffice
import Basics
import JSONSchema
import Logging
import Store
import Synchronization

/// Sends the push outbox to the eMSP's OCPI 2.2.1 Sessions receiver interface: `PUT
/// {base}/sessions/{country_code}/{party_id}/{session_id}` with the whole Session object, `PATCH`
/// with `kwh`, `charging_periods` (the whole list: a repeated PATCH never duplicates a period),
/// `status`, `end_date_time` and `last_updated`. Per session in order (an item waits behind its
/// session's earlier one); an item leaves the outbox only when the eMSP acknowledged it (OCPI
/// `status_code` 1xxx). 2xxx (and HTTP 4xx): the eMSP refuses the data — logged with its answer and
/// kept for a person (visible in `cs-companion status`), not retried. 3xxx, HTTP 5xx, network and
/// token-endpoint failures: retried with capped exponential backoff (1 s doubling to 5 min), kept
/// in the database across restarts. The body is built from the session as stored when it is sent:
/// `last_updated` is the stored one, which never goes back.
///
/// Asleep while nothing is due: it waits for the recorder's `pushBell` (rung by every write), the
/// next retry or the next backlog report, whichever comes first — never polling the database.
struct SessionPusher: Service {
    /// The longest sleep with nothing queued (a safety net: every write rings the bell).
    static let idleWait: Duration = .seconds(60)
    /// While the store cannot be opened: how often to look again.
    static let storeRetry: Duration = .seconds(1)
    static let maxBackoffSeconds: Int64 = 300

    let configuration: OCPIPushConfiguration
    let recorder: SessionRecorder
    let authorization: OCPIAuthorization
    let options: TransferOptions
    let statistics: PushStatistics
    let logger: Logger
    let time: any TimeSource
    /// Called when the backlog's size changed (at most once a second): the STATUS= line follows.
    let backlogChanged: @Sendable () -> Void

    init(
        configuration: OCPIPushConfiguration, recorder: SessionRecorder, logger: Logger, time: any TimeSource = SystemTime(),
        backlogChanged: @escaping @Sendable () -> Void = {}
    ) {
        self.backlogChanged = backlogChanged
        self.configuration = configuration
        self.recorder = recorder
        options = TransferOptions(caFile: configuration.caFile, connectTimeout: 10, stallTimeout: 20, totalTimeout: 30)
        authorization = OCPIAuthorization(configuration: configuration, time: time, options: options)
        statistics = recorder.pushStatistics
        self.logger = logger
        self.time = time
    }

    func run() async {
        logger.info("pushing sessions to \(TransferScheme.redacted(configuration.baseURL))/sessions (OCPI 2.2.1)")
        var reported: Int?
        var lastReport: ContinuousClock.Instant?
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            var wait = Self.idleWait
            switch await pushDue() {
            case .storeUnavailable: wait = Self.storeRetry
            case .sent: wait = .zero  // the next item of the same session may be due now
            case .nothingDue(let nextAttempt):
                if let nextAttempt { wait = min(wait, .milliseconds(max(10, nextAttempt - time.unixMilliseconds()))) }
            }
            let now = time.monotonic()
            let reportDue = lastReport.map { $0 + .seconds(1) } ?? now
            if reportDue <= now, let backlog = recorder.pushBacklog?.count {
                lastReport = now
                if backlog != reported {
                    reported = backlog
                    backlogChanged()
                }
            } else if reportDue > now {
                // Something happened since the last report: look again when the next one is due
                // (one wake-up, not a backlog query per round).
                wait = min(wait, now.duration(to: reportDue))
            }
            guard wait > .zero else { continue }
            await cancelWhenGracefulShutdown { [recorder, wait] in await recorder.pushBell.wait(atMost: wait) }
        }
    }

    enum Round: Equatable {
        case storeUnavailable
        /// At least one item went out (acknowledged, deferred or held).
        case sent
        /// Nothing was due; the earliest retry of a waiting item (Unix ms), if any.
        case nothingDue(nextAttempt: Int64?)
    }

    /// Sends every item that is due, oldest first.
    func pushDue() async -> Round {
        guard let store = recorder.store, let items = try? store.nextPushes() else { return .storeUnavailable }
        var sent = false
        var nextAttempt: Int64?
        for item in items {
            guard !Task.isCancelled else { break }
            guard item.nextAttempt <= time.unixMilliseconds() else {
                nextAttempt = min(nextAttempt ?? item.nextAttempt, item.nextAttempt)
                continue
            }
            await send(item, store: store)
            sent = true
        }
        return sent ? .sent : .nothingDue(nextAttempt: nextAttempt)
    }

    private func send(_ item: PushItem, store: Store) async {
        let session: ChargingSessionRecord
        do {
            guard let found = try store.session(id: item.sessionID) else {
                try store.acknowledgePush(item)
                return
            }
            session = found
        } catch {
            return
        }
        let url = "\(configuration.baseURL)/sessions/\(configuration.parameters.countryCode)/\(configuration.parameters.partyID)/\(session.id)"
        let body = Self.body(item.kind, session, configuration.parameters).serialized()
        var headers = [
            "Content-Type: application/json", "Accept: application/json", "X-Request-ID: \(UUIDText.random())",
            "X-Correlation-ID: \(session.id)-\(item.seq)", "OCPI-from-country-code: \(configuration.parameters.countryCode)",
            "OCPI-from-party-id: \(configuration.parameters.partyID)",
        ]
        let what = "\(item.kind.rawValue) of session \(session.id)"
        do {
            headers += try await authorization.headers()
        } catch {
            retry(item, store: store, what: what, reason: "\(error)")
            return
        }
        let response: HTTPExchange.Response
        do {
            response = try await HTTPExchange.send(item.kind.rawValue, url: url, headers: headers, body: Array(body.utf8), options: options)
        } catch {
            retry(item, store: store, what: what, reason: "\(error)")
            return
        }
        let statusCode = (try? JSONValue.parse(response.body))?["status_code"]?.integerValue
        switch (response.status, statusCode) {
        case (200..<300, .some(1000..<2000)):
            do {
                try store.acknowledgePush(item)
            } catch {
                return  // sent again later: the receiver may see a repeated push, never a missing one
            }
            let latency = max(0, time.unixMilliseconds() - item.created)
            statistics.acknowledged(latencyMilliseconds: latency)
            logger.debug("\(what) acknowledged after \(latency) ms")
        case (401, _):
            authorization.invalidate()
            retry(item, store: store, what: what, reason: "HTTP 401 (credentials refused)")
        case (200..<300, .some(2000..<3000)), (400..<500, _):
            let answer = String(response.text.prefix(500))
            logger.error("\(what) refused by the eMSP (HTTP \(response.status), status_code \(statusCode.map(String.init) ?? "-")): \(answer); kept, not retried")
            try? store.holdPush(item, error: "HTTP \(response.status) status_code \(statusCode.map(String.init) ?? "-"): \(answer)")
            statistics.refused()
        default:
            retry(item, store: store, what: what, reason: "HTTP \(response.status), status_code \(statusCode.map(String.init) ?? "-")")
        }
    }

    /// A failure another attempt may fix: the item waits 1 s, 2 s, 4 s … up to 5 minutes.
    private func retry(_ item: PushItem, store: Store, what: String, reason: String) {
        let delay = min(Self.maxBackoffSeconds, Int64(1) << Int64(min(item.attempts, 16)))
        let until = time.unixMilliseconds() + delay * 1000
        try? store.deferPush(item, until: until, error: reason)
        statistics.failed()
        // One line per failure of the oldest item only: an outage of a day is not a line per item.
        if item.attempts < 3 || item.attempts % 10 == 0 {
            logger.warning("\(what) failed (attempt \(item.attempts + 1)): \(reason); next try in \(delay) s")
        }
    }

    /// The request body: the whole Session object (PUT) or the fields that change (PATCH).
    static func body(_ kind: PushItem.Kind, _ session: ChargingSessionRecord, _ parameters: OCPIParameters) -> ExportJSON {
        let whole = SessionExport.ocpiSession(session, parameters: parameters)
        guard kind == .patch, let members = whole.objectMembers else { return whole }
        let changing: Set<String> = ["kwh", "charging_periods", "status", "end_date_time", "last_updated"]
        return .object(members.filter { changing.contains($0.key) })
    }
}

/// What the push did since the start: acknowledged pushes with their latency from the stored
/// change to the eMSP's acknowledgement (p50/p99 for `cs-companion status`), failures, refusals.
final class PushStatistics: Sendable {
    private struct State {
        var acknowledged = 0
        var failures = 0
        var refusals = 0
        /// The latest latencies (ms), a window of 1024.
        var latencies: [Int64] = []
    }

    private let state = Mutex(State())

    func acknowledged(latencyMilliseconds: Int64) {
        state.withLock { state in
            state.acknowledged += 1
            state.latencies.append(latencyMilliseconds)
            if state.latencies.count > 1024 { state.latencies.removeFirst(state.latencies.count - 1024) }
        }
    }

    func failed() { state.withLock { $0.failures += 1 } }
    func refused() { state.withLock { $0.refusals += 1 } }

    /// Counts and the latency percentiles (nil before the first acknowledgement).
    var summary: (acknowledged: Int, failures: Int, refusals: Int, p50: Int64?, p99: Int64?) {
        state.withLock { state in
            let sorted = state.latencies.sorted()
            func percentile(_ p: Double) -> Int64? {
                sorted.isEmpty ? nil : sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
            }
            return (state.acknowledged, state.failures, state.refusals, percentile(0.5), percentile(0.99))
        }
    }
}
