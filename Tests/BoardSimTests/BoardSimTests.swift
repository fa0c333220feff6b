import Foundation
import PhyVerso
import Testing
import TestSupport

/// board-sim against a host written here, over a real pty pair made by socat.
@Suite("board-sim over a pty", .serialized)
struct BoardSimTests {
    /// Runs `body` with a started harness and stops it afterwards; on failure the sim's log is attached.
    private func withBoardSim(_ arguments: [String] = [], _ body: (BoardSimHarness) async throws -> Void) async throws {
        let harness = try await BoardSimHarness.start(arguments)
        do {
            try await body(harness)
        } catch {
            Issue.record("board-sim log:\n\(harness.simLog)")
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    private static func isKeepAlive(_ message: McuToEverest) -> Bool {
        if case .keepAlive = message.payload { return true }
        return false
    }

    @Test("boot: reset reason, BootConfigRequest until answered, then keep-alives every second saying configured")
    func bootHandshakeAndKeepAlive() async throws {
        try await withBoardSim { sim in
            let host = sim.host
            try await host.waitFor("reset reason") { $0.payload == .reset(.user) }
            let first = try await host.waitFor("keep-alive") { Self.isKeepAlive($0) }
            guard case .keepAlive(let unconfigured) = first.message.payload else { return }
            #expect(!unconfigured.configurationDone)
            #expect(unconfigured.hwRevision == 1)
            #expect(unconfigured.swVersion.hasPrefix("board-sim"))

            try await host.completeBootHandshake()
            let configured = try await host.waitFor("configured keep-alive") {
                if case .keepAlive(let alive) = $0.payload { return alive.configurationDone }
                return false
            }
            let next = try await host.waitFor("next keep-alive", since: configured.at + .milliseconds(1)) { Self.isKeepAlive($0) }
            let period = next.at - configured.at
            #expect(period > .milliseconds(700) && period < .milliseconds(1500), "keep-alive period \(period)")
            if case .keepAlive(let a) = configured.message.payload, case .keepAlive(let b) = next.message.payload {
                #expect((900...1100).contains(Int(b.timeStamp) - Int(a.timeStamp)), "MCU timestamps \(a.timeStamp) → \(b.timeStamp)")
            }
            // After configuration the CP, PP and lock states of the port are reported.
            try await host.waitFor("CP state A") { $0 == McuToEverest(.cpState(.a), connector: 1) }
            try await host.waitFor("lock state") { $0 == McuToEverest(.lockState(.unlocked), connector: 1) }
            #expect(host.statistics.dropped == 0)
        }
    }

    @Test("coil request → confirmation after the actuation delay; refused without an EV in C; lock; RCD self-test and reset")
    func coilConfirmation() async throws {
        try await withBoardSim(["--connectors", "2", "--actuation-delay", "150", "--script", "0:plug 32,0:ev-ready"]) { sim in
            let host = sim.host
            try await host.completeBootHandshake(ports: 2)
            let sent = Locked<ContinuousClock.Instant?>(nil)
            let keepAlive = try host.keepAliveTask(sent: sent)
            defer { keepAlive.cancel() }
            try await host.waitFor("PP 32 A") { $0 == McuToEverest(.ppState(.amps32), connector: 1) }
            try await host.waitFor("CP state C") { $0 == McuToEverest(.cpState(.c), connector: 1) }
            try host.send(.pwmDutyCycle(5333), connector: 1)

            let closeSent = ContinuousClock.now
            try host.send(.setCoilStateRequest(CoilState(coilType: .ac, closed: true)), connector: 1)
            let closed = try await host.waitFor("coil closed", since: closeSent) {
                $0 == McuToEverest(.setCoilStateResponse(CoilState(coilType: .ac, closed: true)), connector: 1)
            }
            let latency = closed.at - closeSent
            print("measured: coil command-to-confirmation \(latency) (actuation delay 150 ms)")
            #expect(latency >= .milliseconds(150) && latency < .seconds(2), "command-to-confirmation \(latency)")

            // Connector 2 has no EV: the MCU refuses to close and says the contactor is open.
            let refusedSent = ContinuousClock.now
            try host.send(.setCoilStateRequest(CoilState(coilType: .ac, closed: true)), connector: 2)
            try await host.waitFor("refusal", since: refusedSent) {
                $0 == McuToEverest(.setCoilStateResponse(CoilState(coilType: .ac, closed: false)), connector: 2)
            }

            try host.send(.connectorLock(true), connector: 1)
            try await host.waitFor("locked") { $0 == McuToEverest(.lockState(.locked), connector: 1) }

            let openSent = ContinuousClock.now
            try host.send(.setCoilStateRequest(CoilState(coilType: .ac, closed: false)), connector: 1)
            try await host.waitFor("coil open", since: openSent) {
                $0 == McuToEverest(.setCoilStateResponse(CoilState(coilType: .ac, closed: false)), connector: 1)
            }

            // An RCD self-test trips the RCD; a reset clears it.
            let testSent = ContinuousClock.now
            try host.send(.rcdCommand(RcdCommand(test: true, reset: false)), connector: 1)
            try await host.waitFor("RCD triggered", since: testSent) {
                if case .errorFlags(let flags) = $0.payload { return $0.connector == 1 && flags.rcdTriggered }
                return false
            }
            let resetSent = ContinuousClock.now
            try host.send(.rcdCommand(RcdCommand(test: false, reset: true)), connector: 1)
            try await host.waitFor("RCD flags cleared", since: resetSent) { $0 == McuToEverest(.errorFlags(ErrorFlags()), connector: 1) }
        }
    }

    @Test("host silent: board-sim goes to CP F and opens the contactor by itself about 5 s after the last host keep-alive")
    func hostSilence() async throws {
        try await withBoardSim(["--script", "0:plug 32,0:ev-ready"]) { sim in
            let host = sim.host
            try await host.completeBootHandshake()
            let sent = Locked<ContinuousClock.Instant?>(nil)
            let keepAlive = try host.keepAliveTask(sent: sent)
            try await host.waitFor("CP state C") { $0 == McuToEverest(.cpState(.c), connector: 1) }
            try host.send(.pwmDutyCycle(1600), connector: 1)
            try host.send(.setCoilStateRequest(CoilState(coilType: .ac, closed: true)), connector: 1)
            try await host.waitFor("coil closed") {
                $0 == McuToEverest(.setCoilStateResponse(CoilState(coilType: .ac, closed: true)), connector: 1)
            }

            keepAlive.cancel()
            await keepAlive.value
            let lastKeepAlive = try #require(sent.withLock { $0 })
            let stateF = try await host.waitFor("CP state F", since: lastKeepAlive, timeout: .seconds(9)) {
                $0 == McuToEverest(.cpState(.f), connector: 1)
            }
            let opened = try await host.waitFor("coil open", since: lastKeepAlive, timeout: .seconds(3)) {
                $0 == McuToEverest(.setCoilStateResponse(CoilState(coilType: .ac, closed: false)), connector: 1)
            }
            try await host.waitFor("heartbeat timeout flag", since: lastKeepAlive, timeout: .seconds(3)) {
                if case .errorFlags(let flags) = $0.payload { return flags.heartbeatTimeout }
                return false
            }
            let detection = stateF.at - lastKeepAlive
            print("measured: host silence to CP F \(detection), to coil open \(opened.at - lastKeepAlive)")
            #expect(detection >= .milliseconds(4800) && detection <= .milliseconds(6500), "host loss detected after \(detection)")
            #expect(opened.at - lastKeepAlive <= .milliseconds(7000))
            // The MCU's own keep-alives go on meanwhile: the link is up, only the host is silent.
            #expect(host.received.contains { $0.at > stateF.at - .seconds(2) && Self.isKeepAlive($0.message) })
        }
    }

    @Test("no contactor for a host that never sent a keep-alive")
    func coilRefusedWithoutHostKeepAlive() async throws {
        try await withBoardSim(["--script", "0:plug 32,0:ev-ready"]) { sim in
            let host = sim.host
            try await host.completeBootHandshake()
            try await host.waitFor("CP state C") { $0 == McuToEverest(.cpState(.c), connector: 1) }
            let sent = ContinuousClock.now
            try host.send(.setCoilStateRequest(CoilState(coilType: .ac, closed: true)), connector: 1)
            try await host.waitFor("refusal", since: sent) { $0.payload == .setCoilStateResponse(CoilState(coilType: .ac, closed: false)) }
            #expect(!host.received.contains { $0.message.payload == .setCoilStateResponse(CoilState(coilType: .ac, closed: true)) })
        }
    }

    @Test("bad CRC, truncated and oversized frames between good ones: dropped and counted, the link stays up")
    func corruptFramesAreCounted() async throws {
        try await withBoardSim(["--fault", "bad-crc", "--fault", "truncated", "--fault", "oversized"]) { sim in
            let host = sim.host
            try await host.completeBootHandshake()
            let statistics = host.statistics
            #expect(statistics.crcErrors >= 2)
            #expect(statistics.oversized >= 2)
            #expect(statistics.truncated + statistics.cobsErrors + statistics.crcErrors >= 4)
            #expect(statistics.framesIn >= 3)
        }
    }

    @Test("welded contactor: feedback stays closed after the open command and coil_feedback_diverges is set")
    func weldedContactor() async throws {
        try await withBoardSim(["--fault", "welded", "--script", "0:plug 32,0:ev-ready"]) { sim in
            let host = sim.host
            try await host.completeBootHandshake()
            let sent = Locked<ContinuousClock.Instant?>(nil)
            let keepAlive = try host.keepAliveTask(sent: sent)
            defer { keepAlive.cancel() }
            try await host.waitFor("CP state C") { $0 == McuToEverest(.cpState(.c), connector: 1) }
            try host.send(.setCoilStateRequest(CoilState(coilType: .ac, closed: true)), connector: 1)
            let closed = try await host.waitFor("coil closed") {
                $0 == McuToEverest(.setCoilStateResponse(CoilState(coilType: .ac, closed: true)), connector: 1)
            }
            try host.send(.setCoilStateRequest(CoilState(coilType: .ac, closed: false)), connector: 1)
            let stuck = try await host.waitFor("feedback still closed", since: closed.at + .milliseconds(1)) {
                $0 == McuToEverest(.setCoilStateResponse(CoilState(coilType: .ac, closed: true)), connector: 1)
            }
            try await host.waitFor("coil_feedback_diverges", since: stuck.at) {
                if case .errorFlags(let flags) = $0.payload { return flags.coilFeedbackDiverges }
                return false
            }
        }
    }

    @Test("lock failure: the lock never reports locked and connector_lock_failed is set")
    func lockFailure() async throws {
        try await withBoardSim(["--fault", "lock-failure"]) { sim in
            let host = sim.host
            try await host.completeBootHandshake()
            try host.send(.connectorLock(true), connector: 1)
            try await host.waitFor("locking") { $0 == McuToEverest(.lockState(.locking), connector: 1) }
            try await host.waitFor("connector_lock_failed") {
                if case .errorFlags(let flags) = $0.payload { return flags.connectorLockFailed }
                return false
            }
            #expect(!host.received.contains { $0.message == McuToEverest(.lockState(.locked), connector: 1) })
        }
    }

    @Test("unknown protocol version: the boot configuration request carries a field the published proto lacks")
    func unknownVersion() async throws {
        try await withBoardSim(["--fault", "unknown-version"]) { sim in
            let request = try await sim.host.waitFor("BootConfigRequest") { $0.payload == .configRequest(BootConfigRequest()) }
            #expect(request.unknownFields == [15])
            let alive = try await sim.host.waitFor("keep-alive") { Self.isKeepAlive($0) }
            if case .keepAlive(let keepAlive) = alive.message.payload {
                #expect(HardwareRevision(rawValue: Int32(keepAlive.hwRevision)) == nil)
            }
        }
    }
}
