/// The priorities as gridbox-sim keeps them across restarts (`--state-file`): a JSON array of
/// `{"serial_number","connector","priority"}`, the non-default entries only.
extension PriorityBook {
    public var stateText: String {
        JSONValue.array(
            entries.map { entry in
                .object([
                    ("serial_number", .string(entry.id.serial)), ("connector", .number(Double(entry.id.connector))),
                    ("priority", .number(Double(entry.priority))),
                ])
            }
        ).text
    }

    /// The book a state file describes; nil when the text is not such an array (entries out of the
    /// API's ranges are left out).
    public init?(stateText bytes: [UInt8]) {
        guard case .array(let items)? = try? JSONValue.parse(bytes) else { return nil }
        self.init()
        for item in items {
            guard case .string(let serial)? = item["serial_number"], case .number(let connector)? = item["connector"],
                case .number(let priority)? = item["priority"], let connectorID = Int(exactly: connector), let value = Int(exactly: priority),
                PriorityAPI.connectorRange.contains(connectorID), PriorityAPI.priorityRange.contains(value), !serial.isEmpty
            else { continue }
            set(value, for: ConnectorID(serial: serial, connector: connectorID))
        }
    }
}
