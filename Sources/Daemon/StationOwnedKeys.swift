import Logging
import Station
import Store

/// The device-model variables (OCPP 2.0.1 configuration keys) the station itself honours, and the
/// way their values in force reach the station's policy: every change in force (applied now,
/// applied at start, or the declared value at start) is handed over in order, and the station
/// follows it. Other declared variables are Josev's (OCPP's) business: the station stores and
/// announces them.
///
/// | variable (station level) | policy | YAML default |
/// | --- | --- | --- |
/// | `SampledDataCtrlr.TxUpdatedInterval` (s; 0: none) | `meterValuesInterval` (periodic `meter_values` while charging) | 60 s |
/// | `TxCtrlr.EVConnectionTimeOut` (s; 0: never) | `connectionTimeout` | `authorization.connection_timeout` |
/// | `TxCtrlr.StopTxOnEVSideDisconnect` | `stopTransactionOnEVSideDisconnect` | `authorization.stop_transaction_on_ev_side_disconnect` |
final class StationOwnedKeys: Sendable {
    /// One honoured variable: the change of the policy its text means (nil: a value the station cannot use).
    struct Binding: Sendable {
        let key: DeviceVariableKey
        let change: @Sendable (String) -> (@Sendable (inout StationPolicy) -> Void)?
    }

    static let bindings: [Binding] = [
        Binding(key: DeviceVariableKey(component: "SampledDataCtrlr", variable: "TxUpdatedInterval")) { text in
            guard let seconds = Int64(text), seconds >= 0 else { return nil }
            return { $0.meterValuesInterval = seconds > 0 ? .seconds(seconds) : nil }
        },
        Binding(key: DeviceVariableKey(component: "TxCtrlr", variable: "EVConnectionTimeOut")) { text in
            guard let seconds = Int64(text), seconds >= 0 else { return nil }
            return { $0.connectionTimeout = seconds > 0 ? .seconds(seconds) : nil }
        },
        Binding(key: DeviceVariableKey(component: "TxCtrlr", variable: "StopTxOnEVSideDisconnect")) { text in
            guard let flag = Bool(text) else { return nil }
            return { $0.stopTransactionOnEVSideDisconnect = flag }
        },
    ]

    private let changes: AsyncStream<DeviceVariableRecord>
    private let continuation: AsyncStream<DeviceVariableRecord>.Continuation

    init() {
        (changes, continuation) = AsyncStream.makeStream(of: DeviceVariableRecord.self)
    }

    /// A value in force (the device-model store's `applied` observer); taken in order.
    func follow(_ record: DeviceVariableRecord) {
        guard Self.bindings.contains(where: { $0.key == record.key }) else { return }
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
        guard let binding = bindings.first(where: { $0.key == record.key }) else { return }
        guard let change = binding.change(record.value) else {
            logger.notice("\(record.key) = '\(record.value)' cannot be used by the station; it keeps the value in force")
            return
        }
        let before = await station.policy
        await station.updatePolicy(change)
        if await station.policy != before { logger.info("\(record.key) = '\(record.value)' in force") }
    }
}
