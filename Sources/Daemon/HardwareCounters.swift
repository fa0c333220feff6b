import Station

/// Wear counters of each EVSE, kept in the store's settings (`counter/<EVSE id>/<name>`) and shown
/// by `cs-companion status`: contactor cycles (confirmed closings), openings under load (the
/// contactor opened while the EV still asked for energy, CP C/D: `EVSEState.lastOpeningUnderLoad`) and
/// RCD trips. Counted only once the stored state was read (a count before it would overwrite the
/// stored one).
enum HardwareCounter: String, CaseIterable, Sendable {
    case contactorCycles = "contactor_cycles"
    case openingsUnderLoad = "openings_under_load"
    case rcdTrips = "rcd_trips"

    static func key(_ evseID: String, _ counter: HardwareCounter) -> String { "counter/\(evseID)/\(counter.rawValue)" }
}

extension SessionRecorder {
    /// Counts what `notification` means for the hardware's wear.
    func countHardware(_ notification: StationNotification) async {
        switch notification {
        case .contactorChanged(let evseID, true):
            increment(.contactorCycles, evseID: evseID)
        case .contactorChanged(let evseID, false):
            if await station.state(of: evseID)?.lastOpeningUnderLoad == true { increment(.openingsUnderLoad, evseID: evseID) }
        case .hardwareFault(let evseID, .rcdTripped):
            increment(.rcdTrips, evseID: evseID)
        default:
            break
        }
    }

    /// The counters of an EVSE (0 when never counted).
    func hardwareCounters(evseID: String) -> [HardwareCounter: Int] {
        persisted.withLock { cache in
            Dictionary(uniqueKeysWithValues: HardwareCounter.allCases.map { counter in
                (counter, cache[PersistentKey.cacheKey(setting: HardwareCounter.key(evseID, counter))].flatMap { Int($0) } ?? 0)
            })
        }
    }

    private func increment(_ counter: HardwareCounter, evseID: String) {
        guard restoration.withLock({ $0.done }) else { return }
        let key = HardwareCounter.key(evseID, counter)
        let value = persisted.withLock { cache in
            let next = (cache[PersistentKey.cacheKey(setting: key)].flatMap { Int($0) } ?? 0) + 1
            cache[PersistentKey.cacheKey(setting: key)] = String(next)
            return next
        }
        write(.setting(key: key, value: String(value), at: time.unixMilliseconds()))
    }
}
