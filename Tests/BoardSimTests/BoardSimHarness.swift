import Foundation
import PhyVerso
import SerialLine
import TestSupport

/// A pty pair made by socat, board-sim playing the MCU on one end and `TestHost` on the other.
final class BoardSimHarness: Sendable {
    let directory: TemporaryDirectory
    let host: TestHost
    private let ptys: PtyPair
    private let sim: ChildProcess

    /// Starts socat, waits for both pty links, starts board-sim with `arguments` on one end and
    /// opens the other end as the host.
    static func start(_ arguments: [String] = []) async throws -> BoardSimHarness {
        let directory = try TemporaryDirectory(prefix: "board-sim-test")
        let ptys = try await PtyPair.start(in: directory)
        let mcuEnd = ptys.first
        let hostEnd = ptys.second
        let log = open(directory.file("board-sim.log"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { close(log) }
        let host: TestHost
        do {
            host = try TestHost(path: hostEnd)
        } catch {
            await ptys.stop()
            throw error
        }
        let sim: ChildProcess
        do {
            sim = try ChildProcess(executable: try product("board-sim"), arguments: ["--port", mcuEnd] + arguments, stderr: log)
        } catch {
            host.close()
            await ptys.stop()
            throw error
        }
        return BoardSimHarness(directory: directory, host: host, ptys: ptys, sim: sim)
    }

    private init(directory: TemporaryDirectory, host: TestHost, ptys: PtyPair, sim: ChildProcess) {
        self.directory = directory
        self.host = host
        self.ptys = ptys
        self.sim = sim
    }

    /// What board-sim printed, for failure messages.
    var simLog: String { (try? String(contentsOfFile: directory.file("board-sim.log"), encoding: .utf8)) ?? "" }

    func stop() async {
        host.close()
        await sim.terminate()
        await ptys.stop()
    }

    /// A built product next to the test bundle (or in .build/debug).
    static func product(_ name: String) throws -> String {
        var candidates: [String] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: executable).deletingLastPathComponent().path + "/" + name)
        }
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        candidates.append(root.path + "/.build/debug/" + name)
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        throw TestSupportError("\(name) is not built (looked in \(candidates)); run `swift build` first")
    }
}

/// Two pseudo-terminals connected back to back by socat, reachable under two links in a directory.
struct PtyPair: Sendable {
    let first: String
    let second: String
    let socat: ChildProcess

    static func start(in directory: TemporaryDirectory) async throws -> PtyPair {
        let first = directory.file("mcu")
        let second = directory.file("host")
        let socat = try ChildProcess(
            executable: "socat", arguments: ["-d", "-d", "pty,raw,echo=0,link=\(first)", "pty,raw,echo=0,link=\(second)"])
        guard await waitUntil(timeout: .seconds(10), { FileManager.default.fileExists(atPath: first) && FileManager.default.fileExists(atPath: second) })
        else {
            await socat.terminate()
            throw TestSupportError("socat made no pty pair within 10 s")
        }
        return PtyPair(first: first, second: second, socat: socat)
    }

    func stop() async { await socat.terminate() }
}

/// The host end of the link, written for the tests with SerialLine and PhyVerso: it records every
/// message the MCU sends with the time it arrived.
final class TestHost: Sendable {
    struct Received: Sendable {
        let at: ContinuousClock.Instant
        let message: McuToEverest
        let unknownFields: [UInt32]
    }

    private struct State {
        var receiver = MessageReceiver<McuToEverest>()
        var received: [Received] = []
        var framesOut = 0
    }

    private let state = Locked(State())
    private let line: Locked<SerialLine?> = Locked(nil)

    init(path: String) throws {
        let line = try SerialLine(path: path, settings: SerialLine.Settings(baud: 115_200)) { [state] chunk in
            let now = ContinuousClock.now
            state.withLock { state in
                state.received += state.receiver.feed(chunk).map { Received(at: now, message: $0.message, unknownFields: $0.unknownFields) }
            }
        }
        self.line.withLock { $0 = line }
    }

    func close() { line.withLock { $0 }?.close() }

    func send(_ payload: EverestToMcu.Payload, connector: Int32 = 0) throws {
        try line.withLock { $0 }?.write(Framing.frame(EverestToMcu(payload, connector: connector)))
        state.withLock { $0.framesOut += 1 }
    }

    var statistics: LinkStatistics {
        state.withLock { state in
            var statistics = state.receiver.statistics
            statistics.framesOut = state.framesOut
            return statistics
        }
    }

    var received: [Received] { state.withLock { $0.received } }

    /// The first message matching `predicate` that arrived at or after `since`; throws after
    /// `timeout` without one.
    @discardableResult
    func waitFor(
        _ what: String, since: ContinuousClock.Instant? = nil, timeout: Duration = .seconds(5),
        _ predicate: @escaping @Sendable (McuToEverest) -> Bool
    ) async throws -> Received {
        var found: Received?
        _ = await waitUntil(timeout: timeout, interval: .milliseconds(10)) {
            found = self.received.first { item in (since.map { item.at >= $0 } ?? true) && predicate(item.message) }
            return found != nil
        }
        guard let found else { throw TestSupportError("no \(what) from board-sim within \(timeout)") }
        return found
    }

    /// Answers the MCU's boot configuration request and waits until its keep-alive says it is configured.
    func completeBootHandshake(ports: Int = 1) async throws {
        try await waitFor("BootConfigRequest") { $0.payload == .configRequest(BootConfigRequest()) }
        let port = ChargePortConfig(type: .ac, feedbackActiveLow: true, feedbackPull: .up, lock: .hella, hasSocket: true)
        try send(.configResponse(BootConfigResponse(hwRevision: .revA, chargePorts: Array(repeating: port, count: ports))))
        try await waitFor("keep-alive with configuration_done") {
            if case .keepAlive(let alive) = $0.payload { return alive.configurationDone }
            return false
        }
    }

    /// Sends the host's keep-alive now (so it precedes whatever is sent next) and then every second
    /// until the returned task is cancelled; `sent` holds when the last one was queued.
    func keepAliveTask(sent: Locked<ContinuousClock.Instant?>) throws -> Task<Void, Never> {
        try send(.keepAlive(KeepAlive(swVersion: "n/a")))
        sent.withLock { $0 = .now }
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard !Task.isCancelled else { return }
                try? self.send(.keepAlive(KeepAlive(swVersion: "n/a")))
                sent.withLock { $0 = .now }
            }
        }
    }
}
