import Foundation
import LoadManagement

/// The live table (one block per cycle) and the JSON-lines form of the same data.
enum Output {
    static func table(_ snapshot: Simulator.Snapshot, elapsed: Double) -> String {
        var lines: [String] = []
        let loads = snapshot.phaseLoads.map { format($0) }.joined(separator: "/")
        lines.append("gridbox-sim  cycle \(snapshot.cycle)  t=\(format(elapsed)) s  site limit \(format(snapshot.siteLimit)) A/phase  allocated L1/L2/L3 \(loads) A")
        if snapshot.reserved.contains(where: { $0 > 0 }) {
            lines[0] += "  reserved for offline stations \(snapshot.reserved.map { format($0) }.joined(separator: "/")) A"
        }
        let header = ["STATION", "CONN", "STATE", "CURRENT A L1/L2/L3", "POWER kW", "ENERGY kWh", "PRIO", "LIMIT A", "APPLIED A", "VALID s", "PH", "NOTE"]
        var rows: [[String]] = [header]
        for row in snapshot.rows {
            let reading = row.state.reading
            let online = row.state.online
            rows.append([
                row.id.serial, String(row.id.connector), online ? Mode3.normalized(reading.state) : "-",
                online ? reading.currents.map { format($0) }.joined(separator: "/") : "-",
                online ? format(reading.power / 1000, digits: 2) : "-",
                online ? format(reading.energy / 1000, digits: 3) : "-",
                String(row.priority), format(row.state.allocated),
                online ? format(reading.applied) : "-",
                online ? reading.valid.map(String.init) ?? "-" : "-",
                reading.phases.map(String.init) ?? "-",
                online ? note(row.state.outcome) : "station offline",
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        let numeric: Set<Int> = [1, 4, 5, 6, 7, 8, 9, 10]
        for row in rows {
            let cells = row.enumerated().map { column, text in
                let pad = String(repeating: " ", count: widths[column] - text.count)
                return numeric.contains(column) ? pad + text : text + pad
            }
            var line = cells.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            lines.append(line)
        }
        if snapshot.rows.isEmpty { lines.append("(no connectors)") }
        for station in snapshot.stations where !station.connected {
            var text = "station \(station.address)"
            if let serial = station.serial { text += " (\(serial))" }
            text += ": offline"
            if let error = station.error { text += ", \(error)" }
            if let retry = station.retryIn { text += ", next try in \(Int(retry)) s" }
            lines.append(text)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func note(_ outcome: AllocationOutcome) -> String {
        switch outcome {
        case .charging: "sharing"
        case .atMaximum: "at maximum"
        case .pausedForCapacity: "paused: site limit"
        case .maximumBelowMinimum: "paused: max < 6 A"
        case .notCharging: "idle"
        }
    }

    static func json(_ snapshot: Simulator.Snapshot, elapsed: Double) -> String {
        /// Registers are FLOAT32: 10.6 reads back as 10.600000381, so two decimals.
        func number(_ value: Double) -> JSONValue { .number(value.isFinite ? (value * 100).rounded() / 100 : value) }
        let connectors: [JSONValue] = snapshot.rows.map { row in
            let reading = row.state.reading
            var members: [(String, JSONValue)] = [
                ("serial_number", .string(row.id.serial)), ("connector", number(Double(row.id.connector))),
            ]
            if let evse = row.evseID { members.append(("evse_id", .string(evse))) }
            members += [
                ("online", .bool(row.state.online)),
                ("state", .string(Mode3.normalized(reading.state))),
                ("currents_a", .array(reading.currents.map(number))),
                ("power_kw", number(reading.power / 1000)),
                ("energy_kwh", .number((reading.energy).rounded() / 1000)),
                ("priority", number(Double(row.priority))),
                ("allocated_a", number(row.state.allocated)),
                ("outcome", .string(row.state.outcome.rawValue)),
                ("applied_a", number(reading.applied)),
                ("valid_s", reading.valid.map { number(Double($0)) } ?? .null),
                ("safe_a", number(reading.safe)),
                ("phases", reading.phases.map { number(Double($0)) } ?? .null),
                ("plug_ins", reading.plugIns.map { number(Double($0)) } ?? .null),
                ("last_written_a", row.state.lastWritten.map(number) ?? .null),
            ]
            return .object(members)
        }
        let stations: [JSONValue] = snapshot.stations.map { station in
            .object([
                ("address", .string(station.address.description)),
                ("serial_number", station.serial.map(JSONValue.string) ?? .null),
                ("connected", .bool(station.connected)),
                ("error", station.error.map(JSONValue.string) ?? .null),
            ])
        }
        let value = JSONValue.object([
            ("cycle", number(Double(snapshot.cycle))),
            ("elapsed_s", number((elapsed * 10).rounded() / 10)),
            ("site_limit_a", number(snapshot.siteLimit)),
            ("phase_loads_a", .array(snapshot.phaseLoads.map(number))),
            ("reserved_offline_a", .array(snapshot.reserved.map(number))),
            ("stations", .array(stations)),
            ("connectors", .array(connectors)),
        ])
        return value.text + "\n"
    }
}
