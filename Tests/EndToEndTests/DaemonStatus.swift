import Daemon
import JSONSchema
import TestSupport

extension DaemonProcess {
    /// The daemon's `status` over its control socket (the JSON programs read), or nil while it does not answer.
    func status() -> JSONObject? {
        try? ControlClient.request(["command": "status"], path: controlSocket)
    }

    /// The connectors of `evseID` that `status` shows reserved (nil while the daemon does not answer).
    func reservedConnectors(_ evseID: String) -> [Int]? {
        let evse = status()?["evses"]?.arrayValue?.first { $0["evse_id"]?.stringValue == evseID }
        return evse?["reserved_connectors"]?.arrayValue?.compactMap { $0.integerValue.map(Int.init) }
    }

    /// Whether the last `STATUS=` the daemon sent says the broker is unreachable.
    var brokerUnreachable: Bool { notify.statuses.last?.contains("unreachable") == true }

    /// How many times the daemon told systemd it is connected to the broker (once per connection).
    var brokerConnections: Int { notify.statuses.filter { $0.hasPrefix("connected to") }.count }
}
