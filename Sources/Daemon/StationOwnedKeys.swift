import Logging
import Station
import Store

/// The device-model variables (OCPP 2.0.1 configuration keys) the station itself honours, and the
/// way their values in force reach the `Station`: every change in force (applied now, applied at
/// start, or the declared value at start) is handed over in order, and the station follows it.
///
/// Today: `SampledDataCtrlr.TxUpdatedInterval` (OCPP 1.6 `MeterValueSampleInterval`), the
/// interval of the periodic `meter_values` updates of a charging EVSE in seconds; 0 = none.
/// Other declared variables are Josev's (OCPP's) business: the station stores and announces them.
final class StationOwnedKeys: Sendable {
    static let txUpdatedInterval = DeviceVariableKey(component: "SampledDataCtrlr", variable: "TxUpdatedInterval")

    private let changes: AsyncStream<DeviceVariableRecord>
    private let continuation: AsyncStream<DeviceVariableRecord>.Continuation

    init() {
        (changes, continuation) = AsyncStream.makeStream(of: DeviceVariableRecord.self)
    }

    /// A value in force (the device-model store's `applied` observer); taken in order.
    func follow(_ record: DeviceVariableRecord) {
        guard record.key == Self.txUpdatedInterval else { return }
        continuation.yield(record)
    }

    /// Hands the values to `station`, in order, for the daemon's lifetime.
    func run(station: Station, logger: Logger) async {
        for await record in changes {
            await Self.apply(record, to: station, logger: logger)
        }
    }

    /// Makes the station follow one variable it owns.
    static func apply(_ record: DeviceVariableRecord, to station: Station, logger: Logger) async {
        guard record.key == txUpdatedInterval else { return }
        guard let seconds = Int64(record.value), seconds >= 0 else {
            logger.warning("\(record.key) = '\(record.value)' is not a number of seconds; meter_values interval unchanged")
            return
        }
        let interval: Duration? = seconds == 0 ? nil : .seconds(seconds)
        guard await station.meterValuesInterval != interval else { return }
        await station.setMeterValuesInterval(interval)
        logger.info("meter_values every \(seconds == 0 ? "— (periodic updates off)" : "\(seconds) s") while charging (\(record.key))")
    }
}
