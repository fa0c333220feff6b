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
    /// A socket (the driver brings the cable) rather than a tethered cable: the station locks it
    /// before the contactor closes and keeps it locked while the session runs (`StationCore+Lock`).
    public var socket: Bool

    public init(id: Int, connectorType: ConnectorType, controlMode: ControlMode? = nil, socket: Bool = false) {
        self.id = id
        self.connectorType = connectorType
        self.controlMode = controlMode
        self.socket = socket
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
    /// The fallback current of the external (Modbus) setpoint, A per phase (AC) or A (DC): what the
    /// EVSE offers while external control is enabled and no valid setpoint exists (at start, after
    /// a reset, when the setpoint's valid time ran out). nil: 6 A, or the EVSE's maximum if lower.
    /// Use `effectiveSafeCurrent` for the value in force.
    public var safeCurrent: Double?

    public init(
        evseID: String, networkInterface: String, supportsEIM: Bool = true, ac: ACSupply? = nil, acBPT: ACBPTSupply? = nil,
        dc: DCSupply? = nil, dcBPT: DCBPTSupply? = nil, connectors: [ConnectorConfiguration], safeCurrent: Double? = nil
    ) {
        self.evseID = evseID
        self.networkInterface = networkInterface
        self.supportsEIM = supportsEIM
        self.ac = ac
        self.acBPT = acBPT
        self.dc = dc
        self.dcBPT = dcBPT
        self.connectors = connectors
        self.safeCurrent = safeCurrent
    }

    /// The default safe current, A: 6 A (the lowest current the PWM can offer).
    public static let defaultSafeCurrent = 6.0

    /// The EVSE's own maximum: the installation limit per phase (AC) or the DC maximum; nil without a supply.
    public var maximumCurrent: Double? { ac?.maxCurrent ?? dc?.maxCurrent }

    /// The safe current in force: the configured one (6 A when none, or when it is not a number
    /// or negative), never above the EVSE's maximum.
    public var effectiveSafeCurrent: Double {
        var value = Self.defaultSafeCurrent
        if let safeCurrent, safeCurrent.isFinite, safeCurrent >= 0 { value = safeCurrent }
        if let maximum = maximumCurrent, maximum.isFinite { value = min(value, max(0, maximum)) }
        return value
    }

    /// What can only change with a restart: the EVSE's identity and its connectors (Josev reads
    /// them once, from cs_parameters, when it starts).
    public func sameLayout(as other: EVSEConfiguration) -> Bool {
        evseID == other.evseID && networkInterface == other.networkInterface && connectors == other.connectors
            && (ac == nil) == (other.ac == nil) && (dc == nil) == (other.dc == nil)
    }
}

/// How external (Modbus, energy-manager) setpoints and 1/3-phase switching behave, station-wide
/// (PROFILE.md §4). The daemon validates the configuration; the station clamps what makes no sense
/// (see the `effective…` properties) and always uses those.
public struct SetpointPolicy: Sendable, Equatable {
    /// External current control is on (Alfen's "Modbus max-current enable"): the EVSEs are
    /// load-managed. Without a valid setpoint they offer their safe current; a setpoint is valid for
    /// `validTime` after each write. Off: `setExternalSetpoint` is refused and no safe current applies
    /// (the station offers what its other limits allow, as before).
    public var enabled: Bool
    /// How long a written setpoint stays valid (every write restarts it).
    public var validTime: Duration
    /// A test bench: any positive `validTime` is allowed, and no minimum dwell.
    public var testBench: Bool
    /// 1/3-phase switching may be requested (Alfen's "Allow 1- and 3-phased charging").
    public var allowPhaseSwitching: Bool
    /// How long the contactor stays open before the phases are switched and the PWM resumes.
    public var phaseSwitchDwell: Duration
    /// The shortest time between the starts of two switching sequences while charging (relay
    /// wear; vehicles that hang after a switch). Switches of an idle EVSE are not limited.
    public var minimumSwitchInterval: Duration
    /// How long a switching sequence waits, with the PWM off, for the EV to stop drawing current
    /// before it opens the contactor anyway.
    public var currentDecayTimeout: Duration

    /// Outside a test bench no setpoint is valid for less than this (a heartbeat every 25 s, as
    /// evcc does, must keep it alive).
    public static let minimumValidTime = Duration.seconds(30)
    public static let defaultValidTime = Duration.seconds(60)
    public static let defaultPhaseSwitchDwell = Duration.seconds(5)
    /// Outside a test bench the dwell is at least this long.
    public static let minimumPhaseSwitchDwell = Duration.seconds(1)

    public init(
        enabled: Bool = false, validTime: Duration = defaultValidTime, testBench: Bool = false, allowPhaseSwitching: Bool = false,
        phaseSwitchDwell: Duration = defaultPhaseSwitchDwell, minimumSwitchInterval: Duration = .seconds(60),
        currentDecayTimeout: Duration = .seconds(3)
    ) {
        self.enabled = enabled
        self.validTime = validTime
        self.testBench = testBench
        self.allowPhaseSwitching = allowPhaseSwitching
        self.phaseSwitchDwell = phaseSwitchDwell
        self.minimumSwitchInterval = minimumSwitchInterval
        self.currentDecayTimeout = currentDecayTimeout
    }

    /// `validTime` as used: not positive → the default 60 s; under 30 s → 30 s unless on a test bench.
    public var effectiveValidTime: Duration {
        guard validTime > .zero else { return Self.defaultValidTime }
        return testBench ? validTime : max(validTime, Self.minimumValidTime)
    }

    /// `phaseSwitchDwell` as used: never negative; at least 1 s unless on a test bench.
    public var effectivePhaseSwitchDwell: Duration {
        let dwell = max(phaseSwitchDwell, .zero)
        return testBench ? dwell : max(dwell, Self.minimumPhaseSwitchDwell)
    }

    /// `minimumSwitchInterval` as used: never negative.
    public var effectiveMinimumSwitchInterval: Duration { max(minimumSwitchInterval, .zero) }

    /// `currentDecayTimeout` as used: never negative.
    public var effectiveCurrentDecayTimeout: Duration { max(currentDecayTimeout, .zero) }
}

/// The station as configured.
public struct StationConfiguration: Sendable, Equatable {
    public var identity: StationIdentity
    public var evses: [EVSEConfiguration]
    /// External setpoints and phase switching.
    public var setpoints: SetpointPolicy

    public init(identity: StationIdentity, evses: [EVSEConfiguration], setpoints: SetpointPolicy = SetpointPolicy()) {
        self.identity = identity
        self.evses = evses
        self.setpoints = setpoints
    }
}
