import Logging
import Station

/// One poll cycle of one meter over a transport: the profile's blocks in order, one request in
/// flight, the gap between requests. The rules (docs/HARDWARE.md, fault table):
/// - the first timeout that nothing answers ends the cycle (a dead meter costs one timeout plus
///   the late-reply window, not one per block);
/// - a bad CRC, noise, another unit's frame or a late answer gives no value: the line is
///   flushed after the reply window and the request retried once;
/// - an implausible value (NaN, an invalid marker, out of range, an energy register going
///   backwards) is dropped and counted, logged at most once a minute;
/// - `offlineAfterFailedCycles` failed cycles in a row raise `meter_communication`; one full
///   good cycle clears it; a wrong or changed serial number refuses the meter until restart.
struct MeterPolling {
    let transport: any RegisterTransport
    let gap: Duration
    let logger: Logger
    let now: @Sendable () -> ContinuousClock.Instant
    var lastRequestEnd: ContinuousClock.Instant?
    /// When each meter last logged an implausible value.
    var implausibleLogged: [String: ContinuousClock.Instant] = [:]

    init(transport: any RegisterTransport, gap: Duration, logger: Logger, now: @escaping @Sendable () -> ContinuousClock.Instant) {
        self.transport = transport
        self.gap = gap
        self.logger = logger
        self.now = now
    }

    mutating func poll(_ meter: MeterChannel) {
        let started = now()
        var values: [MeterQuantity: Double] = [:]
        var complete = true
        var requests = meter.profile.blocks
        if let serial = meter.profile.serialBlock { requests.append(serial) }
        for block in requests {
            switch read(block, from: meter) {
            case .success(let words): values.merge(meter.profile.values(of: block, registers: words)) { $1 }
            case .failure: complete = false
            }
            // A silent meter: skip the rest of the cycle. Other failures go on with the next block.
            if lastTimedOut { break }
        }
        finish(meter, values: values, complete: complete, started: started)
    }

    /// Whether the last read ended in a silent timeout.
    private var lastTimedOut = false

    private mutating func read(_ block: RegisterBlock, from meter: MeterChannel) -> Result<[UInt16], RegisterReadError> {
        lastTimedOut = false
        var attempt = 0
        while true {
            waitForGap()
            let sent = now()
            let result = transport.read(unit: meter.unitID, function: block.function, address: block.address, count: block.count)
            lastRequestEnd = now()
            let latency = sent.duration(to: lastRequestEnd ?? sent)
            switch result {
            case .success:
                meter.state.withLock {
                    $0.statistics.requests += 1
                    $0.statistics.lastLatencyMs = latency.milliseconds
                    $0.statistics.maxLatencyMs = max($0.statistics.maxLatencyMs, latency.milliseconds)
                }
                return result
            case .failure(let error):
                let flushed = transport.recover(after: error)
                lastRequestEnd = now()
                meter.state.withLock {
                    $0.statistics.requests += 1
                    switch error {
                    case .timeout where flushed > 0: $0.statistics.framingErrors += 1  // a late answer
                    case .timeout: $0.statistics.timeouts += 1
                    case .exception: $0.statistics.exceptions += 1
                    case .io: $0.statistics.timeouts += 1
                    default: $0.statistics.framingErrors += 1
                    }
                }
                let retry: Bool
                switch error {
                case .timeout: retry = flushed > 0
                case .badCRC, .wrongUnit, .badData: retry = true
                case .exception, .io: retry = false
                }
                if error == .timeout, flushed == 0 { lastTimedOut = true }
                guard retry, attempt == 0 else { return result }
                attempt += 1
                meter.state.withLock { $0.statistics.retries += 1 }
            }
        }
    }

    private func waitForGap() {
        guard let end = lastRequestEnd else { return }
        let due = end.advanced(by: gap)
        let remaining = now().duration(to: due)
        if remaining > .zero { Pause.sleep(remaining) }
    }

    mutating func finish(_ meter: MeterChannel, values raw: [MeterQuantity: Double], complete: Bool, started: ContinuousClock.Instant) {
        let finished = now()
        var dropped: [String] = []
        var logLines: [(level: Logger.Level, text: String)] = []
        meter.state.withLock { state in
            state.statistics.lastCycleMs = started.duration(to: finished).milliseconds
            var values = raw
            for (quantity, value) in raw where quantity != .serialNumber {
                if let reason = Self.implausibility(quantity, value, state: state) {
                    values[quantity] = nil
                    state.statistics.implausible += 1
                    dropped.append("\(quantity.rawValue) \(reason)")
                }
            }
            if let serial = values[.serialNumber].map(Self.serialText) {
                if let expected = meter.expectSerial, serial != expected, state.refusal == nil {
                    state.refusal = "serial number \(serial), expected \(expected)"
                } else if let known = state.serialNumber, known != serial, state.refusal == nil {
                    state.refusal = "meter replaced: serial number \(known) → \(serial)"
                }
                if state.serialNumber == nil || state.refusal == nil { state.serialNumber = serial }
            }
            let measured = meter.profile.registers.keys.filter { $0 != .serialNumber }
            let full = complete && measured.allSatisfy { values[$0] != nil || state.values[$0] != nil }
            if full, state.refusal == nil {
                for (quantity, value) in values where quantity != .serialNumber { state.values[quantity] = value }
                state.readAt = finished
                if let energy = values[.energyImportWh] { state.energyImportWh = energy }
                if let energy = values[.energyExportWh] { state.energyExportWh = energy }
                state.failedInRow = 0
                state.statistics.goodCycles += 1
                if state.faulted {
                    state.faulted = false
                    state.pending.append(.faultCleared(evseID: meter.evseID, kind: .meterCommunication))
                    logLines.append((.notice, "meter of \(meter.evseID) (unit \(meter.unitID)) answers again: meter_communication cleared"))
                }
            } else {
                state.failedInRow += 1
                state.statistics.failedCycles += 1
                let refused = state.refusal
                if !state.faulted, refused != nil || state.failedInRow >= meter.offlineAfterFailedCycles {
                    state.faulted = true
                    state.pending.append(.fault(evseID: meter.evseID, kind: .meterCommunication))
                    logLines.append((
                        .warning,
                        refused.map { "meter of \(meter.evseID) (unit \(meter.unitID)) refused: \($0)" }
                            ?? "meter of \(meter.evseID) (unit \(meter.unitID)) silent for \(state.failedInRow) cycles: meter_communication, values unknown"))
                }
            }
        }
        if !dropped.isEmpty {
            let last = implausibleLogged[meter.evseID]
            if last.map({ $0.duration(to: finished) >= .seconds(60) }) ?? true {
                implausibleLogged[meter.evseID] = finished
                logLines.append((.warning, "meter of \(meter.evseID): implausible value dropped: \(dropped.joined(separator: ", ")) (logged once a minute)"))
            }
        }
        for line in logLines { logger.log(level: line.level, "\(line.text)", metadata: ["evse_id": "\(meter.evseID)"]) }
    }

    /// A cycle that could not even be sent (the line is not open).
    static func failCycle(_ meter: MeterChannel, logger: Logger) {
        var polling = MeterPolling(transport: ClosedLine(), gap: .zero, logger: logger, now: { ContinuousClock.now })
        polling.finish(meter, values: [:], complete: false, started: ContinuousClock.now)
    }

    /// Why a value cannot be right (nil: plausible).
    static func implausibility(_ quantity: MeterQuantity, _ value: Double, state: MeterChannel.State) -> String? {
        guard value.isFinite else { return "not a number" }
        switch quantity {
        case .voltageL1, .voltageL2, .voltageL3: return (0...500).contains(value) ? nil : "\(value) V"
        case .currentL1, .currentL2, .currentL3: return abs(value) <= 1000 ? nil : "\(value) A"
        case .frequency: return (40...70).contains(value) ? nil : "\(value) Hz"
        case .powerFactor: return abs(value) <= 1.001 ? nil : "power factor \(value)"
        case .powerW: return abs(value) <= 1_000_000 ? nil : "\(value) W"
        case .energyImportWh, .energyExportWh:
            guard value >= 0 else { return "\(value) Wh" }
            let last = quantity == .energyImportWh ? state.energyImportWh : state.energyExportWh
            if let last, value < last { return "register went backwards \(last) → \(value) Wh" }
            return nil
        case .serialNumber: return nil
        }
    }

    static func serialText(_ value: Double) -> String {
        value.isFinite && value >= 0 ? String(UInt64(value)) : "?"
    }
}

extension Duration {
    var milliseconds: Double {
        let parts = components
        return Double(parts.seconds) * 1000 + Double(parts.attoseconds) / 1e15
    }
}

/// The transport of a line that is not open: every read fails.
final class ClosedLine: RegisterTransport {
    func read(unit: UInt8, function: RegisterSpec.FunctionCode, address: UInt16, count: UInt16) -> Result<[UInt16], RegisterReadError> {
        .failure(.io(0))
    }
    func recover(after error: RegisterReadError) -> Int { 0 }
}
