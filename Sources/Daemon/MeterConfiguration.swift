import JSONSchema
import MeterDriver

/// `hardware.buses`, `hardware.meters` and `hardware.meter_profiles`: real energy meters beside
/// the board driver (docs/HARDWARE.md). Decoded from a document that passed the schema; the
/// checks no schema can say are problems here, so `--check-config` refuses them.
public struct MeterSetup: Sendable, Equatable {
    public struct Bus: Sendable, Equatable {
        public var name: String
        public var port: String
        public var baud = 9600
        public var parity = "none"
        public var stopBits = 1
        /// s
        public var responseTimeout = 0.5
        /// s between two requests on the bus
        public var gap = 0.02
        public var rs485 = true
        public var rtsDelayMicroseconds: Int?
    }

    public struct Meter: Sendable, Equatable {
        public var evseID: String
        /// The RS485 bus (`bus:`) or a Modbus TCP address (`tcp: host:port`).
        public var bus: String?
        public var tcp: String?
        public var unitID: Int
        public var profile: String
        /// s
        public var pollInterval = 1.0
        public var offlineAfterFailedCycles = 2
        public var expectSerial: String?
    }

    public var buses: [Bus] = []
    public var meters: [Meter] = []
    /// User profiles by name (the built-ins are in `BuiltInProfiles.all`).
    public var profiles: [String: MeterProfile] = [:]

    public init() {}

    /// A profile by name: the user's first, then the built-ins.
    public func profile(named name: String) -> MeterProfile? { profiles[name] ?? BuiltInProfiles.all[name] }

    /// `hardware` as a plain string (`simulated`, `none`) has no meters; as an object, its
    /// `driver`, `buses`, `meters` and `meter_profiles`.
    static func decode(
        _ hardware: JSONValue?, evseIDs: [String], problems: inout [ConfigProblem], located: (String, String) -> ConfigProblem
    ) -> MeterSetup {
        var setup = MeterSetup()
        guard let hardware, hardware.stringValue == nil else { return setup }
        for member in hardware["meter_profiles"]?.objectValue?.members ?? [] {
            let name = member.key, registers = member.value
            let base = "/hardware/meter_profiles/\(name)"
            var specs: [MeterQuantity: RegisterSpec] = [:]
            for entry in registers.objectValue?.members ?? [] {
                let key = entry.key, spec = entry.value
                guard let quantity = MeterQuantity(rawValue: key) else {
                    problems.append(located(base + "/\(key)", "unknown quantity '\(key)' (one of \(MeterQuantity.allCases.map(\.rawValue).joined(separator: ", ")))"))
                    continue
                }
                guard let typeName = spec["type"]?.stringValue, let type = RegisterSpec.ValueType(rawValue: typeName) else {
                    problems.append(located(base + "/\(key)/type", "unknown register type (one of \(RegisterSpec.ValueType.allCases.map(\.rawValue).joined(separator: ", ")))"))
                    continue
                }
                let function: RegisterSpec.FunctionCode = spec["fc"]?.integerValue == 3 ? .holding : .input
                specs[quantity] = RegisterSpec(
                    function, UInt16(clamping: spec["address"]?.integerValue ?? 0), type,
                    wordOrder: spec["word_order"]?.stringValue == "little" ? .little : .big, scale: spec["scale"]?.numberValue ?? 1)
            }
            let profile = MeterProfile(name: name, registers: specs)
            for (first, second) in profile.overlaps {
                problems.append(located(base + "/\(second.rawValue)", "\(second.rawValue) overlaps the registers of \(first.rawValue)"))
            }
            setup.profiles[name] = profile
        }
        var busNames: [String: Int] = [:]
        let boardPort = hardware["board"]?["port"]?.stringValue
        for (index, item) in (hardware["buses"]?.arrayValue ?? []).enumerated() {
            let base = "/hardware/buses/\(index)"
            var bus = Bus(name: item["name"]?.stringValue ?? "", port: item["port"]?.stringValue ?? "")
            if let first = busNames[bus.name] { problems.append(located(base + "/name", "bus '\(bus.name)' is already buses[\(first)]")) }
            busNames[bus.name] = index
            if let boardPort, boardPort == bus.port {
                problems.append(located(base + "/port", "\(bus.port) is the safety controller's port (hardware.board.port)"))
            }
            if setup.buses.contains(where: { $0.port == bus.port }) {
                problems.append(located(base + "/port", "\(bus.port) is the port of another bus"))
            }
            if let baud = item["baud"]?.integerValue { bus.baud = Int(baud) }
            if let parity = item["parity"]?.stringValue { bus.parity = parity }
            if let stop = item["stop_bits"]?.integerValue { bus.stopBits = Int(stop) }
            if let timeout = item["response_timeout"]?.numberValue { bus.responseTimeout = timeout }
            if let gap = item["gap"]?.numberValue { bus.gap = gap }
            if let rs485 = item["rs485"]?.boolValue { bus.rs485 = rs485 }
            if let delay = item["rts_delay"]?.integerValue { bus.rtsDelayMicroseconds = Int(delay) }
            setup.buses.append(bus)
        }
        var units: [String: Int] = [:]
        var metered: [String: Int] = [:]
        for (index, item) in (hardware["meters"]?.arrayValue ?? []).enumerated() {
            let base = "/hardware/meters/\(index)"
            var meter = Meter(
                evseID: item["evse_id"]?.stringValue ?? "", bus: item["bus"]?.stringValue, tcp: item["tcp"]?.stringValue,
                unitID: Int(item["unit_id"]?.integerValue ?? 1), profile: item["profile"]?.stringValue ?? "")
            if let interval = item["poll_interval"]?.numberValue { meter.pollInterval = interval }
            if let cycles = item["offline_after_failed_cycles"]?.integerValue { meter.offlineAfterFailedCycles = Int(cycles) }
            meter.expectSerial = item["expect_serial"]?.stringValue
            if !evseIDs.contains(meter.evseID) { problems.append(located(base + "/evse_id", "no EVSE '\(meter.evseID)' in evses")) }
            if let first = metered[meter.evseID] {
                problems.append(located(base + "/evse_id", "\(meter.evseID) already has a meter (meters[\(first)])"))
            }
            metered[meter.evseID] = index
            let line = meter.bus.map { "bus \($0)" } ?? meter.tcp.map { "tcp \($0)" } ?? ""
            if let bus = meter.bus, busNames[bus] == nil { problems.append(located(base + "/bus", "no bus '\(bus)' in hardware.buses")) }
            if let tcp = meter.tcp, Self.tcpAddress(tcp) == nil { problems.append(located(base + "/tcp", "'\(tcp)' is not host:port")) }
            if let first = units["\(line) unit \(meter.unitID)"] {
                problems.append(located(base + "/unit_id", "unit id \(meter.unitID) is already used on \(line) by meters[\(first)]"))
            }
            units["\(line) unit \(meter.unitID)"] = index
            if let profile = setup.profile(named: meter.profile) {
                if meter.expectSerial != nil, profile.registers[.serialNumber] == nil {
                    problems.append(located(base + "/expect_serial", "profile \(meter.profile) has no serial_number register"))
                }
            } else {
                problems.append(located(base + "/profile", "unknown profile '\(meter.profile)' (built in: \(BuiltInProfiles.all.keys.sorted().joined(separator: ", ")))"))
            }
            setup.meters.append(meter)
        }
        return setup
    }

    /// `host:port` split (nil when it is not).
    static func tcpAddress(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        let host = String(text[..<colon])
        return host.isEmpty ? nil : (host, port)
    }
}
