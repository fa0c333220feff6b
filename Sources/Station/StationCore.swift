import JosevContract

/// The station as a value: the dynamic state of every EVSE, the meters, and the rules. Its
/// mutating operations drive the hardware synchronously and collect the notifications they cause,
/// in order, until the owner takes them (`takeNotifications()`); `Station` is the actor around it.
///
/// Every operation follows the same frame (`beginOperation` / `endOperation`): time first, then
/// the change, then the consequences (`settle`), then at most one `.statusAndLimitsChanged`
/// naming every EVSE whose `cs_status_and_limits` entry changed.
struct StationCore: Sendable {
    private(set) var configuration: StationConfiguration
    /// Changed while running only through `Station.updatePolicy` (the device model: `StationOwnedKeys`).
    var policy: StationPolicy
    let hardware: any StationHardware
    let now: @Sendable () -> StationInstant
    var states: [String: EVSEState]
    var meters: [String: MeterState] = [:]
    var reportedPilots: [String: [Int: PilotReport]] = [:]
    var currentLimits: [String: Double] = [:]
    var stationOperative = true
    var stationResetPending = false
    var lastTime: StationInstant
    /// What happened since the owner last took it, in order.
    private var outbox: [StationNotification] = []

    init(
        configuration: StationConfiguration, hardware: any StationHardware, policy: StationPolicy,
        now: @escaping @Sendable () -> StationInstant
    ) {
        self.configuration = configuration
        self.hardware = hardware
        self.policy = policy
        self.now = now
        let start = now()
        lastTime = start
        var states: [String: EVSEState] = [:]
        var meters: [String: MeterState] = [:]
        var reported: [String: [Int: PilotReport]] = [:]
        for evse in configuration.evses {
            states[evse.evseID] = EVSEState(configuration: evse, setpoints: configuration.setpoints)
            meters[evse.evseID] = MeterState(since: start)
            reported[evse.evseID] = Dictionary(uniqueKeysWithValues: evse.connectors.map { ($0.id, PilotReport(state: .a1, duty: 100)) })
        }
        self.states = states
        self.meters = meters
        reportedPilots = reported
    }

    var evseIDs: [String] { configuration.evses.map(\.evseID) }

    func evseConfiguration(_ evseID: String) -> EVSEConfiguration? {
        configuration.evses.first { $0.evseID == evseID }
    }

    // MARK: The operation frame and the outbox

    /// The notifications collected since the last call, in order.
    mutating func takeNotifications() -> [StationNotification] {
        defer { outbox = [] }
        return outbox
    }

    mutating func emit(_ notification: StationNotification) { outbox.append(notification) }

    /// Starts an operation: brings time up to now. Returns what `endOperation` compares against.
    mutating func beginOperation() -> CsStatusAndLimits {
        let before = statusAndLimits()
        advanceTime(to: now())
        return before
    }

    /// Ends an operation: the consequences, then the status change.
    mutating func endOperation(since before: CsStatusAndLimits) {
        settle()
        emitStatusChanges(since: before)
    }

    /// An operation that changes one EVSE's state; false for an unknown EVSE.
    mutating func change(_ evseID: String, _ body: (inout EVSEState) -> Void) -> Bool {
        guard states[evseID] != nil else { return false }
        let before = beginOperation()
        defer { endOperation(since: before) }
        if var state = states[evseID] {
            body(&state)
            states[evseID] = state
        }
        return true
    }

    mutating func emitStatusChanges(since before: CsStatusAndLimits) {
        let after = statusAndLimits()
        let changed = after.evses.filter { entry in !before.evses.contains(entry) }.map(\.evseID)
        if !changed.isEmpty { emit(.statusAndLimitsChanged(evseIDs: changed)) }
    }

    static func sanitized(_ limit: Double?) -> Double? {
        guard let limit else { return nil }
        return limit.isNaN ? 0 : max(0, limit)
    }

    // MARK: Answers

    func parameters() -> CsParameters {
        CsParameters(
            swVersion: configuration.identity.firmwareVersion,
            hwVersion: configuration.identity.hardwareVersion,
            parameters: configuration.evses.map(StationLimits.parameters(of:))
        )
    }

    func statusAndLimits(evseIDs: [String]? = nil) -> CsStatusAndLimits {
        let wanted = configuration.evses.filter { evseIDs?.contains($0.evseID) ?? true }
        return CsStatusAndLimits(evses: wanted.map { evse in
            StationLimits.statusAndLimits(of: evse, state: states[evse.evseID] ?? EVSEState())
        })
    }

    func offeredCurrent(evseID: String) -> Double? {
        guard let evse = evseConfiguration(evseID), let state = states[evseID] else { return nil }
        return StationLimits.offeredCurrent(evse, state: state)
    }

    mutating func meterValues(evseID: String) -> MeterSnapshot? {
        let before = beginOperation()
        defer { endOperation(since: before) }
        refreshMeters()  // a polled meter's cache may be newer than the last operation
        guard let evse = evseConfiguration(evseID), let state = states[evseID], let meter = meters[evseID] else { return nil }
        return snapshot(evse, state: state, meter: meter)
    }

    /// The `index`-th configured EVSE (0-based) as a register map shows it, brought up to now.
    mutating func evseView(at index: Int) -> EVSEView? {
        guard configuration.evses.indices.contains(index) else { return nil }
        let before = beginOperation()
        defer { endOperation(since: before) }
        settle()
        let evse = configuration.evses[index]
        guard let state = states[evse.evseID], let meter = meters[evse.evseID], let setpoint = setpointState(evse.evseID) else {
            return nil
        }
        return EVSEView(configuration: evse, state: state, meter: snapshot(evse, state: state, meter: meter), setpoint: setpoint)
    }

    // MARK: Configuration

    /// Every EVSE that is still configured keeps its dynamic state, new ones start fresh, removed ones are dropped.
    mutating func reconfigure(_ newConfiguration: StationConfiguration) {
        let before = statusAndLimits()
        advanceTime(to: now())
        configuration = newConfiguration
        hardware.reconfigure(newConfiguration)
        var newStates: [String: EVSEState] = [:]
        var newMeters: [String: MeterState] = [:]
        var newReports: [String: [Int: PilotReport]] = [:]
        for evse in newConfiguration.evses {
            var state = states[evse.evseID] ?? EVSEState(configuration: evse, setpoints: newConfiguration.setpoints)
            if !newConfiguration.setpoints.enabled {
                state.externalSetpoint = nil
                state.externalSetpointExpiry = nil
            }
            let supplyPhases = evse.ac.map { max(1, min(3, $0.phases)) } ?? 3
            if state.phaseSwitch == nil, state.phases > supplyPhases || state.activePhases > supplyPhases {
                state.phases = supplyPhases
                state.activePhases = supplyPhases
            }
            let old = state.connectors
            state.connectors = evse.connectors.map { connector in old.first { $0.id == connector.id } ?? ConnectorState(id: connector.id) }
            newStates[evse.evseID] = state
            newMeters[evse.evseID] = meters[evse.evseID] ?? MeterState(since: lastTime)
            let reports = reportedPilots[evse.evseID] ?? [:]
            newReports[evse.evseID] = Dictionary(uniqueKeysWithValues: evse.connectors.map {
                ($0.id, reports[$0.id] ?? PilotReport(state: .a1, duty: 100))
            })
        }
        states = newStates
        meters = newMeters
        reportedPilots = newReports
        currentLimits = currentLimits.filter { newStates[$0.key] != nil }
        settle()
        emitStatusChanges(since: before)
    }

    // MARK: Status and limits

    mutating func setRCDError(_ tripped: Bool, evseID: String) -> Bool {
        tripped ? fault(.rcdTripped, evseID: evseID) : clearFault(.rcdTripped, evseID: evseID)
    }

    mutating func setDCMeasurement(voltage: Double, current: Double, evseID: String) -> Bool {
        change(evseID) {
            $0.presentVoltage = voltage
            $0.presentCurrent = current
        }
    }

    /// A fault reported from outside the hardware driver.
    mutating func fault(_ kind: HardwareFaultKind, evseID: String) -> Bool {
        handle([.fault(evseID: evseID, kind: kind)], evseID: evseID)
    }

    /// A fault is gone. The pilot stays off until Josev asks for a PWM again.
    mutating func clearFault(_ kind: HardwareFaultKind, evseID: String) -> Bool {
        handle([.faultCleared(evseID: evseID, kind: kind)], evseID: evseID)
    }

    /// What a hardware driver saw, as one operation.
    mutating func handle(_ events: [HardwareEvent]) {
        let before = beginOperation()
        defer { endOperation(since: before) }
        for event in events { process(event) }
        settle()
    }

    private mutating func handle(_ events: [HardwareEvent], evseID: String) -> Bool {
        guard states[evseID] != nil else { return false }
        handle(events)
        return true
    }
}
