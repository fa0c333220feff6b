import Daemon
import Foundation
import Station
import Testing
import TestSupport

@Suite("configuration file")
struct ConfigurationTests {
    let loader: ConfigLoader

    init() throws {
        loader = try ConfigLoader(schemaDirectory: Repository.schemas)
    }

    func problems(_ yaml: String) -> [ConfigProblem] {
        do {
            _ = try loader.load(text: yaml, file: "test.yaml")
            return []
        } catch {
            return error.problems
        }
    }

    @Test("the shipped example configuration is valid")
    func exampleIsValid() throws {
        let configuration = try loader.load(file: Repository.exampleConfig)
        #expect(configuration.station.evses.count == 1)
        #expect(configuration.station.evses[0].ac?.maxCurrent == 32)
        #expect(configuration.mqtt.port == 1883)
        #expect(configuration.logLevel == .info)
    }

    @Test("the test station (AC + DC with BPT) decodes with every field")
    func testStationDecodes() throws {
        let configuration = try loader.load(text: stationConfigYAML(port: 1884), file: "t.yaml")
        let dc = try #require(configuration.station.evses[1].dc)
        #expect(dc.maxPower == 150000)
        #expect(dc.currentRegTolerance == 1)
        #expect(configuration.station.evses[1].dcBPT?.maxDischargeCurrent == 100)
        #expect(configuration.station.evses[1].dcBPT?.bptChannel == .unified)
        #expect(configuration.mqtt.reconnectInitialDelay == 0.2)
        #expect(configuration.station.identity.firmwareVersion == "9.8.7")
    }

    @Test(
        "every problem is reported with its key path and line",
        arguments: [
            // (change to the valid test config, expected key path, expected line)
            ("max_current: 32", "max_current: -1", "evses[0].ac.max_current", 22),
            ("max_current: 32", "max_current: lots", "evses[0].ac.max_current", 22),
            ("phases: 3", "phases: 2", "evses[0].ac.phases", 23),
            ("  port: 1884", "  port: 70000", "mqtt.port", 9),
            ("  vendor: \"Test Vendor\"", "  vendr: \"Test Vendor\"", "station", 1),
            ("connector_type: DC_extended", "connector_type: DC_extendet", "evses[1].connectors[0].connector_type", 45),
            ("log_level: debug", "log_level: chatty", "log_level", 47),
            ("evse_id: \"DE*TST*E0001*2\"", "evse_id: \"DE*TST*E0001*1\"", "evses[1].evse_id", 28),
            ("connector_type: AC_three_phase_core", "connector_type: DC_core", "evses[0].connectors[0].connector_type", 26),
            ("log_level: debug", "log_level: debug\nmodbus:\n  allow: [\"10.0.0.0/8\", \"999.1.1.1\"]", "modbus.allow[1]", 49),
            ("log_level: debug", "log_level: debug\nmodbus:\n  setpoint_valid_time: 5", "modbus.setpoint_valid_time", 49),
            ("log_level: debug", "log_level: debug\nocpp:\n  csms_url: ws://csms.example/ocpp\n  security_profile: 2", "ocpp.csms_url", 49),
        ])
    func problemLocation(original: String, replacement: String, keyPath: String, line: Int) throws {
        let yaml = stationConfigYAML(port: 1884).replacingOccurrences(of: original, with: replacement)
        #expect(yaml != stationConfigYAML(port: 1884), "the test's replacement did not apply")
        let found = problems(yaml)
        let problem = try #require(found.first { $0.keyPath == keyPath }, "no problem at \(keyPath) in \(found)")
        #expect(problem.line == line, "\(problem)")
    }

    @Test("a YAML syntax error names its line")
    func syntaxError() throws {
        let found = problems("station:\n  serial_number: [unclosed\nmqtt: {}\n")
        let problem = try #require(found.first)
        #expect(problem.line != nil)
    }
}
