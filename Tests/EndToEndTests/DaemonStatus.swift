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

extension DaemonProcess {
    /// What the router made of Josev's messages so far (`status`'s `messages`: answered, consumed,
    /// ignored, rejected, failed, updates_sent); nil while the daemon does not answer.
    func messageCount(_ outcome: String) -> Int? {
        status()?["messages"]?[outcome]?.integerValue.map(Int.init)
    }

    /// The session store as `status` shows it: whether it takes writes, how many writes wait, how
    /// many storage problems were met; nil while the daemon does not answer.
    func storage() -> (writable: Bool, queuedWrites: Int, problems: Int)? {
        guard let storage = status()?["storage"], let writable = storage["writable"]?.boolValue,
            let queued = storage["queued_writes"]?.integerValue, let problems = storage["problems"]?.integerValue
        else { return nil }
        return (writable, Int(queued), Int(problems))
    }
}
