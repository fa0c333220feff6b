import Station
import Store

/// OCPP 2.0.1 `ChargingStateEnumType`: what the energy flow of a session is doing. A new charging
/// period starts on every change of it.
enum ChargingState: String, Sendable, Equatable {
    case charging = "Charging"
    case evConnected = "EVConnected"
    case suspendedEV = "SuspendedEV"
    case suspendedEVSE = "SuspendedEVSE"
    case idle = "Idle"

    /// Below this active power a closed contactor is not charging (an EV that takes nothing).
    static let drawThresholdW = 100.0

    /// Derived from the control pilot, the contactor, the current offered and the EV's draw:
    /// - no EV (pilot level A on every connector): Idle;
    /// - contactor closed: Charging while the EV draws, else SuspendedEVSE when nothing is offered
    ///   (a pause: a limit under 6 A), else SuspendedEV (offered, not taken);
    /// - contactor open: SuspendedEVSE when the EV asks for energy (level C/D) and the station does
    ///   not give it, SuspendedEV when a PWM offers current and the EV does not ask, else
    ///   EVConnected (plugged, nothing offered yet: before the authorization).
    static func derive(plugged: Bool, evAsks: Bool, pwmOffers: Bool, contactorClosed: Bool, offeredCurrent: Double, powerW: Double)
        -> ChargingState
    {
        guard plugged else { return .idle }
        if contactorClosed {
            if powerW.isFinite, powerW >= drawThresholdW { return .charging }
            return offeredCurrent > 0 ? .suspendedEV : .suspendedEVSE
        }
        if evAsks { return .suspendedEVSE }
        return pwmOffers && offeredCurrent > 0 ? .suspendedEV : .evConnected
    }

    /// Time in this state counts as PARKING_TIME (connected, not charging).
    var isParking: Bool { self == .evConnected || self == .suspendedEV || self == .suspendedEVSE }
}

/// What the recorder needs of one moment of an EVSE: the meter registers, the power, the charging
/// state and the current offered.
struct EVSEObservation: Sendable, Equatable {
    /// Station time of the meter snapshot (orders observations taken concurrently).
    var at: StationInstant
    var importWh: Double
    var exportWh: Double
    /// Active power, W; NaN when the meter's values are unknown now.
    var powerW: Double
    var offeredCurrent: Double
    var state: ChargingState
}

/// The open charging period of a session: from its start until now, accumulating every meter
/// sample (minimum and maximum power), the state of charge last reported, the registers at its
/// start. Its dimensions can be taken at any time (the open period is part of every export).
struct OpenPeriod: Sendable, Equatable {
    /// Wall clock, Unix ms (what OCPI shows).
    var start: Int64
    /// Monotonic (the period's length).
    var startedAt: ContinuousClock.Instant
    var state: ChargingState
    var offeredCurrent: Double
    var startImportWh: Double
    var startExportWh: Double
    var lastImportWh: Double
    var lastExportWh: Double
    var minPowerW: Double?
    var maxPowerW: Double?
    /// The last power sampled, W (the POWER of a period too short to average over).
    var lastPowerW: Double?
    /// %, the last value the EV reported in this period.
    var stateOfCharge: Double?

    init(start: Int64, startedAt: ContinuousClock.Instant, observation: EVSEObservation, stateOfCharge: Double? = nil) {
        self.start = start
        self.startedAt = startedAt
        state = observation.state
        offeredCurrent = observation.offeredCurrent
        startImportWh = observation.importWh
        startExportWh = observation.exportWh
        lastImportWh = observation.importWh
        lastExportWh = observation.exportWh
        self.stateOfCharge = stateOfCharge
        take(observation)
    }

    /// One meter sample: the registers (never backwards) and the power's extremes.
    mutating func take(_ observation: EVSEObservation) {
        advanceRegisters(to: observation)
        guard observation.powerW.isFinite else { return }
        let power = max(0, observation.powerW)
        minPowerW = min(minPowerW ?? power, power)
        maxPowerW = max(maxPowerW ?? power, power)
        lastPowerW = power
    }

    /// The registers at the end of the period (the sample that ends it: its power belongs to the next).
    mutating func advanceRegisters(to observation: EVSEObservation) {
        if observation.importWh.isFinite { lastImportWh = max(lastImportWh, observation.importWh) }
        if observation.exportWh.isFinite { lastExportWh = max(lastExportWh, observation.exportWh) }
    }

    /// The changes of one operation reach the recorder one by one (the limit, then the pilot's
    /// duty, then the meter): a period younger than this is not closed but takes the new state.
    static let settlingTime: Duration = .milliseconds(20)

    /// The period takes the state, limit and power of `observation` as if it had started with
    /// them (its start and its registers at the start stay: no energy is lost).
    mutating func settle(to observation: EVSEObservation) {
        state = observation.state
        offeredCurrent = observation.offeredCurrent
        minPowerW = nil
        maxPowerW = nil
        take(observation)
    }

    /// Whether `observation` starts a new period: another charging state or another offered limit.
    func isChanged(by observation: EVSEObservation) -> Bool {
        observation.state != state || abs(observation.offeredCurrent - offeredCurrent) >= 0.05
    }

    /// The period's dimensions so far, in OCPI's units:
    /// - ENERGY and ENERGY_IMPORT: kWh imported in the period, the difference of the session's kWh
    ///   (rounded to the Wh) at its end and at its start, so that the ENERGY of all periods adds
    ///   up to the session's `kwh` exactly;
    /// - ENERGY_EXPORT: kWh exported (the meter's export register);
    /// - POWER: the average, ENERGY over the period's length (kW); the last sample for a period
    ///   shorter than a second;
    /// - MIN_POWER, MAX_POWER: the extremes of every sample of the period (kW), when any was measured;
    /// - PARKING_TIME: hours connected and not charging (0 while charging);
    /// - STATE_OF_CHARGE: the last value the EV reported, when it did.
    func dimensions(sessionStartWh: Double, now: ContinuousClock.Instant) -> [ChargingDimension] {
        let energy = Store.kwh(from: sessionStartWh, to: lastImportWh) - Store.kwh(from: sessionStartWh, to: startImportWh)
        let exported = Store.kwh(from: startExportWh, to: lastExportWh)
        let elapsed = startedAt.duration(to: now)
        let hours = max(0, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) / 3600
        let average = hours >= 1.0 / 3600 ? energy / hours : (lastPowerW ?? 0) / 1000
        var dimensions = [
            ChargingDimension(.energy, energy),
            ChargingDimension(.energyImport, energy),
            ChargingDimension(.energyExport, exported),
            ChargingDimension(.power, Self.rounded(average)),
        ]
        if let minPowerW, let maxPowerW {
            dimensions.append(ChargingDimension(.minPower, Self.rounded(minPowerW / 1000)))
            dimensions.append(ChargingDimension(.maxPower, Self.rounded(maxPowerW / 1000)))
        }
        dimensions.append(ChargingDimension(.parkingTime, state.isParking ? Self.rounded(hours, places: 6) : 0))
        if let stateOfCharge { dimensions.append(ChargingDimension(.stateOfCharge, stateOfCharge)) }
        return dimensions
    }

    /// `value` rounded to `places` decimals (kW to the W by default).
    static func rounded(_ value: Double, places: Int = 3) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (value * scale).rounded() / scale
    }
}
