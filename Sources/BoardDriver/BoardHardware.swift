import Basics
import JosevContract
import PhyVerso
import SerialLine
import Station

/// Why the board driver refuses to start (the daemon exits with 78: a configuration the hardware
/// contradicts is not retried by systemd).
public struct BoardStartError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }

    public init(reason: String) { self.reason = reason }
}

/// What the link and the MCU look like (`cs-companion hardware check`).
public struct BoardReport: Sendable, Equatable {
    public var port: String
    public var linkUp: Bool
    /// Why the link counts as down or the board as unusable (nil: fine).
    public var linkProblem: String?
    public var firmware: String?
    public var hardwareRevision: UInt32?
    public var configurationDone: Bool
    public var statistics: LinkStatistics
    /// Since the last keep-alive of the MCU.
    public var sinceKeepAlive: Duration?
    /// Last link loss: the last MCU keep-alive → the host declaring the link lost.
    public var lastLinkLossDetection: Duration?
    public var ports: [BoardPortReport]
    /// The power-on self-test's findings per EVSE (empty: passed).
    public var selfTestFailures: [String: String]
}

/// `StationHardware` over the phyVERSO link: the safety MCU owns pilot, contactor, RCD and lock;
/// this driver sends the station's intent and turns the MCU's reports into `HardwareEvent`s.
/// The serial line reads on its own thread; state lives under one lock; `wakeups` yields when
/// events are queued (the daemon then calls `Station.handle(.eventsQueued)`); `run()` sends the
/// keep-alives and supervises the link.
public final class BoardHardware: StationHardware {
    struct State: Sendable {
        var receiver = MessageReceiver<McuToEverest>()
        var framesOut = 0
        var ports: BoardPorts
        var pending: [HardwareEvent] = []
        var keepAlive: KeepAlive?
        var lastKeepAlive: ContinuousClock.Instant?
        var linkUp = false
        var linkFaultRaised = false
        var lastLinkLossDetection: Duration?
        /// The MCU speaks something this host does not know.
        var unknownProtocol: String?
        var configResponses = 0
        var resetSent = false
        var reportedConnectors: Set<Int32> = []
        var selfTestFailures: [String: String] = [:]
    }

    public let settings: BoardSettings
    private let state: Locked<State>
    private let line: SerialLine
    private let clock = ContinuousClock()
    private let wake: AsyncStream<Void>.Continuation
    /// Yields whenever events were queued for `drainEvents()`.
    public let wakeups: AsyncStream<Void>
    private let log: @Sendable (String) -> Void

    /// Opens the serial port and starts answering the MCU; nothing is commanded yet.
    public init(settings: BoardSettings, configuration: StationConfiguration, log: @escaping @Sendable (String) -> Void)
        throws(BoardStartError)
    {
        guard settings.protocolName == "phyverso" else { throw BoardStartError(reason: "hardware.board.protocol '\(settings.protocolName)' is not supported (phyverso)") }
        guard settings.port != "/dev/ttyS0" else { throw BoardStartError(reason: "hardware.board.port /dev/ttyS0 is the console; refusing it") }
        self.settings = settings
        self.log = log
        let state = Locked(State(ports: BoardPorts(settings: settings, configuration: configuration)))
        self.state = state
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wakeups = stream
        wake = continuation
        let bootConfiguration = settings.bootConfiguration
        let clock = clock
        let lineBox = Locked<SerialLine?>(nil)
        do {
            line = try SerialLine(
                path: settings.port, settings: SerialLine.Settings(baud: settings.baud),
                onBytes: { bytes in
                    let (queued, replies, notes) = state.withLock { state in
                        Self.receive(bytes, into: &state, bootConfiguration: bootConfiguration, now: clock.now)
                    }
                    for note in notes { log(note) }
                    if !replies.isEmpty, let line = lineBox.current { Self.send(replies, on: line, state: state) }
                    if queued { continuation.yield() }
                },
                onEnd: { error in
                    if let error { log("board link \(settings.port) ended: \(error)") }
                })
        } catch {
            throw BoardStartError(reason: "cannot open hardware.board.port \(settings.port): \(error)")
        }
        lineBox.withLock { $0 = line }
    }

    deinit { wake.finish() }

    public func close() {
        wake.finish()
        line.close()
    }

    // MARK: Start-up: the boot handshake and the power-on self-test

    /// Waits (at most `link_timeout`) for the MCU's boot configuration request, its keep-alive
    /// with `configuration_done` and a report of every configured connector. Throws when the MCU
    /// speaks an unknown protocol revision or does not have the configured connectors; returns
    /// normally without a link (every EVSE then starts with `board_link`).
    public func awaitBoot() async throws(BoardStartError) {
        let deadline = clock.now + .milliseconds(Int64(settings.linkTimeout * 1000))
        let wanted = Set(settings.connectors.map { Int32($0.mcuConnector) })
        while clock.now < deadline {
            let (unknown, done, reported) = state.withLock { ($0.unknownProtocol, $0.keepAlive?.configurationDone == true, $0.reportedConnectors) }
            if let unknown { throw BoardStartError(reason: unknown) }
            if done, wanted.isSubset(of: reported) { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let (linkUp, done, reported) = state.withLock { ($0.linkUp, $0.keepAlive?.configurationDone == true, $0.reportedConnectors) }
        guard linkUp else {
            log("board link \(settings.port): no keep-alive from the MCU within \(settings.linkTimeout) s; every EVSE starts with board_link")
            state.withLock { state in
                state.linkFaultRaised = true
                for id in state.ports.evseIDs { state.pending.append(.fault(evseID: id, kind: .boardLink)) }
            }
            wake.yield()
            return
        }
        guard done else { throw BoardStartError(reason: "the MCU never confirmed the boot configuration (configuration_done)") }
        let missing = wanted.subtracting(reported).sorted().map(String.init).joined(separator: ", ")
        throw BoardStartError(reason: "boot configuration differs from the MCU: it reports no connector \(missing) (hardware.board.connectors)")
    }

    /// Power-on self-test: every contactor commanded open must be confirmed open with its feedback
    /// within `within`; a port that fails keeps its EVSE faulted (`contactor_welded`) with the reason.
    public func selfTest(within: Duration = .seconds(2)) async {
        let commands = state.withLock { state in
            state.ports.evseIDs.flatMap { state.ports.setCoil(evseID: $0, closed: false, now: clock.now) }
        }
        Self.send(commands, on: line, state: state)
        let deadline = clock.now + within
        var open: [String: Bool] = [:]
        while clock.now < deadline {
            open = state.withLock { Dictionary($0.ports.reports.map { ($0.evseID, $0.coilConfirmed == false) }, uniquingKeysWith: { $0 && $1 }) }
            if open.values.allSatisfy({ $0 }) { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let linkUp = state.withLock { $0.linkUp }
        for (evseID, confirmed) in open.sorted(by: { $0.key < $1.key }) where !confirmed {
            let reason = linkUp ? "contactor not confirmed open at power-on" : "no link to the safety controller"
            log("self-test on \(evseID): \(reason)")
            state.withLock { state in
                state.selfTestFailures[evseID] = reason
                if linkUp { state.pending.append(.fault(evseID: evseID, kind: .contactorWelded)) }
            }
        }
        wake.yield()
    }

    /// Power-on RCD self-test (`rcd_self_test: true`): every port's RCD is tripped with the test
    /// current and reset; a port whose RCD does not trip (or reports `rcd_selftest_failed`, or does
    /// not re-arm) keeps its EVSE faulted (`rcd_tripped`) with the reason. A passed test's own
    /// trip and reset are not reported to the station.
    public func rcdSelfTest(within: Duration = .seconds(1)) async {
        let ports = state.withLock { $0.ports.reports.map { ($0.evseID, Int32($0.mcuConnector)) } }
        for (evseID, number) in ports {
            Self.send([EverestToMcu(.rcdCommand(RcdCommand(test: true, reset: false)), connector: number)], on: line, state: state)
            let tripped = await waitFor(within) { $0.rcdTriggered || $0.rcdSelftestFailed }(evseID)
            let failedFlag = state.withLock { $0.ports.reports.first { $0.evseID == evseID }?.flags.rcdSelftestFailed == true }
            Self.send([EverestToMcu(.rcdCommand(RcdCommand(test: false, reset: true)), connector: number)], on: line, state: state)
            let armed = await waitFor(within) { !$0.rcdTriggered && !$0.rcdSelftestFailed }(evseID)
            let reason: String? =
                !tripped ? "RCD self-test: the RCD did not trip" : failedFlag ? "RCD self-test failed (rcd_selftest_failed)"
                : !armed ? "RCD self-test: the RCD did not re-arm after the reset" : nil
            state.withLock { state in
                state.pending.removeAll { event in
                    switch event {
                    case .fault(evseID, .rcdTripped), .faultCleared(evseID, .rcdTripped): true
                    default: false
                    }
                }
                if let reason {
                    state.selfTestFailures[evseID] = reason
                    state.pending.append(.fault(evseID: evseID, kind: .rcdTripped))
                }
            }
            if let reason { log("self-test on \(evseID): \(reason)") }
        }
        wake.yield()
    }

    /// Waits until a port's MCU flags satisfy `condition`, at most `within`; whether they did.
    private func waitFor(_ within: Duration, _ condition: @escaping (ErrorFlags) -> Bool) -> (String) async -> Bool {
        { [state, clock] evseID in
            let deadline = clock.now + within
            while clock.now < deadline {
                if state.withLock({ $0.ports.reports.first { $0.evseID == evseID }.map { condition($0.flags) } ?? false }) { return true }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return false
        }
    }

    // MARK: The link

    /// Sends the keep-alives and supervises the link and the ports until cancelled.
    public func run() async {
        let interval = Duration.milliseconds(Int64(settings.keepaliveInterval * 1000))
        var nextCompare = clock.now
        var nextKeepAlive = clock.now
        while !Task.isCancelled {
            if clock.now >= nextKeepAlive {
                nextKeepAlive = clock.now + interval
                Self.send([EverestToMcu(.keepAlive(KeepAlive(timeStamp: 0, hwType: 0, hwRevision: 0, swVersion: "cs-companiond")))], on: line, state: state)
            }
            superviseLink()
            if clock.now >= nextCompare {
                nextCompare = clock.now + .seconds(1)
                let events = state.withLock { $0.ports.compare(now: clock.now, settle: .seconds(1)) }
                if !events.isEmpty {
                    state.withLock { $0.pending += events }
                    wake.yield()
                }
            }
            try? await Task.sleep(for: min(interval, .milliseconds(250)))
        }
    }

    /// The link is lost `link_timeout` after the MCU's last keep-alive (only bad frames count as nothing).
    func superviseLink() {
        let timeout = Duration.milliseconds(Int64(settings.linkTimeout * 1000))
        let lost: Duration? = state.withLock { state in
            guard let last = state.lastKeepAlive, state.linkUp, last.duration(to: clock.now) >= timeout else { return nil }
            state.linkUp = false
            state.linkFaultRaised = true
            let detection = last.duration(to: clock.now)
            state.lastLinkLossDetection = detection
            for id in state.ports.evseIDs { state.pending.append(.fault(evseID: id, kind: .boardLink)) }
            return detection
        }
        if let lost {
            let statistics = state.withLock { $0.receiver.statistics }
            log("board link \(settings.port) lost: no keep-alive from the MCU for \(lost) (\(statistics.dropped) bad frame(s) dropped so far); EVSEs inoperative")
            wake.yield()
        }
    }

    static func send(_ messages: [EverestToMcu], on line: SerialLine, state: Locked<State>) {
        guard !messages.isEmpty else { return }
        for message in messages {
            do {
                try line.write(Framing.frame(message))
                state.withLock { $0.framesOut += 1 }
            } catch {
                break  // the line is gone or stalled: the link supervision reports it
            }
        }
    }

    /// Bytes from the line (the serial thread): returns whether events were queued, the replies,
    /// and lines to log.
    static func receive(_ bytes: [UInt8], into state: inout State, bootConfiguration: BootConfigResponse, now: ContinuousClock.Instant)
        -> (Bool, [EverestToMcu], [String])
    {
        var replies: [EverestToMcu] = []
        var notes: [String] = []
        let before = state.pending.count
        for received in state.receiver.feed(bytes) {
            let message = received.message
            if !received.unknownFields.isEmpty, state.unknownProtocol == nil {
                state.unknownProtocol = "the MCU speaks an unknown protocol revision (fields \(received.unknownFields.map(String.init).joined(separator: ", ")) are not in phyverso.proto)"
            }
            guard let payload = message.payload else { continue }
            switch payload {
            case .keepAlive(let keepAlive):
                if HardwareRevision(rawValue: Int32(truncatingIfNeeded: keepAlive.hwRevision)).map({ $0 != .unknown }) != true,
                   state.unknownProtocol == nil {
                    state.unknownProtocol = "the MCU reports hardware revision \(keepAlive.hwRevision) (\(keepAlive.swVersion)), which phyverso.proto does not define"
                }
                if state.keepAlive?.swVersion != keepAlive.swVersion { notes.append("board MCU firmware '\(keepAlive.swVersion)', hw revision \(keepAlive.hwRevision)") }
                state.keepAlive = keepAlive
                state.lastKeepAlive = now
                // Configured by an earlier run of the host: reset it, so that the handshake (and
                // every port's report) comes again, as EVerest's driver does with its reset line.
                if keepAlive.configurationDone, state.configResponses == 0, !state.resetSent {
                    state.resetSent = true
                    notes.append("board MCU was configured by an earlier run; resetting it for the boot handshake")
                    replies.append(EverestToMcu(.reset(true)))
                }
                if !state.linkUp {
                    state.linkUp = true
                    if state.linkFaultRaised {
                        state.linkFaultRaised = false
                        notes.append("board link up again; asking every open contactor's state")
                        for id in state.ports.evseIDs { state.pending.append(.faultCleared(evseID: id, kind: .boardLink)) }
                        // What the MCU did while we could not hear it (its own safety rule opens the
                        // contactors): an open request is answered with the contactor's state.
                        for report in state.ports.reports where !report.coilCommanded {
                            replies.append(EverestToMcu(.setCoilStateRequest(CoilState(coilType: .ac, closed: false)), connector: Int32(report.mcuConnector)))
                        }
                    }
                }
            case .configRequest:
                state.configResponses += 1
                notes.append("board MCU asks for its boot configuration; answering with \(bootConfiguration.chargePorts.count) port(s)")
                replies.append(EverestToMcu(.configResponse(bootConfiguration)))
            case .reset(let reason):
                notes.append("board MCU reset (\(reason))")
            default:
                state.reportedConnectors.insert(message.connector)
                let (events, portReplies) = state.ports.receive(payload, connector: message.connector, now: now)
                state.pending += events
                replies += portReplies
            }
        }
        return (state.pending.count > before, replies, notes)
    }

    /// The link and the ports now.
    public func report() -> BoardReport {
        state.withLock { state in
            var statistics = state.receiver.statistics
            statistics.framesOut = state.framesOut
            let problem: String? =
                state.unknownProtocol
                ?? (state.linkUp ? nil : state.lastKeepAlive == nil ? "no keep-alive from the MCU yet" : "link lost (no keep-alive for \(settings.linkTimeout) s)")
            return BoardReport(
                port: settings.port, linkUp: state.linkUp, linkProblem: problem, firmware: state.keepAlive?.swVersion,
                hardwareRevision: state.keepAlive?.hwRevision, configurationDone: state.keepAlive?.configurationDone == true,
                statistics: statistics, sinceKeepAlive: state.lastKeepAlive.map { $0.duration(to: clock.now) },
                lastLinkLossDetection: state.lastLinkLossDetection, ports: state.ports.reports, selfTestFailures: state.selfTestFailures)
        }
    }

    // MARK: StationHardware

    public var confirmsContactor: Bool { true }

    private func command(_ body: (inout BoardPorts, ContinuousClock.Instant) -> [EverestToMcu]) {
        let messages = state.withLock { body(&$0.ports, clock.now) }
        Self.send(messages, on: line, state: state)
    }

    public func setPilot(evseID: String, connectorID: Int, signal: PilotSignal) {
        command { ports, _ in ports.setPilot(evseID: evseID, signal: signal) }
    }

    public func setCurrentLimit(evseID: String, current: Double) {}

    public func setContactor(evseID: String, closed: Bool) {
        command { ports, now in ports.setCoil(evseID: evseID, closed: closed, now: now) }
    }

    public func setConnectorLock(evseID: String, connectorID: Int, locked: Bool) -> ConnectorLockState {
        command { ports, now in ports.setLock(evseID: evseID, locked: locked, now: now) }
        let reached = state.withLock { $0.ports.lockState(evseID: evseID) }
        return reached == (locked ? .locked : .unlocked) ? reached : .unknown
    }

    public func resetRCD(evseID: String) -> Bool {
        command { ports, _ in ports.resetRCD(evseID: evseID) }
        return true
    }

    public func startIsolationTest(evseID: String) {}
    public func isolationTestResult(evseID: String) -> IsolationStatus? { .noIMD }
    public func setDCOutput(evseID: String, voltage: Double, current: Double) {}
    public func stopDCOutput(evseID: String) {}
    public func readMeter(evseID: String) -> MeterReading? { nil }

    public func drainEvents() -> [HardwareEvent] {
        state.withLock { state in
            defer { state.pending = [] }
            return state.pending
        }
    }
}
