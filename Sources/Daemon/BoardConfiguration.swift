import BoardDriver
import JSONSchema

/// `hardware:` as a plain string (`simulated`, `none`) or an object (`driver:` plus the drivers'
/// settings, `board:` for the safety controller). The schema checked the shapes; this checks what
/// it cannot: `driver: board` needs `board:`, every EVSE named exists, MCU connectors are unique.
enum BoardConfiguration {
    static func decode(
        _ hardware: JSONValue?, evseIDs: [String], into configuration: inout DaemonConfiguration, problems: inout [ConfigProblem],
        located: (String, String) -> ConfigProblem
    ) {
        guard let hardware else { return }
        if let name = hardware.stringValue {
            if let driver = DaemonConfiguration.HardwareDriver(rawValue: name) { configuration.hardware = driver }
            return
        }
        if let name = hardware["driver"]?.stringValue, let driver = DaemonConfiguration.HardwareDriver(rawValue: name) {
            configuration.hardware = driver
        }
        guard let board = hardware["board"] else {
            if configuration.hardware == .board { problems.append(located("/hardware", "driver: board needs a 'board:' block")) }
            return
        }
        guard let port = board["port"]?.stringValue else { return }
        var connectors: [BoardSettings.Connector] = []
        for (index, entry) in (board["connectors"]?.arrayValue ?? []).enumerated() {
            let pointer = "/hardware/board/connectors/\(index)"
            guard let evseID = entry["evse_id"]?.stringValue, let mcu = entry["mcu_connector"]?.integerValue else { continue }
            if !evseIDs.contains(evseID) { problems.append(located(pointer + "/evse_id", "no EVSE '\(evseID)' is configured")) }
            if connectors.contains(where: { $0.mcuConnector == Int(mcu) }) {
                problems.append(located(pointer + "/mcu_connector", "MCU connector \(mcu) is used twice"))
            }
            if connectors.contains(where: { $0.evseID == evseID }) {
                problems.append(located(pointer + "/evse_id", "EVSE '\(evseID)' has a board connector already"))
            }
            connectors.append(
                BoardSettings.Connector(
                    evseID: evseID, mcuConnector: Int(mcu),
                    contactorFeedback: entry["contactor_feedback"]?.stringValue.flatMap(BoardSettings.Feedback.init(rawValue:)) ?? .nc,
                    lock: entry["lock"]?.stringValue.flatMap(BoardSettings.Lock.init(rawValue:)) ?? .none))
        }
        var settings = BoardSettings(port: port, connectors: connectors)
        if let baud = board["baud"]?.integerValue { settings.baud = Int(baud) }
        if let name = board["protocol"]?.stringValue { settings.protocolName = name }
        if let interval = board["keepalive_interval"]?.numberValue { settings.keepaliveInterval = interval }
        if let timeout = board["link_timeout"]?.numberValue { settings.linkTimeout = timeout }
        settings.rcdSelfTest = board["rcd_self_test"]?.boolValue ?? false
        if settings.linkTimeout <= settings.keepaliveInterval {
            problems.append(located("/hardware/board/link_timeout", "link_timeout must be longer than keepalive_interval"))
        }
        configuration.board = settings
    }
}
