import JosevContract

/// Who the station is (from the `station:` block of the configuration).
public struct StationIdentity: Sendable, Equatable {
    public var serialNumber: String
    public var vendor: String
    public var model: String
    public var firmwareVersion: String
    public var hardwareVersion: String

    public init(serialNumber: String, vendor: String, model: String, firmwareVersion: String, hardwareVersion: String) {
        self.serialNumber = serialNumber
        self.vendor = vendor
        self.model = model
        self.firmwareVersion = firmwareVersion
        self.hardwareVersion = hardwareVersion
    }
}

/// AC supply of an EVSE: nominal voltage and the installation's current limit per phase.
public struct ACSupply: Sendable, Equatable {
    public var nominalVoltage: Int
    public var maxCurrent: Double
    public var phases: Int

    public init(nominalVoltage: Int, maxCurrent: Double, phases: Int = 3) {
        self.nominalVoltage = nominalVoltage
        self.maxCurrent = maxCurrent
        self.phases = phases
    }
}

/// Bidirectional AC (ISO 15118-20): discharge power per phase, in W.
public struct ACBPTSupply: Sendable, Equatable {
    public var maxDischargePower: Double
    public var minDischargePower: Double
    public var bptChannel: BPTChannel?
    public var generatorMode: GeneratorMode?
    public var gridIslandDetectionMode: GridIslandDetectionMode?

    public init(
        maxDischargePower: Double, minDischargePower: Double = 0, bptChannel: BPTChannel? = nil,
        generatorMode: GeneratorMode? = nil, gridIslandDetectionMode: GridIslandDetectionMode? = nil
    ) {
        self.maxDischargePower = maxDischargePower
        self.minDischargePower = minDischargePower
        self.bptChannel = bptChannel
        self.generatorMode = generatorMode
        self.gridIslandDetectionMode = gridIslandDetectionMode
    }
}

/// DC supply limits of an EVSE's power electronics.
public struct DCSupply: Sendable, Equatable {
    public var maxCurrent: Double
    public var minCurrent: Double
    public var maxVoltage: Double
    public var minVoltage: Double
    public var maxPower: Double
    public var peakCurrentRipple: Double
    public var currentRegTolerance: Double?
    public var energyToBeDelivered: Double?
    public var powerRampLimit: Double?
    /// Whether the EVSE has an isolation monitor (IMD); without one `isolation_status` is `no_imd`.
    public var isolationMonitor: Bool

    public init(
        maxCurrent: Double, minCurrent: Double = 0, maxVoltage: Double, minVoltage: Double, maxPower: Double,
        peakCurrentRipple: Double = 0, currentRegTolerance: Double? = nil, energyToBeDelivered: Double? = nil,
        powerRampLimit: Double? = nil, isolationMonitor: Bool = true
    ) {
        self.maxCurrent = maxCurrent
        self.minCurrent = minCurrent
        self.maxVoltage = maxVoltage
        self.minVoltage = minVoltage
        self.maxPower = maxPower
        self.peakCurrentRipple = peakCurrentRipple
        self.currentRegTolerance = currentRegTolerance
        self.energyToBeDelivered = energyToBeDelivered
        self.powerRampLimit = powerRampLimit
        self.isolationMonitor = isolationMonitor
    }
}

/// Bidirectional DC: discharge limits.
public struct DCBPTSupply: Sendable, Equatable {
    public var maxDischargePower: Double
    public var minDischargePower: Double
    public var maxDischargeCurrent: Double
    public var minDischargeCurrent: Double
    public var bptChannel: BPTChannel?
    public var generatorMode: GeneratorMode?
    public var gridIslandDetectionMode: GridIslandDetectionMode?

    public init(
        maxDischargePower: Double, minDischargePower: Double = 0, maxDischargeCurrent: Double, minDischargeCurrent: Double = 0,
        bptChannel: BPTChannel? = nil, generatorMode: GeneratorMode? = nil, gridIslandDetectionMode: GridIslandDetectionMode? = nil
    ) {
        self.maxDischargePower = maxDischargePower
        self.minDischargePower = minDischargePower
        self.maxDischargeCurrent = maxDischargeCurrent
        self.minDischargeCurrent = minDischargeCurrent
        self.bptChannel = bptChannel
        self.generatorMode = generatorMode
        self.gridIslandDetectionMode = gridIslandDetectionMode
    }
}

public struct ConnectorConfiguration: Sendable, Equatable {
    public var id: Int
    public var connectorType: ConnectorType
    public var controlMode: ControlMode?

    public init(id: Int, connectorType: ConnectorType, controlMode: ControlMode? = nil) {
        self.id = id
        self.connectorType = connectorType
        self.controlMode = controlMode
    }
}

/// One EVSE as configured: identity, supplies and connectors.
public struct EVSEConfiguration: Sendable, Equatable {
    public var evseID: String
    public var networkInterface: String
    public var supportsEIM: Bool
    public var ac: ACSupply?
    public var acBPT: ACBPTSupply?
    public var dc: DCSupply?
    public var dcBPT: DCBPTSupply?
    public var connectors: [ConnectorConfiguration]

    public init(
        evseID: String, networkInterface: String, supportsEIM: Bool = true, ac: ACSupply? = nil, acBPT: ACBPTSupply? = nil,
        dc: DCSupply? = nil, dcBPT: DCBPTSupply? = nil, connectors: [ConnectorConfiguration]
    ) {
        self.evseID = evseID
        self.networkInterface = networkInterface
        self.supportsEIM = supportsEIM
        self.ac = ac
        self.acBPT = acBPT
        self.dc = dc
        self.dcBPT = dcBPT
        self.connectors = connectors
    }

    /// What can only change with a restart: the EVSE's identity and its connectors (Josev reads
    /// them once, from cs_parameters, when it starts).
    public func sameLayout(as other: EVSEConfiguration) -> Bool {
        evseID == other.evseID && networkInterface == other.networkInterface && connectors == other.connectors
            && (ac == nil) == (other.ac == nil) && (dc == nil) == (other.dc == nil)
    }
}

/// The station as configured.
public struct StationConfiguration: Sendable, Equatable {
    public var identity: StationIdentity
    public var evses: [EVSEConfiguration]

    public init(identity: StationIdentity, evses: [EVSEConfiguration]) {
        self.identity = identity
        self.evses = evses
    }
}
