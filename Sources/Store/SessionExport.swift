import Basics

/// The identifiers of the CPO that owns the station, which OCPI objects carry and the station
/// cannot know by itself (configuration, or `cs-companion sessions` options).
public struct OCPIParameters: Sendable, Equatable {
    /// ISO 3166-1 alpha-2 of the CPO, e.g. "DE".
    public var countryCode: String
    /// The CPO's OCPI party id, 3 characters, e.g. "ABC".
    public var partyID: String
    /// The OCPI Location id of the station.
    public var locationID: String
    /// ISO 4217, e.g. "EUR".
    public var currency: String

    public init(countryCode: String, partyID: String, locationID: String, currency: String) {
        self.countryCode = countryCode
        self.partyID = partyID
        self.locationID = locationID
        self.currency = currency
    }

    /// What is wrong with the parameters (empty when they are usable): country code two letters A–Z,
    /// party id three characters A–Z/0–9, location id 1…36 characters, currency three letters A–Z.
    public func problems() -> [String] {
        func all(_ text: String, _ allowed: (UInt8) -> Bool) -> Bool { text.utf8.allSatisfy(allowed) }
        let upper: (UInt8) -> Bool = { $0 >= 65 && $0 <= 90 }
        let upperOrDigit: (UInt8) -> Bool = { ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) }
        var problems: [String] = []
        if countryCode.utf8.count != 2 || !all(countryCode, upper) {
            problems.append("country code must be ISO 3166-1 alpha-2 in capitals (e.g. DE): \"\(countryCode)\"")
        }
        if partyID.utf8.count != 3 || !all(partyID, upperOrDigit) {
            problems.append("party id must be 3 capital letters or digits (e.g. ABC): \"\(partyID)\"")
        }
        if locationID.isEmpty || locationID.utf8.count > 36 {
            problems.append("location id must have 1…36 characters: \"\(locationID)\"")
        }
        if currency.utf8.count != 3 || !all(currency, upper) {
            problems.append("currency must be ISO 4217 in capitals (e.g. EUR): \"\(currency)\"")
        }
        return problems
    }
}

/// The `cs-companion sessions` outputs: a table for people, the records as JSON, and OCPI 2.2.1
/// Session objects (see Tests/Fixtures/ocpi/SESSIONS.md and docs of `ocpiSession`).
public enum SessionExport {
    // MARK: Table

    /// A fixed-width table: START and STOP (UTC), EVSE, CONNECTOR, TOKEN, STATUS, KWH, DURATION, and
    /// a total line. An ACTIVE session's duration runs until `now`; its STOP is "-".
    public static func table(_ records: [ChargingSessionRecord], now: Int64 = WallClock.unixMilliseconds()) -> String {
        let header = ["START (UTC)", "STOP (UTC)", "EVSE", "CONNECTOR", "TOKEN", "STATUS", "KWH", "DURATION"]
        let rightAligned: Set<Int> = [3, 6, 7]
        var rows: [[String]] = [header]
        var total = 0.0
        for record in records {
            total += record.kwh
            rows.append([
                DateTimeText.readable(unixMilliseconds: record.start),
                record.stop.map { DateTimeText.readable(unixMilliseconds: $0) } ?? "-",
                record.evseID,
                String(record.connectorID),
                record.tokenUID.isEmpty ? "-" : record.tokenUID,
                record.status.rawValue,
                decimal(record.kwh, places: 3),
                duration(milliseconds: record.durationMilliseconds(now: now)),
            ])
        }
        var widths = [Int](repeating: 0, count: header.count)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        var lines: [String] = []
        for row in rows {
            var cells: [String] = []
            for (column, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                cells.append(rightAligned.contains(column) ? padding + cell : cell + padding)
            }
            var line = cells.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            lines.append(line)
        }
        let noun = records.count == 1 ? "session" : "sessions"
        lines.append("\(records.count) \(noun), \(decimal(total, places: 3)) kWh")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `value` with exactly `places` decimals ("12.345"), rounded half away from zero.
    public static func decimal(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9.0e18 else { return value.description }
        let integer = Int64(scaled)
        let divisor = Int64(scale)
        let whole = String(integer / divisor)
        let sign = value < 0 && integer != 0 ? "-" : ""
        guard places > 0 else { return sign + whole }
        let fraction = String(integer % divisor)
        return sign + whole + "." + String(repeating: "0", count: places - fraction.count) + fraction
    }

    /// `H:MM:SS` (hours may exceed 23).
    public static func duration(milliseconds: Int64) -> String {
        let seconds = max(0, milliseconds) / 1000
        let minutes = seconds / 60 % 60
        let secs = seconds % 60
        return "\(seconds / 3600):" + (minutes < 10 ? "0" : "") + "\(minutes):" + (secs < 10 ? "0" : "") + "\(secs)"
    }

    // MARK: JSON

    /// The records as a JSON array (see `json(_:)` for one record).
    public static func json(_ records: [ChargingSessionRecord]) -> ExportJSON { .array(records.map(json)) }

    /// One record: every stored field in snake_case; times both as Unix ms (`start_ms`) and as
    /// ISO 8601 UTC text (`start`); absent optional values as null.
    public static func json(_ record: ChargingSessionRecord) -> ExportJSON {
        func optional(_ value: String?) -> ExportJSON { value.map { .string($0) } ?? .null }
        func optional(_ value: Double?) -> ExportJSON { value.map { .double($0) } ?? .null }
        return [
            "id": .string(record.id),
            "evse_id": .string(record.evseID),
            "connector_id": .int(Int64(record.connectorID)),
            "transaction_id": optional(record.transactionID),
            "token_uid": .string(record.tokenUID),
            "token_type": .string(record.tokenType.rawValue),
            "contract_id": optional(record.contractID),
            "auth_method": optional(record.authMethod?.rawValue),
            "status": .string(record.status.rawValue),
            "start": .string(DateTimeText.wholeSeconds(unixMilliseconds: record.start)),
            "start_ms": .int(record.start),
            "stop": optional(record.stop.map { DateTimeText.wholeSeconds(unixMilliseconds: $0) }),
            "stop_ms": record.stop.map { .int($0) } ?? .null,
            "energy_start_wh": .double(record.energyStartWh),
            "energy_last_wh": .double(record.energyLastWh),
            "energy_stop_wh": optional(record.energyStopWh),
            "kwh": .double(record.kwh),
            "last_update": .string(DateTimeText.wholeSeconds(unixMilliseconds: record.lastUpdate)),
            "last_update_ms": .int(record.lastUpdate),
            "closed_by_recovery": .bool(record.closedByRecovery),
            "charging_periods": .array(record.chargingPeriods.map(chargingPeriod)),
        ]
    }

    // MARK: OCPI 2.2.1

    /// OCPI 2.2.1 Session objects, one per record.
    public static func ocpiSessions(_ records: [ChargingSessionRecord], parameters: OCPIParameters) -> ExportJSON {
        .array(records.map { ocpiSession($0, parameters: parameters) })
    }

    /// One OCPI 2.2.1 Session object. Mapping:
    /// - `country_code`, `party_id`, `location_id`, `currency`: from `parameters` (the CPO's).
    /// - `id`: the session's UUID; `evse_uid`: the stored EVSE id; `connector_id`: its number as text.
    /// - `start_date_time`, `end_date_time` (only when the session has a stop), `last_updated`:
    ///   `YYYY-MM-DDTHH:MM:SSZ`.
    /// - `kwh`: energy so far (ACTIVE) or in total, rounded to the Wh.
    /// - `cdr_token`: `uid` = the token; `type` per `ocpiTokenType`; `contract_id` = the stored
    ///   contract id, else the uid (OCPI requires one; for RFID it is commonly the uid); its
    ///   `country_code`/`party_id` are the eMSP's, taken from an eMAID-shaped contract id
    ///   (`DE-XYZ-…`, `DE*XYZ*…`, `DEXYZ…`) and otherwise the CPO's (locally authorized tokens).
    /// - `auth_method`: the stored one, else per `defaultAuthMethod`.
    /// - `charging_periods`: omitted when there are none; dimensions as stored (OCPI units).
    /// - `status`: ACTIVE, COMPLETED or INVALID. `total_cost`, `meter_id`,
    ///   `authorization_reference` are omitted (optional; the station does not price).
    public static func ocpiSession(_ record: ChargingSessionRecord, parameters: OCPIParameters) -> ExportJSON {
        let contractID = record.contractID ?? record.tokenUID
        let emsp = emspParty(contractID: contractID) ?? (parameters.countryCode, parameters.partyID)
        var members: [ExportJSON.Member] = [
            .init("country_code", .string(parameters.countryCode)),
            .init("party_id", .string(parameters.partyID)),
            .init("id", .string(record.id)),
            .init("start_date_time", .string(DateTimeText.wholeSeconds(unixMilliseconds: record.start))),
        ]
        if let stop = record.stop {
            members.append(.init("end_date_time", .string(DateTimeText.wholeSeconds(unixMilliseconds: stop))))
        }
        members += [
            .init("kwh", .double(record.kwh)),
            .init(
                "cdr_token",
                [
                    "country_code": .string(emsp.countryCode),
                    "party_id": .string(emsp.partyID),
                    "uid": .string(record.tokenUID),
                    "type": .string(ocpiTokenType(record.tokenType)),
                    "contract_id": .string(contractID),
                ]),
            .init("auth_method", .string((record.authMethod ?? defaultAuthMethod(record.tokenType)).rawValue)),
            .init("location_id", .string(parameters.locationID)),
            .init("evse_uid", .string(record.evseID)),
            .init("connector_id", .string(String(record.connectorID))),
            .init("currency", .string(parameters.currency)),
        ]
        if !record.chargingPeriods.isEmpty {
            members.append(.init("charging_periods", .array(record.chargingPeriods.map(ocpiChargingPeriod))))
        }
        members += [
            .init("status", .string(record.status.rawValue)),
            .init("last_updated", .string(DateTimeText.wholeSeconds(unixMilliseconds: record.lastUpdate))),
        ]
        return .object(members)
    }

    /// OCPI `TokenType` of an OCPP token type: ISO14443 and ISO15693 (RFID cards) → RFID; central
    /// (started by the back end, e.g. from an app) → APP_USER; everything else (eMAID/Plug & Charge,
    /// key code, local, MAC address/Autocharge, no authorization, unknown) → OTHER.
    public static func ocpiTokenType(_ type: SessionTokenType) -> String {
        switch type {
        case .iso14443, .iso15693: "RFID"
        case .central: "APP_USER"
        default: "OTHER"
        }
    }

    /// The auth method when the daemon did not record one: central → COMMAND (remote start);
    /// local and no_authorization → WHITELIST (decided on the station); any other token was sent to
    /// the back end for authorization → AUTH_REQUEST.
    public static func defaultAuthMethod(_ type: SessionTokenType) -> AuthMethod {
        switch type {
        case .central: .command
        case .local, .noAuthorization: .whitelist
        default: .authRequest
        }
    }

    /// The eMSP's (country code, party id) of an eMAID-shaped contract id: two letters, an optional
    /// `-` or `*`, three letters or digits, then an optional separator and more. nil otherwise.
    public static func emspParty(contractID: String) -> (countryCode: String, partyID: String)? {
        let bytes = Array(contractID.utf8).map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }
        func letter(_ b: UInt8) -> Bool { b >= 65 && b <= 90 }
        func alnum(_ b: UInt8) -> Bool { letter(b) || (b >= 48 && b <= 57) }
        func separator(_ b: UInt8) -> Bool { b == UInt8(ascii: "-") || b == UInt8(ascii: "*") }
        guard bytes.count >= 14, letter(bytes[0]), letter(bytes[1]) else { return nil }
        var index = 2
        if separator(bytes[index]) { index += 1 }
        guard index + 3 <= bytes.count, bytes[index..<(index + 3)].allSatisfy(alnum) else { return nil }
        let party = bytes[index..<(index + 3)]
        index += 3
        if index < bytes.count, separator(bytes[index]) { index += 1 }
        // eMAID: the ID type character 'C' follows the provider id.
        guard index < bytes.count, bytes[index] == UInt8(ascii: "C") else { return nil }
        return (String(decoding: bytes[0..<2], as: UTF8.self), String(decoding: party, as: UTF8.self))
    }

    static func chargingPeriod(_ period: ChargingPeriod) -> ExportJSON {
        [
            "start": .string(DateTimeText.wholeSeconds(unixMilliseconds: period.start)),
            "start_ms": .int(period.start),
            "dimensions": .array(period.dimensions.map { ["type": .string($0.type.rawValue), "volume": .double($0.volume)] }),
        ]
    }

    /// A period's `start_date_time`: whole seconds, or with its milliseconds when it has some
    /// (OCPI allows three decimals): periods less than a second apart keep distinct starts.
    static func ocpiChargingPeriod(_ period: ChargingPeriod) -> ExportJSON {
        let start =
            period.start % 1000 == 0
            ? DateTimeText.wholeSeconds(unixMilliseconds: period.start)
            : DateTimeText.format(unixMilliseconds: period.start) ?? DateTimeText.wholeSeconds(unixMilliseconds: period.start)
        return [
            "start_date_time": .string(start),
            "dimensions": .array(period.dimensions.map { ["type": .string($0.type.rawValue), "volume": .double($0.volume)] }),
        ]
    }
}
