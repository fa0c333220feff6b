import PhyVerso

/// `hardware.board` of the configuration: the safety controller's serial link and which MCU
/// charge port drives which EVSE.
public struct BoardSettings: Sendable, Equatable {
    /// The contactor's mirror contact: normally closed (`nc`, the usual auxiliary contact), normally
    /// open (`no`), or none (the controller can only echo the command).
    public enum Feedback: String, Sendable, Equatable, CaseIterable { case nc, no, none }
    /// The socket's lock actuator.
    public enum Lock: String, Sendable, Equatable, CaseIterable { case motor, solenoid, none }

    public struct Connector: Sendable, Equatable {
        public var evseID: String
        /// The MCU's charge port (1-based, `connector` in phyverso.proto).
        public var mcuConnector: Int
        public var contactorFeedback: Feedback
        public var lock: Lock

        public init(evseID: String, mcuConnector: Int, contactorFeedback: Feedback = .nc, lock: Lock = .none) {
            self.evseID = evseID
            self.mcuConnector = mcuConnector
            self.contactorFeedback = contactorFeedback
            self.lock = lock
        }
    }

    public var port: String
    public var baud = 115_200
    /// Only `phyverso` exists.
    public var protocolName = "phyverso"
    /// Seconds between the host's keep-alives.
    public var keepaliveInterval: Double = 1
    /// Seconds without the MCU's keep-alive before the link counts as lost (`board_link`).
    public var linkTimeout: Double = 5
    /// Test every port's RCD at power-on (trip with the test current, then reset).
    public var rcdSelfTest = false
    public var connectors: [Connector]

    public init(port: String, connectors: [Connector]) {
        self.port = port
        self.connectors = connectors
    }

    /// The boot configuration the host answers `BootConfigRequest` with: one charge port per MCU
    /// connector up to the highest configured, unconfigured ones disabled.
    public var bootConfiguration: BootConfigResponse {
        let highest = connectors.map(\.mcuConnector).max() ?? 0
        let ports = (0..<max(0, highest)).map { offset -> ChargePortConfig in
            guard let connector = connectors.first(where: { $0.mcuConnector == offset + 1 }) else {
                return ChargePortConfig(type: .disabled, feedbackActiveLow: false, feedbackPull: .none, lock: nil, hasSocket: false)
            }
            let lock: MotorLockType? =
                switch connector.lock {
                case .motor: .hella
                case .solenoid: .debugValeoHVAC
                case .none: nil
                }
            return ChargePortConfig(
                type: .ac, feedbackActiveLow: connector.contactorFeedback == .nc,
                feedbackPull: connector.contactorFeedback == .none ? .none : .up, lock: lock, hasSocket: connector.lock != .none)
        }
        return BootConfigResponse(hwRevision: .revA, chargePorts: ports)
    }
}
