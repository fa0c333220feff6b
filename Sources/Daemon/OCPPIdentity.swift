import JosevContract
import Synchronization

/// What the daemon knows beyond the station: the OCPP identity for `device_model`.
public struct OCPPIdentity: Sendable, Equatable {
    public var identity: String
    public var csmsURL: String
    public var securityProfile: Int
    public var basicAuthPassword: String
    public var ocppVersion: OCPPVersion?
    /// OCPP EVSE id per ISO 15118 EVSE id (default: position + 1).
    public var ocppEVSEIDs: [String: Int]
    /// OCPP connector type per (EVSE id, connector id).
    public var connectorTypes: [String: [Int: OCPPConnectorType]]
    /// Whether the `ocpp:` block was configured (otherwise `device_model` answers from defaults).
    public var configured: Bool

    public init(
        identity: String, csmsURL: String, securityProfile: Int, basicAuthPassword: String, ocppVersion: OCPPVersion? = nil,
        ocppEVSEIDs: [String: Int] = [:], connectorTypes: [String: [Int: OCPPConnectorType]] = [:], configured: Bool = true
    ) {
        self.identity = identity
        self.csmsURL = csmsURL
        self.securityProfile = securityProfile
        self.basicAuthPassword = basicAuthPassword
        self.ocppVersion = ocppVersion
        self.ocppEVSEIDs = ocppEVSEIDs
        self.connectorTypes = connectorTypes
        self.configured = configured
    }

    /// What `device_model` says when the configuration has no `ocpp` block.
    public static let defaults = OCPPIdentity(
        identity: "", csmsURL: "ws://localhost:9000/", securityProfile: 1, basicAuthPassword: "", configured: false)
}

/// The OCPP identity, replaced on reload and read by `device_model`.
final class OCPPIdentityBox: Sendable {
    private let box: Mutex<OCPPIdentity>

    init(_ identity: OCPPIdentity) { box = Mutex(identity) }

    var value: OCPPIdentity {
        get { box.withLock { $0 } }
        set { box.withLock { $0 = newValue } }
    }
}
