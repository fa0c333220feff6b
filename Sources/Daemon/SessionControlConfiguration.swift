import BoardDriver
import JSONSchema
import JosevContract
import Station

#if canImport(Glibc)
    import Glibc
#endif

/// What the station does around a session that the back office decides on (issue 16): the
/// connection timeout, the EV-side disconnect, the socket lock, and what a `reset` runs.
public struct SessionControlConfiguration: Sendable, Equatable {
    /// `authorization.connection_timeout`: seconds an authorization waits for an EV to plug in
    /// (OCPP `TxCtrlr.EVConnectionTimeOut`, classic `ConnectionTimeOut`); 0: forever.
    public var connectionTimeout: Double = 300
    /// `authorization.stop_transaction_on_ev_side_disconnect` (OCPP `TxCtrlr.StopTxOnEVSideDisconnect`).
    public var stopTransactionOnEVSideDisconnect = true
    /// `authorization.unlock_connector_on_ev_side_disconnect` (OCPP 1.6 `UnlockConnectorOnEVSideDisconnect`).
    public var unlockConnectorOnEVSideDisconnect = true
    /// The `reset:` block.
    public var reset = ResetConfiguration()

    public init() {}

    /// The station policy with these settings applied.
    public func apply(to policy: inout StationPolicy) {
        policy.connectionTimeout = connectionTimeout > 0 ? .milliseconds(Int64((connectionTimeout * 1000).rounded())) : nil
        policy.stopTransactionOnEVSideDisconnect = stopTransactionOnEVSideDisconnect
        policy.unlockConnectorOnEVSideDisconnect = unlockConnectorOnEVSideDisconnect
    }
}

/// The `reset:` block: what a `reset` from Josev runs once the station's state is reset and saved.
public struct ResetConfiguration: Sendable, Equatable {
    /// A reset of the whole station (no `evse_id`), e.g. `["/bin/systemctl", "reboot"]`; nil: the
    /// station resets its dynamic state only.
    public var command: [String]?
    /// A reset of one EVSE; `{evse_id}` in an argument is replaced by the EVSE's id. nil: the
    /// EVSE's dynamic state only.
    public var evseCommand: [String]?
    /// Seconds the command may run (its process group is killed after).
    public var timeout = 60

    public init() {}
}

extension ConfigLoader {
    /// Reads the keys of `SessionControlConfiguration` and each connector's `socket` (already
    /// schema-checked) and checks what the schema cannot: a socket that `ocpp_connector_type`
    /// calls a tethered cable, a socket on a board port without a lock actuator, a command that is
    /// not executable.
    static func decodeSessionControl(
        _ root: JSONValue, into configuration: inout DaemonConfiguration, problems: inout [ConfigProblem],
        located: (String, String) -> ConfigProblem
    ) {
        var settings = SessionControlConfiguration()
        let authorization = root["authorization"]
        if let value = authorization?["connection_timeout"]?.numberValue { settings.connectionTimeout = value }
        if let value = authorization?["stop_transaction_on_ev_side_disconnect"]?.boolValue { settings.stopTransactionOnEVSideDisconnect = value }
        if let value = authorization?["unlock_connector_on_ev_side_disconnect"]?.boolValue { settings.unlockConnectorOnEVSideDisconnect = value }
        if let block = root["reset"] {
            settings.reset.command = executableCommand(block["command"], "/reset/command", problems: &problems, located: located)
            settings.reset.evseCommand = executableCommand(block["evse_command"], "/reset/evse_command", problems: &problems, located: located)
            if let value = block["timeout"]?.integerValue { settings.reset.timeout = Int(value) }
        }
        configuration.sessionControl = settings

        for (index, item) in (root["evses"]?.arrayValue ?? []).enumerated() {
            guard index < configuration.station.evses.count else { break }
            let evseID = configuration.station.evses[index].evseID
            let lock = configuration.board?.connectors.first { $0.evseID == evseID }?.lock
            for (cIndex, connector) in (item["connectors"]?.arrayValue ?? []).enumerated() {
                let pointer = "/evses/\(index)/connectors/\(cIndex)"
                let typeName = connector["ocpp_connector_type"]?.stringValue
                // OCPP's ConnectorEnum says it: s… is a socket, c… a cable fixed to the station.
                let typeSaysSocket = typeName.map { $0.hasPrefix("s") }
                let socket = connector["socket"]?.boolValue ?? typeSaysSocket ?? false
                if socket, typeName?.hasPrefix("c") == true {
                    problems.append(located(pointer + "/socket", "ocpp_connector_type \(typeName ?? "") is a tethered cable, not a socket"))
                }
                if socket, configuration.hardware == .board, lock == BoardSettings.Lock.none {
                    problems.append(located(pointer + "/socket", "a socket needs a lock: hardware.board names no lock for EVSE '\(evseID)'"))
                }
                guard let id = connector["id"]?.integerValue,
                    let position = configuration.station.evses[index].connectors.firstIndex(where: { $0.id == Int(id) })
                else { continue }
                configuration.station.evses[index].connectors[position].socket = socket
            }
        }
    }

    /// An argv from the YAML; an absolute executable that cannot be run is a problem at `pointer/0`.
    static func executableCommand(
        _ value: JSONValue?, _ pointer: String, problems: inout [ConfigProblem], located: (String, String) -> ConfigProblem
    ) -> [String]? {
        guard let argv = value?.arrayValue?.compactMap(\.stringValue), let executable = argv.first else { return nil }
        if executable.hasPrefix("/"), access(executable, X_OK) != 0 {
            problems.append(located(pointer + "/0", "\(executable) is not an executable file"))
        }
        return argv
    }
}
