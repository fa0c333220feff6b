import JosevContract
import Logging
import Station
import Store

/// The device-model variables the station itself honours (issue 16, point 4): declared in
/// `device_model:`, their stored value replaces the YAML key at start, and every change applied
/// from the back office or a technician reaches the station's policy at once.
///
/// | variable (station level) | policy | YAML default |
/// | --- | --- | --- |
/// | `TxCtrlr.EVConnectionTimeOut` (s; 0: never) | `connectionTimeout` | `authorization.connection_timeout` |
/// | `TxCtrlr.StopTxOnEVSideDisconnect` | `stopTransactionOnEVSideDisconnect` | `authorization.stop_transaction_on_ev_side_disconnect` |
struct StationVariables: Sendable {
    let station: Station
    let logger: Logger

    /// One honoured variable: the change of the policy its text means (nil: a value the station cannot use).
    struct Binding: Sendable {
        let component: String
        let variable: String
        let change: @Sendable (String) -> (@Sendable (inout StationPolicy) -> Void)?
    }

    static let bindings: [Binding] = [
        Binding(component: "TxCtrlr", variable: "EVConnectionTimeOut") { text in
            guard let seconds = Int64(text), seconds >= 0 else { return nil }
            return { $0.connectionTimeout = seconds > 0 ? .seconds(seconds) : nil }
        },
        Binding(component: "TxCtrlr", variable: "StopTxOnEVSideDisconnect") { text in
            guard let flag = Bool(text) else { return nil }
            return { $0.stopTransactionOnEVSideDisconnect = flag }
        },
    ]

    /// At start: the stored values of the declared variables.
    func start(with records: [DeviceVariableRecord]) async {
        for record in records where record.key.evseID.isEmpty && record.key.connectorID == 0 {
            await apply(component: record.key.component, variable: record.key.variable, value: record.value)
        }
    }

    /// An applied change, as announced to Josev (called synchronously by the store).
    func follow(_ update: DeviceModelUpdate) {
        let changes = update.components.filter { $0.evseID == nil && $0.connectorID == nil }.flatMap { component in
            (component.variables ?? []).map { (component.name, $0.name, $0.value) }
        }
        guard changes.contains(where: { change in Self.bindings.contains { $0.component == change.0 && $0.variable == change.1 } }) else {
            return
        }
        Task {
            for (component, variable, value) in changes { await apply(component: component, variable: variable, value: value) }
        }
    }

    private func apply(component: String, variable: String, value: String) async {
        guard let binding = Self.bindings.first(where: { $0.component == component && $0.variable == variable }) else { return }
        guard let change = binding.change(value) else {
            logger.notice("\(component).\(variable) = '\(value)' cannot be used by the station; it keeps the value in force")
            return
        }
        await station.updatePolicy(change)
        logger.info("\(component).\(variable) = '\(value)' in force")
    }
}
