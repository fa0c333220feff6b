import JSONSchema
import JosevContract
import Testing

/// Samples of contract §3 that have no typed model, with the reason. Empty: the four samples the
/// contract says have no Python dataclass (`slac_network_info.req`, `sdp.req`, `sdp.res`,
/// `iso15118_charge_limit.upd`) are fully described by their schemas in §2 and have models too.
private let samplesWithoutModel: [String: String] = [:]

/// (name, type)s with a model but no sample in §3.
private let keysWithoutSample: Set<ContractMessages.Key> = [
    .init(name: "ocpp_message", type: .request), .init(name: "ocpp_message", type: .response),
]

/// Names the contract (§2.0) calls Josev-internal: never on `josev/cs` / `cs/josev`.
private let josevInternalNames = [
    "iso15118_authorization", "iso15118_get_ev_certificate", "iso15118_message", "iso15118_charging_loop_power_limits",
    "slac_data_link", "set_charging_profile", "clear_charging_profile", "grid_code_settings", "remote_grid_code_operation",
    "reset_ocpp_router_state", "get_composite_schedule", "charging_contactor", "charging_contactor_status", "charging_setpoint",
    "private_key_path", "cs_meter_values", "v2g_setup_status", "data_link", "ocpp_config",
]

private func data(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }

/// The decoding error of `data` as the payload of (name, type); fails the test when it decodes.
private func decodingError(_ name: String, _ type: MessageType, _ data: JSONValue) throws -> JSONValueDecodingError? {
    do {
        let payload = try ContractMessages.decode(name: name, type: type, data: data)
        Issue.record("\(name) \(type) decoded although invalid: \(payload)")
        return nil
    } catch {
        guard case .invalidData(let errorName, let decodingError) = error else {
            Issue.record("unexpected error \(error)")
            return nil
        }
        #expect(errorName == name)
        return decodingError
    }
}

@Suite("typed payload models against the contract's samples")
struct ModelRoundTripTests {
    @Test("every sample decodes into its model and encodes back to the same data", arguments: try ContractSample.all())
    func roundTrip(sample: ContractSample) throws {
        guard samplesWithoutModel[sample.label] == nil else { return }
        let original = try #require(sample.message["data"])
        let payload = try ContractMessages.decode(name: sample.name, type: sample.type, data: original)
        let payloadType = try #require(ContractMessages.payloadType(name: sample.name, type: sample.type))
        #expect(type(of: payload) == payloadType)
        #expect(type(of: payload).messageName == sample.name)
        #expect(type(of: payload).serves(sample.type))

        let encoded = try ContractMessages.encode(payload)
        #expect(JSONValue.object(encoded) == original, "\(sample.label): \(JSONValue.object(encoded).serialized())")
        #expect(!JSONValue.object(encoded).serialized().contains("null"), "optionals are omitted, never null")

        // The envelope path gives the same payload, and decoding the re-encoded data is lossless.
        let envelope = try #require(Envelope(json: sample.message))
        #expect(try ContractMessages.decode(envelope).isEqual(to: payload))
        #expect(try ContractMessages.decode(name: sample.name, type: sample.type, data: encoded).isEqual(to: payload))
        let rebuilt = try payload.envelope(id: envelope.id, type: sample.type)
        #expect(rebuilt.json == sample.message)
    }

    @Test("every sample of the contract has a model, except the listed ones")
    func everySampleCovered() throws {
        let samples = try ContractSample.all()
        #expect(samples.count == 87, "only \(samples.count) samples parsed from \(Paths.contract)")
        let uncovered = samples.filter { ContractMessages.payloadType(name: $0.name, type: $0.type) == nil }.map(\.label)
        #expect(uncovered.sorted() == samplesWithoutModel.keys.sorted())
    }

    @Test("every model has a sample, except ocpp_message (no sample in §3)")
    func everyModelSampled() throws {
        let sampled = Set(try ContractSample.all().map { ContractMessages.Key(name: $0.name, type: $0.type) })
        let unsampled = Set(ContractMessages.keys).subtracting(sampled)
        #expect(unsampled == keysWithoutSample)
    }

    @Test("the registry has one model per (name, type), and none for Josev-internal names")
    func registryShape() {
        #expect(ContractMessages.keys.count == Set(ContractMessages.keys).count, "a (name, type) is registered twice")
        #expect(ContractMessages.keys.count == 82)
        for payload in ContractMessages.payloadTypes {
            #expect(!payload.messageTypes.isEmpty, "\(payload)")
            #expect(payload.messageName.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(payload.messageName)")
        }
        for name in josevInternalNames {
            for type in MessageType.allCases { #expect(ContractMessages.payloadType(name: name, type: type) == nil, "\(name)") }
        }
        #expect(ContractMessages.payloadType(name: "cs_status_and_limits", type: .response) == CsStatusAndLimits.self)
        #expect(ContractMessages.payloadType(name: "cs_status_and_limits", type: .update) == CsStatusAndLimits.self)
        #expect(ContractMessages.payloadType(name: "cs_parameters", type: .response) == CsParameters.self)
        #expect(ContractMessages.payloadType(name: "cp_status", type: .request) == nil)
    }

    @Test("every catalogue entry has a model", arguments: MessageCatalog.entries)
    func catalogueCovered(entry: CatalogEntry) {
        #expect(ContractMessages.payloadType(name: entry.name, type: entry.type) != nil)
    }

    // MARK: Errors

    @Test(
        "a missing required key fails and names the key",
        arguments: [
            ("cp_status.upd", "/connector_id"), ("cp_pwm.res", "/status"), ("meter_values.upd", "/voltage/l2"),
            ("device_model.res", "/evses/0/connectors/0/connector_type"), ("device_model_update.upd", "/components"),
            ("authorization.upd.cs", "/token_type"), ("power_electronics_setpoint.req.dc", "/dc/voltage"),
            ("cs_status_and_limits.res.ac", "/evses/0/status_code"), ("slac_network_info.res", "/networks/0/num_coord_nws"),
            ("set_variable_validate.req", "/component/name"), ("generate_csr.res", "/csr"), ("clock_sync.upd", "/current_time"),
        ])
    func missingKey(label: String, path: String) throws {
        let sample = try #require(try ContractSample.all().first { $0.label == label })
        var tokens = path.split(separator: "/").map(String.init)
        let data = Mutation.edit(try #require(sample.message["data"]), tokens, nil)
        let key = tokens.removeLast()
        let error = try #require(try decodingError(sample.name, sample.type, data))
        #expect(error.pointer == JSONPointer(tokens: tokens).description)
        #expect(error.message.contains("'\(key)'"), "\(error)")
        #expect(ContractPayloadError.invalidData(name: sample.name, error).description.contains("'\(key)'"))
    }

    @Test("a missing key of the free-JSON models fails and names the key")
    func missingKeyFreeJSON() throws {
        let custom = try #require(
            try decodingError("cost_updated", .update, data(#"{"total_cost":1,"evse_id":"E1","currency":"EUR","custom_data":{"x":1}}"#)))
        #expect(custom.pointer == "/custom_data")
        #expect(custom.message.contains("'vendor_id'"))
        let ocpp = try #require(try decodingError("ocpp_message", .request, data(#"{"ocpp_version":"ocpp2.0.1","message_name":"GetVariables"}"#)))
        #expect(ocpp.pointer == "")
        #expect(ocpp.message.contains("'payload'"))
    }

    @Test(
        "a value outside an enum fails at its place",
        arguments: [
            ("cp_status.upd", "/state", JSONValue.string("A0")),
            ("authorization.req", "/token_type", "e_maid"),
            ("authorization.upd.cs", "/token_type", "rfid"),
            ("service_status.upd", "/status", "unknown"),
            ("iso15118_state_info.upd.auth", "/info/selected_payment_option", "Contract"),
            ("cs_contactor_status.res", "/status", "open"),
            ("slac_status.upd", "/status", "MATCHED"),
            ("firmware_status.upd", "/status", "done"),
            ("device_model.res", "/evses/0/connectors/0/connector_type", "Type2"),
            ("cs_parameters.res.ac", "/parameters/0/connectors/0/services/ac/connector_type", "AC_three_phase"),
            ("meter_values.res", "/signed_meter_values",
             JSONValue.array([["measurand": "SoC", "signed_meter_data": "d", "signing_method": "m", "encoding_method": "e", "public_key": "k"]])),
        ])
    func unknownEnumValue(label: String, path: String, value: JSONValue) throws {
        let sample = try #require(try ContractSample.all().first { $0.label == label })
        let data = Mutation.edit(try #require(sample.message["data"]), path.split(separator: "/").map(String.init), value)
        let error = try #require(try decodingError(sample.name, sample.type, data))
        let expected = value.arrayValue == nil ? path : path + "/0/measurand"
        #expect(error.pointer == expected, "\(error)")
    }

    @Test("wrong JSON types fail; integral numbers are accepted for integers")
    func jsonTypes() throws {
        let asString = try #require(try decodingError("cp_status", .update, data(#"{"evse_id":"E1","connector_id":"1","state":"A1"}"#)))
        #expect(asString.pointer == "/connector_id")
        let fraction = try #require(try decodingError("cp_status", .update, data(#"{"evse_id":"E1","connector_id":1.5,"state":"A1"}"#)))
        #expect(fraction.pointer == "/connector_id")
        let payload = try ContractMessages.decode(name: "cp_status", type: .update, data: data(#"{"evse_id":"E1","connector_id":1.0,"state":"A1"}"#))
        #expect(payload.isEqual(to: CPStatusUpdate(evseID: "E1", connectorID: 1, state: .a1)))
        #expect(try ContractMessages.encode(payload)["connector_id"] == .int(1))
        let notObject = try #require(try decodingError("cs_parameters", .request, .array([])))
        #expect(notObject.pointer == "")
        let payloadNotObject = try #require(
            try decodingError("ocpp_message", .request, data(#"{"ocpp_version":"ocpp2.1","message_name":"SetVariables","payload":[1]}"#)))
        #expect(payloadNotObject.pointer == "/payload")
    }

    @Test("unknown (name, type)s are refused")
    func unknownMessages() throws {
        #expect(throws: ContractPayloadError.unknownMessage(name: "slac_data_link", type: .update)) {
            try ContractMessages.decode(name: "slac_data_link", type: .update, data: JSONObject())
        }
        #expect(throws: ContractPayloadError.unknownMessage(name: "cp_status", type: .request)) {
            try ContractMessages.decode(name: "cp_status", type: .request, data: JSONObject())
        }
        let envelope = Envelope(id: "x", name: "cp_pwm", type: .request, data: ["evse_id": "E1", "hlc": true, "error_state": false, "fault_state": false])
        #expect(try ContractMessages.decode(CPPWMRequest.self, from: envelope) == CPPWMRequest(evseID: "E1", hlc: true, errorState: false, faultState: false))
        #expect(throws: ContractPayloadError.unknownMessage(name: "cp_pwm", type: .request)) {
            try ContractMessages.decode(CPPWMResponse.self, from: envelope)
        }
        #expect(throws: ContractPayloadError.unknownMessage(name: "cs_contactor_status", type: .request)) {
            try CsContactorStatus(evseID: "E1", status: .closed).envelope(id: "x", type: .request)
        }
    }

    // MARK: Particular models

    @Test("iso15118_state_info.info reads both payment-option spellings, any case, and writes the schema's")
    func paymentOptionSpellings() throws {
        for (json, option) in [
            (#"{"selectedPaymentOption":"EIM"}"#, PaymentOption.eim), (#"{"selected_payment_option":"pnc"}"#, .pnc),
            (#"{"selectedPaymentOption":"Pnc"}"#, .pnc), (#"{"selected_payment_option":"EIM","selectedPaymentOption":"PNC"}"#, .eim),
        ] {
            let payload = try ContractMessages.decode(
                name: "iso15118_state_info", type: .update,
                data: data(#"{"evse_id":"E1","session_status":"Authorization","info":"# + json + "}")) as? ISO15118StateInfoUpdate
            #expect(payload?.info?.selectedPaymentOption == option, "\(json)")
            let encoded = try #require(payload).encodedData()
            #expect(encoded["info"] == .object(["selected_payment_option": .string(option.rawValue)]), "\(json)")
        }
    }

    @Test("iso15118_state_info.info keeps members the contract does not define")
    func openInfoObject() throws {
        let original = try data(
            #"{"evse_id":"E1","session_status":"SessionStop","info":{"session_id":"AB12","evcc_id":"0A0B","evcc_mac":"00:01:02:03:04:05","protocol":"ISO_15118_20_DC","stop_action":"Terminate","vendor_note":{"a":[1,2]}}}"#)
        let payload = try #require(try ContractMessages.decode(name: "iso15118_state_info", type: .update, data: original) as? ISO15118StateInfoUpdate)
        let info = try #require(payload.info)
        #expect(info.protocol == .iso15118_20DC)
        #expect(info.stopAction == .terminate)
        #expect(info.additionalFields == ["vendor_note": ["a": [1, 2]]])
        #expect(JSONValue.object(try payload.encodedData()) == original)
        // A defined name in additionalFields never doubles a member.
        let built = ISO15118SessionInfo(selectedPaymentOption: .eim, additionalFields: ["selectedPaymentOption": "PNC", "x": 1])
        #expect(try JSONValueEncoder().encode(built) == ["selected_payment_option": "EIM", "x": 1])
    }

    @Test("cost_updated.custom_data keeps the vendor's members")
    func customData() throws {
        let original = try data(#"{"total_cost":4.2,"evse_id":"E1","currency":"EUR","custom_data":{"vendor_id":"com.acme","tariff":{"id":7}}}"#)
        let payload = try #require(try ContractMessages.decode(name: "cost_updated", type: .update, data: original) as? CostUpdatedUpdate)
        #expect(payload.customData == CustomData(vendorID: "com.acme", additionalFields: ["tariff": ["id": 7]]))
        #expect(JSONValue.object(try payload.encodedData()) == original)
    }

    @Test("ocpp_message request and responses round-trip with their OCPP payloads")
    func ocppMessage() throws {
        for (type, json) in [
            (MessageType.request, #"{"ocpp_version":"ocpp2.0.1","message_name":"GetVariables","payload":{"getVariableData":[{"component":{"name":"SecurityCtrlr"},"variable":{"name":"OrganizationName"}}]}}"#),
            (.response, #"{"ocpp_version":"ocpp2.0.1","message_type":"CallResult","payload":{"getVariableResult":[]}}"#),
            (.response, #"{"ocpp_version":"ocpp1.6","message_type":"CallError","error_code":"NotImplemented","error_description":"no","error_details":{}}"#),
        ] {
            let original = try data(json)
            let payload = try ContractMessages.decode(name: "ocpp_message", type: type, data: original)
            #expect(JSONValue.object(try ContractMessages.encode(payload)) == original, "\(json)")
        }
    }

    @Test("models built in code encode the wire names and omit nil optionals")
    func builtModels() throws {
        let update = CsContactorStatus(evseID: "DE*PNX*E12345*1", status: .opened)
        #expect(try update.encodedData() == ["evse_id": "DE*PNX*E12345*1", "status": "opened"])
        let response = CPPWMResponse(evseID: "E1", status: .valid, info: "5 %")
        #expect(try response.encodedData() == ["evse_id": "E1", "status": "valid", "info": "5 %"])
        let meter = MeterValues(
            timestamp: try #require(DateTimeText.format(unixMilliseconds: Int64(1_740_824_130_123))), evseID: "E1",
            voltage: PhaseValues(all: 230), current: PhaseValues(l1: 16, l2: 0, l3: 0), powerFactor: 1, frequency: 50,
            totalActiveEnergyImported: 10, totalReactiveEnergyImported: 0,
            signedMeterValues: [SignedMeterValue(measurand: .energyActiveImportRegister, signedMeterData: "d", signingMethod: "m", encodingMethod: "e", publicKey: "k")])
        let encoded = try meter.encodedData()
        #expect(encoded["timestamp"] == "2025-03-01T10:15:30.123Z")
        #expect(encoded["signed_meter_values"]?.arrayValue?.first?["measurand"] == "Energy.Active.Import.Register")
        #expect(encoded.keys == [
            "timestamp", "evse_id", "voltage", "current", "power_factor", "frequency", "total_active_energy_imported",
            "total_reactive_energy_imported", "signed_meter_values",
        ])
        let device = DeviceModelResponse(
            model: "M", vendor: "V", identity: "CS001", ocppCSMSURL: "wss://csms", securityProfile: 2, basicAuthPassword: "p",
            serialNumber: "S", firmwareVersion: "1", ocppVersion: .ocpp201,
            evses: [DeviceModelEVSE(ocppID: 1, iso15118ID: "E1", powerKW: 22, supplyPhases: 3, connectors: [DeviceModelConnector(id: 1, connectorType: .s309_3P_32A)])],
            components: [DeviceModelComponent(name: "C", evseID: 1, variables: [DeviceModelVariable(name: "N", value: "1", mutability: .readOnly, dataType: .dateTime)])])
        let deviceData = try device.encodedData()
        #expect(deviceData["ocpp_version"] == "ocpp2.0.1")
        #expect(deviceData["evses"]?.arrayValue?.first?["connectors"]?.arrayValue?.first?["connector_type"] == "s309-3P-32A")
        #expect(deviceData["components"]?.arrayValue?.first?["variables"]?.arrayValue?.first == ["name": "N", "value": "1", "mutability": "ReadOnly", "data_type": "dateTime"])
        #expect(try CsParametersRequest().encodedData().isEmpty)
        #expect(try ContractMessages.decode(name: "reset", type: .request, data: JSONObject()).isEqual(to: ResetRequest()))
    }

    @Test("an unencodable value is reported")
    func notEncodable() {
        let setpoint = PowerElectronicsSetpointRequest(evseID: "E1", evLimits: EVLimits(maximumVoltage: .infinity))
        #expect {
            try setpoint.encodedData()
        } throws: { error in
            guard case .notEncodable(let name, let inner) = error as? ContractPayloadError else { return false }
            return name == "power_electronics_setpoint" && inner.pointer == "/ev_limits/maximum_voltage"
        }
    }
}
