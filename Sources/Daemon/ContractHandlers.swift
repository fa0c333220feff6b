import JSONSchema
import JosevContract
import Logging
import Synchronization
import Station
import Store

#if canImport(Glibc)
    import Glibc
#endif

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
}

/// The wall clock as the contract writes it (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
enum WallClock {
    static func unixMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec / 1_000_000)
    }

    static func now() -> String { DateTimeText.format(unixMilliseconds: unixMilliseconds()) ?? "1970-01-01T00:00:00.000Z" }
}

/// One handler per message the CS answers or consumes (contract §2), on top of the `Station`.
/// Requests get the answer their schema offers, a rejecting one when the station refuses;
/// updates change the station and are never answered.
struct ContractHandlers: Sendable {
    let station: Station
    let ocpp: @Sendable () -> OCPPIdentity
    /// Told whether OCPP's websocket to the back office is up (`websocket_status`; Modbus 1104).
    let ocppConnected: @Sendable (Bool) -> Void
    /// Records the sessions (nil when the store cannot be used).
    let sessions: SessionRecorder?
    /// The configuration keys (nil: none declared, every change is rejected as unknown).
    var deviceModel: DeviceModelStore? = nil
    let logger: Logger

    /// The last `cs_status_and_limits` data, encoded (shared by the copies of this struct).
    let statusAndLimitsCache = EncodedStatusAndLimits()

    enum Answer: Sendable {
        /// The response's data.
        case respond(JSONObject)
        /// No answer owed or possible (logged).
        case none
    }

    /// The answer carrying a payload; an encoding failure is a bug, logged, and nothing is sent.
    func respond(_ payload: some ContractPayload) -> Answer {
        do {
            return .respond(try payload.encodedData())
        } catch {
            logger.error("cannot encode \(type(of: payload)): \(error)")
            return .none
        }
    }

    // MARK: Requests from Josev

    func request(_ envelope: Envelope) async -> Answer {
        do {
            switch envelope.name {
            case "cs_parameters":
                return respond(await station.parameters())
            case "cs_status_and_limits":
                let snapshot = await station.statusAndLimits()
                guard let data = statusAndLimitsCache.data(for: snapshot, logger: logger) else { return .none }
                return .respond(data)
            case "device_model":
                return respond(await deviceModel())
            case "cp_pwm":
                return respond(await cpPWM(try ContractMessages.decode(CPPWMRequest.self, from: envelope)))
            case "cs_contactor_status":
                let request = try ContractMessages.decode(CsContactorStatusRequest.self, from: envelope)
                return respond(await contactorStatus(evseID: request.evseID))
            case "cable_check":
                return respond(await cableCheck(try ContractMessages.decode(CableCheckRequest.self, from: envelope)))
            case "power_electronics_setpoint":
                let request = try ContractMessages.decode(PowerElectronicsSetpointRequest.self, from: envelope)
                return respond(await setpoint(request))
            case "meter_values":
                let request = try ContractMessages.decode(MeterValuesRequest.self, from: envelope)
                guard let values = await meterValues(evseID: request.evseID) else {
                    logger.notice("meter_values for unknown EVSE '\(request.evseID ?? "-")' ignored")
                    return .none
                }
                return respond(values)
            case "stop_charging":
                let request = try ContractMessages.decode(StopChargingRequest.self, from: envelope)
                let outcome = await station.stopCharging(evseID: request.evseID)
                return respond(
                    StopChargingResponse(evseID: request.evseID, status: outcome == .accepted ? .accepted : .rejected))
            case "cs_connector":
                return respond(await connector(try ContractMessages.decode(CsConnectorRequest.self, from: envelope)))
            case "change_availability":
                let request = try ContractMessages.decode(ChangeAvailabilityRequest.self, from: envelope)
                return respond(await changeAvailability(request))
            case "reset":
                let request = try ContractMessages.decode(ResetRequest.self, from: envelope)
                if let evseID = request.evseID, await !station.owns(evseID: evseID) {
                    return respond(ResetResponse(status: .rejected))
                }
                let result = await station.reset(evseID: request.evseID, immediate: false)
                logger.info("reset \(request.evseID ?? "station"): \(result.rawValue)")
                return respond(ResetResponse(status: result == .rejected ? .rejected : .accepted))
            case "process_authorized_token":
                let request = try ContractMessages.decode(ProcessAuthorizedTokenRequest.self, from: envelope)
                let token = ChargingToken(id: request.idToken ?? "", type: ChargingTokenType(rawValue: request.tokenType.rawValue) ?? .central)
                let taken = await station.authorize(evseID: request.evseID, token: token, decision: .accepted)
                return respond(ProcessAuthorizedTokenResponse(status: taken ? .accepted : .discarded, evseID: request.evseID))
            case "set_variable_validate":
                let request = try ContractMessages.decode(SetVariableValidateRequest.self, from: envelope)
                return respond(SetVariableValidateResponse(result: await validateVariable(request)))
            case "data_transfer":
                let request = try ContractMessages.decode(DataTransferRequest.self, from: envelope)
                return respond(dataTransfer(request))
            case "update_firmware":
                return try await updateFirmware(envelope)
            case "upload_logs":
                return try await uploadLogs(envelope)
            case "generate_csr":
                logger.notice("generate_csr rejected: the station has no key store for CSRs yet")
                return respond(GenerateCSRResponse(status: .rejected, csr: ""))
            case "ocpp_message":
                logger.notice("ocpp_message request not handled by the CS")
                return .none
            default:
                return .none
            }
        } catch {
            logger.warning("cannot read \(envelope.name) request: \(error)")
            return .none
        }
    }

    func deviceModel() async -> DeviceModelResponse {
        let configuration = await station.configuration
        let identity = ocpp()
        if !identity.configured {
            logger.notice("device_model answered from defaults: add an ocpp block to the configuration")
        }
        let evses = configuration.evses.enumerated().map { index, evse in
            let power: Double
            if let ac = evse.ac {
                power = Double(ac.nominalVoltage) * ac.maxCurrent * Double(ac.phases) / 1000
            } else {
                power = (evse.dc?.maxPower ?? 0) / 1000
            }
            return DeviceModelEVSE(
                ocppID: identity.ocppEVSEIDs[evse.evseID] ?? index + 1,
                iso15118ID: evse.evseID,
                powerKW: (power * 10).rounded() / 10,
                supplyPhases: evse.ac?.phases ?? 0,
                connectors: evse.connectors.map { connector in
                    DeviceModelConnector(
                        id: connector.id,
                        connectorType: identity.connectorTypes[evse.evseID]?[connector.id]
                            ?? (connector.connectorType.isAC ? .cType2 : .cCCS2))
                })
        }
        let components = deviceModel?.components() ?? []
        return DeviceModelResponse(
            model: configuration.identity.model, vendor: configuration.identity.vendor, identity: identity.identity,
            ocppCSMSURL: identity.csmsURL, securityProfile: identity.securityProfile, basicAuthPassword: identity.basicAuthPassword,
            serialNumber: configuration.identity.serialNumber, firmwareVersion: configuration.identity.firmwareVersion,
            ocppVersion: identity.ocppVersion, evses: evses, components: components.isEmpty ? nil : components)
    }

    func cpPWM(_ request: CPPWMRequest) async -> CPPWMResponse {
        let result = await station.applyPWM(
            evseID: request.evseID, hlc: request.hlc, current: request.current, errorState: request.errorState,
            faultState: request.faultState)
        switch result {
        case .applied(let signal):
            return CPPWMResponse(evseID: request.evseID, status: .valid, info: "\(signal)")
        case .limited(let signal, let requested):
            return CPPWMResponse(evseID: request.evseID, status: .valid, info: "requested \(requested) A, applied \(signal)")
        case .rejected(.unknownEVSE):
            return CPPWMResponse(evseID: request.evseID, status: .invalid, info: "unknown EVSE")
        case .rejected(.invalidCurrent(let current)):
            return CPPWMResponse(evseID: request.evseID, status: .invalid, info: "current \(current) A cannot be signalled")
        case .rejected(.faulted(let kind)):
            return CPPWMResponse(evseID: request.evseID, status: .error, info: "fault: \(kind.rawValue)")
        }
    }

    func contactorStatus(evseID: String) async -> CsContactorStatus {
        guard let closed = await station.contactorClosed(evseID: evseID) else {
            return CsContactorStatus(evseID: evseID, status: .error, info: "unknown EVSE")
        }
        if closed { return CsContactorStatus(evseID: evseID, status: .closed) }
        let refusal = await station.contactorRefusal(evseID: evseID)
        return CsContactorStatus(evseID: evseID, status: .opened, info: refusal.map { "\($0)" })
    }

    func cableCheck(_ request: CableCheckRequest) async -> CableCheckResponse {
        switch await station.cableCheck(evseID: request.evseID, action: request.cableCheckAction == .start ? .start : .status) {
        case .ongoing:
            return CableCheckResponse(evseID: request.evseID, cableCheckStatus: .ongoing)
        case .finished(let isolation):
            return CableCheckResponse(evseID: request.evseID, cableCheckStatus: .finished, isolationLevel: isolation)
        case .failed(let failure):
            logger.warning("cable_check on \(request.evseID) failed: \(failure)")
            return CableCheckResponse(evseID: request.evseID, cableCheckStatus: .finished, isolationLevel: .fault)
        }
    }

    func setpoint(_ request: PowerElectronicsSetpointRequest) async -> PowerElectronicsSetpointResponse {
        guard let dc = request.dc else {
            // AC-BPT setpoints: the simulated AC hardware follows the PWM; accept what the EVSE supports.
            let supportsBPT = await station.configuration.evses.first { $0.evseID == request.evseID }?.acBPT != nil
            return PowerElectronicsSetpointResponse(evseID: request.evseID, status: supportsBPT ? .accepted : .rejected)
        }
        let target: DCTarget
        if let current = dc.chargeCurrent {
            target = .chargeCurrent(current)
        } else if let power = dc.chargePower {
            target = .chargePower(power)
        } else if let current = dc.dischargeCurrent {
            target = .dischargeCurrent(current)
        } else if let power = dc.dischargePower {
            target = .dischargePower(power)
        } else {
            target = .chargeCurrent(0)
        }
        let decision = await station.powerElectronicsSetpoint(
            evseID: request.evseID, voltage: dc.voltage, target: target, isPrecharge: request.isPrecharge ?? false,
            evMaximumVoltage: request.evLimits.maximumVoltage)
        if case .rejected(let reason) = decision {
            logger.notice("power_electronics_setpoint on \(request.evseID) rejected: \(reason)")
            return PowerElectronicsSetpointResponse(evseID: request.evseID, status: .rejected)
        }
        return PowerElectronicsSetpointResponse(evseID: request.evseID, status: .accepted)
    }

    func meterValues(evseID: String?) async -> MeterValues? {
        let configuration = await station.configuration
        guard let id = evseID ?? configuration.evses.first?.evseID, let snapshot = await station.meterValues(evseID: id) else {
            return nil
        }
        var values = MeterValues(
            timestamp: WallClock.now(), evseID: id, voltage: snapshot.voltage, current: snapshot.current,
            powerFactor: snapshot.powerFactor, frequency: snapshot.frequency,
            totalActiveEnergyImported: (snapshot.energyImportedWh * 10).rounded() / 10, totalReactiveEnergyImported: 0)
        values.totalActiveEnergyExported = (snapshot.energyExportedWh * 10).rounded() / 10
        values.dcCurrent = snapshot.dcCurrent
        values.dcVoltage = snapshot.dcVoltage
        values.maxCurrentOffered = snapshot.maxCurrentOffered
        values.powerActiveImport = (max(0, snapshot.activePower) * 10).rounded() / 10
        return values
    }

    func connector(_ request: CsConnectorRequest) async -> CsConnectorResponse {
        let action: ConnectorLockAction =
            switch request.action {
            case .lock: .lock
            case .unlock: .unlock
            case .status: .status
            }
        let result = await station.connectorLock(evseID: request.evseID, connectorID: request.connectorID, action: action)
        let status = LockStatus(rawValue: result.state.rawValue) ?? .unknown
        switch result {
        case .done:
            return CsConnectorResponse(evseID: request.evseID, connectorID: request.connectorID, status: status)
        case .refusedWhileEnergized:
            return CsConnectorResponse(
                evseID: request.evseID, connectorID: request.connectorID, status: status, info: "refused while the contactor is closed")
        case .unknownConnector:
            return CsConnectorResponse(evseID: request.evseID, connectorID: request.connectorID, status: .error, info: "unknown connector")
        }
    }

    func changeAvailability(_ request: ChangeAvailabilityRequest) async -> ChangeAvailabilityResponse {
        let scope: AvailabilityScope
        if let evseID = request.evseID {
            guard await station.owns(evseID: evseID) else { return ChangeAvailabilityResponse(status: .rejected) }
            scope = request.connectorID.map { .connector(evseID: evseID, connectorID: $0) } ?? .evse(evseID)
        } else {
            scope = .station
        }
        let result = await station.changeAvailability(scope, operative: request.operationalStatus == .operative)
        logger.info("change_availability \(scope) → \(request.operationalStatus.rawValue): \(result.rawValue)")
        return ChangeAvailabilityResponse(status: result == .rejected ? .rejected : .accepted)
    }

    /// Judged by the device-model store's rules and pacing; accepted changes are applied (or kept
    /// for the restart) before the answer goes out. The store logs the outcome with its reason.
    func validateVariable(_ request: SetVariableValidateRequest) async -> AcceptanceStatus {
        let key = DeviceVariableKey(
            component: request.component.name, componentInstance: request.component.instance ?? "",
            evseID: request.component.evseID ?? "", connectorID: request.component.connectorID ?? 0,
            variable: request.variable.name, variableInstance: request.variable.instance ?? "")
        if let evseID = request.component.evseID, await !station.owns(evseID: evseID) {
            logger.notice("set_variable_validate \(key) rejected: unknown EVSE \(evseID)")
            return .rejected
        }
        if let attribute = request.attributeType, attribute != .actual {
            logger.notice("set_variable_validate \(key) rejected: \(VariableRejection.unsupportedAttribute("only Actual values are kept, not \(attribute.rawValue)"))")
            return .rejected
        }
        guard let deviceModel else {
            logger.notice("set_variable_validate \(key) rejected: unknown (no device_model variables are configured)")
            return .rejected
        }
        return deviceModel.propose(key, value: request.attributeValue, source: .josev).accepted ? .accepted : .rejected
    }

    func dataTransfer(_ request: DataTransferRequest) -> DataTransferResponse {
        guard request.vendorID == "cs-companion" else {
            logger.notice("data_transfer from vendor '\(request.vendorID)' not supported")
            return DataTransferResponse(status: .unknownVendorID)
        }
        switch request.messageID {
        case "ping":
            return DataTransferResponse(status: .accepted, data: ["pong": true])
        default:
            return DataTransferResponse(status: .unknownMessageID)
        }
    }

    // MARK: Updates (and responses to the CS's requests) from Josev

    func consume(_ envelope: Envelope) async {
        do {
            switch (envelope.name, envelope.type) {
            case ("hlc_charging", .update):
                let update = try ContractMessages.decode(HLCChargingUpdate.self, from: envelope)
                await station.hlcCharging(evseID: update.evseID, active: update.status)
            case ("slac_status", .update):
                let update = try ContractMessages.decode(SLACStatusUpdate.self, from: envelope)
                logger.info("SLAC \(update.status.rawValue) on \(update.evseID)", metadata: ["evse_id": "\(update.evseID)"])
            case ("iso15118_state_info", .update):
                let update = try ContractMessages.decode(ISO15118StateInfoUpdate.self, from: envelope)
                logger.debug("ISO 15118 \(update.sessionStatus.rawValue) on \(update.evseID)")
                if update.sessionStatus == .sessionStop { await station.sessionStopped(evseID: update.evseID) }
            case ("transaction_status", .update):
                try await transaction(ContractMessages.decode(TransactionStatusUpdate.self, from: envelope))
            case ("authorization", .update):
                let update = try ContractMessages.decode(AuthorizationUpdate.self, from: envelope)
                let token = ChargingToken(id: update.idToken ?? "", type: ChargingTokenType(rawValue: update.tokenType.rawValue) ?? .central)
                let decision = AuthorizationDecision(rawValue: update.status.rawValue) ?? .rejected
                await station.authorize(evseID: update.evseID, token: token, decision: decision)
            case ("ev_rated_limits", .update):
                let update = try ContractMessages.decode(EVRatedLimitsUpdate.self, from: envelope)
                if let current = update.acRatedLimits?.maxCurrent ?? update.dcRatedLimits?.maxChargeCurrent {
                    await station.setEVMaxCurrent(current, evseID: update.evseID)
                }
            case ("device_model_update", .update):
                let update = try ContractMessages.decode(DeviceModelUpdate.self, from: envelope)
                deviceModel?.consume(update)
            case ("connector_and_charging", .update):
                await connectorAndCharging(try ContractMessages.decode(ConnectorAndChargingUpdate.self, from: envelope))
            case ("clock_sync", .update):
                let update = try ContractMessages.decode(ClockSyncUpdate.self, from: envelope)
                logger.info("clock_sync: OCPP time is \(update.currentTime) (the host clock is left to the system's time service)")
            case ("websocket_status", .update), ("websocket_status", .response):
                let status = try ContractMessages.decode(name: envelope.name, type: envelope.type, data: envelope.data)
                if let websocket = status as? WebsocketStatus {
                    logger.info("OCPP websocket \(websocket.status.rawValue)")
                    ocppConnected(websocket.status == .connected)
                }
            case ("boot_status", .update), ("service_status", .update), ("display_params", .update),
                ("cost_updated", .update), ("display_and_personal_msg", .update), ("certificate_installation_status", .update):
                logger.debug("\(envelope.name) update received")
            default:
                logger.debug("\(envelope.name) \(envelope.type.rawValue) consumed")
            }
        } catch {
            logger.warning("cannot read \(envelope.name) \(envelope.type.rawValue): \(error)")
        }
    }

    /// Josev's answer to an `authorization` request the CS sent for a local token.
    func authorizationAnswer(_ response: Envelope, evseID: String, token: ChargingToken) async {
        do {
            let answer = try ContractMessages.decode(AuthorizationResponse.self, from: response)
            let decision = AuthorizationDecision(rawValue: answer.status.rawValue) ?? .rejected
            logger.info("authorization of \(token.redacted) on \(evseID): \(answer.status.rawValue)", metadata: ["evse_id": "\(evseID)"])
            await station.authorize(evseID: evseID, token: token, decision: decision)
        } catch {
            logger.warning("cannot read the authorization response: \(error)")
        }
    }

    func transaction(_ update: TransactionStatusUpdate) async {
        let evseID: String
        if let id = update.evseID {
            evseID = id
        } else if let first = await station.configuration.evses.first?.evseID {
            evseID = first
        } else {
            return
        }
        switch update.status {
        case .started:
            let token = update.idToken.map {
                ChargingToken(id: $0, type: update.tokenType.flatMap { ChargingTokenType(rawValue: $0.rawValue) } ?? .central)
            }
            await station.startTransaction(evseID: evseID, transactionID: update.transactionID, token: token)
            await sessions?.transactionStarted(evseID: evseID, transactionID: update.transactionID, token: token)
            logger.info("transaction \(update.transactionID) started on \(evseID)", metadata: ["evse_id": "\(evseID)"])
        case .inProgress:
            break
        case .ended:
            await sessions?.transactionEnded(evseID: evseID, transactionID: update.transactionID)
            let ended = await station.endTransaction(transactionID: update.transactionID, evseID: update.evseID)
            let energy = ended.flatMap { t in t.energyAtEndWh.map { $0 - t.energyAtStartWh } }
            let delivered = energy.map { $0 < 1000 ? ", \(($0 * 10).rounded() / 10) Wh" : ", \(($0 / 100).rounded() / 10) kWh" } ?? ""
            logger.info("transaction \(update.transactionID) ended on \(evseID)\(delivered)", metadata: ["evse_id": "\(evseID)"])
        }
    }
}

/// Josev asks for `cs_status_and_limits` far more often than the station's status and limits
/// change, and encoding the typed answer was the costliest step of answering it (42 000 of 126 000
/// instructions, docs/PERFORMANCE.md). The data of the last answer is kept with the snapshot it was
/// encoded from and reused while the snapshot is equal; the whole answer is still validated
/// against its schema before it is published.
final class EncodedStatusAndLimits: Sendable {
    private let last = Mutex<(snapshot: CsStatusAndLimits, data: JSONObject)?>(nil)

    func data(for snapshot: CsStatusAndLimits, logger: Logger) -> JSONObject? {
        if let hit = last.withLock({ $0 }), hit.snapshot == snapshot { return hit.data }
        guard let data = ContractRouter.encode(snapshot, logger: logger) else { return nil }
        last.withLock { $0 = (snapshot, data) }
        return data
    }
}
