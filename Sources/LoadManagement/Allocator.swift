/// Why a connector got the limit it got.
public enum AllocationOutcome: String, Sendable, Hashable {
    /// Charging with a share of the site limit (at least the minimum, below its maximum).
    case charging
    /// Charging at its own maximum current.
    case atMaximum
    /// Wants to charge, but the site limit does not leave the minimum for it: 0 A.
    case pausedForCapacity
    /// Wants to charge, but its own maximum is below the minimum current: 0 A.
    case maximumBelowMinimum
    /// Does not want to charge (see ``Mode3/wantsToCharge(_:)``): 0 A.
    case notCharging
}

/// The result of one allocation.
public struct Allocation: Sendable, Equatable {
    /// The limit per connector, A per phase, a multiple of 0.1 A; 0 means pause.
    public var limits: [ConnectorID: Double]
    public var outcomes: [ConnectorID: AllocationOutcome]
    /// What the limits add up to on L1, L2, L3 (A), each ≤ the site limit.
    public var phaseLoads: [Double]

    public func limit(_ id: ConnectorID) -> Double { limits[id] ?? 0 }
}

/// Shares a site current limit (A per phase) among connectors.
///
/// The rules, exactly:
/// 1. All currents are handled in whole tenths of an ampere; the site limit and every maximum are
///    rounded down to 0.1 A first, so no result is ever above what was asked and each is a multiple
///    of 0.1 A. A site limit that is NaN, infinite or below 0 counts as 0.
/// 2. Candidates are the connectors that want to charge and whose maximum is at least the minimum
///    current (6 A). Connectors that do not want to charge get 0 A (``AllocationOutcome/notCharging``),
///    those with a smaller maximum 0 A (``AllocationOutcome/maximumBelowMinimum``).
/// 3. Admission: candidates are ordered by priority (higher first), then arrival (earlier first),
///    then id (serial, connector). In that order each is admitted while the minimum current for it
///    and for everyone admitted before fits on every phase it uses. The first one that does not fit
///    and everyone after it are paused (0 A, ``AllocationOutcome/pausedForCapacity``): nobody gets
///    less than the minimum, and a lower priority never charges while a higher one is paused.
/// 4. Every admitted connector starts at the minimum. What is left on each phase is then handed out
///    priority by priority, highest first: within a priority the connectors are raised together in
///    equal steps (progressive filling) until each reaches its maximum or a phase it uses is full;
///    what a connector capped at its maximum cannot take goes to the others of the same priority,
///    and what a priority cannot use goes to the next lower one. Tenths that cannot be split equally
///    among the connectors sharing a full phase stay unallocated (rounding down).
/// 5. A three-phase connector loads L1, L2 and L3 with its limit; a single-phase one only its phase
///    (L1 unless told otherwise). The sum on each phase never exceeds the site limit minus what is
///    `reserved` on that phase (rounded up to 0.1 A; e.g. what unreachable stations may still draw).
public enum LoadAllocator {
    /// The lowest current an AC EVSE may offer (IEC 61851: 6 A per phase).
    public static let minimumCurrent = 6.0

    public static func allocate(
        siteLimit: Double, connectors: [ConnectorDemand], reserved: [Double] = [0, 0, 0],
        minimumCurrent: Double = LoadAllocator.minimumCurrent
    ) -> Allocation {
        let site = tenthsDown(siteLimit)
        let minimum = max(1, tenthsUp(minimumCurrent))
        var limits: [ConnectorID: Int] = [:]
        var outcomes: [ConnectorID: AllocationOutcome] = [:]

        var candidates: [ConnectorDemand] = []
        for connector in connectors {
            limits[connector.id] = 0
            if !connector.wantsToCharge {
                outcomes[connector.id] = .notCharging
            } else if tenthsDown(connector.maximumCurrent) < minimum {
                outcomes[connector.id] = .maximumBelowMinimum
            } else {
                candidates.append(connector)
            }
        }
        candidates.sort { a, b in
            if a.priority != b.priority { return a.priority > b.priority }
            if a.arrival != b.arrival { return a.arrival < b.arrival }
            return a.id < b.id
        }

        // Admission at the minimum current.
        var remaining = Phase.allCases.map { phase in
            max(0, site - tenthsUp(phase.rawValue < reserved.count ? reserved[phase.rawValue] : 0))
        }
        var admitted: [ConnectorDemand] = []
        var full = false
        for candidate in candidates {
            let phases = candidate.phases.phases
            if !full, phases.allSatisfy({ remaining[$0.rawValue] >= minimum }) {
                for phase in phases { remaining[phase.rawValue] -= minimum }
                limits[candidate.id] = minimum
                admitted.append(candidate)
            } else {
                full = true
                outcomes[candidate.id] = .pausedForCapacity
            }
        }

        // Filling, one priority at a time (admitted is sorted by priority).
        var start = 0
        while start < admitted.count {
            var end = start
            while end < admitted.count, admitted[end].priority == admitted[start].priority { end += 1 }
            fill(Array(admitted[start..<end]), remaining: &remaining, limits: &limits)
            start = end
        }

        var loads = [Int](repeating: 0, count: Phase.allCases.count)
        for connector in admitted {
            let limit = limits[connector.id] ?? 0
            for phase in connector.phases.phases { loads[phase.rawValue] += limit }
            outcomes[connector.id] = limit >= tenthsDown(connector.maximumCurrent) ? .atMaximum : .charging
        }
        return Allocation(
            limits: limits.mapValues { Double($0) / 10 },
            outcomes: outcomes,
            phaseLoads: loads.map { Double($0) / 10 }
        )
    }

    /// Progressive filling of one priority group: raise all unfrozen connectors by the same number of
    /// tenths until each is at its maximum or a phase it uses cannot give every connector on it
    /// another tenth.
    private static func fill(_ group: [ConnectorDemand], remaining: inout [Int], limits: inout [ConnectorID: Int]) {
        var active = group
        while true {
            active.removeAll { (limits[$0.id] ?? 0) >= tenthsDown($0.maximumCurrent) }
            if active.isEmpty { return }
            var sharing = [Int](repeating: 0, count: remaining.count)
            for connector in active {
                for phase in connector.phases.phases { sharing[phase.rawValue] += 1 }
            }
            var step = Int.max
            for (phase, count) in sharing.enumerated() where count > 0 {
                step = min(step, remaining[phase] / count)
            }
            for connector in active {
                step = min(step, tenthsDown(connector.maximumCurrent) - (limits[connector.id] ?? 0))
            }
            if step == 0 {
                // Some phase cannot give everyone on it another tenth: freeze those connectors.
                active.removeAll { connector in
                    connector.phases.phases.contains { remaining[$0.rawValue] < sharing[$0.rawValue] }
                }
                continue
            }
            for connector in active {
                limits[connector.id, default: 0] += step
                for phase in connector.phases.phases { remaining[phase.rawValue] -= step }
            }
        }
    }

    /// Whole tenths of an ampere, rounded down; NaN, infinite and negative values are 0.
    static func tenthsDown(_ amps: Double) -> Int {
        guard amps.isFinite, amps > 0 else { return 0 }
        return Int(min((amps * 10 + 1e-9).rounded(.down), 1e9))
    }

    static func tenthsUp(_ amps: Double) -> Int {
        guard amps.isFinite, amps > 0 else { return 0 }
        return Int(min((amps * 10 - 1e-9).rounded(.up), 1e9))
    }
}
