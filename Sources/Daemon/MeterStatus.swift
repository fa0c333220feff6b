import JSONSchema
import MeterDriver
import Station

/// The meter part of `cs-companion status` and `hardware check`: a real meter's health, its
/// last values and its bus statistics (timeouts, CRC/framing errors, latency).
enum MeterStatus {
    /// The meter of an EVSE as JSON and one line; nil when the EVSE has no configured meter.
    static func entry(of station: Station, evseID: String) -> (json: JSONValue, line: String)? {
        guard let metered = station.hardware as? MeteredHardware, let channel = metered.meter(evseID: evseID) else { return nil }
        let state = channel.current
        let statistics = state.statistics
        var object: JSONObject = [
            "unit_id": .int(Int64(channel.unitID)), "profile": .string(channel.profile.name),
            "communication": .string(state.refusal != nil ? "refused" : state.faulted ? "offline" : state.readAt == nil ? "waiting" : "ok"),
        ]
        if let serial = state.serialNumber { object["serial_number"] = .string(serial) }
        if let refusal = state.refusal { object["refusal"] = .string(refusal) }
        var values = JSONObject()
        for quantity in MeterQuantity.allCases where quantity != .serialNumber {
            if let value = state.values[quantity], value.isFinite { values[quantity.rawValue] = .double(value) }
        }
        if let energy = state.energyImportWh { values["energy_import_wh"] = .double(energy) }
        if let energy = state.energyExportWh { values["energy_export_wh"] = .double(energy) }
        object["values"] = .object(values)
        object["statistics"] = .object([
            "requests": .int(Int64(statistics.requests)), "timeouts": .int(Int64(statistics.timeouts)),
            "framing_errors": .int(Int64(statistics.framingErrors)), "exceptions": .int(Int64(statistics.exceptions)),
            "retries": .int(Int64(statistics.retries)), "implausible": .int(Int64(statistics.implausible)),
            "good_cycles": .int(Int64(statistics.goodCycles)), "failed_cycles": .int(Int64(statistics.failedCycles)),
            "last_latency_ms": .double(rounded(statistics.lastLatencyMs)), "max_latency_ms": .double(rounded(statistics.maxLatencyMs)),
            "last_cycle_ms": .double(rounded(statistics.lastCycleMs)),
        ])
        let line =
            "meter unit \(channel.unitID) (\(channel.profile.name)) \(object["communication"]?.stringValue ?? "")"
            + (state.serialNumber.map { ", serial \($0)" } ?? "")
            + ": \(statistics.requests) requests, \(statistics.timeouts) timeouts, \(statistics.framingErrors) CRC/framing errors, "
            + "\(statistics.implausible) implausible, latency \(rounded(statistics.lastLatencyMs)) ms (max \(rounded(statistics.maxLatencyMs))), "
            + "cycle \(rounded(statistics.lastCycleMs)) ms"
        return (.object(object), line)
    }

    static func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
}
