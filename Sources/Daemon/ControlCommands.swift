import Basics
import JSONSchema
import JosevContract
import Station
import Store

/// The commands of the local control socket, on top of the `Station`; the EV commands (plug,
/// unplug, ev, fault, clear-fault) go through the simulator.
struct ControlCommands: Sendable {
    let station: Station
    let runtime: DaemonRuntime

    private var simulator: EVSimulator { EVSimulator(station: station) }

    func handle(_ request: JSONObject) async -> JSONObject {
        guard let command = request["command"]?.stringValue else { return Self.failure("missing \"command\"") }
        if command == "status" { return await status(evseID: request["evse_id"]?.stringValue) }
        if command == "hardware-check" { return await hardwareCheck() }
        if command.hasPrefix("config-") { return configuration(command, request) }
        let configuration = await station.configuration
        guard let evseID = request["evse_id"]?.stringValue ?? configuration.evses.first?.evseID else {
            return Self.failure("no EVSE configured")
        }
        guard await station.owns(evseID: evseID) else { return Self.failure("no EVSE '\(evseID)'") }
        switch command {
        case "plug":
            let connectorID = Int(request["connector_id"]?.integerValue ?? 1)
            var ev = SimulatedEV()
            if let current = request["max_current"]?.numberValue { ev.maxCurrent = current }
            if let phases = request["phases"]?.integerValue { ev.phases = Int(phases) }
            return await outcome(simulator.plug(evseID: evseID, connectorID: connectorID, ev: ev), "EV plugged into \(evseID)/\(connectorID)")
        case "unplug":
            return await outcome(simulator.unplug(evseID: evseID), "EV unplugged from \(evseID)")
        case "rfid":
            guard let uid = request["uid"]?.stringValue, !uid.isEmpty else { return Self.failure("rfid needs \"uid\"") }
            switch await station.rfid(uid: uid, evseID: evseID) {
            case .acceptedLocally: return ["ok": true, "message": .string("card \(uid) accepted locally on \(evseID)")]
            case .pending: return ["ok": true, "message": .string("card \(uid) presented on \(evseID); asking Josev")]
            case .unknownEVSE: return Self.failure("no EVSE '\(evseID)'")
            }
        case "ev":
            if request["stop"] == true {
                return await outcome(simulator.evStops(evseID: evseID), "EV on \(evseID) stops charging")
            }
            let current = request["max_current"]?.numberValue
            return await outcome(
                simulator.evRequestsPower(evseID: evseID, maxCurrent: current),
                "EV on \(evseID) asks for power\(current.map { " (max \($0) A)" } ?? "")")
        case "fault":
            guard let name = request["kind"]?.stringValue, let kind = Self.faultKind(name) else {
                let known = HardwareFaultKind.allCases.map(\.rawValue).joined(separator: ", ")
                return Self.failure("fault needs \"kind\": one of rcd, isolation, overtemperature, cp_short, \(known)")
            }
            return await outcome(simulator.fault(kind, evseID: evseID), "fault \(kind.rawValue) raised on \(evseID)")
        case "rcd-reset":
            return await rcdReset(evseID: evseID)
        case "clear-latched-fault":
            return await clearLatched(evseID: evseID)
        case "clear-fault":
            var cleared = false
            for kind in HardwareFaultKind.allCases where await simulator.clearFault(kind, evseID: evseID) { cleared = true }
            return cleared ? ["ok": true, "message": .string("faults cleared on \(evseID)")] : ["ok": true, "message": "no fault to clear"]
        default:
            return Self.failure("unknown command '\(command)'")
        }
    }

    private func outcome(_ done: Bool, _ message: String) -> JSONObject {
        done ? ["ok": true, "message": .string(message)] : Self.failure("refused: \(message)")
    }

    /// Fault names as technicians type them, and the domain's own.
    static func faultKind(_ name: String) -> HardwareFaultKind? {
        switch name {
        case "rcd": .rcdTripped
        case "isolation": .isolationFault
        case "overtemperature": .overTemperature
        case "cp_short": .pilotError
        default: HardwareFaultKind(rawValue: name)
        }
    }

    static func failure(_ message: String) -> JSONObject { ["ok": false, "error": .string(message)] }

    /// The station as JSON plus a human summary (`cs-companion status`).
    func status(evseID: String?) async -> JSONObject {
        let snapshot = await station.statusAndLimits(evseIDs: evseID.map { [$0] })
        let configuration = await station.configuration
        var evses: [JSONValue] = []
        var lines = ["\(configuration.identity.vendor) \(configuration.identity.model), serial \(configuration.identity.serialNumber), firmware \(configuration.identity.firmwareVersion)"]
        lines.append(runtime.statusLine())
        for entry in snapshot.evses {
            var object: JSONObject = ["evse_id": .string(entry.evseID), "status_code": .string(entry.statusCode.rawValue)]
            var line = "EVSE \(entry.evseID): \(entry.statusCode.rawValue)"
            if let ac = entry.ac {
                object["offered_current"] = .double(ac.maxCurrent.l1)
                object["rcd_error"] = .bool(ac.rcdError)
                line += ", AC offered \(ac.maxCurrent.l1) A/phase at \(ac.nominalVoltage) V"
            }
            let evse = configuration.evses.first { $0.evseID == entry.evseID }
            var pilots: [String] = []
            for connector in evse?.connectors ?? [] {
                if let pilot = await station.controlPilot(evseID: entry.evseID, connectorID: connector.id) {
                    pilots.append("\(connector.id):\(pilot.rawValue)")
                }
            }
            object["cp_states"] = .array(pilots.map { .string($0) })
            line += ", CP \(pilots.joined(separator: " "))"
            let reserved = await station.state(of: entry.evseID)?.reservedConnectorIDs ?? []
            object["reserved_connectors"] = .array(reserved.map { .int(Int64($0)) })
            if !reserved.isEmpty { line += ", reserved (connector \(reserved.map(String.init).joined(separator: ", ")))" }
            if let closed = await station.contactorClosed(evseID: entry.evseID) {
                object["contactor"] = .string(closed ? "closed" : "open")
                line += ", contactor \(closed ? "closed" : "open")"
            }
            if let meter = await station.meterValues(evseID: entry.evseID) {
                object["energy_wh"] = .double((meter.energyImportedWh * 10).rounded() / 10)
                object["meter_quality"] = .string(meter.quality.rawValue)
                if meter.quality.isKnown {
                    object["power_w"] = .double((meter.activePower * 10).rounded() / 10)
                    line += ", \((meter.activePower / 100).rounded() / 10) kW, \((meter.energyImportedWh / 100).rounded() / 10) kWh"
                } else {
                    line += ", power unknown (meter \(meter.quality.rawValue)), \((meter.energyImportedWh / 100).rounded() / 10) kWh"
                }
            }
            if let meter = MeterStatus.entry(of: station, evseID: entry.evseID) {
                object["meter"] = meter.json
                line += "\n  " + meter.line
            }
            if let dc = entry.dc {
                object["present_voltage"] = .double(dc.presentVoltage)
                object["present_current"] = .double(dc.presentCurrent)
                line += ", DC \(dc.presentVoltage) V \(dc.presentCurrent) A (max \(dc.maxCurrent) A, \(dc.maxPower) W)"
            }
            if let counters = runtime.sessions?.hardwareCounters(evseID: entry.evseID), counters.values.contains(where: { $0 > 0 }) {
                for (counter, count) in counters { object[counter.rawValue] = .int(Int64(count)) }
                line += ", \(counters[.contactorCycles] ?? 0) contactor cycle(s), \(counters[.openingsUnderLoad] ?? 0) opening(s) under load, \(counters[.rcdTrips] ?? 0) RCD trip(s)"
            }
            evses.append(.object(object))
            lines.append(line)
        }
        if evseID != nil, evses.isEmpty { return Self.failure("no EVSE '\(evseID ?? "")'") }
        var result: JSONObject = ["ok": true, "evses": .array(evses), "summary": .string(lines.joined(separator: "\n"))]
        let messages = runtime.router.statistics
        result["messages"] = [
            "answered": .int(Int64(messages.answered)), "consumed": .int(Int64(messages.consumed)),
            "ignored": .int(Int64(messages.ignored)), "rejected": .int(Int64(messages.rejected)),
            "failed": .int(Int64(messages.failed)), "updates_sent": .int(Int64(messages.updatesSent)),
            "shed": .int(Int64(runtime.client.messages.shed.messages)),
            "shed_bytes": .int(Int64(runtime.client.messages.shed.bytes)),
        ]
        if let storage = runtime.sessions?.storageState {
            result["storage"] = [
                "writable": .bool(storage.writable), "queued_writes": .int(Int64(storage.queuedWrites)),
                "problems": .int(Int64(storage.problems)),
            ]
        }
        if let backlog = runtime.sessions?.pushBacklog, let statistics = runtime.sessions?.pushStatistics.summary {
            result["push"] = [
                "backlog": .int(Int64(backlog.count)), "held": .int(Int64(backlog.held)),
                "oldest_unsent": backlog.oldestCreated.map { .string(DateTimeText.wholeSeconds(unixMilliseconds: $0)) } ?? .null,
                "last_error": backlog.lastError.map { .string($0) } ?? .null,
                "acknowledged": .int(Int64(statistics.acknowledged)), "failures": .int(Int64(statistics.failures)),
                "refused": .int(Int64(statistics.refusals)), "latency_p50_ms": statistics.p50.map { .int($0) } ?? .null,
                "latency_p99_ms": statistics.p99.map { .int($0) } ?? .null,
            ]
        }
        return result
    }
}
