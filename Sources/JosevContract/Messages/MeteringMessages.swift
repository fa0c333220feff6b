// Typed payloads (`data`) of `meter_values` (contract §2.5). Field names map one to one to the wire
// names; optional fields are omitted when nil.

/// `meter_values` request data (J→CS).
public struct MeterValuesRequest: Codable, Sendable, Equatable {
    /// Date-time (`DateTimeText`).
    public var timestamp: String
    public var evseID: String?

    public init(timestamp: String, evseID: String? = nil) {
        self.timestamp = timestamp
        self.evseID = evseID
    }

    enum CodingKeys: String, CodingKey { case timestamp, evseID = "evse_id" }
}

extension MeterValuesRequest: ContractPayload {
    public static let messageName = "meter_values"
    public static let messageTypes: [MessageType] = [.request]
}

/// `meter_values` response and update data (CS→J).
public struct MeterValues: Codable, Sendable, Equatable {
    /// Date-time (`DateTimeText`), at most 3 fractional digits.
    public var timestamp: String
    public var evseID: String?
    /// V; 0 for unused phases.
    public var voltage: PhaseValues
    /// A.
    public var current: PhaseValues
    /// 0…1.
    public var powerFactor: Double
    /// Hz.
    public var frequency: Double
    /// Wh.
    public var totalActiveEnergyImported: Double
    /// varh.
    public var totalReactiveEnergyImported: Double
    /// Wh.
    public var totalActiveEnergyExported: Double?
    /// varh.
    public var totalReactiveEnergyExported: Double?
    /// A.
    public var dcCurrent: Double?
    /// V.
    public var dcVoltage: Double?
    /// A.
    public var maxCurrentOffered: Double?
    /// W.
    public var maxPowerOffered: Double?
    /// W.
    public var powerActiveImport: Double?
    /// %.
    public var soc: Double?
    /// Date-time (`DateTimeText`).
    public var departureTime: String?
    public var minChargePower: Double?
    public var minChargePowerL2: Double?
    public var minChargePowerL3: Double?
    public var maxChargePower: Double?
    public var maxChargePowerL2: Double?
    public var maxChargePowerL3: Double?
    public var minDischargePower: Double?
    public var minDischargePowerL2: Double?
    public var minDischargePowerL3: Double?
    public var maxDischargePower: Double?
    public var maxDischargePowerL2: Double?
    public var maxDischargePowerL3: Double?
    public var minChargeCurrent: Double?
    public var maxChargeCurrent: Double?
    public var minDischargeCurrent: Double?
    public var maxDischargeCurrent: Double?
    public var minVoltage: Double?
    public var maxVoltage: Double?
    public var evTargetEnergyRequest: Double?
    public var evMinEnergyRequest: Double?
    public var evMaxEnergyRequest: Double?
    public var evMinV2XEnergyRequest: Double?
    public var evMaxV2XEnergyRequest: Double?
    public var targetSOC: Double?
    public var signedMeterValues: [SignedMeterValue]?

    public init(
        timestamp: String, evseID: String? = nil, voltage: PhaseValues, current: PhaseValues, powerFactor: Double,
        frequency: Double, totalActiveEnergyImported: Double, totalReactiveEnergyImported: Double,
        totalActiveEnergyExported: Double? = nil, totalReactiveEnergyExported: Double? = nil, dcCurrent: Double? = nil,
        dcVoltage: Double? = nil, maxCurrentOffered: Double? = nil, maxPowerOffered: Double? = nil,
        powerActiveImport: Double? = nil, soc: Double? = nil, departureTime: String? = nil, minChargePower: Double? = nil,
        minChargePowerL2: Double? = nil, minChargePowerL3: Double? = nil, maxChargePower: Double? = nil,
        maxChargePowerL2: Double? = nil, maxChargePowerL3: Double? = nil, minDischargePower: Double? = nil,
        minDischargePowerL2: Double? = nil, minDischargePowerL3: Double? = nil, maxDischargePower: Double? = nil,
        maxDischargePowerL2: Double? = nil, maxDischargePowerL3: Double? = nil, minChargeCurrent: Double? = nil,
        maxChargeCurrent: Double? = nil, minDischargeCurrent: Double? = nil, maxDischargeCurrent: Double? = nil,
        minVoltage: Double? = nil, maxVoltage: Double? = nil, evTargetEnergyRequest: Double? = nil,
        evMinEnergyRequest: Double? = nil, evMaxEnergyRequest: Double? = nil, evMinV2XEnergyRequest: Double? = nil,
        evMaxV2XEnergyRequest: Double? = nil, targetSOC: Double? = nil, signedMeterValues: [SignedMeterValue]? = nil
    ) {
        self.timestamp = timestamp
        self.evseID = evseID
        self.voltage = voltage
        self.current = current
        self.powerFactor = powerFactor
        self.frequency = frequency
        self.totalActiveEnergyImported = totalActiveEnergyImported
        self.totalReactiveEnergyImported = totalReactiveEnergyImported
        self.totalActiveEnergyExported = totalActiveEnergyExported
        self.totalReactiveEnergyExported = totalReactiveEnergyExported
        self.dcCurrent = dcCurrent
        self.dcVoltage = dcVoltage
        self.maxCurrentOffered = maxCurrentOffered
        self.maxPowerOffered = maxPowerOffered
        self.powerActiveImport = powerActiveImport
        self.soc = soc
        self.departureTime = departureTime
        self.minChargePower = minChargePower
        self.minChargePowerL2 = minChargePowerL2
        self.minChargePowerL3 = minChargePowerL3
        self.maxChargePower = maxChargePower
        self.maxChargePowerL2 = maxChargePowerL2
        self.maxChargePowerL3 = maxChargePowerL3
        self.minDischargePower = minDischargePower
        self.minDischargePowerL2 = minDischargePowerL2
        self.minDischargePowerL3 = minDischargePowerL3
        self.maxDischargePower = maxDischargePower
        self.maxDischargePowerL2 = maxDischargePowerL2
        self.maxDischargePowerL3 = maxDischargePowerL3
        self.minChargeCurrent = minChargeCurrent
        self.maxChargeCurrent = maxChargeCurrent
        self.minDischargeCurrent = minDischargeCurrent
        self.maxDischargeCurrent = maxDischargeCurrent
        self.minVoltage = minVoltage
        self.maxVoltage = maxVoltage
        self.evTargetEnergyRequest = evTargetEnergyRequest
        self.evMinEnergyRequest = evMinEnergyRequest
        self.evMaxEnergyRequest = evMaxEnergyRequest
        self.evMinV2XEnergyRequest = evMinV2XEnergyRequest
        self.evMaxV2XEnergyRequest = evMaxV2XEnergyRequest
        self.targetSOC = targetSOC
        self.signedMeterValues = signedMeterValues
    }

    enum CodingKeys: String, CodingKey {
        case timestamp, evseID = "evse_id", voltage, current, powerFactor = "power_factor", frequency
        case totalActiveEnergyImported = "total_active_energy_imported"
        case totalReactiveEnergyImported = "total_reactive_energy_imported"
        case totalActiveEnergyExported = "total_active_energy_exported"
        case totalReactiveEnergyExported = "total_reactive_energy_exported", dcCurrent = "dc_current", dcVoltage = "dc_voltage"
        case maxCurrentOffered = "max_current_offered", maxPowerOffered = "max_power_offered"
        case powerActiveImport = "power_active_import", soc, departureTime = "departure_time", minChargePower = "min_charge_power"
        case minChargePowerL2 = "min_charge_power_l2", minChargePowerL3 = "min_charge_power_l3"
        case maxChargePower = "max_charge_power", maxChargePowerL2 = "max_charge_power_l2"
        case maxChargePowerL3 = "max_charge_power_l3", minDischargePower = "min_discharge_power"
        case minDischargePowerL2 = "min_discharge_power_l2", minDischargePowerL3 = "min_discharge_power_l3"
        case maxDischargePower = "max_discharge_power", maxDischargePowerL2 = "max_discharge_power_l2"
        case maxDischargePowerL3 = "max_discharge_power_l3", minChargeCurrent = "min_charge_current"
        case maxChargeCurrent = "max_charge_current", minDischargeCurrent = "min_discharge_current"
        case maxDischargeCurrent = "max_discharge_current", minVoltage = "min_voltage", maxVoltage = "max_voltage"
        case evTargetEnergyRequest = "ev_target_energy_request", evMinEnergyRequest = "ev_min_energy_request"
        case evMaxEnergyRequest = "ev_max_energy_request", evMinV2XEnergyRequest = "ev_min_v2x_energy_request"
        case evMaxV2XEnergyRequest = "ev_max_v2x_energy_request", targetSOC = "target_soc"
        case signedMeterValues = "signed_meter_values"
    }
}

extension MeterValues: ContractPayload {
    public static let messageName = "meter_values"
    public static let messageTypes: [MessageType] = [.response, .update]
}

/// A signed meter value. `measurand` is optional in the schema but required by the Python dataclass, so it is required
/// here (only the CS emits it).
public struct SignedMeterValue: Codable, Sendable, Equatable {
    public var measurand: Measurand
    /// ≤ 2500 characters.
    public var signedMeterData: String
    /// ≤ 50 characters.
    public var signingMethod: String
    /// ≤ 50 characters.
    public var encodingMethod: String
    /// ≤ 2500 characters.
    public var publicKey: String

    public init(measurand: Measurand, signedMeterData: String, signingMethod: String, encodingMethod: String, publicKey: String) {
        self.measurand = measurand
        self.signedMeterData = signedMeterData
        self.signingMethod = signingMethod
        self.encodingMethod = encodingMethod
        self.publicKey = publicKey
    }

    enum CodingKeys: String, CodingKey {
        case measurand, signedMeterData = "signed_meter_data", signingMethod = "signing_method"
        case encodingMethod = "encoding_method", publicKey = "public_key"
    }
}

/// OCPP measurand of a signed meter value (`SoC` of the Rust and Python enums fails the schema).
public enum Measurand: String, Codable, Sendable, CaseIterable {
    case currentExport = "Current.Export", currentImport = "Current.Import", currentOffered = "Current.Offered"
    case energyActiveExportRegister = "Energy.Active.Export.Register"
    case energyActiveImportRegister = "Energy.Active.Import.Register"
    case energyReactiveExportRegister = "Energy.Reactive.Export.Register"
    case energyReactiveImportRegister = "Energy.Reactive.Import.Register"
    case energyActiveExportInterval = "Energy.Active.Export.Interval"
    case energyActiveImportInterval = "Energy.Active.Import.Interval", energyActiveNet = "Energy.Active.Net"
    case energyReactiveExportInterval = "Energy.Reactive.Export.Interval"
    case energyReactiveImportInterval = "Energy.Reactive.Import.Interval", energyReactiveNet = "Energy.Reactive.Net"
    case energyApparentNet = "Energy.Apparent.Net", energyApparentImport = "Energy.Apparent.Import"
    case energyApparentExport = "Energy.Apparent.Export", frequency = "Frequency", powerActiveExport = "Power.Active.Export"
    case powerActiveImport = "Power.Active.Import", powerFactor = "Power.Factor", powerOffered = "Power.Offered"
    case powerReactiveExport = "Power.Reactive.Export", powerReactiveImport = "Power.Reactive.Import", voltage = "Voltage"
}
