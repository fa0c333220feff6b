import JSONSchema
import JosevContract
import Station
import Testing

@Suite("station answers validate against the schemas")
struct StationMappingTests {
    static let configuration = StationConfiguration(
        identity: StationIdentity(serialNumber: "S1", vendor: "V", model: "M", firmwareVersion: "1.0", hardwareVersion: "A"),
        evses: [
            EVSEConfiguration(
                evseID: "DE*A*E1*1", networkInterface: "eth1", ac: ACSupply(nominalVoltage: 230, maxCurrent: 32, phases: 1),
                acBPT: ACBPTSupply(maxDischargePower: 3680, bptChannel: .unified),
                connectors: [ConnectorConfiguration(id: 1, connectorType: .acSinglePhaseCore)]),
            EVSEConfiguration(
                evseID: "DE*A*E1*2", networkInterface: "eth2", supportsEIM: false,
                dc: DCSupply(maxCurrent: 125, maxVoltage: 500, minVoltage: 150, maxPower: 50000, isolationMonitor: false),
                connectors: [ConnectorConfiguration(id: 1, connectorType: .dcCore, controlMode: .scheduled),
                             ConnectorConfiguration(id: 2, connectorType: .dcComboCore)]),
        ])

    func envelope(_ value: some Encodable, name: String, type: MessageType) throws -> JSONValue {
        guard case .object(let data) = try JSONValueEncoder().encode(value) else { throw ValidationFailure() }
        return Envelope(id: EnvelopeID.random(), name: name, type: type, data: data).json
    }

    struct ValidationFailure: Error {}

    @Test("cs_parameters from the configuration is valid and complete")
    func parameters() async throws {
        let station = Station(configuration: Self.configuration)
        let message = try envelope(await station.parameters(), name: "cs_parameters", type: .response)
        #expect(try #require(catalog.validate(message, name: "cs_parameters", type: .response)).isEmpty)
        #expect(message["data"]?["number_of_evses"] == .int(2))
        let connectors = message["data"]?["parameters"]?.arrayValue?[1]["connectors"]?.arrayValue
        #expect(connectors?.count == 2)
        #expect(message["data"]?["parameters"]?.arrayValue?[0]["connectors"]?.arrayValue?[0]["services"]?["ac_bpt"]?["nominal_voltage"] == .int(230))
    }

    @Test("cs_status_and_limits follows status and limit changes and stays valid as response and update")
    func statusAndLimits() async throws {
        let station = Station(configuration: Self.configuration)
        let notifications = await station.subscribe(bufferingNewest: 16)
        for type in [MessageType.response, .update] {
            let message = try envelope(await station.statusAndLimits(), name: "cs_status_and_limits", type: type)
            #expect(try #require(catalog.validate(message, name: "cs_status_and_limits", type: type)).isEmpty, "\(type)")
        }
        // Single phase: the limit on all three phases (Josev takes the minimum).
        var snapshot = await station.statusAndLimits()
        #expect(snapshot.evses[0].ac?.maxCurrent == PhaseValues(all: 32))
        #expect(snapshot.evses[1].dc?.isolationStatus == .noIMD)

        await station.setExternalCurrentLimit(10, evseID: "DE*A*E1*1")
        snapshot = await station.statusAndLimits()
        #expect(snapshot.evses[0].ac?.maxCurrent.l1 == 10)
        await station.setStatus(.malfunction, evseID: "DE*A*E1*1")
        snapshot = await station.statusAndLimits()
        #expect(snapshot.evses[0].statusCode == .malfunction)
        #expect(snapshot.evses[0].ac?.maxCurrent.l1 == 0, "a faulted EVSE offers no current")
        #expect(await station.setStatus(.ready, evseID: "nope") == false)

        var events: [StationNotification] = []
        for await event in notifications {
            events.append(event)
            if events.count == 2 { break }
        }
        #expect(events == [.statusAndLimitsChanged(evseIDs: ["DE*A*E1*1"]), .statusAndLimitsChanged(evseIDs: ["DE*A*E1*1"])])
    }

    @Test("update ids are fresh UUIDv4s")
    func uuids() {
        let ids = (0..<200).map { _ in EnvelopeID.random() }
        #expect(Set(ids).count == 200)
        let uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
        for id in ids { #expect(id.wholeMatch(of: uuid) != nil, "\(id)") }
    }
}
