import LoadManagement
import Logging

/// Register addresses of the Alfen-compatible map (PROFILE §1), 0-based.
enum Map {
    static let stationUnit: UInt8 = 200
    static let serial: UInt16 = 157  // STRING, 11 registers
    static let serialCount: UInt16 = 11
    static let socketCount: UInt16 = 1105
    static let currents: UInt16 = 320  // L1, L2, L3 FLOAT32
    static let powerSum: UInt16 = 344  // FLOAT32 W
    static let energySum: UInt16 = 374  // FLOAT64 Wh
    static let socketBlock: UInt16 = 1200  // 1200…1215 in one read
    static let mode3: UInt16 = 1201  // STRING, 5 registers
    static let applied: UInt16 = 1206  // FLOAT32 A
    static let valid: UInt16 = 1208  // UINT32 s
    static let setpoint: UInt16 = 1210  // FLOAT32 A, R/W
    static let safe: UInt16 = 1212  // FLOAT32 A
    static let phases: UInt16 = 1215  // UINT16 1 or 3
    /// cs-companion's vendor block on socket units (not Alfen's): plug-in counter UINT32 @3000,
    /// EVSE id STRING @3002 (20 registers).
    static let vendorBlock: UInt16 = 3000
    static let vendorCount: UInt16 = 22
}

struct StationAddress: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: UInt16
    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// One socket's registers as read in one cycle.
struct SocketReading: Sendable {
    var unit: Int
    var state: String
    var currents: [Double]
    var power: Double  // W
    var energy: Double  // Wh
    var applied: Double  // A (1206)
    var valid: UInt32?  // s (1208)
    var safe: Double  // A (1212)
    var phases: Int?  // 1215 when readable and 1 or 3
    var plugIns: UInt32?  // vendor 3000, when the station has the vendor block
    var evseID: String?  // vendor 3002
}

struct StationIdentity: Sendable, Equatable {
    var serial: String
    var sockets: Int
}

/// Per station bookkeeping (connection state, backoff).
struct StationState {
    var address: StationAddress
    var link: any RegisterLink
    var identity: StationIdentity?
    var connected = false
    var failures = 0
    var nextAttempt: ContinuousClock.Instant
    var lastError: String?
    var readings: [SocketReading] = []
    /// Whether 1200×16 is readable (else the single registers are read one by one).
    var blockReadWorks = true
    /// Whether the vendor block is readable (a station without it: not asked again on this connection).
    var vendorWorks = true
}

/// Per connector bookkeeping across cycles.
struct ConnectorState {
    var station: StationAddress
    var reading: SocketReading
    var pluggedIn = false
    var arrival: Int?
    var allocated = 0.0
    var outcome: AllocationOutcome = .notCharging
    var lastWritten: Double?
    var lastWriteAt: ContinuousClock.Instant?
    /// The station's plug-in counter at the last poll of this connection (nil: none yet).
    var plugIns: UInt32?
    var online = true
    /// While its station is unreachable: what the connector may still draw (its last setpoint until
    /// that expires, then the safe current), kept free of the allocation.
    var offlineReserve = 0.0
}

struct SimulatorOptions: Sendable {
    var siteLimit: Double
    var interval: Double
    var rewriteEvery: Double
    var maximumCurrent: Double
    var defaultPhases: Int
    var evseIDs: [String: ConnectorID]
    var access: PriorityAccess = .open
    var stateFile: String?
    /// Rewrite when 1208 drops below this many seconds.
    var validityMargin: Double { interval + 10 }
}

/// The gridBox: polls the stations, shares the site limit, writes setpoints, keeps priorities.
actor Simulator {
    let options: SimulatorOptions
    let logger: Logger
    let clock = ContinuousClock()
    private(set) var stations: [StationState]
    private(set) var connectors: [ConnectorID: ConnectorState] = [:]
    private(set) var book = PriorityBook()
    private(set) var phaseLoads = [0.0, 0.0, 0.0]
    private(set) var reserved = [0.0, 0.0, 0.0]
    private(set) var cycle = 0
    private var arrivals = 0
    /// EVSE ids read from the stations' vendor registers (3002), by id.
    private(set) var learntEVSEIDs: [String: ConnectorID] = [:]
    private let stateFile: PriorityStateFile?

    init(stations: [(StationAddress, any RegisterLink)], options: SimulatorOptions, logger: Logger) {
        let now = ContinuousClock.now
        self.stations = stations.map { StationState(address: $0.0, link: $0.1, nextAttempt: now) }
        self.options = options
        self.logger = logger
        stateFile = options.stateFile.map(PriorityStateFile.init(path:))
        if let stateFile {
            if let stored = stateFile.load() {
                book = stored
                if !stored.entries.isEmpty {
                    logger.info("priorities restored", metadata: ["file": "\(stateFile.path)", "entries": "\(stored.entries.count)"])
                }
            } else {
                logger.warning("state file is not a priority list; starting empty", metadata: ["file": "\(stateFile.path)"])
            }
        }
    }

    // MARK: HTTP API

    var directory: ConnectorDirectory {
        // Given with --evse-id wins over what a station says.
        ConnectorDirectory(
            known: Set(connectors.filter { $0.value.online }.keys),
            evseIDs: learntEVSEIDs.merging(options.evseIDs) { _, given in given })
    }

    func handleAPI(method: String, path: String, body: [UInt8], authorization: String? = nil) -> APIResponse {
        if let refused = options.access.check(path: path, authorization: authorization) {
            logger.info("priority API request refused", metadata: ["method": "\(method)", "path": "\(path)", "status": "\(refused.status)"])
            return refused
        }
        let (response, changes) = PriorityAPI.handle(
            method: method, path: path, body: body, book: &book, directory: directory)
        for change in changes {
            logger.info("priority changed", metadata: ["connector": "\(change.id)", "from": "\(change.old)", "to": "\(change.new)", "by": "http \(method.uppercased())"])
        }
        if !changes.isEmpty { persist() }
        return response
    }

    /// Writes the book to the state file (if any) after a change.
    private func persist() {
        guard let stateFile else { return }
        do {
            try stateFile.save(book)
        } catch {
            logger.error("cannot write the priorities", metadata: ["file": "\(stateFile.path)", "error": "\(error)"])
        }
    }

    // MARK: Cycle

    func runCycle() async {
        cycle += 1
        await poll()
        allocate()
        await writeSetpoints()
    }

    /// Reads every reachable station (concurrently); tries the others when their backoff is over.
    private func poll() async {
        let now = clock.now
        let jobs: [PollJob] = stations.enumerated().compactMap { index, station in
            guard station.connected || now >= station.nextAttempt else { return nil }
            return PollJob(
                index: index, link: station.link, identity: station.connected ? station.identity : nil, blockRead: station.blockReadWorks,
                vendor: station.connected ? station.vendorWorks : true)
        }
        let results = await withTaskGroup(of: PollOutcome.self) { group in
            for job in jobs {
                group.addTask {
                    do {
                        let result = try await Self.pollStation(
                            link: job.link, identity: job.identity, blockRead: job.blockRead, vendor: job.vendor)
                        return PollOutcome(index: job.index, result: .success(result))
                    } catch {
                        await job.link.close()
                        return PollOutcome(index: job.index, result: .failure(error))
                    }
                }
            }
            var results: [PollOutcome] = []
            for await result in group { results.append(result) }
            return results
        }
        for outcome in results.sorted(by: { $0.index < $1.index }) where stations.indices.contains(outcome.index) {
            switch outcome.result {
            case .success(let poll): stationPolled(outcome.index, poll)
            case .failure(let error): stationFailed(outcome.index, error)
            }
        }
    }

    /// One station to read in this cycle.
    struct PollJob: Sendable {
        var index: Int
        var link: any RegisterLink
        var identity: StationIdentity?
        var blockRead: Bool
        var vendor: Bool
    }

    struct PollOutcome: Sendable {
        var index: Int
        var result: Result<PollResult, any Error>
    }

    struct PollResult: Sendable {
        var identity: StationIdentity
        var readings: [SocketReading]
        var blockReadWorks: Bool
        var vendorWorks: Bool
    }

    /// Connects if needed, reads unit 200 when the identity is not known (new connection), then every
    /// socket unit.
    static func pollStation(link: any RegisterLink, identity: StationIdentity?, blockRead: Bool, vendor: Bool) async throws -> PollResult {
        var identity = identity
        if !(await link.isConnected) || identity == nil {
            try await link.connect()
            let serial = RegisterCodec.string(try await link.read(unit: Map.stationUnit, address: Map.serial, count: Map.serialCount)[...])
            let count = try await link.read(unit: Map.stationUnit, address: Map.socketCount, count: 1)[0]
            guard !serial.isEmpty else { throw ModbusError.malformed("empty station serial (unit 200 @157)") }
            guard count != 0xFFFF, count <= 16 else { throw ModbusError.malformed("number of sockets \(count)") }
            identity = StationIdentity(serial: serial, sockets: Int(count))
        }
        guard let identity else { throw ModbusError.notConnected }
        var readings: [SocketReading] = []
        var blockRead = blockRead
        var vendor = vendor
        for socket in 0..<identity.sockets {
            let unit = UInt8(socket + 1)
            let currents = try await link.read(unit: unit, address: Map.currents, count: 6)
            let power = try await link.read(unit: unit, address: Map.powerSum, count: 2)
            let energy = try await link.read(unit: unit, address: Map.energySum, count: 4)
            var state: String
            var applied, safe: Double
            var valid: UInt32?
            var phases: Int?
            do {
                guard blockRead else { throw ModbusError.exception(function: 3, code: 2) }
                let block = try await link.read(unit: unit, address: Map.socketBlock, count: 16)
                func at(_ address: UInt16, _ count: Int) -> ArraySlice<UInt16> {
                    let start = Int(address - Map.socketBlock)
                    return block[start..<start + count]
                }
                state = RegisterCodec.string(at(Map.mode3, 5))
                applied = Double(RegisterCodec.float32(at(Map.applied, 2)))
                valid = RegisterCodec.uint32(at(Map.valid, 2))
                safe = Double(RegisterCodec.float32(at(Map.safe, 2)))
                let phaseRegister = at(Map.phases, 1).first ?? 0
                phases = phaseRegister == 1 || phaseRegister == 3 ? Int(phaseRegister) : nil
            } catch ModbusError.exception {
                // A server without the whole 1200…1215 block: the registers one by one.
                blockRead = false
                state = RegisterCodec.string(try await link.read(unit: unit, address: Map.mode3, count: 5)[...])
                applied = Double(RegisterCodec.float32(try await link.read(unit: unit, address: Map.applied, count: 2)[...]))
                valid = RegisterCodec.uint32(try await link.read(unit: unit, address: Map.valid, count: 2)[...])
                safe = Double(RegisterCodec.float32(try await link.read(unit: unit, address: Map.safe, count: 2)[...]))
                phases = nil
            }
            if valid == 0xFFFF_FFFF { valid = nil }
            // The vendor block: an unplug and replug between two polls shows as a new count.
            var plugIns: UInt32?
            var evseID: String?
            if vendor {
                do {
                    let block = try await link.read(unit: unit, address: Map.vendorBlock, count: Map.vendorCount)
                    plugIns = RegisterCodec.uint32(block[0..<2])
                    let text = RegisterCodec.string(block[2...])
                    evseID = text.isEmpty ? nil : text
                } catch ModbusError.exception {
                    vendor = false
                }
            }
            readings.append(SocketReading(
                unit: socket + 1, state: state,
                currents: (0..<3).map { Double(RegisterCodec.float32(currents[(2 * $0)..<(2 * $0 + 2)])) },
                power: Double(RegisterCodec.float32(power[...])), energy: RegisterCodec.float64(energy[...]),
                applied: applied, valid: valid, safe: safe, phases: phases, plugIns: plugIns, evseID: evseID))
        }
        return PollResult(identity: identity, readings: readings, blockReadWorks: blockRead, vendorWorks: vendor)
    }

    private func stationPolled(_ index: Int, _ poll: PollResult) {
        var station = stations[index]
        if !station.connected || station.identity != poll.identity {
            logger.info("station connected", metadata: [
                "station": "\(station.address)", "serial": "\(poll.identity.serial)", "sockets": "\(poll.identity.sockets)",
            ])
            // A new connection: the setpoints must be written again.
            for unit in 0..<poll.identity.sockets {
                let id = ConnectorID(serial: poll.identity.serial, connector: unit + 1)
                connectors[id]?.lastWritten = nil
                connectors[id]?.lastWriteAt = nil
                // The counter of the new connection is the baseline (the station may have restarted).
                connectors[id]?.plugIns = nil
            }
        }
        station.connected = true
        station.failures = 0
        station.lastError = nil
        station.identity = poll.identity
        station.readings = poll.readings
        station.blockReadWorks = poll.blockReadWorks
        station.vendorWorks = poll.vendorWorks
        stations[index] = station
        var changed = false

        for reading in poll.readings {
            let id = ConnectorID(serial: poll.identity.serial, connector: reading.unit)
            var connector = connectors[id] ?? ConnectorState(station: station.address, reading: reading)
            let state = Mode3.normalized(reading.state)
            connector.station = station.address
            connector.reading = reading
            connector.online = true
            if let evse = reading.evseID, learntEVSEIDs[evse] != id {
                learntEVSEIDs[evse] = id
                logger.info("EVSE id learnt from the station", metadata: ["connector": "\(id)", "evse_id": "\(evse)"])
            }
            let counted = connector.plugIns
            connector.plugIns = reading.plugIns
            if Mode3.isPluggedIn(state), connector.pluggedIn, let counted, let now = reading.plugIns, now != counted {
                // Unplugged and plugged in again between two polls: another vehicle, perhaps.
                arrivals += 1
                connector.arrival = arrivals
                logger.info("vehicle unplugged and plugged in again between two polls", metadata: ["connector": "\(id)", "plug_ins": "\(now)"])
                if let change = book.reset(id) {
                    changed = true
                    logger.info("priority changed", metadata: ["connector": "\(id)", "from": "\(change.old)", "to": "0", "by": "replug"])
                }
            }
            if Mode3.isPluggedIn(state) {
                if !connector.pluggedIn {
                    arrivals += 1
                    connector.arrival = arrivals
                    logger.info("vehicle plugged in", metadata: ["connector": "\(id)", "state": "\(state)"])
                }
                connector.pluggedIn = true
            } else if state == "A" {
                // Unplugged (E/F in between do not count): the user priority goes back to 0.
                if connector.pluggedIn {
                    logger.info("vehicle unplugged", metadata: ["connector": "\(id)"])
                    if let change = book.reset(id) {
                        changed = true
                        logger.info("priority changed", metadata: [
                            "connector": "\(id)", "from": "\(change.old)", "to": "0", "by": "unplug",
                        ])
                    }
                }
                connector.pluggedIn = false
                connector.arrival = nil
            }
            connectors[id] = connector
        }
        if changed { persist() }
    }

    private func stationFailed(_ index: Int, _ error: any Error) {
        var station = stations[index]
        station.failures += 1
        let delay = min(30.0, Double(1 << min(station.failures - 1, 5)))
        station.nextAttempt = clock.now + .milliseconds(Int(delay * 1000))
        let text = "\(error)"
        if station.connected {
            logger.warning("station lost", metadata: ["station": "\(station.address)", "error": "\(text)", "retry_in_s": "\(Int(delay))"])
        } else if station.lastError != text {
            logger.warning("station unreachable", metadata: ["station": "\(station.address)", "error": "\(text)", "retry_in_s": "\(Int(delay))"])
        } else {
            logger.debug("station still unreachable", metadata: ["station": "\(station.address)", "retry_in_s": "\(Int(delay))"])
        }
        station.connected = false
        station.lastError = text
        station.readings = []
        stations[index] = station
        if let serial = station.identity?.serial {
            for (id, _) in connectors where id.serial == serial && connectors[id]?.station == station.address {
                if let connector = connectors[id], connector.online {
                    let safe = connector.reading.safe.isFinite ? connector.reading.safe : 0
                    connectors[id]?.offlineReserve = max(connector.lastWritten ?? 0, safe, 0)
                }
                connectors[id]?.online = false
                connectors[id]?.allocated = 0
                connectors[id]?.lastWritten = nil
                connectors[id]?.lastWriteAt = nil
            }
        }
    }

    private func allocate() {
        let demands: [ConnectorDemand] = connectors.filter(\.value.online).map { id, connector in
            let reading = connector.reading
            return ConnectorDemand(
                id: id, priority: book.priority(of: id), wantsToCharge: Mode3.wantsToCharge(reading.state),
                maximumCurrent: options.maximumCurrent,
                phases: PhaseConnection(count: reading.phases ?? options.defaultPhases),
                drawing: reading.currents.filter(\.isFinite).max() ?? 0, arrival: connector.arrival ?? Int.max)
        }
        // Unreachable stations may still be charging: keep what they may draw free on its phases.
        var reserved = [0.0, 0.0, 0.0]
        for connector in connectors.values where !connector.online {
            for phase in PhaseConnection(count: connector.reading.phases ?? options.defaultPhases).phases {
                reserved[phase.rawValue] += connector.offlineReserve
            }
        }
        self.reserved = reserved
        let allocation = LoadAllocator.allocate(siteLimit: options.siteLimit, connectors: demands, reserved: reserved)
        for demand in demands {
            connectors[demand.id]?.allocated = allocation.limit(demand.id)
            connectors[demand.id]?.outcome = allocation.outcomes[demand.id] ?? .notCharging
        }
        phaseLoads = allocation.phaseLoads
    }

    /// Writes 1210 where the allocation changed, the last write is `--rewrite-every` old, or 1208
    /// runs low. Lower limits go out before higher ones so the site stays under its limit while the
    /// stations follow.
    private func writeSetpoints() async {
        let now = clock.now
        var writes: [(id: ConnectorID, value: Double, reason: String, decrease: Bool)] = []
        for (id, connector) in connectors where connector.online {
            let target = connector.allocated
            var reason: String?
            if let last = connector.lastWritten, let at = connector.lastWriteAt {
                let age = Double((now - at).components.seconds)
                if abs(last - target) >= 0.05 {
                    reason = "allocation changed from \(format(last)) A"
                } else if age >= options.rewriteEvery {
                    reason = "refresh after \(Int(age)) s"
                } else if let valid = connector.reading.valid, Double(valid) < options.validityMargin, age >= 5 {
                    reason = "validity down to \(valid) s"
                }
            } else {
                reason = "first write on this connection"
            }
            guard let reason else { continue }
            writes.append((id, target, reason, target < (connector.lastWritten ?? .infinity)))
        }
        writes.sort { a, b in a.decrease != b.decrease ? a.decrease : a.id < b.id }
        for write in writes {
            guard let connector = connectors[write.id], connector.online,
                let index = stations.firstIndex(where: { $0.address == connector.station && $0.connected })
            else { continue }
            let link = stations[index].link
            do {
                try await link.write(unit: UInt8(write.id.connector), address: Map.setpoint,
                                     values: RegisterCodec.registers(float32: Float(write.value)))
                connectors[write.id]?.lastWritten = write.value
                connectors[write.id]?.lastWriteAt = clock.now
                logger.info("limit written", metadata: [
                    "connector": "\(write.id)", "limit_a": "\(format(write.value))", "reason": "\(write.reason)",
                ])
            } catch let error as ModbusError {
                if case .exception = error {
                    logger.warning("limit rejected", metadata: ["connector": "\(write.id)", "limit_a": "\(format(write.value))", "error": "\(error)"])
                } else {
                    stationFailed(index, error)
                }
            } catch {
                stationFailed(index, error)
            }
        }
    }

    // MARK: Snapshot for output

    struct Row: Sendable {
        var id: ConnectorID
        var state: ConnectorState
        var priority: Int
        var evseID: String?
    }

    struct Snapshot: Sendable {
        var cycle: Int
        var siteLimit: Double
        var phaseLoads: [Double]
        var reserved: [Double]
        var stations: [(address: StationAddress, serial: String?, connected: Bool, error: String?, retryIn: Double?)]
        var rows: [Row]
    }

    func snapshot() -> Snapshot {
        let now = clock.now
        let directory = self.directory
        var rows: [Row] = []
        for station in stations {
            guard let identity = station.identity else { continue }
            for unit in 0..<identity.sockets {
                let id = ConnectorID(serial: identity.serial, connector: unit + 1)
                guard let state = connectors[id], state.station == station.address else { continue }
                rows.append(Row(id: id, state: state, priority: book.priority(of: id), evseID: directory.evseID(for: id)))
            }
        }
        return Snapshot(
            cycle: cycle, siteLimit: options.siteLimit, phaseLoads: phaseLoads, reserved: reserved,
            stations: stations.map { station in
                let retry = station.connected ? nil : max(0, Double((station.nextAttempt - now).components.seconds))
                return (station.address, station.identity?.serial, station.connected, station.lastError, retry)
            },
            rows: rows)
    }

    func closeAll() async {
        for station in stations { await station.link.close() }
    }
}

func format(_ value: Double, digits: Int = 1) -> String {
    guard value.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    let negative = rounded < 0
    let whole = Int(abs(rounded))
    let fraction = Int(((abs(rounded) - Double(whole)) * scale).rounded())
    guard digits > 0 else { return (negative ? "-" : "") + String(whole) }
    let fractionText = String(fraction)
    return (negative ? "-" : "") + "\(whole)." + String(repeating: "0", count: max(0, digits - fractionText.count)) + fractionText
}
