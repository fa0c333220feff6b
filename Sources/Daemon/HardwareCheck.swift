import BoardDriver
import JSONSchema
import PhyVerso
import Station

/// `cs-companion hardware check` (control command `hardware-check`): the board's link and every
/// port, commanded against reported, and whether anything is wrong (`healthy`).
extension ControlCommands {
    func hardwareCheck() async -> JSONObject {
        guard let board = station.hardware.boardDriver as? BoardHardware else {
            return ["ok": true, "healthy": true, "summary": "no board driver configured (hardware.driver is not 'board'): nothing to check"]
        }
        let report = board.report()
        var problems: [String] = []
        var lines: [String] = []
        let since = report.sinceKeepAlive.map { " (last MCU keep-alive \(Self.text($0)) ago)" } ?? ""
        lines.append("board \(report.port): link: \(report.linkUp ? "up" : "down")\(since)")
        if let problem = report.linkProblem { problems.append(problem) }
        lines.append(
            "MCU firmware '\(report.firmware ?? "unknown")', hardware revision \(report.hardwareRevision.map(String.init) ?? "unknown"), configuration \(report.configurationDone ? "done" : "not done")")
        let s = report.statistics
        lines.append(
            "frames in \(s.framesIn), out \(s.framesOut); dropped: crc errors \(s.crcErrors), cobs errors \(s.cobsErrors), truncated \(s.truncated), oversized \(s.oversized), undecodable \(s.decodeErrors)")
        if let loss = report.lastLinkLossDetection { lines.append("last link loss detected \(Self.text(loss)) after the last keep-alive") }
        var ports: [JSONValue] = []
        for port in report.ports {
            let faults = await station.state(of: port.evseID)?.faults.sorted().map(\.rawValue) ?? []
            var line = "EVSE \(port.evseID) (MCU connector \(port.mcuConnector)): CP \(port.cp.map { "\($0)" } ?? "?")"
            line += ", PP \(port.pp.map { $0.ampacity.map { "\($0) A" } ?? "\($0)" } ?? "?")"
            line += ", contactor commanded \(port.coilCommanded ? "closed" : "open"), confirmed \(port.coilConfirmed.map { $0 ? "closed" : "open" } ?? "?")"
            if let latency = port.lastConfirmationLatency { line += " (in \(Self.text(latency)))" }
            line += ", lock \(Self.lockText(port.lockReported)) (commanded \(port.lockCommanded.map { $0 ? "locked" : "unlocked" } ?? "-"))"
            line += port.flags.rcdTriggered ? ", RCD tripped" : port.flags.rcdSelftestFailed ? ", RCD self-test failed" : ", RCD ok"
            let flags = Self.flagNames(port.flags)
            if !flags.isEmpty { line += ", MCU flags: \(flags.joined(separator: " "))" }
            if !faults.isEmpty { line += ", station faults: \(faults.joined(separator: " "))" }
            lines.append(line)
            for mismatch in port.mismatches { problems.append("\(port.evseID): \(mismatch)") }
            if !flags.isEmpty { problems.append("\(port.evseID): MCU reports \(flags.joined(separator: ", "))") }
            if !faults.isEmpty { problems.append("\(port.evseID): faulted (\(faults.joined(separator: ", ")))") }
            if let failure = report.selfTestFailures[port.evseID] { problems.append("\(port.evseID): self-test failed: \(failure)") }
            ports.append(
                .object([
                    "evse_id": .string(port.evseID), "mcu_connector": .int(Int64(port.mcuConnector)),
                    "cp": port.cp.map { .string("\($0)") } ?? .null, "pp_ampacity": port.pp?.ampacity.map { .int(Int64($0)) } ?? .null,
                    "contactor_commanded": .bool(port.coilCommanded), "contactor_confirmed": port.coilConfirmed.map(JSONValue.bool) ?? .null,
                    "lock": .string(Self.lockText(port.lockReported)), "rcd_tripped": .bool(port.flags.rcdTriggered),
                    "faults": .array(faults.map { .string($0) }),
                ]))
        }
        lines.append(report.selfTestFailures.isEmpty ? "power-on self-test: passed" : "power-on self-test: failed")
        lines += problems.map { "PROBLEM: \($0)" }
        lines.append(problems.isEmpty ? "hardware: OK" : "hardware: \(problems.count) problem(s)")
        return [
            "ok": true, "healthy": .bool(problems.isEmpty), "summary": .string(lines.joined(separator: "\n")),
            "link_up": .bool(report.linkUp), "firmware": report.firmware.map(JSONValue.string) ?? .null,
            "frames_in": .int(Int64(s.framesIn)), "frames_out": .int(Int64(s.framesOut)), "crc_errors": .int(Int64(s.crcErrors)),
            "dropped": .int(Int64(s.dropped)), "ports": .array(ports), "problems": .array(problems.map { .string($0) }),
        ]
    }

    /// `rcd-reset`: the RCD reset rule (no EV connected, contactor open), then the hardware's reset.
    func rcdReset(evseID: String) async -> JSONObject {
        let result = await station.resetRCD(evseID: evseID)
        let message: String
        switch result {
        case .requested: return ["ok": true, "message": .string("RCD reset sent to \(evseID); the fault clears when the controller reports the RCD armed")]
        case .notTripped: message = "the RCD of \(evseID) is not tripped"
        case .refusedWhilePlugged: message = "an EV is connected to \(evseID): unplug it first"
        case .refusedWhileEnergized: message = "the contactor of \(evseID) is (or may be) closed"
        case .notSupported: message = "the hardware of \(evseID) has no remote RCD reset: reset it at the device"
        case .unknownEVSE: message = "no EVSE '\(evseID)'"
        }
        return Self.failure(message)
    }

    /// `clear-latched-fault`: a technician clears `contactor_welded` after the repair.
    func clearLatched(evseID: String) async -> JSONObject {
        var cleared: [String] = []
        for kind in HardwareFaultKind.allCases where kind.isLatched {
            if await station.clearLatchedFault(kind, evseID: evseID) { cleared.append(kind.rawValue) }
        }
        if cleared.isEmpty { return Self.failure("nothing latched cleared on \(evseID) (none latched, or the contactor still reads closed)") }
        return ["ok": true, "message": .string("cleared \(cleared.joined(separator: ", ")) on \(evseID)")]
    }

    static func text(_ duration: Duration) -> String {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return ms < 1000 ? "\(Int(ms.rounded())) ms" : "\((ms / 10).rounded() / 100) s"
    }

    static func lockText(_ state: LockState?) -> String {
        switch state {
        case .locked?: "locked"
        case .unlocked?: "unlocked"
        case .locking?: "locking"
        case .unlocking?: "unlocking"
        case .undefined?, nil: "unknown"
        }
    }

    static func flagNames(_ flags: ErrorFlags) -> [String] {
        [
            (flags.diodeFault, "diode_fault"), (flags.rcdSelftestFailed, "rcd_selftest_failed"), (flags.rcdTriggered, "rcd_triggered"),
            (flags.ventilationNotAvailable, "ventilation_not_available"), (flags.connectorLockFailed, "connector_lock_failed"),
            (flags.cpSignalFault, "cp_signal_fault"), (flags.heartbeatTimeout, "heartbeat_timeout"),
            (flags.coilFeedbackDiverges, "coil_feedback_diverges"), (flags.ppSignalFault, "pp_signal_fault"),
        ].filter(\.0).map(\.1)
    }
}
