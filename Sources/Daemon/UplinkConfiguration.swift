import JSONSchema
import Store

/// The `uplink:` block (off without it): what the station publishes for the fleet on its local
/// broker, under `<prefix>/<serial>/…`; a mosquitto bridge carries it out (docs/FLEET.md).
public struct UplinkConfiguration: Sendable, Equatable {
    /// The topic root; the station's serial follows it.
    public var prefix = "cs-companion"
    /// Every EVSE's state is published again this often, changed or not (seconds).
    public var heartbeatInterval: Double = 300
    /// How often the session store is read for new or changed sessions (seconds).
    public var sessionScanInterval: Double = 5
    /// At the first start (no `uplink.state` yet): sessions changed this long ago are published too.
    public var backfillHours: Double = 24
    /// The CPO's identifiers in the OCPI Session objects.
    public var ocpi: OCPIParameters

    public init(ocpi: OCPIParameters) { self.ocpi = ocpi }
}

extension ConfigLoader {
    /// Reads the `uplink:` block (already schema-checked); `enabled: false` keeps it off.
    /// The OCPI identifiers must be usable (`OCPIParameters.problems()`).
    static func decodeUplink(
        _ root: JSONValue, into configuration: inout DaemonConfiguration, problems: inout [ConfigProblem],
        located: (String, String) -> ConfigProblem
    ) {
        let serial = configuration.station.identity.serialNumber
        guard let block = root["uplink"], block["enabled"]?.boolValue != false else { return }
        let ocpi = block["ocpi"]
        var uplink = UplinkConfiguration(
            ocpi: OCPIParameters(
                countryCode: ocpi?["country_code"]?.stringValue ?? "",
                partyID: ocpi?["party_id"]?.stringValue ?? "",
                locationID: ocpi?["location_id"]?.stringValue ?? serial,
                currency: ocpi?["currency"]?.stringValue ?? "EUR"))
        if let value = block["prefix"]?.stringValue { uplink.prefix = value }
        if let value = block["heartbeat_interval"]?.numberValue { uplink.heartbeatInterval = value }
        if let value = block["session_scan_interval"]?.numberValue { uplink.sessionScanInterval = value }
        if let value = block["backfill_hours"]?.numberValue { uplink.backfillHours = value }
        for problem in uplink.ocpi.problems() { problems.append(located("/uplink/ocpi", problem)) }
        configuration.uplink = uplink
    }
}
