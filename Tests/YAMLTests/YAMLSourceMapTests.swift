import JSONSchema
import Testing
import YAML

let stationConfig = """
    # cs-companiond configuration for one AC double charger
    log_level: info

    broker:
      host: 127.0.0.1
      port: 1883
      client_id: "cs-companion-01"
      tls: false
      keepalive: 30

    connector_defaults: &ac22
      type: sType2
      phases: 3
      max_current: 32.0

    evses:
      - id: 1
        serial: "SN-0001"
        connectors:
          - id: 1
            <<: *ac22
          - id: 2
            <<: *ac22
            max_current: 16
      - id: 2
        serial: 'SN-0002'
        connectors: [{id: 1, type: cType2, phases: 1, max_current: 20}]

    modbus:
      bind: 0.0.0.0
      port: 1502
      unit_ids: [1, 2, 200]
      allow: ~
    """

@Suite("YAML source map")
struct YAMLSourceMapTests {
    @Test func realisticStationConfig() throws {
        let document = try YAMLDocument.parse(stationConfig)
        let value = document.value
        #expect(value["log_level"] == "info")
        #expect(value["broker"] == ["host": "127.0.0.1", "port": 1883, "client_id": "cs-companion-01", "tls": false, "keepalive": 30])
        #expect(value["evses"]?.arrayValue?.count == 2)
        let connectors = try #require(value["evses"]?.arrayValue?.first?["connectors"]?.arrayValue)
        #expect(connectors[0] == ["id": 1, "type": "sType2", "phases": 3, "max_current": 32])
        #expect(connectors[1] == ["id": 2, "type": "sType2", "phases": 3, "max_current": 16])
        #expect(value["evses"]?.arrayValue?[1]["connectors"] == [["id": 1, "type": "cType2", "phases": 1, "max_current": 20]])
        #expect(value["evses"]?.arrayValue?[1]["serial"] == "SN-0002")
        #expect(value["modbus"]?["unit_ids"] == [1, 2, 200])
        #expect(value["modbus"]?["allow"] == .null)
        #expect(value["modbus"]?["bind"] == "0.0.0.0")
    }

    @Test func linesOfNestedKeysAndListItems() throws {
        let map = try YAMLDocument.parse(stationConfig).sourceMap
        func at(_ pointer: String) -> String? { map.location(of: pointer)?.description }

        #expect(at("") == "2:1")
        #expect(at("/log_level") == "2:12")
        #expect(map.keyLocation(of: "/log_level") == .init(line: 2, column: 1))
        #expect(at("/broker") == "4:1")  // a collection points at its key
        #expect(map.valueLocation(of: "/broker") == .init(line: 5, column: 3))
        #expect(at("/broker/port") == "6:9")
        #expect(at("/broker/client_id") == "7:14")
        #expect(at("/evses") == "16:1")
        #expect(at("/evses/0") == "17:5")  // a list item points at its first key
        #expect(at("/evses/0/serial") == "18:13")
        #expect(at("/evses/0/connectors/1") == "22:9")
        #expect(at("/evses/0/connectors/1/id") == "22:13")
        #expect(at("/evses/0/connectors/1/max_current") == "24:22")
        // Merged members point at the merge value.
        #expect(at("/evses/0/connectors/1/phases") == "23:13")
        #expect(at("/evses/1/connectors/0/max_current") == "27:64")
        #expect(at("/modbus/unit_ids/2") == "32:20")
        #expect(at("/modbus/allow") == "33:10")
        #expect(at("/nope") == nil)
    }

    @Test func nearestParentForMissingPointers() throws {
        let map = try YAMLDocument.parse(stationConfig).sourceMap
        let missing = map.nearestLocation(of: "/evses/1/connectors/0/phase_rotation")
        #expect(missing.pointer == "/evses/1/connectors/0")
        #expect(missing.location == .init(line: 27, column: 18))
        #expect(map.nearestLocation(of: "/broker/tls_ca").pointer == "/broker")
        #expect(map.nearestLocation(of: "/a/b/c").pointer == "")
        #expect(
            map.diagnostic(file: "cs-companiond.yaml", pointer: "/evses/0/connectors/1/max_current", message: "must be at most 63")
                == "cs-companiond.yaml:24:22: /evses/0/connectors/1/max_current: must be at most 63")
        #expect(
            map.diagnostic(file: "cs-companiond.yaml", pointer: "/broker/password", message: "is required")
                == "cs-companiond.yaml:4:1: /broker/password: is required")
        #expect(map.diagnostic(file: "c.yaml", pointer: "", message: "x") == "c.yaml:2:1: /: x")
    }

    @Test func pointersInsideAliasesFallBackToTheAlias() throws {
        let map = try YAMLDocument.parse("d: &d {a: {b: 1}}\nuse: *d\n").sourceMap
        #expect(map.location(of: "/use") == .init(line: 2, column: 6))
        #expect(map.location(of: "/use/a/b") == nil)
        #expect(map.nearestLocation(of: "/use/a/b").pointer == "/use")
    }

    @Test func escapedPointerTokens() throws {
        let document = try YAMLDocument.parse("\"a/b\": 1\n\"m~n\": 2\n")
        #expect(document.sourceMap.location(of: "/a~1b") == .init(line: 1, column: 8))
        #expect(document.sourceMap.location(of: "/m~0n") == .init(line: 2, column: 8))
        #expect(YAMLSourceMap.escape("x/y~z") == "x~1y~0z")
    }

    @Test func pointersAreListedInTextOrder() throws {
        let map = try YAMLDocument.parse("b: 1\na: [x, y]\n").sourceMap
        #expect(map.pointers == ["", "/b", "/a", "/a/0", "/a/1"])
    }

    @Test func emptyValueLocation() throws {
        let map = try YAMLDocument.parse("a:\nb: 2\n").sourceMap
        let location = try #require(map.location(of: "/a"))
        #expect(location.line == 1 || location.line == 2)
    }
}
