/// The test station's identity and its broker on loopback (`port`), the start of every test
/// configuration; `extraMQTT` goes on inside the `mqtt` block.
public func stationAndBrokerYAML(port: Int, extraMQTT: String = "") -> String {
    """
    station:
      serial_number: "TEST-0001"
      vendor: "Test Vendor"
      model: "Test Model"
      firmware_version: "9.8.7"
      hardware_version: "R2"
    mqtt:
      host: 127.0.0.1
      port: \(port)
      client_id: cs-under-test
      keepalive: 10
      reconnect:
        initial_delay: 0.2
        max_delay: 1
    \(extraMQTT)

    """
}

/// A station configuration for tests: one three-phase AC EVSE and one DC EVSE (with BPT).
public func stationConfigYAML(port: Int, acMaxCurrent: Int = 32, extraMQTT: String = "", logLevel: String = "debug") -> String {
    stationAndBrokerYAML(port: port, extraMQTT: extraMQTT) + """
    evses:
      - evse_id: "DE*TST*E0001*1"
        network_interface: eth1
        supports_eim: true
        ac:
          nominal_voltage: 230
          max_current: \(acMaxCurrent)
          phases: 3
        connectors:
          - id: 1
            connector_type: AC_three_phase_core
            control_mode: dynamic
      - evse_id: "DE*TST*E0001*2"
        network_interface: eth2
        supports_eim: false
        dc:
          max_current: 200
          min_current: 0
          max_voltage: 920
          min_voltage: 150
          max_power: 150000
          peak_current_ripple: 2
          current_reg_tolerance: 1
        dc_bpt:
          max_discharge_power: 50000
          max_discharge_current: 100
          bpt_channel: unified
        connectors:
          - id: 1
            connector_type: DC_extended
            control_mode: scheduled
    log_level: \(logLevel)
    """
}

