// The charging sessions of contract §4 as step lists. To add a step, add a line: `.update`,
// `.request` (with checks on the answer), `.expect` (a CS message), `.control` (the EV/driver via
// the control socket) or `Step(label:action: .wait(s))`. `.ev()` marks steps that need the EV.
import JSONSchema

enum Scenario: String, CaseIterable, Sendable {
    case acEIM = "ac-eim"
    case acBasic = "ac-basic"
    case dc
    case reservation
    case backOffice = "back-office"

    /// The steps; `backOffice` only matters to the back-office scenario (BackOfficeScenario.swift).
    func steps(_ backOffice: BackOfficeInputs = BackOfficeInputs()) -> [Step] {
        switch self {
        case .acEIM: Self.startup(power: "ac") + Self.acEIMSession
        case .acBasic: Self.startup(power: "ac") + Self.acBasicSession
        case .dc: Self.startup(power: "dc") + Self.dcSession
        case .reservation: Self.startup(power: "ac") + Self.reservationSession
        case .backOffice: Self.startup(power: "ac") + Self.backOffice(backOffice)
        }
    }

    // MARK: Building blocks

    static let evse: JSONValue = "$evse"

    static func stateInfo(_ status: String, _ info: JSONObject? = nil) -> Step {
        var data: JSONObject = ["evse_id": evse, "session_status": .string(status)]
        if let info { data["info"] = .object(info) }
        return .update("iso15118_state_info", data, "iso15118_state_info \(status)")
    }

    static func slac(_ status: String) -> Step {
        .update("slac_status", ["evse_id": evse, "run_id": "$run", "status": .string(status)], "slac_status \(status)")
    }

    static func transaction(_ status: String) -> Step {
        .update(
            "transaction_status",
            ["transaction_id": "$tx", "evse_id": evse, "status": .string(status), "id_token": "$uid", "token_type": "ISO14443"],
            "transaction_status \(status)")
    }

    static func cpStatus(_ label: String, _ states: [JSONValue], since: String? = nil) -> Step {
        .expect(label, [Expectation("cp_status", .update, [.equals("evse_id", evse), .oneOf("state", states)])], since: since)
    }

    static func contactorUpdate(_ status: String, _ label: String) -> Step {
        .expect(label, [Expectation("cs_contactor_status", .update, [.equals("evse_id", evse), .equals("status", .string(status))])])
    }

    static func contactorRequest(_ status: String, _ label: String) -> Step {
        .request("cs_contactor_status", ["evse_id": evse], [.equals("evse_id", evse), .equals("status", .string(status))], label)
    }

    /// The contactor check of PowerDelivery / CableCheck: closed with the EV in C2, still opened without one.
    static func contactorMustBeClosed() -> [Step] {
        [
            contactorUpdate("closed", "CS closes the contactor → cs_contactor_status update closed").ev(),
            contactorRequest("closed", "cs_contactor_status request → closed (within 3 s)").ev(),
            contactorRequest("opened", "cs_contactor_status request → opened (no EV in C2, so it must stay open)").noEV(),
        ]
    }

    static func contactorMustOpen(after cause: String) -> [Step] {
        [
            contactorUpdate("opened", "CS opens the contactor after \(cause) → cs_contactor_status update opened").ev(),
            contactorRequest("opened", "cs_contactor_status request → opened"),
        ]
    }

    static let plug: [Step] = [
        Step.control("⚡ EV plugs in", ["command": "plug", "evse_id": evse, "connector_id": "$connector"]).marked("plug"),
        cpStatus("CS reports CP state B (cp_status B1/B2)", ["B1", "B2"]).ev(),
    ]

    static let hlcPWM: [Step] = [
        .request(
            "cp_pwm", ["evse_id": evse, "hlc": true, "error_state": false, "fault_state": false],
            [.equals("evse_id", evse), .equals("status", "valid")], "cp_pwm request hlc:true (5 %) → valid"),
        cpStatus("CS reports 5 % PWM on (cp_status B2 since the plug-in)", ["B2"], since: "plug").ev().reusing(),
    ]

    static let card: [Step] = [
        Step.control("⚡ driver presents the RFID card", ["command": "rfid", "evse_id": evse, "uid": "$uid"]),
        .expect(
            "CS asks Josev about the card (authorization request) or accepts it locally (authorization update accepted)",
            [
                Expectation("authorization", .request, [.equals("id_token", "$uid")]),
                Expectation("authorization", .update, [.equals("evse_id", evse), .equals("id_token", "$uid"), .equals("status", "accepted")]),
            ], within: 5
        ).ev(),
    ]

    static let evDraws: [Step] = [
        Step.control("⚡ EV asks for power", ["command": "ev", "evse_id": evse, "max_current": "$ev_current"]).marked("ev"),
        cpStatus("CS reports CP C2 (cp_status C2)", ["C2"]).ev(),
    ]

    static let unplug: [Step] = [
        Step.control("⚡ EV stops asking for power", ["command": "ev", "evse_id": evse, "stop": true]),
        // The CP may be back at B before the EV stops: the station turns the PWM off on a remote stop.
        cpStatus("CS reports CP back to B (cp_status B1/B2 since the stop)", ["B1", "B2"], since: "stop").ev().reusing(),
        Step.control("⚡ EV unplugs", ["command": "unplug", "evse_id": evse]),
        cpStatus("CS reports CP A (cp_status A1/A2)", ["A1", "A2"]).ev(),
    ]

    static let meterRequest = Step.request(
        "meter_values", ["evse_id": evse, "timestamp": "$now"], [], "meter_values request → response")

    // MARK: §4.1 start-up

    static func startup(power: String) -> [Step] {
        ["slac", "iso15118", "ocpp"].map { service in
            Step.update(
                "service_status",
                ["service": .string(service), "software_version": "josev-sim", "api_version": "3.10.0", "status": "ready"],
                "service_status \(service) ready")
        } + [
            .request(
                "cs_parameters", [:], [.present("sw_version"), .listsEVSE("parameters"), .present("parameters[$evse].connectors")],
                "cs_parameters request → response listing the EVSE"),
            .request(
                "cs_status_and_limits", [:],
                [.listsEVSE("evses"), .present("evses[$evse].status_code"), .present("evses[$evse].\(power)")],
                "cs_status_and_limits request → response with the EVSE's \(power) limits"),
            .request(
                "device_model", [:], [.present("identity"), .listsEVSE("evses", key: "iso15118_id")],
                "device_model request → response mapping the EVSE"),
        ]
    }

    /// ISO 15118-2 with EIM, AC or DC alike: plug-in, SLAC, the session up to the card and the
    /// transaction, then ChargeParameterDiscovery.
    static let hlcEIMUntilChargeParameters: [Step] =
        plug + hlcPWM + [
            slac("matching"), slac("matched"),
            stateInfo("SupportedAppProtocol", ["protocol": "ISO_15118_2"]),
            stateInfo("SessionSetup"), stateInfo("ServiceDiscovery"), stateInfo("ServiceSelection"),
            stateInfo("Authorization", ["selected_payment_option": "EIM"]),
        ] + card + [
            transaction("started"),
            stateInfo("ChargeParameterDiscovery"),
        ]

    // MARK: §4.2 AC, ISO 15118-2, EIM

    static let acEIMSession: [Step] =
        hlcEIMUntilChargeParameters + [
            .update("ev_rated_limits", ["evse_id": evse, "ac_rated_limits": ["max_current": 32.0, "min_current": 6.0, "max_voltage": 400.0]]),
            .request(
                "cs_status_and_limits", [:], [.present("evses[$evse].ac.max_current"), .equals("evses[$evse].status_code", "evse_ready")],
                "cs_status_and_limits request → evse_ready with ac limits"),
            stateInfo("PowerDelivery"),
            .update("hlc_charging", ["evse_id": evse, "status": true], "hlc_charging true (PowerDelivery start)"),
        ] + evDraws + contactorMustBeClosed() + [
            stateInfo("ChargingLoop"),
            meterRequest,
            .expect("CS pushes meter_values updates while charging", [Expectation("meter_values", .update, [.equals("evse_id", evse)])], within: 3)
                .ev().soft(),
            .update("display_params", ["evse_id": evse, "present_soc": 42, "target_soc": 80, "remaining_time_to_target_soc": 3600]),
            transaction("in_progress"),
            Step(label: "charging for 1 s", action: .wait(1)),
            stateInfo("PowerDelivery"),
            .update("hlc_charging", ["evse_id": evse, "status": false], "hlc_charging false (PowerDelivery stop)").marked("stop"),
        ] + contactorMustOpen(after: "hlc_charging false") + [
            stateInfo("SessionStop", ["stop_action": "Terminate"]),
            transaction("ended"),
        ] + unplug + [slac("unmatched")]

    // MARK: §4.5 basic charging fallback and remote stop

    static let acBasicSession: [Step] =
        plug + hlcPWM + [
            slac("matching"),
            slac("basic_charging"),
            .request(
                "cp_pwm", ["evse_id": evse, "hlc": false, "current": "$ev_current", "error_state": false, "fault_state": false],
                [.equals("evse_id", evse), .equals("status", "valid")], "cp_pwm request hlc:false current (nominal duty cycle) → valid"),
        ] + card + [transaction("started")] + evDraws + contactorMustBeClosed() + [
            meterRequest,
            transaction("in_progress"),
            Step(label: "charging for 1 s", action: .wait(1)),
            .request(
                "stop_charging", ["evse_id": evse], [.equals("evse_id", evse), .equals("status", "accepted")],
                "stop_charging request (remote stop, no HLC) → accepted").marked("stop"),
        ] + contactorMustOpen(after: "stop_charging") + [transaction("ended")] + unplug

    // MARK: Back office: a reservation (OCPP ReserveNow) used by its driver, then one cancelled

    static func connectorStatus(_ status: String) -> Step {
        .update(
            "connector_and_charging", ["evse_id": evse, "connector_id": "$connector", "connector_status": .string(status)],
            "connector_and_charging \(status) (OCPP connector status from the back office)")
    }

    /// A reserved connector: the EV plugged in charges only after Josev authorized the driver (free
    /// vend and the station's local cards do not open it); the reservation ends when Josev reports
    /// the connector occupied, and a cancelled one when it reports it available.
    static let reservationSession: [Step] =
        [
            connectorStatus("reserved"),
            .request(
                "cs_status_and_limits", [:], [.equals("evses[$evse].status_code", "evse_ready")],
                "cs_status_and_limits → evse_ready (the reservation's driver may still come)"),
        ] + plug + [
            slac("matching"),
            slac("basic_charging"),
            .request(
                "cp_pwm", ["evse_id": evse, "hlc": false, "current": "$ev_current", "error_state": false, "fault_state": false],
                [.equals("evse_id", evse), .equals("status", "valid")], "cp_pwm request hlc:false current → valid"),
        ] + evDraws + [
            contactorRequest("opened", "cs_contactor_status request → opened (reserved: the plug-in waits for authorization)").ev(),
            Step.control("⚡ driver presents the RFID card", ["command": "rfid", "evse_id": evse, "uid": "$uid"]),
            .expect(
                "CS asks Josev about the card (authorization request: only OCPP knows the reservation's driver)",
                [Expectation("authorization", .request, [.equals("id_token", "$uid")])], within: 5
            ).ev(),
        ] + contactorMustBeClosed() + [
            connectorStatus("occupied"),
            transaction("started"),
            Step(label: "charging for 1 s", action: .wait(1)),
            .request(
                "stop_charging", ["evse_id": evse], [.equals("evse_id", evse), .equals("status", "accepted")],
                "stop_charging request → accepted").marked("stop"),
        ] + contactorMustOpen(after: "stop_charging") + [transaction("ended")] + unplug + [
            connectorStatus("available"),
            connectorStatus("reserved"),
            connectorStatus("available"),
            .request(
                "cs_status_and_limits", [:], [.equals("evses[$evse].status_code", "evse_ready")],
                "cs_status_and_limits → evse_ready after the cancellation"),
        ]

    // MARK: §4.3 DC

    static let dcSession: [Step] =
        hlcEIMUntilChargeParameters + [
            .update(
                "ev_rated_limits",
                ["evse_id": evse, "dc_rated_limits": ["max_voltage": 450.0, "max_charge_current": 125.0, "max_charge_power": 50000.0, "target_soc": 80]]),
            .request(
                "cs_status_and_limits", [:], [.present("evses[$evse].dc.max_voltage"), .equals("evses[$evse].status_code", "evse_ready")],
                "cs_status_and_limits request → evse_ready with dc limits"),
        ] + evDraws + [
            stateInfo("CableCheck"),
            .request(
                "cable_check", ["evse_id": evse, "cable_check_action": "start"],
                [.equals("evse_id", evse), .oneOf("cable_check_status", ["ongoing", "finished"])], "cable_check start → ongoing"),
        ] + contactorMustBeClosed() + [
            Step(
                label: "cable_check status until finished with isolation valid/warning",
                action: .poll(
                    "cable_check", ["evse_id": evse, "cable_check_action": "status"], until: [.equals("cable_check_status", "finished")],
                    then: [.oneOf("isolation_level", ["valid", "warning"])], every: 0.5, attempts: 30)
            ).ev(),
            stateInfo("PreCharge"),
            .request(
                "power_electronics_setpoint",
                ["evse_id": evse, "ev_limits": ["maximum_voltage": 450.0, "minimum_voltage": 200.0], "is_precharge": true,
                 "dc": ["voltage": 400.0, "charge_current": 2.0]],
                [.equals("evse_id", evse), .equals("status", "accepted")], "power_electronics_setpoint PreCharge 400 V / 2 A → accepted"),
            .request(
                "cs_status_and_limits", [:], [.present("evses[$evse].dc.present_voltage")], "cs_status_and_limits → dc present values"),
            stateInfo("PowerDelivery"),
            .update("hlc_charging", ["evse_id": evse, "status": true], "hlc_charging true (PowerDelivery start)"),
            stateInfo("ChargingLoop"),
            .request(
                "power_electronics_setpoint",
                ["evse_id": evse, "ev_limits": ["maximum_voltage": 450.0, "minimum_voltage": 200.0], "is_precharge": false,
                 "dc": ["voltage": 400.0, "charge_current": 50.0]],
                [.equals("evse_id", evse), .equals("status", "accepted")], "power_electronics_setpoint CurrentDemand 400 V / 50 A → accepted"),
            .request(
                "cs_status_and_limits", [:], [.present("evses[$evse].dc.present_current")], "cs_status_and_limits → dc present values"),
            meterRequest,
            .update("display_params", ["evse_id": evse, "present_soc": 42, "target_soc": 80]),
            transaction("in_progress"),
            Step(label: "charging for 1 s", action: .wait(1)),
            stateInfo("PowerDelivery"),
            .update("hlc_charging", ["evse_id": evse, "status": false], "hlc_charging false (PowerDelivery stop)").marked("stop"),
        ] + contactorMustOpen(after: "hlc_charging false") + [
            stateInfo("WeldingDetection"),
            .request("cs_status_and_limits", [:], [.present("evses[$evse].dc.present_voltage")], "cs_status_and_limits (welding detection)"),
            stateInfo("SessionStop", ["stop_action": "Terminate"]),
            transaction("ended"),
        ] + unplug + [slac("unmatched")]
}
