import JosevContract

/// What the station tells the rest of the daemon when something Josev must hear about changes.
public enum StationEvent: Sendable, Equatable {
    /// A status or a limit of one or more EVSEs changed: publish a `cs_status_and_limits` update.
    case statusAndLimitsChanged(evseIDs: [String])
}

/// The dynamic state of one EVSE, next to its configuration.
public struct EVSEState: Sendable, Equatable {
    public var statusCode: EVSEStatusCode = .ready
    public var rcdError = false
    /// A limit set from outside (energy manager, local control), A per phase; nil when none.
    public var externalCurrentLimit: Double?
    public var presentVoltage: Double = 0
    public var presentCurrent: Double = 0
    public var isolationStatus: IsolationStatus?

    public init() {}
}

/// The station: the one source of truth about EVSEs, their status and their limits. It knows
/// nothing of MQTT, Modbus or files; the daemon asks it and listens to its events.
public actor Station {
    public private(set) var configuration: StationConfiguration
    private var states: [String: EVSEState]
    public nonisolated let events: AsyncStream<StationEvent>
    private let eventSink: AsyncStream<StationEvent>.Continuation

    public init(configuration: StationConfiguration) {
        self.configuration = configuration
        var states: [String: EVSEState] = [:]
        for evse in configuration.evses { states[evse.evseID] = EVSEState() }
        self.states = states
        (events, eventSink) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(64))
    }

    deinit { eventSink.finish() }

    public var evseIDs: [String] { configuration.evses.map(\.evseID) }

    public func owns(evseID: String) -> Bool { states[evseID] != nil }

    public func state(of evseID: String) -> EVSEState? { states[evseID] }

    /// Answers the actor at once: the daemon's watchdog proves with it that the station is not stuck.
    public func heartbeat() {}

    // MARK: Answers

    /// `cs_parameters` response data.
    public func parameters() -> CsParameters {
        CsParameters(
            swVersion: configuration.identity.firmwareVersion,
            hwVersion: configuration.identity.hardwareVersion,
            parameters: configuration.evses.map(Self.parameters(of:))
        )
    }

    /// `cs_status_and_limits` response/update data, for all EVSEs or the given ones.
    public func statusAndLimits(evseIDs: [String]? = nil) -> CsStatusAndLimits {
        let wanted = configuration.evses.filter { evseIDs?.contains($0.evseID) ?? true }
        return CsStatusAndLimits(evses: wanted.map { evse in
            Self.statusAndLimits(of: evse, state: states[evse.evseID] ?? EVSEState())
        })
    }

    // MARK: Changes

    /// Sets the EVSE's status code; emits an event when it changed. False for an unknown EVSE.
    @discardableResult
    public func setStatus(_ status: EVSEStatusCode, evseID: String) -> Bool {
        update(evseID) { $0.statusCode = status }
    }

    @discardableResult
    public func setRCDError(_ tripped: Bool, evseID: String) -> Bool {
        update(evseID) { $0.rcdError = tripped }
    }

    /// Sets (or clears, with nil) an external current limit in A per phase.
    @discardableResult
    public func setExternalCurrentLimit(_ limit: Double?, evseID: String) -> Bool {
        update(evseID) { $0.externalCurrentLimit = limit.map { max(0, $0) } }
    }

    @discardableResult
    public func setDCMeasurement(voltage: Double, current: Double, evseID: String) -> Bool {
        update(evseID) {
            $0.presentVoltage = voltage
            $0.presentCurrent = current
        }
    }

    /// Applies a reloaded configuration. The caller has checked with `StationConfiguration`
    /// which parts need a restart; here every EVSE that is still configured keeps its dynamic
    /// state, new ones start fresh, removed ones are dropped. Emits an event for every EVSE whose
    /// `cs_status_and_limits` entry changed.
    public func reconfigure(_ newConfiguration: StationConfiguration) {
        let before = statusAndLimits()
        configuration = newConfiguration
        var newStates: [String: EVSEState] = [:]
        for evse in newConfiguration.evses { newStates[evse.evseID] = states[evse.evseID] ?? EVSEState() }
        states = newStates
        let after = statusAndLimits()
        let changed = after.evses.filter { entry in !before.evses.contains(entry) }.map(\.evseID)
        if !changed.isEmpty { eventSink.yield(.statusAndLimitsChanged(evseIDs: changed)) }
    }

    private func update(_ evseID: String, _ change: (inout EVSEState) -> Void) -> Bool {
        guard var state = states[evseID], let evse = configuration.evses.first(where: { $0.evseID == evseID }) else { return false }
        let before = Self.statusAndLimits(of: evse, state: state)
        change(&state)
        states[evseID] = state
        if Self.statusAndLimits(of: evse, state: state) != before {
            eventSink.yield(.statusAndLimitsChanged(evseIDs: [evseID]))
        }
        return true
    }

    // MARK: Pure mapping from configuration + state to the contract's shapes

    static func parameters(of evse: EVSEConfiguration) -> EVSEParameters {
        EVSEParameters(
            evseID: evse.evseID,
            supportsEIM: evse.supportsEIM,
            networkInterface: evse.networkInterface,
            connectors: evse.connectors.map { connector in
                var services = ConnectorServices()
                if let ac = evse.ac, connector.connectorType.isAC {
                    services.ac = ACService(
                        connectorType: connector.connectorType, nominalVoltage: ac.nominalVoltage, controlMode: connector.controlMode)
                    if let bpt = evse.acBPT {
                        services.acBPT = ACBPTService(
                            connectorType: connector.connectorType, nominalVoltage: ac.nominalVoltage,
                            controlMode: connector.controlMode, bptChannel: bpt.bptChannel, generatorMode: bpt.generatorMode,
                            gridIslandDetectionMode: bpt.gridIslandDetectionMode)
                    }
                }
                if evse.dc != nil, !connector.connectorType.isAC {
                    services.dc = DCService(connectorType: connector.connectorType, controlMode: connector.controlMode)
                    if let bpt = evse.dcBPT {
                        services.dcBPT = DCBPTService(
                            connectorType: connector.connectorType, controlMode: connector.controlMode,
                            bptChannel: bpt.bptChannel, generatorMode: bpt.generatorMode,
                            gridIslandDetectionMode: bpt.gridIslandDetectionMode)
                    }
                }
                return ConnectorParameters(id: connector.id, services: services)
            }
        )
    }

    /// The offered AC current per phase: the installation limit, lowered by an external limit.
    /// A single-phase EVSE reports the same value on l1, l2 and l3: Josev takes min(l1, l2, l3)
    /// as EVSEMaxCurrent for ISO 15118-2, so zeros on unused phases would stop every session.
    static func offeredACCurrent(_ ac: ACSupply, state: EVSEState) -> Double {
        guard state.statusCode == .ready || state.statusCode == .notReady else { return 0 }
        var current = ac.maxCurrent
        if let external = state.externalCurrentLimit { current = min(current, external) }
        return max(0, current)
    }

    static func statusAndLimits(of evse: EVSEConfiguration, state: EVSEState) -> EVSEStatusAndLimits {
        var entry = EVSEStatusAndLimits(evseID: evse.evseID, statusCode: state.statusCode)
        if let ac = evse.ac {
            entry.ac = ACLimits(
                maxCurrent: PhaseValues(all: offeredACCurrent(ac, state: state)),
                nominalVoltage: Double(ac.nominalVoltage),
                rcdError: state.rcdError
            )
            if let bpt = evse.acBPT {
                entry.acBPT = ACBPTLimits(
                    evseMaxDischargePower: PhaseValues(all: bpt.maxDischargePower),
                    evseMinDischargePower: PhaseValues(all: bpt.minDischargePower))
            }
        }
        if let dc = evse.dc {
            var maxCurrent = dc.maxCurrent
            if let external = state.externalCurrentLimit { maxCurrent = min(maxCurrent, external) }
            entry.dc = DCLimits(
                presentVoltage: state.presentVoltage,
                presentCurrent: state.presentCurrent,
                maxCurrent: maxCurrent,
                minCurrent: dc.minCurrent,
                maxVoltage: dc.maxVoltage,
                minVoltage: dc.minVoltage,
                maxPower: dc.maxPower,
                peakCurrentRipple: dc.peakCurrentRipple,
                currentRegTolerance: dc.currentRegTolerance,
                energyToBeDelivered: dc.energyToBeDelivered,
                isolationStatus: dc.isolationMonitor ? state.isolationStatus : .noIMD,
                evsePowerRampLimit: dc.powerRampLimit
            )
            if let bpt = evse.dcBPT {
                entry.dcBPT = DCBPTLimits(
                    evseMaxDischargePower: bpt.maxDischargePower, evseMinDischargePower: bpt.minDischargePower,
                    evseMaxDischargeCurrent: bpt.maxDischargeCurrent, evseMinDischargeCurrent: bpt.minDischargeCurrent)
            }
        }
        return entry
    }
}
