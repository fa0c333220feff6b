import Foundation
import TestSupport
import Testing

@testable import Store

/// The required Session fields of Tests/Fixtures/ocpi/SESSIONS.md (OCPI 2.2.1), with their types.
let requiredSessionFields: [(name: String, type: String)] = [
    ("country_code", "string(2)"), ("party_id", "string(3)"), ("id", "string(36)"), ("start_date_time", "DateTime"),
    ("kwh", "number"), ("cdr_token", "object"), ("auth_method", "enum"), ("location_id", "string(36)"),
    ("evse_uid", "string(36)"), ("connector_id", "string(36)"), ("currency", "string(3)"), ("status", "enum"),
    ("last_updated", "DateTime"),
]
let optionalSessionFields: Set<String> = [
    "end_date_time", "authorization_reference", "meter_id", "charging_periods", "total_cost",
]
let cdrDimensionTypes: Set<String> = [
    "CURRENT", "ENERGY", "ENERGY_EXPORT", "ENERGY_IMPORT", "MAX_CURRENT", "MIN_CURRENT", "MAX_POWER", "MIN_POWER", "PARKING_TIME",
    "POWER", "RESERVATION_TIME", "STATE_OF_CHARGE", "TIME",
]
let parameters = OCPIParameters(countryCode: "DE", partyID: "ABC", locationID: "LOC1", currency: "EUR")

/// Parses JSON text with Foundation (independent of the exporter's serializer).
func parseJSON(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
}

func isDateTime(_ value: Any?) -> Bool {
    guard let text = value as? String else { return false }
    return text.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"#, options: .regularExpression) != nil
}

func isNumber(_ value: Any?) -> Bool {
    // Foundation on Linux parses true/false as __NSCFBoolean, numbers as plain NSNumber.
    guard let number = value as? NSNumber else { return false }
    return !String(describing: type(of: number)).contains("Boolean")
}

/// Checks one OCPI Session object field by field; returns the problems.
func ocpiProblems(_ session: [String: Any]) -> [String] {
    var problems: [String] = []
    for (name, type) in requiredSessionFields {
        guard let value = session[name] else {
            problems.append("missing \(name)")
            continue
        }
        switch type {
        case "DateTime": if !isDateTime(value) { problems.append("\(name) is not a DateTime: \(value)") }
        case "number": if !isNumber(value) { problems.append("\(name) is not a number") }
        case "object": if !(value is [String: Any]) { problems.append("\(name) is not an object") }
        case "enum": if !(value is String) { problems.append("\(name) is not a string") }
        default:
            let limit = Int(type.dropFirst("string(".count).dropLast()) ?? 0
            guard let text = value as? String, !text.isEmpty, text.utf8.count <= limit else {
                problems.append("\(name) is not a \(type): \(value)")
                continue
            }
        }
    }
    for key in session.keys where !requiredSessionFields.contains(where: { $0.name == key }) && !optionalSessionFields.contains(key) {
        problems.append("unknown field \(key)")
    }
    if (session["country_code"] as? String)?.range(of: "^[A-Z]{2}$", options: .regularExpression) == nil { problems.append("country_code") }
    if (session["party_id"] as? String)?.range(of: "^[A-Z0-9]{3}$", options: .regularExpression) == nil { problems.append("party_id") }
    if (session["currency"] as? String)?.range(of: "^[A-Z]{3}$", options: .regularExpression) == nil { problems.append("currency") }
    if !["AUTH_REQUEST", "COMMAND", "WHITELIST"].contains(session["auth_method"] as? String ?? "") { problems.append("auth_method value") }
    if !["ACTIVE", "COMPLETED", "INVALID", "PENDING", "RESERVATION"].contains(session["status"] as? String ?? "") { problems.append("status value") }
    if (session["kwh"] as? Double ?? -1) < 0 { problems.append("kwh negative") }
    if let end = session["end_date_time"], !isDateTime(end) { problems.append("end_date_time") }
    if let token = session["cdr_token"] as? [String: Any] {
        for key in ["country_code", "party_id", "uid", "type", "contract_id"] where !(token[key] is String) {
            problems.append("cdr_token.\(key) missing")
        }
        if !["AD_HOC_USER", "APP_USER", "OTHER", "RFID"].contains(token["type"] as? String ?? "") { problems.append("cdr_token.type value") }
        if (token["uid"] as? String)?.utf8.count ?? 99 > 36 { problems.append("cdr_token.uid too long") }
        if (token["contract_id"] as? String)?.utf8.count ?? 99 > 36 { problems.append("cdr_token.contract_id too long") }
        if (token["country_code"] as? String)?.count != 2 { problems.append("cdr_token.country_code") }
        if (token["party_id"] as? String)?.count != 3 { problems.append("cdr_token.party_id") }
    }
    if let periods = session["charging_periods"] {
        guard let periods = periods as? [[String: Any]] else { return problems + ["charging_periods is not an array of objects"] }
        for (index, period) in periods.enumerated() {
            if !isDateTime(period["start_date_time"]) { problems.append("charging_periods[\(index)].start_date_time") }
            guard let dimensions = period["dimensions"] as? [[String: Any]], !dimensions.isEmpty else {
                problems.append("charging_periods[\(index)].dimensions empty or missing")
                continue
            }
            for dimension in dimensions {
                if !cdrDimensionTypes.contains(dimension["type"] as? String ?? "") { problems.append("dimension type \(dimension)") }
                if !isNumber(dimension["volume"]) { problems.append("dimension volume \(dimension)") }
            }
            for key in period.keys where !["start_date_time", "dimensions", "tariff_id"].contains(key) {
                problems.append("charging_periods[\(index)] unknown field \(key)")
            }
        }
    }
    return problems
}

@Suite struct OCPIExportTests {
    /// The test's list matches SESSIONS.md (vendored in Tests/Fixtures; missing, the test fails).
    @Test func requiredListMatchesSessionsReference() throws {
        let text = try Fixtures.text("ocpi/SESSIONS.md")
        var required: [String] = []
        var all: [String] = []
        var inSessionTable = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") { inSessionTable = line == "## Session object" }
            guard inSessionTable, line.hasPrefix("| `") else { continue }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let name = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            all.append(name)
            if cells[2] == "yes" { required.append(name) }
        }
        #expect(required == requiredSessionFields.map(\.name))
        #expect(Set(all) == Set(required).union(optionalSessionFields))
    }

    @Test func sessionsValidateFieldByField() throws {
        let (directory, store) = try makeStore()
        let completed = try store.startSession(
            evseID: "DE*ABC*E1234*1", connectorID: 2, transactionID: "tx-1", tokenUID: "04A2B3C4D5E6F7", tokenType: .iso14443, start: t0,
            energyWh: 12_000)
        try store.addPeriod(sessionID: completed, start: t0, dimensions: sampleDimensions(energyKWh: 5.5, powerKW: 11, soc: 30))
        try store.addPeriod(sessionID: completed, start: t0 + 30 * minute, dimensions: sampleDimensions(energyKWh: 5.845, powerKW: 11.69))
        try store.completeSession(id: completed, stop: t0 + 62 * minute + 3000, energyWh: 23_345)
        let active = try store.startSession(
            evseID: "DE*ABC*E1234*2", connectorID: 1, tokenUID: "APP-7781", tokenType: .central, start: t0 + minute, energyWh: 0)
        try store.updateActive(sessionID: active, energyWh: 250.4, at: t0 + 2 * minute)
        let pnc = try store.startSession(
            evseID: "1", connectorID: 1, tokenUID: "NL-XYZ-C12345678-9", tokenType: .eMAID, contractID: "NL-XYZ-C12345678-9",
            start: t0 + 3 * minute, energyWh: 0)
        try store.invalidateSession(id: pnc, at: t0 + 4 * minute)
        let unknown = try store.startSession(
            evseID: "1", connectorID: 1, tokenUID: "", tokenType: SessionTokenType("future_type"), authMethod: .whitelist, start: t0 + 5 * minute,
            energyWh: 0)
        _ = unknown

        let export = SessionExport.ocpiSessions(try store.sessions(), parameters: parameters)
        for pretty in [false, true] {
            let parsed = try #require(try parseJSON(export.serialized(pretty: pretty)) as? [[String: Any]])
            #expect(parsed.count == 4)
            for session in parsed {
                #expect(ocpiProblems(session) == [], "\(session)")
            }
        }
        let parsed = try #require(try parseJSON(export.serialized()) as? [[String: Any]])
        let byID = Dictionary(uniqueKeysWithValues: parsed.map { ($0["id"] as? String ?? "", $0) })

        // The completed RFID session.
        let c = try #require(byID[completed])
        #expect(c["country_code"] as? String == "DE")
        #expect(c["party_id"] as? String == "ABC")
        #expect(c["location_id"] as? String == "LOC1")
        #expect(c["currency"] as? String == "EUR")
        #expect(c["evse_uid"] as? String == "DE*ABC*E1234*1")
        #expect(c["connector_id"] as? String == "2")
        #expect(c["start_date_time"] as? String == "2023-11-14T22:13:20Z")
        #expect(c["end_date_time"] as? String == "2023-11-14T23:15:23Z")
        #expect(c["last_updated"] as? String == "2023-11-14T23:15:23Z")
        #expect(c["kwh"] as? Double == 11.345)
        #expect(c["status"] as? String == "COMPLETED")
        #expect(c["auth_method"] as? String == "AUTH_REQUEST")
        let token = try #require(c["cdr_token"] as? [String: Any])
        #expect(token["uid"] as? String == "04A2B3C4D5E6F7")
        #expect(token["type"] as? String == "RFID")
        #expect(token["contract_id"] as? String == "04A2B3C4D5E6F7")
        #expect(token["country_code"] as? String == "DE")
        #expect(token["party_id"] as? String == "ABC")
        let periods = try #require(c["charging_periods"] as? [[String: Any]])
        #expect(periods.count == 2)
        #expect(periods.map { $0["start_date_time"] as? String } == ["2023-11-14T22:13:20Z", "2023-11-14T22:43:20Z"])
        let types = (periods[0]["dimensions"] as? [[String: Any]])?.compactMap { $0["type"] as? String }
        #expect(types == ["ENERGY", "ENERGY_EXPORT", "ENERGY_IMPORT", "MAX_POWER", "MIN_POWER", "PARKING_TIME", "POWER", "STATE_OF_CHARGE"])
        #expect(c["total_cost"] == nil && c["meter_id"] == nil)

        // The active app session: no end, energy so far, APP_USER by COMMAND.
        let a = try #require(byID[active])
        #expect(a["status"] as? String == "ACTIVE")
        #expect(a["end_date_time"] == nil)
        #expect(a["kwh"] as? Double == 0.25)
        #expect(a["auth_method"] as? String == "COMMAND")
        #expect((a["cdr_token"] as? [String: Any])?["type"] as? String == "APP_USER")
        #expect(a["charging_periods"] == nil)
        #expect(a["last_updated"] as? String == "2023-11-14T22:15:20Z")

        // Plug & Charge: the eMSP's identifiers come from the eMAID.
        let p = try #require(byID[pnc])
        #expect(p["status"] as? String == "INVALID")
        let pncToken = try #require(p["cdr_token"] as? [String: Any])
        #expect(pncToken["type"] as? String == "OTHER")
        #expect(pncToken["country_code"] as? String == "NL")
        #expect(pncToken["party_id"] as? String == "XYZ")
        #expect(pncToken["contract_id"] as? String == "NL-XYZ-C12345678-9")

        // Unknown token type → OTHER; the stored auth method wins.
        let u = try #require(parsed.last)
        #expect((u["cdr_token"] as? [String: Any])?["type"] as? String == "OTHER")
        #expect(u["auth_method"] as? String == "WHITELIST")
        _ = directory
    }

    @Test func exactTextOfOneSession() throws {
        let record = ChargingSessionRecord(
            id: "3f1c2a9e-5b7d-4c1e-9a2b-0123456789ab", evseID: "1", connectorID: 1, transactionID: nil, tokenUID: "AB12", tokenType: .iso14443,
            contractID: nil, authMethod: nil, status: .completed, start: 1_668_436_399_000, stop: 1_668_440_000_500, energyStartWh: 100,
            energyLastWh: 7500.4, energyStopWh: 7500.4, lastUpdate: 1_668_440_000_500, closedByRecovery: false,
            chargingPeriods: [ChargingPeriod(start: 1_668_436_399_000, dimensions: [ChargingDimension(.energy, 7.4), ChargingDimension(.power, 7.4)])])
        #expect(
            SessionExport.ocpiSession(record, parameters: parameters).serialized()
                == #"{"country_code":"DE","party_id":"ABC","id":"3f1c2a9e-5b7d-4c1e-9a2b-0123456789ab","start_date_time":"2022-11-14T14:33:19Z","#
                + #""end_date_time":"2022-11-14T15:33:20Z","kwh":7.4,"cdr_token":{"country_code":"DE","party_id":"ABC","uid":"AB12","type":"RFID","#
                + #""contract_id":"AB12"},"auth_method":"AUTH_REQUEST","location_id":"LOC1","evse_uid":"1","connector_id":"1","currency":"EUR","#
                + #""charging_periods":[{"start_date_time":"2022-11-14T14:33:19Z","dimensions":[{"type":"ENERGY","volume":7.4},"#
                + #"{"type":"POWER","volume":7.4}]}],"status":"COMPLETED","last_updated":"2022-11-14T15:33:20Z"}"#)
    }

    @Test func tokenAndAuthMappings() {
        #expect(SessionExport.ocpiTokenType(.iso14443) == "RFID")
        #expect(SessionExport.ocpiTokenType(.iso15693) == "RFID")
        #expect(SessionExport.ocpiTokenType(.central) == "APP_USER")
        for other: SessionTokenType in [.eMAID, .keyCode, .local, .macAddress, .noAuthorization, SessionTokenType("x")] {
            #expect(SessionExport.ocpiTokenType(other) == "OTHER")
        }
        #expect(SessionExport.defaultAuthMethod(.central) == .command)
        #expect(SessionExport.defaultAuthMethod(.local) == .whitelist)
        #expect(SessionExport.defaultAuthMethod(.noAuthorization) == .whitelist)
        #expect(SessionExport.defaultAuthMethod(.iso14443) == .authRequest)
        #expect(SessionExport.emspParty(contractID: "DE*8AC*C12E46L89*2")! == ("DE", "8AC"))
        #expect(SessionExport.emspParty(contractID: "de8acc12e46l892")! == ("DE", "8AC"))
        #expect(SessionExport.emspParty(contractID: "04A2B3C4D5E6F7") == nil)
        #expect(SessionExport.emspParty(contractID: "DE-ABC") == nil)
    }

    @Test func parameterChecks() {
        #expect(parameters.problems() == [])
        let bad = OCPIParameters(countryCode: "de", partyID: "ABCD", locationID: "", currency: "euro")
        #expect(bad.problems().count == 4)
    }

    @Test func jsonFormatCarriesEveryField() throws {
        let (directory, store) = try makeStore()
        let id = try startSample(store)
        try store.addPeriod(sessionID: id, start: t0, dimensions: [ChargingDimension(.power, 3.7)])
        try store.completeSession(id: id, stop: t0 + minute, energyWh: 1100)
        let parsed = try #require(try parseJSON(SessionExport.json(try store.sessions()).serialized(pretty: true)) as? [[String: Any]])
        let record = try #require(parsed.first)
        #expect(
            Set(record.keys) == [
                "id", "evse_id", "connector_id", "transaction_id", "token_uid", "token_type", "contract_id", "auth_method", "status", "start",
                "start_ms", "stop", "stop_ms", "energy_start_wh", "energy_last_wh", "energy_stop_wh", "kwh", "last_update", "last_update_ms",
                "closed_by_recovery", "charging_periods",
            ])
        #expect(record["id"] as? String == id)
        #expect(record["start_ms"] as? Int64 == t0)
        #expect(record["stop"] as? String == "2023-11-14T22:14:20Z")
        #expect(record["transaction_id"] is NSNull)
        #expect(record["kwh"] as? Double == 0.1)
        #expect(record["token_type"] as? String == "ISO14443")
        let period = try #require((record["charging_periods"] as? [[String: Any]])?.first)
        #expect((period["dimensions"] as? [[String: Any]])?.first?["volume"] as? Double == 3.7)
        _ = directory
    }

    @Test func serializerEscapesAndFormats() throws {
        let value: ExportJSON = ["a\"b": .string("line\nbreak\u{1}\\ é"), "n": .double(.nan), "x": [1, .double(2.5), .bool(false), .null], "e": [:]]
        #expect(value.serialized() == #"{"a\"b":"line\nbreak\u0001\\ é","n":null,"x":[1,2.5,false,null],"e":{}}"#)
        #expect(value.serialized(pretty: true) == "{\n  \"a\\\"b\": \"line\\nbreak\\u0001\\\\ é\",\n  \"n\": null,\n  \"x\": [\n    1,\n    2.5,\n    false,\n    null\n  ],\n  \"e\": {}\n}")
        _ = try parseJSON(value.serialized(pretty: true))
    }
}
