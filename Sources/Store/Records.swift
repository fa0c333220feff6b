/// A session's status, as stored and as OCPI 2.2.1 spells it.
public enum SessionStatus: String, Sendable, Equatable, CaseIterable {
    /// Charging (or plugged and authorized): energy is being recorded.
    case active = "ACTIVE"
    /// Finished; never deleted.
    case completed = "COMPLETED"
    /// Declared invalid (will not be billed).
    case invalid = "INVALID"
}

/// The OCPP IdTokenType of a session's token, spelled as the Josev contract spells it
/// (`JosevContract.TokenType.rawValue`: "ISO14443", "central", "e_maid", …). An open set: a
/// type this code does not know is kept as is (and exported to OCPI as OTHER).
public struct SessionTokenType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public static let iso14443 = SessionTokenType("ISO14443")
    public static let iso15693 = SessionTokenType("ISO15693")
    public static let central = SessionTokenType("central")
    public static let eMAID = SessionTokenType("e_maid")
    public static let keyCode = SessionTokenType("key_code")
    public static let local = SessionTokenType("local")
    public static let macAddress = SessionTokenType("mac_address")
    public static let noAuthorization = SessionTokenType("no_authorization")

    public var description: String { rawValue }
}

/// How a session was authorized (OCPI `AuthMethod`).
public enum AuthMethod: String, Sendable, Equatable, CaseIterable {
    /// Authorized by the back end / eMSP (a real-time authorization request).
    case authRequest = "AUTH_REQUEST"
    /// Started by a command (remote start).
    case command = "COMMAND"
    /// Authorized locally (local list, cache, free charging).
    case whitelist = "WHITELIST"
}

/// OCPI 2.2.1 `CdrDimensionType`. Volumes are in OCPI's units: kWh (ENERGY*), kW (*POWER), A
/// (*CURRENT), hours (PARKING_TIME, RESERVATION_TIME, TIME), percent (STATE_OF_CHARGE).
public enum DimensionType: String, Sendable, Equatable, Hashable, CaseIterable {
    case current = "CURRENT"
    case energy = "ENERGY"
    case energyExport = "ENERGY_EXPORT"
    case energyImport = "ENERGY_IMPORT"
    case maxCurrent = "MAX_CURRENT"
    case minCurrent = "MIN_CURRENT"
    case maxPower = "MAX_POWER"
    case minPower = "MIN_POWER"
    case parkingTime = "PARKING_TIME"
    case power = "POWER"
    case reservationTime = "RESERVATION_TIME"
    case stateOfCharge = "STATE_OF_CHARGE"
    case time = "TIME"
}

/// One measured quantity of a charging period.
public struct ChargingDimension: Sendable, Equatable {
    public var type: DimensionType
    /// In OCPI's unit for `type` (see `DimensionType`).
    public var volume: Double

    public init(_ type: DimensionType, _ volume: Double) {
        self.type = type
        self.volume = volume
    }
}

/// A charging period: from `start` until the next period's start (or the session's stop).
public struct ChargingPeriod: Sendable, Equatable {
    /// Unix time, milliseconds.
    public var start: Int64
    /// At least one; one per type, in `DimensionType` declaration order when read back.
    public var dimensions: [ChargingDimension]

    public init(start: Int64, dimensions: [ChargingDimension]) {
        self.start = start
        self.dimensions = dimensions
    }
}

/// A charging session as stored. Times are Unix milliseconds, energies meter readings in Wh.
public struct ChargingSessionRecord: Sendable, Equatable {
    /// UUID (36 characters, lowercase).
    public var id: String
    public var evseID: String
    public var connectorID: Int
    /// The OCPP transaction id (from Josev), when known.
    public var transactionID: String?
    public var tokenUID: String
    public var tokenType: SessionTokenType
    /// The eMSP contract id (eMAID) when known.
    public var contractID: String?
    /// How the session was authorized, when the daemon said so.
    public var authMethod: AuthMethod?
    public var status: SessionStatus
    public var start: Int64
    /// Set when COMPLETED (and when INVALID, the moment it was declared so unless it had stopped).
    public var stop: Int64?
    /// Meter reading at the start.
    public var energyStartWh: Double
    /// The latest meter reading recorded (`updateActive`, or the stop reading).
    public var energyLastWh: Double
    /// Meter reading at the stop (COMPLETED sessions).
    public var energyStopWh: Double?
    /// When the stored session last changed.
    public var lastUpdate: Int64
    /// True when the session was closed by `closeRecovered` after a crash (its stop time and energy
    /// are the best estimate available then).
    public var closedByRecovery: Bool
    /// Oldest first.
    public var chargingPeriods: [ChargingPeriod]

    public init(
        id: String, evseID: String, connectorID: Int, transactionID: String? = nil, tokenUID: String, tokenType: SessionTokenType,
        contractID: String? = nil, authMethod: AuthMethod? = nil, status: SessionStatus, start: Int64, stop: Int64? = nil,
        energyStartWh: Double, energyLastWh: Double, energyStopWh: Double? = nil, lastUpdate: Int64, closedByRecovery: Bool = false,
        chargingPeriods: [ChargingPeriod] = []
    ) {
        self.id = id
        self.evseID = evseID
        self.connectorID = connectorID
        self.transactionID = transactionID
        self.tokenUID = tokenUID
        self.tokenType = tokenType
        self.contractID = contractID
        self.authMethod = authMethod
        self.status = status
        self.start = start
        self.stop = stop
        self.energyStartWh = energyStartWh
        self.energyLastWh = energyLastWh
        self.energyStopWh = energyStopWh
        self.lastUpdate = lastUpdate
        self.closedByRecovery = closedByRecovery
        self.chargingPeriods = chargingPeriods
    }

    /// Energy charged, kWh: (stop or latest reading − start reading) / 1000, rounded to the Wh and
    /// never negative (a meter that was replaced or reset mid-session reads lower).
    public var kwh: Double {
        Store.kwh(from: energyStartWh, to: energyStopWh ?? energyLastWh)
    }

    /// Milliseconds from start to stop, or to `now` for a session without stop.
    public func durationMilliseconds(now: Int64) -> Int64 {
        max(0, (stop ?? now) - start)
    }
}

/// A session found ACTIVE when the store was opened after a crash or power loss.
public struct RecoveredSession: Sendable, Equatable {
    /// The session as stored (status ACTIVE).
    public var session: ChargingSessionRecord
    /// The meter reading now (from the closure given to `recoverAfterCrash`), if available.
    public var meterReadingWh: Double?
    /// The energy to close it with: the meter reading now when it is plausible (finite, not below
    /// the last recorded one), otherwise the last recorded reading.
    public var suggestedEnergyWh: Double
    /// The stop time to close it with: the last moment it was known to be running (`lastUpdate`).
    public var suggestedStop: Int64
}
