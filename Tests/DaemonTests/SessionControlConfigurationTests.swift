import Daemon
import Station
import Testing
import TestSupport

/// The keys of issue 16, points 1–3: `authorization.connection_timeout` and the EV-side
/// disconnect keys, `evses[].connectors[].socket`, the `reset:` block; and what `--check-config`
/// (the same loader) refuses. Part of the suite "configuration file" (its loader and `problems`).
extension ConfigurationTests {
    static func station(connector: String) -> String {
        stationConfigYAML(port: 1884).replacing("        connector_type: AC_three_phase_core\n", with: "        connector_type: AC_three_phase_core\n\(connector)")
    }

    @Test("the keys decode into the station's policy and the reset commands")
    func keysDecode() throws {
        let yaml = Self.station(connector: "        socket: true\n") + """

            authorization:
              connection_timeout: 120
              stop_transaction_on_ev_side_disconnect: false
              unlock_connector_on_ev_side_disconnect: false
            reset:
              command: ["/bin/true"]
              evse_command: ["/bin/echo", "{evse_id}"]
              timeout: 30
            """
        let configuration = try loader.load(text: yaml, file: "t.yaml")
        #expect(configuration.station.evses[0].connectors[0].socket)
        #expect(configuration.station.evses[1].connectors[0].socket == false)
        var policy = StationPolicy()
        configuration.sessionControl.apply(to: &policy)
        #expect(policy.connectionTimeout == .seconds(120))
        #expect(policy.stopTransactionOnEVSideDisconnect == false)
        #expect(policy.unlockConnectorOnEVSideDisconnect == false)
        #expect(configuration.sessionControl.reset.command == ["/bin/true"])
        #expect(configuration.sessionControl.reset.evseCommand == ["/bin/echo", "{evse_id}"])
        #expect(configuration.sessionControl.reset.timeout == 30)

        let defaults = try loader.load(text: stationConfigYAML(port: 1884), file: "t.yaml")
        var standard = StationPolicy()
        defaults.sessionControl.apply(to: &standard)
        #expect(standard.connectionTimeout == .seconds(300))
        #expect(standard.stopTransactionOnEVSideDisconnect && standard.unlockConnectorOnEVSideDisconnect)
        #expect(defaults.sessionControl.reset.command == nil)
        #expect(defaults.station.evses[0].connectors[0].socket == false, "tethered unless said otherwise")
    }

    @Test("ocpp_connector_type decides socket or cable when socket is not given; a contradiction is refused")
    func socketFromConnectorType() throws {
        let socket = try loader.load(text: Self.station(connector: "        ocpp_connector_type: sType2\n"), file: "t.yaml")
        #expect(socket.station.evses[0].connectors[0].socket)
        let cable = try loader.load(text: Self.station(connector: "        ocpp_connector_type: cType2\n"), file: "t.yaml")
        #expect(cable.station.evses[0].connectors[0].socket == false)
        let found = problems(Self.station(connector: "        ocpp_connector_type: cType2\n        socket: true\n"))
        #expect(found.map(\.keyPath) == ["evses[0].connectors[0].socket"], "\(found)")
    }

    @Test("--check-config refuses a reset command that is not executable and a negative connection timeout")
    func refused() {
        let command = problems(stationConfigYAML(port: 1884) + "\nreset:\n  command: [\"/nonexistent/reboot\"]\n")
        #expect(command.map(\.keyPath) == ["reset.command[0]"], "\(command)")
        let timeout = problems(stationConfigYAML(port: 1884) + "\nauthorization:\n  connection_timeout: -5\n")
        #expect(timeout.map(\.keyPath) == ["authorization.connection_timeout"], "\(timeout)")
        let unknown = problems(stationConfigYAML(port: 1884) + "\nreset:\n  commands: [\"/bin/true\"]\n")
        #expect(!unknown.isEmpty)
    }

    @Test("the example configuration declares the variables the station honours")
    func exampleDeclares() throws {
        let configuration = try loader.load(file: Repository.exampleConfig)
        let declared = configuration.deviceModel.variables.map { "\($0.key.component).\($0.key.variable)" }
        #expect(declared.contains("TxCtrlr.EVConnectionTimeOut"))
        #expect(declared.contains("TxCtrlr.StopTxOnEVSideDisconnect"))
        #expect(configuration.sessionControl.connectionTimeout == 300)
    }
}
