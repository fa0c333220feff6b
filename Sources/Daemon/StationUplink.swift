import Basics
import JSONSchema
import JosevContract
import Logging
import Mosquitto
import Station
import Store

/// The station's uplink for the fleet (issue 17, docs/FLEET.md): what it publishes on its local
/// broker under `<prefix>/<serial>/`, for a mosquitto bridge to carry out (never in):
///
/// | topic | what | QoS, retained |
/// |---|---|---|
/// | `status` | `online`, or `offline` (the MQTT will, and at a clean stop) | 1, retained |
/// | `evse/<evse id>` | the EVSE's state, on change and every `heartbeat_interval` | 1 |
/// | `sessions` | one OCPI 2.2.1 Session object per new or changed session (its `id` is stable) | 1 |
/// | `jobs/firmware`, `jobs/logs` | the `data` of the daemon's last `firmware_status` / `logs_status` | 1, retained |
///
/// It has a connection of its own to the broker (its will must not be the daemon's), and reads the
/// sessions from the state directory's database read-only (the session recorder writes them).
/// Sessions are published from a watermark (their `last_update`), kept in `uplink.state`: after a
/// broker or daemon restart, what was not yet handed to the broker is published again; a session
/// already handed over may come twice (QoS 1), with the same `id` and `last_updated`.
actor StationUplink {
    let configuration: UplinkConfiguration
    let base: String
    private let client: MosquittoClient
    private let station: Station
    private let databasePath: String
    private let stateFile: String
    private let logger: Logger
    private let now: @Sendable () -> Int64

    private var store: Store?
    /// Sessions handed to the broker since `watermark`, with their `lastUpdate` (for skipping the
    /// unchanged ones the `>=` query returns again).
    private var handedOver: [String: Int64] = [:]
    private var watermark: Int64
    private var lastEVSEState: [String: String] = [:]
    private var lastHeartbeat: Int64 = 0
    private(set) var published = 0

    init(
        configuration: UplinkConfiguration, serial: String, client: MosquittoClient, station: Station, stateDirectory: String,
        logger: Logger, now: @escaping @Sendable () -> Int64 = { WallClock.unixMilliseconds() }
    ) {
        self.configuration = configuration
        self.base = Self.base(configuration, serial: serial)
        self.client = client
        self.station = station
        // The session recorder's database (SessionRecorder.open: <state_directory>/cs-companion.db).
        self.databasePath = stateDirectory + "/cs-companion.db"
        self.stateFile = stateDirectory + "/uplink.state"
        self.logger = logger
        self.now = now
        let stored = SystemFile.firstLine(of: stateFile).flatMap { Int64($0) }
        self.watermark = stored ?? (now() - Int64(configuration.backfillHours * 3_600_000))
    }

    /// `<prefix>/<serial>`, the root of every topic of the station.
    static func base(_ configuration: UplinkConfiguration, serial: String) -> String {
        "\(configuration.prefix)/\(topicLevel(serial))"
    }

    /// The will the uplink's connection gives the broker: `offline`, retained.
    static func will(base: String) -> MQTTWill {
        MQTTWill(topic: base + "/status", payload: Array("offline".utf8), qos: .atLeastOnce, retain: true)
    }

    /// A topic level from an identifier: `/`, `+`, `#` and control characters become `_`.
    static func topicLevel(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            scalar == "/" || scalar == "+" || scalar == "#" || scalar.value < 0x20 ? "_" : scalar
        }))
    }

    // MARK: Events

    /// After every (re)connect: `online`, every EVSE, the sessions not yet handed over.
    func connected() async {
        publish("status", Array("online".utf8), retain: true)
        for evseID in await station.evseIDs { await publishEVSE(evseID, force: true) }
        lastHeartbeat = now()
        scanSessions()
    }

    /// A station notification: the EVSEs it names are published when their state changed.
    func observe(_ notification: StationNotification) async {
        for evseID in Self.evseIDs(of: notification) { await publishEVSE(evseID, force: false) }
    }

    /// The periodic work: new or changed sessions, and the heartbeat when it is due.
    func tick() async {
        guard client.isConnected else { return }
        scanSessions()
        if Double(now() - lastHeartbeat) >= configuration.heartbeatInterval * 1000 {
            lastHeartbeat = now()
            for evseID in await station.evseIDs { await publishEVSE(evseID, force: true) }
        }
    }

    /// A message the daemon sent Josev (`cs/josev`): firmware and log job statuses go up too.
    func forwardJobStatus(_ message: MQTTMessage) {
        guard let envelope = try? JSONValue.parse(message.payload, maxDepth: 16),
            envelope["type"]?.stringValue == "update", let data = envelope["data"]
        else { return }
        let job: String
        switch envelope["name"]?.stringValue {
        case "firmware_status": job = "firmware"
        case "logs_status": job = "logs"
        default: return
        }
        publish("jobs/" + job, data.serializedBytes(), retain: true)
    }

    /// At a clean stop: `offline` (a DISCONNECT does not publish the will).
    func stopping() {
        publish("status", Array("offline".utf8), retain: true)
    }

    // MARK: Publishing

    @discardableResult
    private func publish(_ subtopic: String, _ payload: [UInt8], retain: Bool = false) -> Bool {
        do {
            try client.publish(topic: base + "/" + subtopic, payload: payload, qos: .atLeastOnce, retain: retain)
            published += 1
            return true
        } catch {
            logger.debug("uplink: \(base)/\(subtopic) not published: \(error)")
            return false
        }
    }

    private func publishEVSE(_ evseID: String, force: Bool) async {
        guard let fields = await evseFields(evseID) else { return }
        let key = ExportJSON.object(fields).serialized()
        guard force || lastEVSEState[evseID] != key else { return }
        let payload = ExportJSON.object(
            fields + [.init("time", .string(DateTimeText.wholeSeconds(unixMilliseconds: now())))])
        if publish("evse/" + Self.topicLevel(evseID), Array(payload.serialized().utf8)) { lastEVSEState[evseID] = key }
    }

    /// Status, offered current, the gridBox's setpoint and its fallback, power, energy register, faults.
    private func evseFields(_ evseID: String) async -> [ExportJSON.Member]? {
        guard let state = await station.state(of: evseID) else { return nil }
        let offered = await station.offeredCurrent(evseID: evseID)
        let setpoint = await station.externalSetpointState(evseID: evseID)
        let meter = await station.meterValues(evseID: evseID)
        func number(_ value: Double?) -> ExportJSON { value.map { .double($0) } ?? .null }
        return [
            .init("evse_id", .string(evseID)),
            .init("status", .string(state.reportedStatus.rawValue)),
            .init("operative", .bool(state.isOperative)),
            .init("session_active", .bool(state.sessionActive)),
            .init("offered_current", number(offered)),
            .init("setpoint", number(setpoint?.setpoint)),
            .init("setpoint_fallback", number(setpoint.flatMap { $0.enabled ? $0.safeCurrent : nil })),
            .init("power_w", number(meter?.activePower)),
            .init("energy_wh", number(meter?.energyImportedWh)),
            .init("faults", .array(state.faults.map(\.rawValue).sorted().map { .string($0) })),
        ]
    }

    /// Sessions whose `last_update` is at or after the watermark, each once per change.
    private func scanSessions() {
        guard let store = openStore() else { return }
        let records: [ChargingSessionRecord]
        do {
            records = try store.sessions(since: watermark)
        } catch {
            logger.warning("uplink: cannot read the sessions: \(error)")
            return
        }
        var newWatermark = watermark
        for record in records.sorted(by: { $0.lastUpdate < $1.lastUpdate }) {
            if handedOver[record.id] == record.lastUpdate { continue }
            let object = SessionExport.ocpiSession(record, parameters: configuration.ocpi)
            guard publish("sessions", Array(object.serialized().utf8)) else { break }
            handedOver[record.id] = record.lastUpdate
            newWatermark = max(newWatermark, record.lastUpdate)
        }
        guard newWatermark != watermark else { return }
        watermark = newWatermark
        handedOver = handedOver.filter { $0.value >= newWatermark }
        do {
            try SystemFile.replace(stateFile, with: Array("\(newWatermark)\n".utf8))
        } catch {
            logger.warning("uplink: cannot keep the session watermark: \(error)")
        }
    }

    /// The session database, read-only, once it exists (the recorder creates it).
    private func openStore() -> Store? {
        if let store { return store }
        store = try? Store(path: databasePath, readOnly: true)
        return store
    }

    private static func evseIDs(of notification: StationNotification) -> [String] {
        switch notification {
        case .statusAndLimitsChanged(let ids), .resetPerformed(let ids): ids
        case .contactorChanged(let id, _), .hardwareFault(let id, _), .hardwareFaultCleared(let id, _), .meterValues(let id),
            .availabilityChanged(let id, _, _), .authorizationChanged(let id, _, _), .connectionTimedOut(let id, _, _):
            [id]
        case .cpStateChanged, .authorizationRequested, .cableInfo, .reservationChanged: []
        }
    }
}
