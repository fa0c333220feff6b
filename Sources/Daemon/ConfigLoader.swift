import Basics
import JSONSchema
import JosevContract
import Logging
import Modbus
import Station
import Systemd
import YAML

#if canImport(Glibc)
    import Glibc
#endif

/// Reads `/etc/cs-companiond/cs-companiond.yaml`: YAML (libyaml) → the project's JSON value →
/// `config.schema.json` (the same validator as for messages) → checks no schema can say (unique
/// ids, connector types that fit the supply, readable credentials) → `DaemonConfiguration`.
/// Every problem is reported with its key path and, where the YAML has it, its line.
public struct ConfigLoader: Sendable {
    public let schema: JSONSchemaValidator

    public init(schema: JSONSchemaValidator) {
        self.schema = schema
    }

    public init(schemaDirectory: String) throws(SchemaLoadError) {
        schema = try SchemaCatalog.compile(path: schemaDirectory + "/" + MessageCatalog.configSchemaFile)
    }

    public static let defaultPath = "/etc/cs-companiond/cs-companiond.yaml"

    public func load(file: String) throws(ConfigError) -> DaemonConfiguration {
        let text: String
        do {
            text = try SystemFile.readText(file, maxBytes: 1 << 20)
        } catch {
            throw ConfigError(file: file, problems: [ConfigProblem(pointer: "", message: "cannot read: \(error.reason)")])
        }
        return try load(text: text, file: file)
    }

    public func load(text: String, file: String) throws(ConfigError) -> DaemonConfiguration {
        let document: YAMLDocument
        do {
            document = try YAMLDocument.parse(text)
        } catch {
            throw ConfigError(file: file, problems: [
                ConfigProblem(pointer: "", line: error.line, column: error.column, message: error.message)
            ])
        }
        func located(_ pointer: String, _ message: String) -> ConfigProblem {
            let mark = document.sourceMap.nearestLocation(of: pointer).location
            return ConfigProblem(pointer: pointer, line: mark.line, column: mark.column, message: message)
        }
        let errors = schema.validate(document.value)
        if !errors.isEmpty {
            throw ConfigError(file: file, problems: errors.map { located($0.instancePointer, $0.message) })
        }
        var problems: [ConfigProblem] = []
        let configuration = Self.decode(document.value, problems: &problems, located: located)
        guard problems.isEmpty, let configuration else { throw ConfigError(file: file, problems: problems) }
        return configuration
    }

    // MARK: Decoding a document that passed the schema

    /// Paths may start with `$CREDENTIALS_DIRECTORY/`: files systemd passes in with LoadCredential=.
    static let credentialsPrefix = "$CREDENTIALS_DIRECTORY/"

    static func decode(
        _ root: JSONValue, problems: inout [ConfigProblem], located: (String, String) -> ConfigProblem,
        credentialsDirectory: String? = LogSetup.environment("CREDENTIALS_DIRECTORY")
    ) -> DaemonConfiguration? {
        let credentialsPrefix = Self.credentialsPrefix
        let station = root["station"]
        let identity = StationIdentity(
            serialNumber: station?["serial_number"]?.stringValue ?? "",
            vendor: station?["vendor"]?.stringValue ?? "",
            model: station?["model"]?.stringValue ?? "",
            firmwareVersion: station?["firmware_version"]?.stringValue ?? "",
            hardwareVersion: station?["hardware_version"]?.stringValue ?? ""
        )
        var evses: [EVSEConfiguration] = []
        var seenEVSEs: [String: Int] = [:]
        for (index, item) in (root["evses"]?.arrayValue ?? []).enumerated() {
            let base = "/evses/\(index)"
            let evseID = item["evse_id"]?.stringValue ?? ""
            if let first = seenEVSEs[evseID] {
                problems.append(located(base + "/evse_id", "evse_id '\(evseID)' is already used by evses[\(first)]"))
            }
            seenEVSEs[evseID] = index
            let ac = item["ac"].map { ac in
                ACSupply(
                    nominalVoltage: Int(ac["nominal_voltage"]?.integerValue ?? 230),
                    maxCurrent: ac["max_current"]?.numberValue ?? 0,
                    phases: Int(ac["phases"]?.integerValue ?? 3))
            }
            let acBPT = item["ac_bpt"].map { bpt in
                ACBPTSupply(
                    maxDischargePower: bpt["max_discharge_power"]?.numberValue ?? 0,
                    minDischargePower: bpt["min_discharge_power"]?.numberValue ?? 0,
                    bptChannel: bpt["bpt_channel"]?.stringValue.flatMap(BPTChannel.init(rawValue:)),
                    generatorMode: bpt["generator_mode"]?.stringValue.flatMap(GeneratorMode.init(rawValue:)),
                    gridIslandDetectionMode: bpt["grid_island_detection_mode"]?.stringValue.flatMap(GridIslandDetectionMode.init(rawValue:)))
            }
            let dc = item["dc"].map { dc in
                DCSupply(
                    maxCurrent: dc["max_current"]?.numberValue ?? 0,
                    minCurrent: dc["min_current"]?.numberValue ?? 0,
                    maxVoltage: dc["max_voltage"]?.numberValue ?? 0,
                    minVoltage: dc["min_voltage"]?.numberValue ?? 0,
                    maxPower: dc["max_power"]?.numberValue ?? 0,
                    peakCurrentRipple: dc["peak_current_ripple"]?.numberValue ?? 0,
                    currentRegTolerance: dc["current_reg_tolerance"]?.numberValue,
                    energyToBeDelivered: dc["energy_to_be_delivered"]?.numberValue,
                    powerRampLimit: dc["power_ramp_limit"]?.numberValue,
                    isolationMonitor: dc["isolation_monitor"]?.boolValue ?? true)
            }
            let dcBPT = item["dc_bpt"].map { bpt in
                DCBPTSupply(
                    maxDischargePower: bpt["max_discharge_power"]?.numberValue ?? 0,
                    minDischargePower: bpt["min_discharge_power"]?.numberValue ?? 0,
                    maxDischargeCurrent: bpt["max_discharge_current"]?.numberValue ?? 0,
                    minDischargeCurrent: bpt["min_discharge_current"]?.numberValue ?? 0,
                    bptChannel: bpt["bpt_channel"]?.stringValue.flatMap(BPTChannel.init(rawValue:)),
                    generatorMode: bpt["generator_mode"]?.stringValue.flatMap(GeneratorMode.init(rawValue:)),
                    gridIslandDetectionMode: bpt["grid_island_detection_mode"]?.stringValue.flatMap(GridIslandDetectionMode.init(rawValue:)))
            }
            if acBPT != nil, ac == nil { problems.append(located(base + "/ac_bpt", "ac_bpt needs an ac block on the same EVSE")) }
            if dcBPT != nil, dc == nil { problems.append(located(base + "/dc_bpt", "dc_bpt needs a dc block on the same EVSE")) }
            if let dc, dc.minVoltage > dc.maxVoltage {
                problems.append(located(base + "/dc/min_voltage", "min_voltage \(dc.minVoltage) is above max_voltage \(dc.maxVoltage)"))
            }
            if let dc, dc.minCurrent > dc.maxCurrent {
                problems.append(located(base + "/dc/min_current", "min_current \(dc.minCurrent) is above max_current \(dc.maxCurrent)"))
            }
            var connectors: [ConnectorConfiguration] = []
            var seenConnectors: Set<Int> = []
            for (cIndex, connector) in (item["connectors"]?.arrayValue ?? []).enumerated() {
                let cBase = base + "/connectors/\(cIndex)"
                let id = Int(connector["id"]?.integerValue ?? 0)
                if !seenConnectors.insert(id).inserted {
                    problems.append(located(cBase + "/id", "connector id \(id) is used twice on EVSE '\(evseID)'"))
                }
                guard let type = connector["connector_type"]?.stringValue.flatMap(ConnectorType.init(rawValue:)) else { continue }
                if type.isAC, ac == nil {
                    problems.append(located(cBase + "/connector_type", "\(type.rawValue) needs an ac block on the EVSE"))
                }
                if !type.isAC, dc == nil {
                    problems.append(located(cBase + "/connector_type", "\(type.rawValue) needs a dc block on the EVSE"))
                }
                connectors.append(ConnectorConfiguration(
                    id: id, connectorType: type,
                    controlMode: connector["control_mode"]?.stringValue.flatMap(ControlMode.init(rawValue:))))
            }
            evses.append(EVSEConfiguration(
                evseID: evseID,
                networkInterface: item["network_interface"]?.stringValue ?? "",
                supportsEIM: item["supports_eim"]?.boolValue ?? true,
                ac: ac, acBPT: acBPT, dc: dc, dcBPT: dcBPT,
                connectors: connectors))
        }

        let mqttJSON = root["mqtt"]
        var mqtt = DaemonConfiguration.MQTT(host: mqttJSON?["host"]?.stringValue ?? "127.0.0.1")
        if let port = mqttJSON?["port"]?.integerValue { mqtt.port = Int(port) }
        if let clientID = mqttJSON?["client_id"]?.stringValue { mqtt.clientID = clientID }
        if let keepAlive = mqttJSON?["keepalive"]?.integerValue { mqtt.keepAlive = Int(keepAlive) }
        mqtt.username = mqttJSON?["username"]?.stringValue
        mqtt.password = mqttJSON?["password"]?.stringValue
        func path(_ value: JSONValue?, _ pointer: String) -> String? {
            guard let text = value?.stringValue else { return nil }
            guard text.hasPrefix(credentialsPrefix) else { return text }
            guard let directory = credentialsDirectory else {
                problems.append(located(pointer, "$CREDENTIALS_DIRECTORY is not set (add LoadCredential= to the unit)"))
                return nil
            }
            return directory + text.dropFirst(credentialsPrefix.count - 1)
        }
        mqtt.credentialsFile = path(mqttJSON?["credentials_file"], "/mqtt/credentials_file")
        if let tls = mqttJSON?["tls"] {
            mqtt.tls = DaemonConfiguration.TLS(
                caFile: path(tls["ca_file"], "/mqtt/tls/ca_file"), caPath: path(tls["ca_path"], "/mqtt/tls/ca_path"),
                certFile: path(tls["cert_file"], "/mqtt/tls/cert_file"), keyFile: path(tls["key_file"], "/mqtt/tls/key_file"),
                verifyPeer: tls["verify_peer"]?.boolValue ?? true)
        }
        if let initial = mqttJSON?["reconnect"]?["initial_delay"]?.numberValue { mqtt.reconnectInitialDelay = initial }
        if let maximum = mqttJSON?["reconnect"]?["max_delay"]?.numberValue { mqtt.reconnectMaxDelay = maximum }
        if mqtt.reconnectMaxDelay < mqtt.reconnectInitialDelay {
            problems.append(located("/mqtt/reconnect/max_delay", "max_delay is below initial_delay"))
        }

        var configuration = DaemonConfiguration(station: StationConfiguration(identity: identity, evses: evses), mqtt: mqtt)
        if let directory = root["state_directory"]?.stringValue { configuration.stateDirectory = directory }
        if let socket = root["control_socket"]?.stringValue { configuration.controlSocket = socket }
        BoardConfiguration.decode(
            root["hardware"], evseIDs: evses.map(\.evseID), into: &configuration, problems: &problems, located: located)
        configuration.meters = MeterSetup.decode(root["hardware"], evseIDs: evses.map(\.evseID), problems: &problems, located: located)
        configuration.freeVend = root["authorization"]?["free_vend"]?.boolValue ?? false
        configuration.localTokens = root["authorization"]?["local_tokens"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if let timeout = root["authorization"]?["reservation_timeout"]?.numberValue { configuration.reservationTimeout = timeout }
        configuration.deviceModel = DeviceModelConfig.decode(
            root["device_model"], evseIDs: evses.map(\.evseID), problems: &problems, located: located)

        var ocpp = OCPPIdentity.defaults
        ocpp.identity = identity.serialNumber
        if let block = root["ocpp"] {
            ocpp.configured = true
            if let name = block["identity"]?.stringValue { ocpp.identity = name }
            ocpp.csmsURL = block["csms_url"]?.stringValue ?? ocpp.csmsURL
            ocpp.securityProfile = Int(block["security_profile"]?.integerValue ?? 1)
            ocpp.ocppVersion = block["version"]?.stringValue.flatMap(OCPPVersion.init(rawValue:))
            if let password = block["basic_auth_password"]?.stringValue {
                ocpp.basicAuthPassword = password
            } else if let file = path(block["basic_auth_password_file"], "/ocpp/basic_auth_password_file") {
                do {
                    ocpp.basicAuthPassword = String(try SystemFile.readText(file, maxBytes: 4096).prefix { $0 != "\n" && $0 != "\r" })
                } catch {
                    problems.append(located("/ocpp/basic_auth_password_file", "cannot read: \(error.reason)"))
                }
            }
        }
        for item in root["evses"]?.arrayValue ?? [] {
            guard let evseID = item["evse_id"]?.stringValue else { continue }
            if let ocppID = item["ocpp_evse_id"]?.integerValue { ocpp.ocppEVSEIDs[evseID] = Int(ocppID) }
            for connector in item["connectors"]?.arrayValue ?? [] {
                if let id = connector["id"]?.integerValue,
                    let type = connector["ocpp_connector_type"]?.stringValue.flatMap(OCPPConnectorType.init(rawValue:))
                {
                    ocpp.connectorTypes[evseID, default: [:]][Int(id)] = type
                }
            }
        }
        configuration.ocpp = ocpp

        for item in root["evses"]?.arrayValue ?? [] {
            if let id = item["evse_id"]?.stringValue, let safe = item["safe_current"]?.numberValue { configuration.safeCurrents[id] = safe }
        }
        if let block = root["modbus"], block["enabled"]?.boolValue ?? true {
            var modbus = DaemonConfiguration.Modbus()
            if let bind = block["bind"]?.stringValue { modbus.bind = bind }
            if let port = block["port"]?.integerValue { modbus.port = Int(port) }
            modbus.allow = block["allow"]?.arrayValue?.compactMap(\.stringValue) ?? []
            for (index, text) in modbus.allow.enumerated() {
                do {
                    _ = try ModbusAddressRange(text)
                } catch {
                    problems.append(located("/modbus/allow/\(index)", "\(error)"))
                }
            }
            modbus.readOnly = block["read_only"]?.boolValue ?? false
            if let clients = block["max_clients"]?.integerValue { modbus.maxClients = Int(clients) }
            if let idle = block["idle_timeout"]?.numberValue { modbus.idleTimeout = idle }
            modbus.testBench = block["test_bench"]?.boolValue ?? false
            if let valid = block["setpoint_valid_time"]?.numberValue {
                if valid < 30, !modbus.testBench {
                    problems.append(located("/modbus/setpoint_valid_time", "\(valid) s is under 30 s; allowed only with test_bench: true"))
                }
                modbus.setpointValidTime = valid
            }
            if let safe = block["safe_current"]?.numberValue { modbus.safeCurrent = safe }
            modbus.allowPhaseSwitching = block["allow_phase_switching"]?.boolValue ?? false
            // Setting it also sets the station's setpoint policy (DaemonConfiguration.modbus).
            configuration.modbus = modbus
        }
        if let level = root["log_level"]?.stringValue.flatMap(Logger.Level.init(rawValue:)) { configuration.logLevel = level }
        decodeBackOffice(root, into: &configuration, problems: &problems, located: located)
        decodeUplink(root, into: &configuration, problems: &problems, located: located)
        IdentityConfig.check(root, problems: &problems, located: located)
        decodeSessionControl(root, into: &configuration, problems: &problems, located: located)
        configuration.ocpi = decodeOCPI(root["ocpi"], credentialsDirectory: credentialsDirectory, problems: &problems, located: located)
        return configuration
    }
}

/// MQTT credentials kept in their own file (`mqtt.credentials_file`): a YAML mapping with
/// `username` and `password`. Refused when other users can read it.
public struct MQTTCredentials: Sendable, Equatable {
    public var username: String
    public var password: String

    public static func load(file: String) throws(ConfigError) -> MQTTCredentials {
        func fail(_ message: String, line: Int? = nil) -> ConfigError {
            ConfigError(file: file, problems: [ConfigProblem(pointer: "", line: line, message: message)])
        }
        let mode: UInt32
        do {
            mode = try SystemFile.status(file).mode
        } catch {
            throw fail("cannot read credentials: \(error.reason)")
        }
        if mode & 0o007 != 0 {
            throw fail("credentials file is accessible to other users (mode \(String(mode, radix: 8))); chmod 600 or 640")
        }
        let text: String
        do {
            text = try SystemFile.readText(file, maxBytes: 64 << 10)
        } catch {
            throw fail("cannot read credentials: \(error.reason)")
        }
        let value: JSONValue
        do {
            value = try YAMLDocument.parse(text).value
        } catch {
            throw fail(error.message, line: error.line)
        }
        guard let username = value["username"]?.stringValue, !username.isEmpty else {
            throw fail("credentials file needs a non-empty 'username'")
        }
        guard let password = value["password"]?.stringValue else { throw fail("credentials file needs a 'password'") }
        return MQTTCredentials(username: username, password: password)
    }
}
