import JSONSchema
import JosevContract
import Logging
import Station
import Synchronization
import Testing
import TestSupport

@testable import Daemon

/// What the outbox would publish goes to a list.
final class CollectingPublisher: MessagePublisher, Sendable {
    let published = Mutex<[(topic: String, payload: [UInt8])]>([])

    func publish(topic: String, payload: [UInt8]) throws {
        published.withLock { $0.append((topic, payload)) }
    }

    var messages: [JSONValue] { published.withLock { $0 }.compactMap { try? JSONValue.parse($0.payload) } }
    var count: Int { published.withLock { $0.count } }
}

/// A value shared with a closure.
final class Box<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value {
        get { mutex.withLock { $0 } }
        set { mutex.withLock { $0 = newValue } }
    }
}

/// The router in-process, in front of a station with one AC EVSE, no board and a meter.
final class RouterFixture: Sendable {
    static let evseID = "DE*PNX*E12345*1"

    let station: Station
    let outbox: Outbox
    let router: ContractRouter
    let publisher = CollectingPublisher()
    /// What the handlers told about OCPP's websocket (nil: nothing yet).
    let ocppConnected = Box<Bool?>(nil)

    /// Compiled once for all the tests of the suite.
    static let schemas = Result { try SchemaCatalog(directory: Repository.schemas) }

    /// The session recorder, when the fixture was given a state directory.
    let sessions: SessionRecorder?

    init(stateDirectory: String? = nil) throws {
        let schemas = try Self.schemas.get()
        let configuration = StationConfiguration(
            identity: StationIdentity(serialNumber: "S", vendor: "V", model: "M", firmwareVersion: "1", hardwareVersion: "A"),
            evses: [EVSEConfiguration(
                evseID: Self.evseID, networkInterface: "eth1", ac: ACSupply(nominalVoltage: 230, maxCurrent: 16),
                connectors: [ConnectorConfiguration(id: 1, connectorType: .acThreePhaseCore)])])
        let logger = Logger(label: "test")
        let station = Station(configuration: configuration, hardware: MeteredTestHardware())
        self.station = station
        outbox = Outbox(schemas: schemas, publisher: publisher, logger: logger)
        let connected = ocppConnected
        let sessions = stateDirectory.map { SessionRecorder.open(stateDirectory: $0, station: station, logger: logger) }
        self.sessions = sessions
        router = ContractRouter(
            schemas: schemas,
            context: HandlerContext(
                station: station, outbox: outbox, ocppConnected: { value in connected.value = value }, sessions: sessions, logger: logger))
    }

    /// Sends one message from Josev; the outcome and the answer published for it, if any.
    func send(_ name: String, _ type: MessageType, _ data: String, id: String = EnvelopeID.random(), retained: Bool = false) async throws
        -> (RouteOutcome, JSONValue?)
    {
        guard case .object(let object) = try JSONValue.parse(data) else { throw FixtureError.notAnObject(data) }
        let before = publisher.count
        let envelope = Envelope(id: id, name: name, type: type, data: object)
        let outcome = await router.handle(topic: Topic.josevToCS, payload: envelope.json.serializedBytes(), retained: retained)
        let answers = publisher.messages.dropFirst(before).filter { $0["id"] == .string(id) }
        return (outcome, answers.first)
    }

    enum FixtureError: Error { case notAnObject(String) }
}

/// One message Josev sends, and what the station must make of it.
struct RouteCase: Sendable, CustomStringConvertible {
    enum Expectation: Sendable {
        /// Answered; each (JSON pointer into the answer's `data`, value) must hold.
        case answered([(String, JSONValue)])
        case consumed
        case ignored
        /// Not answered (the CS has no answer to give).
        case unanswered
    }

    let label: String
    let name: String
    let type: MessageType
    let data: String
    let expectation: Expectation
    var description: String { label }

    init(_ label: String, _ name: String, _ type: MessageType, _ data: String, _ expectation: Expectation) {
        self.label = label
        self.name = name
        self.type = type
        self.data = data
        self.expectation = expectation
    }
}

/// Every (name, type) the CS receives, as Josev sends it (data from the contract's samples), with
/// the answer or effect it must have on a station at rest (one AC EVSE, nothing plugged).
let routeCases: [RouteCase] = [
    // §2.1 start-up and configuration
    RouteCase("cs_parameters", "cs_parameters", .request, "{}", .answered([("/number_of_evses", 1), ("/parameters/0/evse_id", "DE*PNX*E12345*1")])),
    RouteCase("cs_status_and_limits", "cs_status_and_limits", .request, "{}", .answered([("/evses/0/status_code", "evse_ready")])),
    RouteCase("device_model", "device_model", .request, "{}", .answered([("/serial_number", "S"), ("/evses/0/iso15118_id", "DE*PNX*E12345*1")])),
    RouteCase(
        "device_model_update", "device_model_update", .update,
        #"{"firmware_version":"1.0.1","components":[{"name":"SecurityCtrlr","variables":[{"name":"OrganizationName","value":"ACME"}]}]}"#,
        .consumed),
    RouteCase("device_model_reset.res", "device_model_reset", .response, #"{"status":"accepted"}"#, .ignored),
    RouteCase(
        "service_status.upd", "service_status", .update, #"{"service":"iso15118","software_version":"1.0.9","api_version":"3.10.0","status":"ready"}"#,
        .consumed),
    RouteCase(
        "service_status.res", "service_status", .response, #"{"service":"ocpp","software_version":"1.0.7","api_version":"3.10.0","status":"ready"}"#,
        .ignored),
    RouteCase("boot_status", "boot_status", .update, #"{"status":"accepted"}"#, .consumed),
    RouteCase(
        "websocket_status.upd", "websocket_status", .update,
        #"{"status":"connected","identity":"CS001","csms_url":"wss://csms.example.com/ocpp","security_profile":2}"#, .consumed),
    RouteCase(
        "websocket_status.res", "websocket_status", .response,
        #"{"status":"connected","identity":"CS001","csms_url":"wss://csms.example.com/ocpp","security_profile":2}"#, .ignored),
    RouteCase("clock_sync", "clock_sync", .update, #"{"current_time":"2025-03-01T10:00:00Z"}"#, .consumed),
    RouteCase("set_ocpp_network_connection.res", "set_ocpp_network_connection", .response, #"{"status":"accepted"}"#, .ignored),
    // §2.2 control pilot, SLAC, connector
    RouteCase(
        "cp_pwm basic", "cp_pwm", .request, #"{"evse_id":"DE*PNX*E12345*1","hlc":false,"current":16.0,"error_state":false,"fault_state":false}"#,
        .answered([("/status", "valid")])),
    RouteCase(
        "cp_pwm with a key a newer Josev adds", "cp_pwm", .request,
        #"{"evse_id":"DE*PNX*E12345*1","hlc":false,"current":16.0,"error_state":false,"fault_state":false,"new_in_josev_4":true}"#,
        .answered([("/status", "valid")])),
    RouteCase(
        "cp_pwm foreign EVSE", "cp_pwm", .request, #"{"evse_id":"DE*XXX*E1","hlc":true,"error_state":false,"fault_state":false}"#,
        .answered([("/status", "invalid"), ("/info", "unknown EVSE")])),
    RouteCase("slac_status", "slac_status", .update, #"{"evse_id":"DE*PNX*E12345*1","run_id":"0011223344556677","status":"matched"}"#, .consumed),
    RouteCase("slac_status foreign", "slac_status", .update, #"{"evse_id":"DE*XXX*E1","run_id":"0011223344556677","status":"matched"}"#, .ignored),
    RouteCase("slac_link_status.res", "slac_link_status", .response, #"{"evse_id":"DE*PNX*E12345*1","status":"connected"}"#, .ignored),
    RouteCase(
        "slac_network_info.res", "slac_network_info", .response,
        #"{"evse_id":"DE*PNX*E12345*1","networks":[]}"#, .ignored),
    RouteCase(
        "sdp.res", "sdp", .response, #"{"evse_id":"DE*PNX*E12345*1","ip_address":"fe80::201:87ff:fe05:7318","port":64109,"security":"no_tls"}"#,
        .ignored),
    RouteCase(
        "cs_connector unknown connector", "cs_connector", .request, #"{"evse_id":"DE*PNX*E12345*1","connector_id":7,"action":"status"}"#,
        .answered([("/status", "error"), ("/info", "unknown connector")])),
    RouteCase(
        "connector_and_charging", "connector_and_charging", .update,
        #"{"evse_id":"DE*PNX*E12345*1","connector_id":1,"connector_status":"occupied","charging_status":"ev_connected"}"#, .consumed),
    // §2.3 ISO 15118 session
    RouteCase(
        "iso15118_state_info", "iso15118_state_info", .update,
        #"{"evse_id":"DE*PNX*E12345*1","session_status":"SupportedAppProtocol","info":{"protocol":"ISO_15118_2"}}"#, .consumed),
    RouteCase("hlc_charging", "hlc_charging", .update, #"{"evse_id":"DE*PNX*E12345*1","status":true}"#, .consumed),
    RouteCase("cs_contactor_status", "cs_contactor_status", .request, #"{"evse_id":"DE*PNX*E12345*1"}"#, .answered([("/status", "opened")])),
    RouteCase(
        "cs_contactor_status foreign", "cs_contactor_status", .request, #"{"evse_id":"DE*XXX*E1"}"#,
        .answered([("/status", "error"), ("/info", "unknown EVSE")])),
    RouteCase("cable_check", "cable_check", .request, #"{"evse_id":"DE*PNX*E12345*1","cable_check_action":"start"}"#, .answered([("/evse_id", "DE*PNX*E12345*1")])),
    RouteCase(
        "power_electronics_setpoint ac without ac_bpt", "power_electronics_setpoint", .request,
        #"{"evse_id":"DE*PNX*E12345*1","ev_limits":{"maximum_voltage":400.0},"ac":{"charge_active_power":11000.0,"charge_reactive_power":0.0}}"#,
        .answered([("/status", "rejected")])),
    RouteCase(
        "ev_rated_limits", "ev_rated_limits", .update,
        #"{"evse_id":"DE*PNX*E12345*1","departure_time":"2025-03-01T18:00:00Z","ac_rated_limits":{"max_current":32.0,"min_current":6.0,"max_voltage":400.0}}"#,
        .consumed),
    RouteCase(
        "display_params", "display_params", .update, #"{"evse_id":"DE*PNX*E12345*1","present_soc":42,"target_soc":80,"remaining_time_to_target_soc":3600}"#,
        .consumed),
    // §2.4 authorization, transactions, stop
    RouteCase("authorization.res, not asked", "authorization", .response, #"{"status":"accepted","evse_id":"DE*PNX*E12345*1"}"#, .ignored),
    RouteCase(
        "authorization.upd", "authorization", .update, #"{"evse_id":"DE*PNX*E12345*1","id_token":"DEABCC12345678","token_type":"e_maid","status":"accepted"}"#,
        .consumed),
    RouteCase(
        "process_authorized_token", "process_authorized_token", .request,
        #"{"id_token":"04A2B3C4D5E6F7","token_type":"ISO14443","evse_id":"DE*PNX*E12345*1"}"#, .answered([("/evse_id", "DE*PNX*E12345*1")])),
    RouteCase(
        "transaction_status", "transaction_status", .update,
        #"{"transaction_id":"6f2c9a3e-1b7d-4d2e-9c1a-0a1b2c3d4e5f","evse_id":"DE*PNX*E12345*1","status":"started","id_token":"04A2B3C4D5E6F7","token_type":"ISO14443"}"#,
        .consumed),
    RouteCase("stop_charging", "stop_charging", .request, #"{"evse_id":"DE*PNX*E12345*1"}"#, .answered([("/status", "accepted")])),
    RouteCase("stop_charging foreign", "stop_charging", .request, #"{"evse_id":"DE*XXX*E1"}"#, .answered([("/status", "rejected")])),
    RouteCase("cost_updated", "cost_updated", .update, #"{"total_cost":4.2,"evse_id":"DE*PNX*E12345*1","currency":"EUR"}"#, .consumed),
    RouteCase(
        "display_and_personal_msg", "display_and_personal_msg", .update,
        #"{"display_msg_trigger_reason":"authorized","content":"Welcome","evse_id":"DE*PNX*E12345*1","priority":"normal_cycle"}"#, .consumed),
    // §2.5 metering
    RouteCase(
        "meter_values", "meter_values", .request, #"{"evse_id":"DE*PNX*E12345*1","timestamp":"2025-03-01T10:15:30.123Z"}"#,
        .answered([("/evse_id", "DE*PNX*E12345*1"), ("/total_active_energy_imported", 0)])),
    RouteCase("meter_values unknown EVSE", "meter_values", .request, #"{"evse_id":"DE*XXX*E1","timestamp":"2025-03-01T10:15:30.123Z"}"#, .ignored),
    // §2.6 OCPP-driven management
    RouteCase(
        "change_availability foreign", "change_availability", .request, #"{"operational_status":"inoperative","evse_id":"DE*XXX*E1","connector_id":1}"#,
        .answered([("/status", "rejected")])),
    RouteCase(
        "change_availability", "change_availability", .request, #"{"operational_status":"inoperative","evse_id":"DE*PNX*E12345*1","connector_id":1}"#,
        .answered([("/status", "accepted")])),
    RouteCase("reset foreign", "reset", .request, #"{"evse_id":"DE*XXX*E1"}"#, .answered([("/status", "rejected")])),
    RouteCase("reset", "reset", .request, "{}", .answered([("/status", "accepted")])),
    RouteCase(
        "update_firmware without firmware block", "update_firmware", .request,
        #"{"request_id":42,"location":"https://fw.example.com/fw-1.2.3.bin","retrieve_datetime":"2025-03-01T10:00:00Z","retries":3,"retry_interval":60}"#,
        .answered([("/status", "rejected")])),
    RouteCase(
        "upload_logs without uploader", "upload_logs", .request,
        #"{"request_id":7,"log_type":"diagnostics_log","remote_location":"https://logs.example.com/upload"}"#, .answered([("/status", "rejected")])),
    RouteCase(
        "data_transfer other vendor", "data_transfer", .request, #"{"vendor_id":"com.acme","message_id":"ping","data":{"x":1}}"#,
        .answered([("/status", "unknown_vendor_id")])),
    RouteCase(
        "data_transfer ping", "data_transfer", .request, #"{"vendor_id":"cs-companion","message_id":"ping"}"#,
        .answered([("/status", "accepted"), ("/data/pong", true)])),
    RouteCase("data_transfer.res, not asked", "data_transfer", .response, #"{"status":"accepted","data":{"pong":true}}"#, .ignored),
    RouteCase(
        "ocpp_message", "ocpp_message", .request,
        #"{"ocpp_version":"ocpp2.0.1","message_name":"GetVariables","payload":{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}}"#,
        .unanswered),
    RouteCase(
        "ocpp_message.res, not asked", "ocpp_message", .response,
        #"{"ocpp_version":"ocpp2.0.1","message_type":"CallResult","payload":{"getVariableResult":[]}}"#, .ignored),
    RouteCase(
        "set_variable_validate without variables", "set_variable_validate", .request,
        #"{"component":{"name":"EVSE","evse_id":"DE*PNX*E12345*1"},"variable":{"name":"Power"},"attribute_value":"11000","attribute_type":"Actual"}"#,
        .answered([("/result", "rejected")])),
    RouteCase(
        "generate_csr", "generate_csr", .request,
        #"{"certificate_type":"v2g_certificate","common_name":"CS001","organization_name":"ACME","country_name":"DE","algorithm":"ECDSA_SHA256"}"#,
        .answered([("/status", "rejected")])),
    RouteCase(
        "certificate_installation_status", "certificate_installation_status", .update,
        #"{"certificate_type":"v2g_certificate","status":"installed"}"#, .consumed),
]

@Suite("router: every message Josev sends, in-process")
struct RouterTableTests {
    @Test("the table covers every (name, type) the CS receives")
    func tableCoversTheCatalogue() {
        let covered = Set(routeCases.map { "\($0.name).\($0.type.rawValue)" })
        let received = MessageCatalog.registrations.filter(\.direction.isReceivedByCS).map { "\($0.name).\($0.type.rawValue)" }
        #expect(Set(received).subtracting(covered).sorted() == [])
    }

    @Test("every request the CS receives has a handler; every update and response a route")
    func everyRegistrationHasItsRoute() throws {
        let fixture = try RouterFixture()
        for registration in MessageCatalog.registrations where registration.direction.isReceivedByCS {
            let route = try #require(fixture.router.route(name: registration.name, type: registration.type), "\(registration.entry)")
            #expect(route.validator != nil, "\(registration.entry) has no schema")
            if registration.type == .request {
                #expect(route.handler != nil, "\(registration.entry) has no handler")
            }
        }
        for registration in MessageCatalog.registrations where !registration.direction.isReceivedByCS {
            #expect(fixture.router.route(name: registration.name, type: registration.type) == nil, "\(registration.entry) is not received")
        }
    }

    @Test("request → answer", arguments: routeCases)
    func route(_ row: RouteCase) async throws {
        let fixture = try RouterFixture()
        let (outcome, answer) = try await fixture.send(row.name, row.type, row.data)
        switch row.expectation {
        case .answered(let checks):
            #expect(outcome == .answered(name: row.name))
            let answer = try #require(answer, "no answer published")
            #expect(answer["name"] == .string(row.name))
            #expect(answer["type"] == "response")
            for (pointer, value) in checks {
                #expect(answer["data"].flatMap { data in (try? JSONPointer(parsing: pointer)).flatMap { $0.resolve(in: data) } } == value, "\(pointer)")
            }
        case .consumed:
            #expect(outcome == .consumed(name: row.name))
            #expect(answer == nil)
        case .ignored:
            guard case .ignored = outcome else {
                Issue.record("expected ignored, got \(outcome)")
                return
            }
            #expect(answer == nil)
        case .unanswered:
            #expect(outcome == .failed(reason: "no answer"))
            #expect(answer == nil)
        }
    }

    @Test("updates change the station: websocket_status reaches Modbus 1104's flag, transaction_status starts a transaction")
    func updatesTakeEffect() async throws {
        let fixture = try RouterFixture()
        _ = try await fixture.send("websocket_status", .update, #"{"status":"connected","identity":"CS001","csms_url":"wss://x/ocpp","security_profile":2}"#)
        #expect(fixture.ocppConnected.value == true)
        _ = try await fixture.send(
            "transaction_status", .update, #"{"transaction_id":"tx-1","evse_id":"DE*PNX*E12345*1","status":"started"}"#)
        #expect(await fixture.station.state(of: RouterFixture.evseID)?.transaction?.id == "tx-1")
        _ = try await fixture.send("transaction_status", .update, #"{"transaction_id":"tx-1","evse_id":"DE*PNX*E12345*1","status":"ended"}"#)
        #expect(await fixture.station.state(of: RouterFixture.evseID)?.transaction == nil)
    }

    @Test("Josev's response to the CS's authorization request reaches the station once; a repeat is ignored")
    func responseToAPendingRequest() async throws {
        let fixture = try RouterFixture()
        let token = ChargingToken(id: "04A2B3C4", type: .iso14443)
        #expect(fixture.outbox.sendRequest(
            AuthorizationRequest(tokenType: .iso14443, evseID: RouterFixture.evseID, idToken: token.id),
            context: .authorization(evseID: RouterFixture.evseID, token: token)))
        let request = try #require(fixture.publisher.messages.last)
        let id = try #require(request["id"]?.stringValue)
        let (first, _) = try await fixture.send("authorization", .response, #"{"status":"accepted","evse_id":"DE*PNX*E12345*1"}"#, id: id)
        #expect(first == .consumed(name: "authorization"))
        let (again, _) = try await fixture.send("authorization", .response, #"{"status":"accepted","evse_id":"DE*PNX*E12345*1"}"#, id: id)
        #expect(again == .ignored(reason: "unknown response id"))
    }

    @Test("the gate: size, JSON, envelope, schema, unknown names")
    func gate() async throws {
        let fixture = try RouterFixture()
        let router = fixture.router
        #expect(await router.handle(topic: Topic.josevToCS, payload: Array(repeating: 0x20, count: ContractRouter.defaultMaxPayloadBytes + 1))
            == .rejected(reason: "payload too large"))
        #expect(await router.handle(topic: Topic.josevToCS, payload: Array("{".utf8)) == .rejected(reason: "not JSON"))
        #expect(await router.handle(topic: Topic.josevToCS, payload: Array(#"{"id":"x"}"#.utf8)) == .rejected(reason: "invalid envelope"))
        let (schema, _) = try await fixture.send("cs_contactor_status", .request, #"{"evse_id":42}"#)
        #expect(schema == .rejected(reason: "schema"))
        let (unknown, _) = try await fixture.send("no_such_message", .request, "{}")
        #expect(unknown == .ignored(reason: "unknown (name, type)"))
        let (notReceived, _) = try await fixture.send("cp_status", .update, #"{"evse_id":"DE*PNX*E12345*1","connector_id":1,"state":"B2"}"#)
        #expect(notReceived == .ignored(reason: "unknown (name, type)"))
        #expect(fixture.publisher.count == 0)
        #expect(router.statistics.rejected == 4)
    }
}

@Suite("outbox and announcer")
struct OutboxTests {
    @Test("a message that fails its own schema, or that the CS does not send, is not published; a valid one is, on cs/josev")
    func invalidOutgoingIsNotSent() async throws {
        let fixture = try RouterFixture()
        let outbox = fixture.outbox
        #expect(outbox.send(.update(name: "cs_status_and_limits", data: ["evses": "oops"])) == false)
        #expect(outbox.send(.update(name: "cs_status_and_limits", data: ["evses": [["evse_id": "E1", "status_code": "ready", "ac": [:]]]])) == false)
        #expect(outbox.send(.update(name: "no_such_message", data: [:])) == false)
        #expect(outbox.send(.request(name: "cs_parameters", data: [:])) == false)
        #expect(fixture.publisher.count == 0)
        let announcer = JosevAnnouncer(station: fixture.station, outbox: outbox, deviceModel: nil, logger: Logger(label: "test"))
        #expect(await announcer.publishStatusAndLimits(force: true, reason: "test"))
        #expect(fixture.publisher.count == 1)
        let sent = try #require(fixture.publisher.published.withLock { $0.first })
        #expect(sent.topic == "cs/josev")
        let json = try JSONValue.parse(sent.payload)
        #expect(json["type"] == "update")
        #expect(json["data"]?["evses"]?.arrayValue?.first?["ac"]?["max_current"]?["l1"] == .double(16))
        #expect(outbox.updatesSent == 1)
        // Sent strictly: an object Josev's schema leaves open (device_model_update's data) is closed
        // on the way out, while the same message without the key goes.
        let components: JSONValue = [["name": "OCPPCommCtrlr", "variables": [["name": "HeartbeatInterval", "value": "300"]]]]
        #expect(outbox.send(.update(name: "device_model_update", data: ["components": components, "not_in_the_contract": 1])) == false)
        #expect(outbox.send(.update(name: "device_model_update", data: ["components": components])))
        #expect(fixture.publisher.count == 2)
    }

    @Test("an unchanged state is not re-published unless forced")
    func unchangedStateIsNotRepublished() async throws {
        let fixture = try RouterFixture()
        let announcer = JosevAnnouncer(station: fixture.station, outbox: fixture.outbox, deviceModel: nil, logger: Logger(label: "test"))
        #expect(await announcer.publishStatusAndLimits(reason: "first"))
        #expect(await announcer.publishStatusAndLimits(reason: "same") == false)
        #expect(await announcer.publishStatusAndLimits(force: true, reason: "reconnected"))
        #expect(fixture.publisher.count == 2)
    }
}
