import Foundation
import JSONSchema
import JosevContract
import Store
import Synchronization
import Systemd
import Testing
import TestSupport

/// SplitMix64: the fault points are random but repeatable — the seed is printed, and
/// `FAULT_SEED=<n>` runs the same points again.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func seed() -> UInt64 {
        if let text = ProcessInfo.processInfo.environment["FAULT_SEED"], let seed = UInt64(text) { return seed }
        return UInt64.random(in: 0...UInt64.max)
    }
}

/// What the fault tests measured, one line each (docs/RELIABILITY.md quotes them).
func faultReport(_ line: String) { print("FAULTS: \(line)") }

/// min / median / max of durations, in ms.
func spread(_ durations: [Duration]) -> String {
    let ms = durations.map { Double($0.components.seconds) * 1000 + Double($0.components.attoseconds) / 1e15 }.sorted()
    guard let first = ms.first, let last = ms.last else { return "none" }
    let median = ms.count % 2 == 1 ? ms[ms.count / 2] : (ms[ms.count / 2 - 1] + ms[ms.count / 2]) / 2
    return String(format: "min %.0f ms, median %.0f ms, max %.0f ms (n=%d)", first, median, last, ms.count)
}

/// A daemon run with its own log and control socket, on a state directory shared across runs.
func daemonRun(stateDirectory: String, config: String, environment: [String: String] = [:]) throws -> DaemonProcess {
    try DaemonProcess(
        config: config, directory: try TemporaryDirectory(prefix: "cs-fault-run"), arguments: ["--state-dir", stateDirectory],
        environment: environment)
}

/// The recorded sessions, read as `cs-companion sessions` reads them (read-only, its own connection).
func recordedSessions(_ database: String) throws -> [ChargingSessionRecord] {
    let store = try Store(path: database, readOnly: true)
    defer { store.close() }
    return try store.sessions()
}

/// `PRAGMA integrity_check` + `foreign_key_check` problems (empty: sound).
func integrityProblems(_ database: String) throws -> [String] {
    let store = try Store(path: database, readOnly: true)
    defer { store.close() }
    return try store.integrityCheck()
}

extension JosevTestClient {
    func transaction(_ id: String, _ status: String, evse: String) throws {
        var data: JSONObject = ["transaction_id": .string(id), "status": .string(status), "evse_id": .string(evse)]
        if status == "started" {
            data["id_token"] = "04AABBCC"
            data["token_type"] = "ISO14443"
        }
        try send(.update(name: "transaction_status", data: data))
    }
}

@Suite("faults: crashes, broker restarts, full and read-only disks, the watchdog", .serialized, .timeLimit(.minutes(3)))
struct FaultTests {
    static let evse = "DE*TST*E0001*1"

    // MARK: 1. SIGKILL during sessions

    @Test("SIGKILL at 20 random points of charging sessions: no completed session lost, the database sound, the running one recovered")
    func killDuringSessions() async throws {
        let seed = SeededRandom.seed()
        print("FaultTests.killDuringSessions: seed \(seed) (FAULT_SEED=\(seed) repeats these kill points)")
        var random = SeededRandom(seed: seed)
        let broker = try await TestBroker()
        let state = try TemporaryDirectory(prefix: "cs-fault-state")
        let stateDirectory = state.file("state")
        let database = stateDirectory + "/cs-companion.db"
        let config = stationConfigYAML(port: broker.port, logLevel: "info") + "\nauthorization:\n  free_vend: true\n"
        let evse = Self.evse
        let josev = try await JosevTestClient(broker: broker)
        var daemon = try daemonRun(stateDirectory: stateDirectory, config: config)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")

        let stepNames = ["started", "plugged", "PWM on", "charging", "charged a while", "EV stopped", "ended"]
        var killsAfter = [Int](repeating: 0, count: stepNames.count)
        var completedBeforeKill: [String] = []
        var recovered = 0
        var recoveredKWh: [Double] = []
        var closedByRecovery = 0
        for round in 0..<20 {
            let tx = "kill-\(round)"
            try josev.transaction(tx, "started", evse: evse)
            // The kill comes after the start is durable: from then on the session must never be lost.
            let durable = await waitUntil(timeout: .seconds(10)) {
                (try? recordedSessions(database).contains { $0.transactionID == tx && $0.status == .active }) == true
            }
            try #require(durable, "\(tx) never recorded: \(daemon.log)")
            let lastStep = Int.random(in: 0..<stepNames.count, using: &random)
            let jitter = Int.random(in: 0...200, using: &random)
            killsAfter[lastStep] += 1
            var ended = false
            for step in 1..<stepNames.count where step <= lastStep {
                switch step {
                case 1:
                    #expect(try await daemon.companion(["plug", "--evse", evse]).status == 0)
                case 2:
                    let pwm = try await josev.ask(
                        "cp_pwm", data: ["evse_id": .string(evse), "hlc": false, "current": 16, "error_state": false, "fault_state": false])
                    #expect(pwm?["data"]?["status"] == "valid", "\(String(describing: pwm))")
                case 3:
                    let mark = josev.messages.count
                    #expect(try await daemon.companion(["ev", "--evse", evse, "16"]).status == 0)
                    #expect(await waitUntil {
                        josev.messages[mark...].contains { $0["name"] == "cs_contactor_status" && $0["data"]?["status"] == "closed" }
                    }, "\(daemon.log)")
                case 4:
                    try await Task.sleep(for: .milliseconds(Int.random(in: 200...800, using: &random)))
                case 5:
                    #expect(try await daemon.companion(["ev", "--evse", evse, "--stop"]).status == 0)
                default:
                    try josev.transaction(tx, "ended", evse: evse)
                    ended = await waitUntil(timeout: .seconds(10)) {
                        (try? recordedSessions(database).contains { $0.transactionID == tx && $0.status == .completed }) == true
                    }
                    #expect(ended, "\(daemon.log)")
                }
            }
            try await Task.sleep(for: .milliseconds(jitter))
            daemon.signal(SIGKILL)
            #expect(await daemon.waitForExit() == 128 + SIGKILL)
            if ended { completedBeforeKill.append(tx) }
            let beforeRestart = try recordedSessions(database).first { $0.transactionID == tx }

            daemon = try daemonRun(stateDirectory: stateDirectory, config: config)
            #expect(await daemon.waitUntilReady(), "\(daemon.log)")
            let sessions = try recordedSessions(database)
            #expect(try integrityProblems(database).isEmpty)
            #expect(sessions.count == round + 1, "\(sessions.map(\.transactionID))")
            #expect(!sessions.contains { $0.status == .active }, "\(sessions)")
            let closedNow = sessions.filter(\.closedByRecovery).count
            for id in completedBeforeKill {
                #expect(sessions.contains { $0.transactionID == id && $0.status == .completed && !$0.closedByRecovery }, "\(id) lost")
            }
            let record = try #require(sessions.first { $0.transactionID == tx })
            if let before = beforeRestart, before.status == .active {
                // Cut by the kill: closed at the start with the last energy recorded and the time of it.
                #expect(record.status == .completed && record.closedByRecovery, "\(record)")
                #expect(record.energyStopWh == before.energyLastWh, "\(record) vs \(before)")
                #expect(record.stop == max(before.start, before.lastUpdate))
                // This start closed exactly this one session.
                #expect(closedNow == closedByRecovery + 1, "\(sessions)")
                recovered += 1
                recoveredKWh.append(record.kwh)
            } else {
                #expect(ended, "\(tx) completed although its end was never sent")
                #expect(record.status == .completed && !record.closedByRecovery)
                #expect(closedNow == closedByRecovery, "\(sessions)")
            }
            closedByRecovery = closedNow
        }
        #expect(recovered + completedBeforeKill.count == 20)
        faultReport(
            "SIGKILL: 20 kills (seed \(seed)), kill points \(zip(stepNames, killsAfter).map { "\($0): \($1)" }.joined(separator: ", ")); "
                + "\(completedBeforeKill.count) sessions completed before a kill all kept, \(recovered) running sessions recovered "
                + "(\(recoveredKWh.filter { $0 > 0 }.count) with energy > 0), 0 ACTIVE left, integrity_check ok after every restart")
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    // MARK: 2. Broker restarts

    @Test("broker killed and restarted 20 times: the daemon reconnects, republishes its state and answers again")
    func brokerRestarts() async throws {
        let broker = try await TestBroker()
        // The daemon reaches the broker through a gate, so the probe is subscribed before the
        // daemon can reconnect and publish (the republished updates are not retained).
        let gate = try TCPProxy(upstreamPort: broker.port)
        defer { gate.close() }
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: stationConfigYAML(port: gate.port, logLevel: "info"), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let probe = try await JosevTestClient(broker: broker)
        let republished = ["cp_status", "cs_contactor_status", "cs_status_and_limits"]

        var reconnects: [Duration] = []
        for round in 1...20 {
            gate.setRefusing(true)
            await broker.kill()
            #expect(await waitUntil { daemon.brokerUnreachable }, "\(daemon.notify.statuses) \(daemon.log)")
            try await broker.restart()
            try #require(await probe.waitUntilBack(marker: "marker-\(round)"), "the probe did not come back after restart \(round)")
            let mark = probe.messages.count
            let opened = ContinuousClock.now
            gate.setRefusing(false)
            let heard = await waitUntil(timeout: .seconds(10)) {
                let new = probe.messages[mark...]
                return republished.allSatisfy { name in new.contains { $0["name"]?.stringValue == name && $0["type"] == "update" } }
            }
            #expect(heard, "round \(round): \(probe.messages[mark...])\n\(daemon.log)")
            reconnects.append(opened.duration(to: .now))
            let answer = try await probe.ask("cs_parameters")
            #expect(answer?["type"] == "response", "round \(round)")
            #expect(await waitUntil { daemon.brokerConnections == round + 1 }, "\(daemon.notify.statuses)")
        }
        faultReport("broker: 20 SIGKILL + restarts on the same port; reconnected and republished \(republished.joined(separator: ", ")) every time; from broker reachable to all three republished: \(spread(reconnects)); a request answered after each")
        await probe.close()
        #expect(await daemon.stop() == 0)
    }

    // MARK: 3. Full and read-only state directory

    @Test("state directory full, then read-only: Josev still served, the problem logged once a minute, every session caught up after")
    func diskFullThenReadOnly() async throws {
        guard getuid() == 0 else {
            print("FaultTests.diskFullThenReadOnly SKIPPED: needs root to mount a small tmpfs on the state directory (uid \(getuid()))")
            return
        }
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let state = directory.file("state")
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let mounted = try await Command.capture("/bin/mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", state])
        guard mounted.status == 0 else {
            print("FaultTests.diskFullThenReadOnly SKIPPED: cannot mount a tmpfs here: \(mounted.output)")
            return
        }
        defer { _ = try? Command.captureBlocking("/bin/umount", ["-l", state]) }
        let database = state + "/cs-companion.db"
        let daemon = try DaemonProcess(config: stationConfigYAML(port: broker.port, logLevel: "info"), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        let evse = Self.evse

        try josev.transaction("tx-before", "started", evse: evse)
        try josev.transaction("tx-before", "ended", evse: evse)
        #expect(await waitUntil(timeout: .seconds(10)) {
            (try? recordedSessions(database).contains { $0.transactionID == "tx-before" && $0.status == .completed }) == true
        }, "\(daemon.log)")

        // Full: a filler takes every free block.
        let filler = state + "/filler"
        let fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(fd >= 0)
        let chunk = [UInt8](repeating: 0xA5, count: 16 * 1024)
        var filled = 0
        while true {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written <= 0 { break }
            filled += written
        }
        let fillErrno = errno
        close(fd)
        #expect(fillErrno == ENOSPC)
        #expect(daemon.storage().map { $0.writable && $0.queuedWrites == 0 && $0.problems == 0 } == true, "\(String(describing: daemon.storage()))")
        let errorsBefore = daemon.logEntries(level: "error").count
        var consumed = try #require(daemon.messageCount("consumed"))
        try josev.transaction("tx-full", "started", evse: evse)
        consumed += 1
        #expect(await waitUntil { daemon.messageCount("consumed") == consumed }, "transaction tx-full started: \(String(describing: daemon.status()?["messages"]))")
        let pwm = try await josev.ask("cp_pwm", data: ["evse_id": .string(evse), "hlc": false, "current": 10, "error_state": false, "fault_state": false])
        #expect(pwm?["data"]?["status"] == "valid", "served while the disk is full")
        try josev.transaction("tx-full", "ended", evse: evse)
        consumed += 1
        // The writes wait for the disk.
        #expect(await waitUntil { daemon.storage().map { !$0.writable && $0.queuedWrites > 0 } ?? false }, "\(String(describing: daemon.storage())) \(daemon.log)")

        // Read-only: the daemon closed the database after the failed write, so the remount succeeds.
        var remountTries = 0
        let readOnly = await waitUntil(timeout: .seconds(15), interval: .milliseconds(100)) {
            remountTries += 1
            return (try? await Command.capture("/bin/mount", ["-o", "remount,ro", state]).status) == 0
        }
        try #require(readOnly, "the state directory could not be remounted read-only: \(daemon.log)")
        #expect(await waitUntil { daemon.messageCount("consumed") == consumed }, "transaction tx-full ended")
        let beforeReadOnly = try #require(daemon.storage())
        try josev.transaction("tx-readonly", "started", evse: evse)
        consumed += 1
        #expect(await waitUntil { daemon.messageCount("consumed") == consumed }, "transaction tx-readonly started")
        #expect(try await josev.ask("cs_parameters")?["type"] == "response", "served while the disk is read-only")
        try josev.transaction("tx-readonly", "ended", evse: evse)
        // Its writes join the queue, and the retries (once a second) meet the read-only disk twice more.
        #expect(await waitUntil(timeout: .seconds(10)) {
            daemon.storage().map { $0.queuedWrites >= beforeReadOnly.queuedWrites + 2 && $0.problems >= beforeReadOnly.problems + 2 } ?? false
        }, "before: \(beforeReadOnly), now: \(String(describing: daemon.storage()))")
        #expect(try await josev.ask("cs_contactor_status", data: ["evse_id": .string(evse)])?["type"] == "response")

        // One line for the whole outage, however many problems met: the minute has not passed.
        let outage = try #require(daemon.storage())
        let problemLines = Array(daemon.logEntries(level: "error").dropFirst(errorsBefore))
        #expect(problemLines.count == 1 && outage.problems >= 3, "\(outage.problems) problems: \(problemLines)")

        // The disk recovers: writable, space freed; every queued write caught up.
        #expect(outage.queuedWrites >= 6, "\(outage)")
        #expect(try await Command.capture("/bin/mount", ["-o", "remount,rw", state]).status == 0)
        #expect(unlink(filler) == 0)
        #expect(await waitUntil(timeout: .seconds(10)) { daemon.storage().map { $0.writable && $0.queuedWrites == 0 } ?? false },
            "\(String(describing: daemon.storage())) \(daemon.log)")

        let sessions = try recordedSessions(database)
        #expect(try integrityProblems(database).isEmpty)
        for tx in ["tx-before", "tx-full", "tx-readonly"] {
            let record = sessions.first { $0.transactionID == tx }
            #expect(record?.status == .completed && record?.closedByRecovery == false, "\(tx): \(String(describing: record))")
        }
        faultReport(
            "disk: problem line: \(problemLines.first.flatMap { entry in entry.line.range(of: "cs-companiond: ").map { String(entry.line[$0.upperBound...]) } } ?? "none")")
        faultReport(
            "disk: tmpfs 1 MiB filled (\(filled) bytes of filler, ENOSPC), then remounted read-only (\(remountTries) tries until the daemon had closed the file); "
                + "Josev answered throughout; \(outage.problems) storage problems met, \(problemLines.count) problem line; "
                + "\(outage.queuedWrites) queued writes caught up, 3 of 3 sessions COMPLETED")
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    // MARK: 5. Availability across a crash

    @Test("an EVSE Josev made inoperative stays inoperative after a SIGKILL and a restart")
    func availabilitySurvivesKill() async throws {
        let broker = try await TestBroker()
        let state = try TemporaryDirectory(prefix: "cs-fault-state")
        let stateDirectory = state.file("state")
        let config = stationConfigYAML(port: broker.port, logLevel: "info")
        let josev = try await JosevTestClient(broker: broker)
        func statusCode(after mark: Int) -> String? {
            josev.messages[mark...].last { $0["name"] == "cs_status_and_limits" && $0["type"] == "update" }?["data"]?["evses"]?
                .arrayValue?.first { $0["evse_id"]?.stringValue == Self.evse }?["status_code"]?.stringValue
        }
        let daemon = try daemonRun(stateDirectory: stateDirectory, config: config)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let before = josev.messages.count
        let answer = try await josev.ask("change_availability", data: ["evse_id": .string(Self.evse), "operational_status": "inoperative"])
        #expect(answer?["data"]?["status"] == "accepted", "\(String(describing: answer))")
        #expect(await waitUntil { statusCode(after: before).map { $0 != "evse_ready" } ?? false }, "\(josev.messages[before...])")
        let inoperative = try #require(statusCode(after: before))
        #expect(inoperative == "evse_not_ready")
        // Stored once the router handled the notification; then the crash.
        #expect(await waitUntil { (try? Store(path: stateDirectory + "/cs-companion.db", readOnly: true).availability(scope: "evse:\(Self.evse)")) == false })
        daemon.signal(SIGKILL)
        _ = await daemon.waitForExit()

        let mark = josev.messages.count
        let restarted = try daemonRun(stateDirectory: stateDirectory, config: config)
        // Restored before the control socket listens: its first answer shows the EVSE inoperative.
        #expect(await waitUntil { restarted.status() != nil }, "\(restarted.log)")
        let restoredCode = restarted.status()?["evses"]?.arrayValue?.first { $0["evse_id"]?.stringValue == Self.evse }?["status_code"]
        #expect(restoredCode == .string(inoperative), "\(String(describing: restarted.status()))")
        #expect(await restarted.waitUntilReady(), "\(restarted.log)")
        #expect(await waitUntil { statusCode(after: mark) != nil })
        #expect(statusCode(after: mark) == inoperative, "\(josev.messages[mark...])")
        let again = try await josev.ask("change_availability", data: ["evse_id": .string(Self.evse), "operational_status": "operative"])
        #expect(again?["data"]?["status"] == "accepted")
        #expect(await waitUntil { statusCode(after: mark) == "evse_ready" }, "\(josev.messages[mark...])")
        await josev.close()
        #expect(await restarted.stop() == 0)
    }

    // MARK: 4. Watchdog

    @Test("a blocked main loop stops WATCHDOG=1; systemd's SIGABRT and restart bring READY=1 back with the session recovered")
    func watchdog() async throws {
        let broker = try await TestBroker()
        let state = try TemporaryDirectory(prefix: "cs-fault-state")
        let stateDirectory = state.file("state")
        let database = stateDirectory + "/cs-companion.db"
        let stall = state.file("stall")
        let config = stationConfigYAML(port: broker.port, logLevel: "info")
        let first = try TemporaryDirectory(prefix: "cs-fault-run")
        let environment = ["WATCHDOG_USEC": "400000", "CS_COMPANIOND_TEST_STALL": stall, "SWIFT_BACKTRACE": "enable=no"]
        let daemon = try DaemonProcess(
            config: config, directory: first, arguments: ["--state-dir", stateDirectory], environment: environment)
        let notify = daemon.notify
        #expect(await waitUntil(timeout: .seconds(10)) { notify.assignments.contains("READY=1") }, "\(daemon.log)")
        func pings(_ listener: NotifySocketListener) -> Int { listener.assignments.filter { $0 == "WATCHDOG=1" }.count }
        #expect(await waitUntil(timeout: .seconds(5)) { pings(notify) >= 3 })

        let josev = try await JosevTestClient(broker: broker)
        try josev.transaction("tx-watchdog", "started", evse: Self.evse)
        #expect(await waitUntil(timeout: .seconds(10)) {
            (try? recordedSessions(database).contains { $0.transactionID == "tx-watchdog" && $0.status == .active }) == true
        })

        // Block the main loop: the pings stop. The notify socket shows the gap: no WATCHDOG=1 for
        // more than seven ping intervals (200 ms) while the daemon runs.
        // (A slow station probe logs a warning with the same id; the withheld ping is the error.)
        func withheldLines() -> [LogEntry] { daemon.logEntries(messageID: MessageID.watchdogLate.hex).filter { $0.level == "error" } }
        #expect(withheldLines().isEmpty, "\(withheldLines())")
        try "stall".write(toFile: stall, atomically: true, encoding: .utf8)
        let blockedAt = ContinuousClock.now
        let gap: Duration = .milliseconds(1500)
        let silent = await waitUntil(timeout: .seconds(10), interval: .milliseconds(50)) {
            notify.lastArrival(of: "WATCHDOG=1").map { $0.duration(to: .now) > gap } ?? false
        }
        #expect(silent, "pings went on while the main loop was blocked")
        #expect(daemon.exitStatus == nil, "the daemon itself is still running: \(daemon.log)")
        let withheldAfter = blockedAt.duration(to: notify.lastArrival(of: "WATCHDOG=1") ?? blockedAt)
        // One line for it: an error with the watchdog-late MESSAGE_ID.
        #expect(withheldLines().count == 1, "\(withheldLines())")
        // The daemon still answers Josev: only the loop is stuck, which is what the watchdog is for.

        // What systemd does when WatchdogSec= passes without a ping: SIGABRT, then Restart=.
        daemon.signal(SIGABRT)
        #expect(await daemon.waitForExit() == 128 + SIGABRT)
        try FileManager.default.removeItem(atPath: stall)

        let second = try TemporaryDirectory(prefix: "cs-fault-run")
        let restarted = try DaemonProcess(
            config: config, directory: second, arguments: ["--state-dir", stateDirectory], environment: environment)
        let notifyAgain = restarted.notify
        #expect(await waitUntil(timeout: .seconds(10)) { notifyAgain.assignments.contains("READY=1") }, "\(restarted.log)")
        #expect(await waitUntil(timeout: .seconds(5)) { pings(notifyAgain) >= 3 })
        let sessions = try recordedSessions(database)
        let record = sessions.first { $0.transactionID == "tx-watchdog" }
        #expect(record?.status == .completed && record?.closedByRecovery == true, "\(String(describing: record))")
        #expect(sessions.filter(\.closedByRecovery).count == 1, "\(sessions)")
        #expect(try integrityProblems(database).isEmpty)
        faultReport(
            "watchdog: WATCHDOG_USEC 400000 (ping every 200 ms); main loop blocked → last ping \(spread([withheldAfter])) after, then none for 1.5 s; "
                + "SIGABRT + restart → READY=1, pings resumed, the running session closed by recovery")
        await josev.close()
        #expect(await restarted.stop() == 0)
    }
}
