import JSONSchema
import JosevContract
import Logging
import Station
import Synchronization

// Contract §2.1, start-up and configuration: cs_parameters, cs_status_and_limits, device_model,
// device_model_update, websocket_status, clock_sync. (boot_status and service_status updates are
// consumed without action.)

extension CsParametersRequest: RequestHandling {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        context.respond(await context.station.parameters())
    }
}

extension CsStatusAndLimitsRequest: ImmediateAnswering {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        Self.answer(await context.station.statusAndLimits(), in: context)
    }

    /// From what the station published after its last operation (`Station.published`).
    static func answerAtOnce(in context: HandlerContext) -> Answer {
        answer(context.station.published.statusAndLimits, in: context)
    }

    private static func answer(_ snapshot: CsStatusAndLimits, in context: HandlerContext) -> Answer {
        guard let prepared = context.statusAndLimits.prepared(for: snapshot, logger: context.logger) else { return .none }
        return .respondPrepared(prepared)
    }
}

extension DeviceModelRequest: RequestHandling {
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        context.respond(await Self.deviceModel(context))
    }

    /// The station's identity, its EVSEs as OCPP sees them, and the declared configuration keys.
    static func deviceModel(_ context: HandlerContext) async -> DeviceModelResponse {
        let configuration = await context.station.configuration
        let identity = context.ocpp()
        if !identity.configured {
            context.logger.notice("device_model answered from defaults: add an ocpp block to the configuration")
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
        let components = context.deviceModel?.components() ?? []
        return DeviceModelResponse(
            model: configuration.identity.model, vendor: configuration.identity.vendor, identity: identity.identity,
            ocppCSMSURL: identity.csmsURL, securityProfile: identity.securityProfile, basicAuthPassword: identity.basicAuthPassword,
            serialNumber: configuration.identity.serialNumber, firmwareVersion: configuration.identity.firmwareVersion,
            ocppVersion: identity.ocppVersion, evses: evses, components: components.isEmpty ? nil : components)
    }
}

extension DeviceModelUpdate: UpdateHandling {
    /// A value Josev set (from the back office) reaches the device-model store.
    func consume(in context: HandlerContext, _ message: IncomingMessage) async {
        context.deviceModel?.consume(self)
    }
}

extension WebsocketStatus: UpdateHandling, ResponseHandling {
    func consume(in context: HandlerContext, _ message: IncomingMessage) async { apply(context) }

    func consume(in context: HandlerContext, answering pending: PendingRequest) async { apply(context) }

    /// Whether OCPP reaches the back office (Modbus 1104).
    private func apply(_ context: HandlerContext) {
        context.logger.info("OCPP websocket \(status.rawValue)")
        context.ocppConnected(status == .connected)
    }
}

extension ClockSyncUpdate: UpdateHandling {
    func consume(in context: HandlerContext, _ message: IncomingMessage) async {
        context.logger.info("clock_sync: OCPP time is \(currentTime) (the host clock is left to the system's time service)")
    }
}

/// Josev asks for `cs_status_and_limits` far more often than the station's status and limits
/// change, and encoding the typed answer was the costliest step of answering it (42 000 of 126 000
/// instructions, docs/PERFORMANCE.md). The data of the last answer is kept with the snapshot it was
/// encoded from and reused while the snapshot is equal, serialized once; the first whole answer
/// carrying it is validated against its schema before it is published (`PreparedAnswer`).
final class EncodedStatusAndLimits: Sendable {
    private let last = Mutex<(snapshot: CsStatusAndLimits, prepared: PreparedAnswer)?>(nil)

    func prepared(for snapshot: CsStatusAndLimits, logger: Logger) -> PreparedAnswer? {
        if let hit = last.withLock({ $0 }), hit.snapshot == snapshot { return hit.prepared }
        let prepared: PreparedAnswer
        do {
            prepared = PreparedAnswer(data: try snapshot.encodedData())
        } catch {
            logger.error("cannot encode cs_status_and_limits: \(error)")
            return nil
        }
        last.withLock { $0 = (snapshot, prepared) }
        return prepared
    }
}
