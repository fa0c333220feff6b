/// A connector as gridX addresses it: the station's serial number (unit 200 @157) and the socket's
/// unit id (1, 2, …).
public struct ConnectorID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var serial: String
    public var connector: Int

    public init(serial: String, connector: Int) {
        self.serial = serial
        self.connector = connector
    }

    public static func < (lhs: ConnectorID, rhs: ConnectorID) -> Bool {
        (lhs.serial, lhs.connector) < (rhs.serial, rhs.connector)
    }

    public var description: String { "\(serial)/\(connector)" }
}

/// One line of an AC supply.
public enum Phase: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case l1 = 0, l2, l3

    public var description: String { "L\(rawValue + 1)" }
}

/// How a connector loads the site: all three phases equally, or one phase (L1 unless told otherwise).
public enum PhaseConnection: Sendable, Hashable {
    case threePhase
    case singlePhase(Phase)

    /// From a phase count as the station reports it (register 1215): 1 → single phase on L1,
    /// anything else → three phases.
    public init(count: Int, singlePhaseOn phase: Phase = .l1) {
        self = count == 1 ? .singlePhase(phase) : .threePhase
    }

    public var phases: [Phase] {
        switch self {
        case .threePhase: Phase.allCases
        case .singlePhase(let phase): [phase]
        }
    }

    public var count: Int { phases.count }
}

/// IEC 61851 mode-3 states as the Alfen map reports them (unit 1..n @1201, e.g. "A", "B1", "C2").
public enum Mode3 {
    /// The state with NULs, spaces and case removed ("c2\0\0" → "C2").
    public static func normalized(_ state: String) -> String {
        String(state.uppercased().filter { !$0.isWhitespace && $0 != "\u{0}" })
    }

    /// A vehicle is plugged in: B1, B2, C1, C2, D1, D2 (any state starting with B, C or D).
    public static func isPluggedIn(_ state: String) -> Bool {
        guard let first = normalized(state).first else { return false }
        return first == "B" || first == "C" || first == "D"
    }

    /// The rule load management uses to decide who gets a share of the site limit.
    ///
    /// * C1, C2, D1, D2: the vehicle asks for power (C1/D1: asks, but is not offered current now).
    /// * B2: current is offered (PWM) and the vehicle may start at any moment: it keeps its share.
    /// * B1: a vehicle is connected but sees no PWM. That is exactly what a vehicle we paused (0 A)
    ///   shows, and many vehicles only ask once PWM comes back, so B1 must count, otherwise a paused
    ///   vehicle could never get its share back.
    /// * A (nobody plugged in), E, F (error), empty or unknown text: no.
    ///
    /// So: a vehicle is plugged in and the connector is not in error. The price is that a connected
    /// vehicle that does not charge (full, scheduled) still holds at least the minimum current.
    public static func wantsToCharge(_ state: String) -> Bool {
        let state = normalized(state)
        return ["B1", "B2", "C1", "C2", "D1", "D2"].contains(state)
    }
}

/// What load management knows about one connector in one cycle.
public struct ConnectorDemand: Sendable, Hashable {
    public var id: ConnectorID
    /// Priority: 0 is the default, a higher value wins.
    public var priority: Int
    /// See ``Mode3/wantsToCharge(_:)``.
    public var wantsToCharge: Bool
    /// The most this connector may draw per phase (hardware rating or configuration), in A.
    public var maximumCurrent: Double
    public var phases: PhaseConnection
    /// What the vehicle draws now, per phase, in A. Shown, not used by the allocation: a vehicle that
    /// draws less than offered keeps its share (a setpoint below what it could draw would stall its
    /// ramp-up).
    public var drawing: Double
    /// When the vehicle was plugged in, as an increasing sequence number (smaller = earlier). Within
    /// one priority, vehicles that arrived later are paused first; ties go by ``id``.
    public var arrival: Int

    public init(
        id: ConnectorID, priority: Int = 0, wantsToCharge: Bool, maximumCurrent: Double,
        phases: PhaseConnection = .threePhase, drawing: Double = 0, arrival: Int = 0
    ) {
        self.id = id
        self.priority = priority
        self.wantsToCharge = wantsToCharge
        self.maximumCurrent = maximumCurrent
        self.phases = phases
        self.drawing = drawing
        self.arrival = arrival
    }
}
