// Typed payloads (`data`) of the ISO 15118 session messages (contract §2.3). Field names map one to
// one to the wire names; optional fields are omitted when nil. `iso15118_state_info.info` is in
// ISO15118SessionInfo.swift (it accepts two spellings of one key).

// MARK: iso15118_state_info

/// `iso15118_state_info` update data (J→CS): the V2G state the ISO 15118 service entered.
public struct ISO15118StateInfoUpdate: Codable, Sendable, Equatable {
    public var evseID: String
    public var sessionStatus: ISO15118SessionStatus
    public var info: ISO15118SessionInfo?

    public init(evseID: String, sessionStatus: ISO15118SessionStatus, info: ISO15118SessionInfo? = nil) {
        self.evseID = evseID
        self.sessionStatus = sessionStatus
        self.info = info
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", sessionStatus = "session_status", info }
}

extension ISO15118StateInfoUpdate: ContractPayload {
    public static let messageName = "iso15118_state_info"
    public static let messageTypes: [MessageType] = [.update]
}

/// V2G state of `iso15118_state_info`.
public enum ISO15118SessionStatus: String, Codable, Sendable, CaseIterable {
    case idle = "Idle", sessionSetup = "SessionSetup", supportedAppProtocol = "SupportedAppProtocol"
    case serviceDiscovery = "ServiceDiscovery", serviceDetail = "ServiceDetail"
    case certificateInstallation = "CertificateInstallation", serviceSelection = "ServiceSelection"
    case authorizationSetup = "AuthorizationSetup", authorization = "Authorization"
    case chargeParameterDiscovery = "ChargeParameterDiscovery", cableCheck = "CableCheck", preCharge = "PreCharge"
    case powerDelivery = "PowerDelivery", chargingLoop = "ChargingLoop", meteringReceipt = "MeteringReceipt"
    case scheduleExchange = "ScheduleExchange", weldingDetection = "WeldingDetection", sessionStop = "SessionStop"
}

/// Protocol negotiated in SupportedAppProtocol.
public enum ISO15118Protocol: String, Codable, Sendable, CaseIterable {
    case iso15118_2 = "ISO_15118_2", iso15118_20AC = "ISO_15118_20_AC", iso15118_20DC = "ISO_15118_20_DC"
    case iso15118_20WPT = "ISO_15118_20_WPT", iso15118_20ACDP = "ISO_15118_20_ACDP", dinSpec70121 = "DIN_SPEC_70121"
    case unknown = "UNKNOWN"
}

/// Why the session stops.
public enum ISO15118StopAction: String, Codable, Sendable, CaseIterable {
    case pause = "Pause", terminate = "Terminate", serviceRenegotiation = "ServiceRenegotiation", error = "Error"
}

// MARK: hlc_charging

/// `hlc_charging` update data (J→CS): `true` at PowerDelivery start, `false` at PowerDelivery stop.
public struct HLCChargingUpdate: Codable, Sendable, Equatable {
    public var evseID: String
    public var status: Bool

    public init(evseID: String, status: Bool) {
        self.evseID = evseID
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", status }
}

extension HLCChargingUpdate: ContractPayload {
    public static let messageName = "hlc_charging"
    public static let messageTypes: [MessageType] = [.update]
}

// MARK: cs_contactor_status

/// `cs_contactor_status` request data (J→CS).
public struct CsContactorStatusRequest: Codable, Sendable, Equatable {
    public var evseID: String

    public init(evseID: String) {
        self.evseID = evseID
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id" }
}

extension CsContactorStatusRequest: ContractPayload {
    public static let messageName = "cs_contactor_status"
    public static let messageTypes: [MessageType] = [.request]
}

/// `cs_contactor_status` response and update data (CS→J).
public struct CsContactorStatus: Codable, Sendable, Equatable {
    public var evseID: String
    public var status: ContactorStatus
    public var info: String?

    public init(evseID: String, status: ContactorStatus, info: String? = nil) {
        self.evseID = evseID
        self.status = status
        self.info = info
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", status, info }
}

extension CsContactorStatus: ContractPayload {
    public static let messageName = "cs_contactor_status"
    public static let messageTypes: [MessageType] = [.response, .update]
}

/// State of the contactor.
public enum ContactorStatus: String, Codable, Sendable, CaseIterable { case closed, opened, error }

// MARK: cable_check

/// `cable_check` request data (J→CS), DC only.
public struct CableCheckRequest: Codable, Sendable, Equatable {
    public var evseID: String
    public var cableCheckAction: CableCheckAction

    public init(evseID: String, cableCheckAction: CableCheckAction) {
        self.evseID = evseID
        self.cableCheckAction = cableCheckAction
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", cableCheckAction = "cable_check_action" }
}

extension CableCheckRequest: ContractPayload {
    public static let messageName = "cable_check"
    public static let messageTypes: [MessageType] = [.request]
}

/// `start` once, then `status` until the check is finished.
public enum CableCheckAction: String, Codable, Sendable, CaseIterable { case start, status }

/// `cable_check` response data (CS→J); `isolationLevel` belongs with `finished`.
public struct CableCheckResponse: Codable, Sendable, Equatable {
    public var evseID: String
    public var cableCheckStatus: CableCheckStatus
    public var isolationLevel: IsolationStatus?

    public init(evseID: String, cableCheckStatus: CableCheckStatus, isolationLevel: IsolationStatus? = nil) {
        self.evseID = evseID
        self.cableCheckStatus = cableCheckStatus
        self.isolationLevel = isolationLevel
    }

    enum CodingKeys: String, CodingKey {
        case evseID = "evse_id", cableCheckStatus = "cable_check_status", isolationLevel = "isolation_level"
    }
}

extension CableCheckResponse: ContractPayload {
    public static let messageName = "cable_check"
    public static let messageTypes: [MessageType] = [.response]
}

/// Progress of the cable check.
public enum CableCheckStatus: String, Codable, Sendable, CaseIterable { case ongoing, finished }

// MARK: power_electronics_setpoint

/// `power_electronics_setpoint` request data (J→CS): one of `ac` and `dc` is present.
public struct PowerElectronicsSetpointRequest: Codable, Sendable, Equatable {
    public var evseID: String
    public var evLimits: EVLimits
    /// `true` during PreCharge (current ≤ 2 A).
    public var isPrecharge: Bool?
    public var ac: ACSetpoint?
    public var dc: DCSetpoint?

    public init(evseID: String, evLimits: EVLimits, isPrecharge: Bool? = nil, ac: ACSetpoint? = nil, dc: DCSetpoint? = nil) {
        self.evseID = evseID
        self.evLimits = evLimits
        self.isPrecharge = isPrecharge
        self.ac = ac
        self.dc = dc
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", evLimits = "ev_limits", isPrecharge = "is_precharge", ac, dc }
}

extension PowerElectronicsSetpointRequest: ContractPayload {
    public static let messageName = "power_electronics_setpoint"
    public static let messageTypes: [MessageType] = [.request]
}

/// The EV's voltage limits in `power_electronics_setpoint`.
public struct EVLimits: Codable, Sendable, Equatable {
    /// V, ≥ 0.
    public var maximumVoltage: Double
    /// V, ≥ 0.
    public var minimumVoltage: Double?

    public init(maximumVoltage: Double, minimumVoltage: Double? = nil) {
        self.maximumVoltage = maximumVoltage
        self.minimumVoltage = minimumVoltage
    }

    enum CodingKeys: String, CodingKey { case maximumVoltage = "maximum_voltage", minimumVoltage = "minimum_voltage" }
}

/// AC (BPT) set-point: one active set-point, optionally one reactive set-point; all ≥ 0.
public struct ACSetpoint: Codable, Sendable, Equatable {
    /// W.
    public var chargeActivePower: Double?
    /// var.
    public var chargeReactivePower: Double?
    /// A.
    public var chargeCurrent: Double?
    /// W.
    public var dischargeActivePower: Double?
    /// var.
    public var dischargeReactivePower: Double?
    /// A.
    public var dischargeCurrent: Double?

    public init(
        chargeActivePower: Double? = nil, chargeReactivePower: Double? = nil, chargeCurrent: Double? = nil,
        dischargeActivePower: Double? = nil, dischargeReactivePower: Double? = nil, dischargeCurrent: Double? = nil
    ) {
        self.chargeActivePower = chargeActivePower
        self.chargeReactivePower = chargeReactivePower
        self.chargeCurrent = chargeCurrent
        self.dischargeActivePower = dischargeActivePower
        self.dischargeReactivePower = dischargeReactivePower
        self.dischargeCurrent = dischargeCurrent
    }

    enum CodingKeys: String, CodingKey {
        case chargeActivePower = "charge_active_power", chargeReactivePower = "charge_reactive_power"
        case chargeCurrent = "charge_current", dischargeActivePower = "discharge_active_power"
        case dischargeReactivePower = "discharge_reactive_power", dischargeCurrent = "discharge_current"
    }
}

/// DC set-point: `voltage` (required by the Rust and Python types, §2.7) plus exactly one of the others; all ≥ 0.
public struct DCSetpoint: Codable, Sendable, Equatable {
    /// V.
    public var voltage: Double
    /// A.
    public var chargeCurrent: Double?
    /// A.
    public var dischargeCurrent: Double?
    /// W.
    public var chargePower: Double?
    /// W.
    public var dischargePower: Double?

    public init(
        voltage: Double, chargeCurrent: Double? = nil, dischargeCurrent: Double? = nil, chargePower: Double? = nil,
        dischargePower: Double? = nil
    ) {
        self.voltage = voltage
        self.chargeCurrent = chargeCurrent
        self.dischargeCurrent = dischargeCurrent
        self.chargePower = chargePower
        self.dischargePower = dischargePower
    }

    enum CodingKeys: String, CodingKey {
        case voltage, chargeCurrent = "charge_current", dischargeCurrent = "discharge_current", chargePower = "charge_power"
        case dischargePower = "discharge_power"
    }
}

/// `power_electronics_setpoint` response data (CS→J).
public struct PowerElectronicsSetpointResponse: Codable, Sendable, Equatable {
    public var evseID: String
    public var status: AcceptanceStatus

    public init(evseID: String, status: AcceptanceStatus) {
        self.evseID = evseID
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", status }
}

extension PowerElectronicsSetpointResponse: ContractPayload {
    public static let messageName = "power_electronics_setpoint"
    public static let messageTypes: [MessageType] = [.response]
}

// MARK: ev_rated_limits

/// `ev_rated_limits` update data (J→CS): the EV's charge parameters; one of the two limit objects is present.
public struct EVRatedLimitsUpdate: Codable, Sendable, Equatable {
    public var evseID: String
    /// Date-time (`DateTimeText`).
    public var departureTime: String?
    public var acRatedLimits: ACRatedLimits?
    public var dcRatedLimits: DCRatedLimits?

    public init(
        evseID: String, departureTime: String? = nil, acRatedLimits: ACRatedLimits? = nil, dcRatedLimits: DCRatedLimits? = nil
    ) {
        self.evseID = evseID
        self.departureTime = departureTime
        self.acRatedLimits = acRatedLimits
        self.dcRatedLimits = dcRatedLimits
    }

    enum CodingKeys: String, CodingKey {
        case evseID = "evse_id", departureTime = "departure_time", acRatedLimits = "ac_rated_limits"
        case dcRatedLimits = "dc_rated_limits"
    }
}

extension EVRatedLimitsUpdate: ContractPayload {
    public static let messageName = "ev_rated_limits"
    public static let messageTypes: [MessageType] = [.update]
}

/// The EV's AC limits.
public struct ACRatedLimits: Codable, Sendable, Equatable {
    /// Wh.
    public var targetEnergyRequest: Double?
    /// V.
    public var maxVoltage: Double?
    /// A.
    public var maxCurrent: Double?
    /// A.
    public var minCurrent: Double?
    /// Wh.
    public var maxV2XEnergyRequest: Double?
    /// Wh.
    public var minV2XEnergyRequest: Double?
    /// W.
    public var maxChargePower: PhaseValues?
    /// W.
    public var minChargePower: PhaseValues?
    /// W.
    public var maxDischargePower: PhaseValues?
    /// W.
    public var minDischargePower: PhaseValues?

    public init(
        targetEnergyRequest: Double? = nil, maxVoltage: Double? = nil, maxCurrent: Double? = nil, minCurrent: Double? = nil,
        maxV2XEnergyRequest: Double? = nil, minV2XEnergyRequest: Double? = nil, maxChargePower: PhaseValues? = nil,
        minChargePower: PhaseValues? = nil, maxDischargePower: PhaseValues? = nil, minDischargePower: PhaseValues? = nil
    ) {
        self.targetEnergyRequest = targetEnergyRequest
        self.maxVoltage = maxVoltage
        self.maxCurrent = maxCurrent
        self.minCurrent = minCurrent
        self.maxV2XEnergyRequest = maxV2XEnergyRequest
        self.minV2XEnergyRequest = minV2XEnergyRequest
        self.maxChargePower = maxChargePower
        self.minChargePower = minChargePower
        self.maxDischargePower = maxDischargePower
        self.minDischargePower = minDischargePower
    }

    enum CodingKeys: String, CodingKey {
        case targetEnergyRequest = "target_energy_request", maxVoltage = "max_voltage", maxCurrent = "max_current"
        case minCurrent = "min_current", maxV2XEnergyRequest = "max_v2x_energy_request"
        case minV2XEnergyRequest = "min_v2x_energy_request", maxChargePower = "max_charge_power"
        case minChargePower = "min_charge_power", maxDischargePower = "max_discharge_power"
        case minDischargePower = "min_discharge_power"
    }
}

/// The EV's DC limits.
public struct DCRatedLimits: Codable, Sendable, Equatable {
    /// Wh.
    public var targetEnergyRequest: Double?
    /// V.
    public var maxVoltage: Double?
    /// A.
    public var maxChargeCurrent: Double?
    /// W.
    public var maxChargePower: Double?
    /// Wh.
    public var maxEnergyRequest: Double?
    /// %.
    public var fullSOC: Double?
    /// %.
    public var bulkSOC: Double?
    /// A.
    public var minChargeCurrent: Double?
    /// W.
    public var minChargePower: Double?
    /// V.
    public var minVoltage: Double?
    /// Wh.
    public var minEnergyRequest: Double?
    /// %.
    public var targetSOC: Double?
    /// W.
    public var maxDischargePower: Double?
    /// W.
    public var minDischargePower: Double?
    /// A.
    public var maxDischargeCurrent: Double?
    /// A.
    public var minDischargeCurrent: Double?
    /// Wh.
    public var maxV2XEnergyRequest: Double?
    /// Wh.
    public var minV2XEnergyRequest: Double?

    public init(
        targetEnergyRequest: Double? = nil, maxVoltage: Double? = nil, maxChargeCurrent: Double? = nil,
        maxChargePower: Double? = nil, maxEnergyRequest: Double? = nil, fullSOC: Double? = nil, bulkSOC: Double? = nil,
        minChargeCurrent: Double? = nil, minChargePower: Double? = nil, minVoltage: Double? = nil,
        minEnergyRequest: Double? = nil, targetSOC: Double? = nil, maxDischargePower: Double? = nil,
        minDischargePower: Double? = nil, maxDischargeCurrent: Double? = nil, minDischargeCurrent: Double? = nil,
        maxV2XEnergyRequest: Double? = nil, minV2XEnergyRequest: Double? = nil
    ) {
        self.targetEnergyRequest = targetEnergyRequest
        self.maxVoltage = maxVoltage
        self.maxChargeCurrent = maxChargeCurrent
        self.maxChargePower = maxChargePower
        self.maxEnergyRequest = maxEnergyRequest
        self.fullSOC = fullSOC
        self.bulkSOC = bulkSOC
        self.minChargeCurrent = minChargeCurrent
        self.minChargePower = minChargePower
        self.minVoltage = minVoltage
        self.minEnergyRequest = minEnergyRequest
        self.targetSOC = targetSOC
        self.maxDischargePower = maxDischargePower
        self.minDischargePower = minDischargePower
        self.maxDischargeCurrent = maxDischargeCurrent
        self.minDischargeCurrent = minDischargeCurrent
        self.maxV2XEnergyRequest = maxV2XEnergyRequest
        self.minV2XEnergyRequest = minV2XEnergyRequest
    }

    enum CodingKeys: String, CodingKey {
        case targetEnergyRequest = "target_energy_request", maxVoltage = "max_voltage", maxChargeCurrent = "max_charge_current"
        case maxChargePower = "max_charge_power", maxEnergyRequest = "max_energy_request", fullSOC = "full_soc"
        case bulkSOC = "bulk_soc", minChargeCurrent = "min_charge_current", minChargePower = "min_charge_power"
        case minVoltage = "min_voltage", minEnergyRequest = "min_energy_request", targetSOC = "target_soc"
        case maxDischargePower = "max_discharge_power", minDischargePower = "min_discharge_power"
        case maxDischargeCurrent = "max_discharge_current", minDischargeCurrent = "min_discharge_current"
        case maxV2XEnergyRequest = "max_v2x_energy_request", minV2XEnergyRequest = "min_v2x_energy_request"
    }
}

// MARK: display_params

/// `display_params` update data (J→CS): EV display data.
public struct DisplayParamsUpdate: Codable, Sendable, Equatable {
    public var evseID: String
    /// %.
    public var presentSOC: Double?
    /// %.
    public var minSOC: Double?
    /// %.
    public var targetSOC: Double?
    /// %.
    public var maxSOC: Double?
    /// s.
    public var remainingTimeToMinSOC: Double?
    /// s.
    public var remainingTimeToTargetSOC: Double?
    /// s.
    public var remainingTimeToMaxSOC: Double?
    /// Wh.
    public var batteryEnergyCapacity: Double?
    public var chargingComplete: Bool?
    public var inletHot: Bool?

    public init(
        evseID: String, presentSOC: Double? = nil, minSOC: Double? = nil, targetSOC: Double? = nil, maxSOC: Double? = nil,
        remainingTimeToMinSOC: Double? = nil, remainingTimeToTargetSOC: Double? = nil, remainingTimeToMaxSOC: Double? = nil,
        batteryEnergyCapacity: Double? = nil, chargingComplete: Bool? = nil, inletHot: Bool? = nil
    ) {
        self.evseID = evseID
        self.presentSOC = presentSOC
        self.minSOC = minSOC
        self.targetSOC = targetSOC
        self.maxSOC = maxSOC
        self.remainingTimeToMinSOC = remainingTimeToMinSOC
        self.remainingTimeToTargetSOC = remainingTimeToTargetSOC
        self.remainingTimeToMaxSOC = remainingTimeToMaxSOC
        self.batteryEnergyCapacity = batteryEnergyCapacity
        self.chargingComplete = chargingComplete
        self.inletHot = inletHot
    }

    enum CodingKeys: String, CodingKey {
        case evseID = "evse_id", presentSOC = "present_soc", minSOC = "min_soc", targetSOC = "target_soc", maxSOC = "max_soc"
        case remainingTimeToMinSOC = "remaining_time_to_min_soc", remainingTimeToTargetSOC = "remaining_time_to_target_soc"
        case remainingTimeToMaxSOC = "remaining_time_to_max_soc", batteryEnergyCapacity = "battery_energy_capacity"
        case chargingComplete = "charging_complete", inletHot = "inlet_hot"
    }
}

extension DisplayParamsUpdate: ContractPayload {
    public static let messageName = "display_params"
    public static let messageTypes: [MessageType] = [.update]
}

// MARK: iso15118_charge_limit

/// `iso15118_charge_limit` update data, observed on the internal topic `smart_charging/iso15118` (not on `josev/cs`).
/// No Python dataclass.
public struct ISO15118ChargeLimitUpdate: Codable, Sendable, Equatable {
    public var evseID: String
    /// In `unit`; negative means discharge.
    public var limit: Double
    public var unit: ChargeLimitUnit

    public init(evseID: String, limit: Double, unit: ChargeLimitUnit) {
        self.evseID = evseID
        self.limit = limit
        self.unit = unit
    }

    enum CodingKeys: String, CodingKey { case evseID = "evse_id", limit, unit }
}

extension ISO15118ChargeLimitUpdate: ContractPayload {
    public static let messageName = "iso15118_charge_limit"
    public static let messageTypes: [MessageType] = [.update]
}

/// Unit of `iso15118_charge_limit.limit`.
public enum ChargeLimitUnit: String, Codable, Sendable, CaseIterable { case watt = "W", ampere = "A" }
