// Typed payloads (`data`) of cs_parameters and cs_status_and_limits (contract §2.1).
// Field names map one to one to the wire names; optional fields are omitted when nil.

/// ISO 15118-2 EnergyTransferMode as `connector_type` spells it.
public enum ConnectorType: String, Codable, Sendable, CaseIterable {
    case acSinglePhaseCore = "AC_single_phase_core"
    case acThreePhaseCore = "AC_three_phase_core"
    case dcCore = "DC_core"
    case dcExtended = "DC_extended"
    case dcComboCore = "DC_combo_core"
    case dcUnique = "DC_unique"

    public var isAC: Bool { self == .acSinglePhaseCore || self == .acThreePhaseCore }
}

public enum ControlMode: String, Codable, Sendable { case scheduled, dynamic }
public enum BPTChannel: String, Codable, Sendable { case unified, separated }
public enum GeneratorMode: String, Codable, Sendable { case gridFollowing = "grid_following", gridForming = "grid_forming" }
public enum GridIslandDetectionMode: String, Codable, Sendable { case active, passive }

// MARK: cs_parameters

/// `cs_parameters` response data.
public struct CsParameters: Codable, Sendable, Equatable {
    public var swVersion: String
    public var hwVersion: String
    public var numberOfEvses: Int
    public var parameters: [EVSEParameters]

    public init(swVersion: String, hwVersion: String, parameters: [EVSEParameters]) {
        self.swVersion = swVersion
        self.hwVersion = hwVersion
        self.numberOfEvses = parameters.count
        self.parameters = parameters
    }

    enum CodingKeys: String, CodingKey {
        case swVersion = "sw_version", hwVersion = "hw_version", numberOfEvses = "number_of_evses", parameters
    }
}

public struct EVSEParameters: Codable, Sendable, Equatable {
    public var evseID: String
    public var supportsEIM: Bool
    public var networkInterface: String
    public var connectors: [ConnectorParameters]

    public init(evseID: String, supportsEIM: Bool, networkInterface: String, connectors: [ConnectorParameters]) {
        self.evseID = evseID
        self.supportsEIM = supportsEIM
        self.networkInterface = networkInterface
        self.connectors = connectors
    }

    enum CodingKeys: String, CodingKey {
        case evseID = "evse_id", supportsEIM = "supports_eim", networkInterface = "network_interface", connectors
    }
}

public struct ConnectorParameters: Codable, Sendable, Equatable {
    public var id: Int
    public var services: ConnectorServices

    public init(id: Int, services: ConnectorServices) {
        self.id = id
        self.services = services
    }
}

/// Must hold `ac` or `dc`; `ac_bpt` / `dc_bpt` only in addition.
public struct ConnectorServices: Codable, Sendable, Equatable {
    public var ac: ACService?
    public var dc: DCService?
    public var acBPT: ACBPTService?
    public var dcBPT: DCBPTService?

    public init(ac: ACService? = nil, dc: DCService? = nil, acBPT: ACBPTService? = nil, dcBPT: DCBPTService? = nil) {
        self.ac = ac
        self.dc = dc
        self.acBPT = acBPT
        self.dcBPT = dcBPT
    }

    enum CodingKeys: String, CodingKey { case ac, dc, acBPT = "ac_bpt", dcBPT = "dc_bpt" }
}

public struct ACService: Codable, Sendable, Equatable {
    public var connectorType: ConnectorType
    public var nominalVoltage: Int
    public var controlMode: ControlMode?

    public init(connectorType: ConnectorType, nominalVoltage: Int, controlMode: ControlMode? = nil) {
        self.connectorType = connectorType
        self.nominalVoltage = nominalVoltage
        self.controlMode = controlMode
    }

    enum CodingKeys: String, CodingKey {
        case connectorType = "connector_type", nominalVoltage = "nominal_voltage", controlMode = "control_mode"
    }
}

public struct DCService: Codable, Sendable, Equatable {
    public var connectorType: ConnectorType
    public var controlMode: ControlMode?

    public init(connectorType: ConnectorType, controlMode: ControlMode? = nil) {
        self.connectorType = connectorType
        self.controlMode = controlMode
    }

    enum CodingKeys: String, CodingKey { case connectorType = "connector_type", controlMode = "control_mode" }
}

public struct ACBPTService: Codable, Sendable, Equatable {
    public var connectorType: ConnectorType
    public var nominalVoltage: Int
    public var controlMode: ControlMode?
    public var bptChannel: BPTChannel?
    public var generatorMode: GeneratorMode?
    public var gridIslandDetectionMode: GridIslandDetectionMode?

    public init(
        connectorType: ConnectorType, nominalVoltage: Int, controlMode: ControlMode? = nil, bptChannel: BPTChannel? = nil,
        generatorMode: GeneratorMode? = nil, gridIslandDetectionMode: GridIslandDetectionMode? = nil
    ) {
        self.connectorType = connectorType
        self.nominalVoltage = nominalVoltage
        self.controlMode = controlMode
        self.bptChannel = bptChannel
        self.generatorMode = generatorMode
        self.gridIslandDetectionMode = gridIslandDetectionMode
    }

    enum CodingKeys: String, CodingKey {
        case connectorType = "connector_type", nominalVoltage = "nominal_voltage", controlMode = "control_mode"
        case bptChannel = "bpt_channel", generatorMode = "generator_mode", gridIslandDetectionMode = "grid_island_detection_mode"
    }
}

public struct DCBPTService: Codable, Sendable, Equatable {
    public var connectorType: ConnectorType
    public var controlMode: ControlMode?
    public var bptChannel: BPTChannel?
    public var generatorMode: GeneratorMode?
    public var gridIslandDetectionMode: GridIslandDetectionMode?

    public init(
        connectorType: ConnectorType, controlMode: ControlMode? = nil, bptChannel: BPTChannel? = nil,
        generatorMode: GeneratorMode? = nil, gridIslandDetectionMode: GridIslandDetectionMode? = nil
    ) {
        self.connectorType = connectorType
        self.controlMode = controlMode
        self.bptChannel = bptChannel
        self.generatorMode = generatorMode
        self.gridIslandDetectionMode = gridIslandDetectionMode
    }

    enum CodingKeys: String, CodingKey {
        case connectorType = "connector_type", controlMode = "control_mode"
        case bptChannel = "bpt_channel", generatorMode = "generator_mode", gridIslandDetectionMode = "grid_island_detection_mode"
    }
}

// MARK: cs_status_and_limits

/// EVSE status as `status_code` spells it.
public enum EVSEStatusCode: String, Codable, Sendable, CaseIterable {
    case notReady = "evse_not_ready"
    case ready = "evse_ready"
    case shutdown = "evse_shutdown"
    case utilityInterruptEvent = "evse_utility_interrupt_event"
    case isolationMonitoringActive = "evse_isolation_monitoring_active"
    case emergencyShutdown = "evse_emergency_shutdown"
    case malfunction = "evse_malfunction"
}

public enum IsolationStatus: String, Codable, Sendable { case invalid, valid, warning, fault, noIMD = "no_imd" }

/// A value per phase (`{l1, l2, l3}`).
public struct PhaseValues: Codable, Sendable, Equatable {
    public var l1: Double
    public var l2: Double
    public var l3: Double

    public init(l1: Double, l2: Double, l3: Double) {
        self.l1 = l1
        self.l2 = l2
        self.l3 = l3
    }

    public init(all value: Double) { self.init(l1: value, l2: value, l3: value) }
}

/// `cs_status_and_limits` response and update data.
public struct CsStatusAndLimits: Codable, Sendable, Equatable {
    public var evses: [EVSEStatusAndLimits]

    public init(evses: [EVSEStatusAndLimits]) { self.evses = evses }
}

public struct EVSEStatusAndLimits: Codable, Sendable, Equatable {
    public var evseID: String
    public var statusCode: EVSEStatusCode
    public var ac: ACLimits?
    public var acBPT: ACBPTLimits?
    public var dc: DCLimits?
    public var dcBPT: DCBPTLimits?

    public init(
        evseID: String, statusCode: EVSEStatusCode, ac: ACLimits? = nil, acBPT: ACBPTLimits? = nil, dc: DCLimits? = nil,
        dcBPT: DCBPTLimits? = nil
    ) {
        self.evseID = evseID
        self.statusCode = statusCode
        self.ac = ac
        self.acBPT = acBPT
        self.dc = dc
        self.dcBPT = dcBPT
    }

    enum CodingKeys: String, CodingKey {
        case evseID = "evse_id", statusCode = "status_code", ac, acBPT = "ac_bpt", dc, dcBPT = "dc_bpt"
    }
}

public struct ACLimits: Codable, Sendable, Equatable {
    public var maxCurrent: PhaseValues
    public var nominalVoltage: Double
    public var rcdError: Bool

    public init(maxCurrent: PhaseValues, nominalVoltage: Double, rcdError: Bool) {
        self.maxCurrent = maxCurrent
        self.nominalVoltage = nominalVoltage
        self.rcdError = rcdError
    }

    enum CodingKeys: String, CodingKey { case maxCurrent = "max_current", nominalVoltage = "nominal_voltage", rcdError = "rcd_error" }
}

public struct ACBPTLimits: Codable, Sendable, Equatable {
    public var evseMaxDischargePower: PhaseValues
    public var evseMinDischargePower: PhaseValues

    public init(evseMaxDischargePower: PhaseValues, evseMinDischargePower: PhaseValues) {
        self.evseMaxDischargePower = evseMaxDischargePower
        self.evseMinDischargePower = evseMinDischargePower
    }

    enum CodingKeys: String, CodingKey {
        case evseMaxDischargePower = "evse_max_discharge_power", evseMinDischargePower = "evse_min_discharge_power"
    }
}

public struct DCLimits: Codable, Sendable, Equatable {
    public var presentVoltage: Double
    public var presentCurrent: Double
    public var maxCurrent: Double
    public var minCurrent: Double
    public var maxVoltage: Double
    public var minVoltage: Double
    public var maxPower: Double
    public var peakCurrentRipple: Double
    public var currentRegTolerance: Double?
    public var energyToBeDelivered: Double?
    public var isolationStatus: IsolationStatus?
    public var evsePowerRampLimit: Double?

    public init(
        presentVoltage: Double, presentCurrent: Double, maxCurrent: Double, minCurrent: Double, maxVoltage: Double,
        minVoltage: Double, maxPower: Double, peakCurrentRipple: Double, currentRegTolerance: Double? = nil,
        energyToBeDelivered: Double? = nil, isolationStatus: IsolationStatus? = nil, evsePowerRampLimit: Double? = nil
    ) {
        self.presentVoltage = presentVoltage
        self.presentCurrent = presentCurrent
        self.maxCurrent = maxCurrent
        self.minCurrent = minCurrent
        self.maxVoltage = maxVoltage
        self.minVoltage = minVoltage
        self.maxPower = maxPower
        self.peakCurrentRipple = peakCurrentRipple
        self.currentRegTolerance = currentRegTolerance
        self.energyToBeDelivered = energyToBeDelivered
        self.isolationStatus = isolationStatus
        self.evsePowerRampLimit = evsePowerRampLimit
    }

    enum CodingKeys: String, CodingKey {
        case presentVoltage = "present_voltage", presentCurrent = "present_current", maxCurrent = "max_current"
        case minCurrent = "min_current", maxVoltage = "max_voltage", minVoltage = "min_voltage", maxPower = "max_power"
        case peakCurrentRipple = "peak_current_ripple", currentRegTolerance = "current_reg_tolerance"
        case energyToBeDelivered = "energy_to_be_delivered", isolationStatus = "isolation_status"
        case evsePowerRampLimit = "evse_power_ramp_limit"
    }
}

public struct DCBPTLimits: Codable, Sendable, Equatable {
    public var evseMaxDischargePower: Double
    public var evseMinDischargePower: Double
    public var evseMaxDischargeCurrent: Double
    public var evseMinDischargeCurrent: Double

    public init(evseMaxDischargePower: Double, evseMinDischargePower: Double, evseMaxDischargeCurrent: Double, evseMinDischargeCurrent: Double) {
        self.evseMaxDischargePower = evseMaxDischargePower
        self.evseMinDischargePower = evseMinDischargePower
        self.evseMaxDischargeCurrent = evseMaxDischargeCurrent
        self.evseMinDischargeCurrent = evseMinDischargeCurrent
    }

    enum CodingKeys: String, CodingKey {
        case evseMaxDischargePower = "evse_max_discharge_power", evseMinDischargePower = "evse_min_discharge_power"
        case evseMaxDischargeCurrent = "evse_max_discharge_current", evseMinDischargeCurrent = "evse_min_discharge_current"
    }
}
