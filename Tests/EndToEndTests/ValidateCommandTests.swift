import Foundation
import Testing
import TestSupport

@Suite("cs-companion validate")
struct ValidateCommandTests {
    func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Repository.run("cs-companion", ["validate", "--schema-dir", Repository.schemas] + arguments)
    }

    static let goodResponse = #"{"id":"3f1c2a7e-0000-4000-8000-000000000002","name":"cs_status_and_limits","type":"response","data":{"evses":[{"evse_id":"E1","status_code":"evse_ready","ac":{"max_current":{"l1":32.0,"l2":32.0,"l3":32.0},"nominal_voltage":230.0,"rcd_error":false}}]}}"#

    @Test("a valid capture exits 0 and names the schema it used")
    func valid() async throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("good.json", Self.goodResponse, permissions: 0o644)
        let result = try await run([file])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("valid (cs_status_and_limits response)"))
    }

    @Test("a mosquitto_sub -v capture with bad lines: every error with its JSON pointer, exit 1")
    func invalidLines() async throws {
        let directory = try TemporaryDirectory()
        let bad = Self.goodResponse.replacingOccurrences(of: "\"evse_ready\"", with: "\"ready\"")
        let capture = [
            "cs/josev " + Self.goodResponse,
            "cs/josev " + bad,
            #"josev/cs {"id":1,"name":"cs_parameters","type":"request","data":{}}"#,
            "cs/josev {broken",
            #"cs/josev {"id":"3f1c2a7e-0000-4000-8000-000000000002","name":"no_such_message","type":"update","data":{}}"#,
        ].joined(separator: "\n")
        let file = try directory.write("capture.txt", capture, permissions: 0o644)
        let result = try await run([file])
        #expect(result.status == 1)
        #expect(result.output.contains("capture.txt:1: valid"), "\(result.output)")
        #expect(result.output.contains("capture.txt:2: /data/evses/0/status_code:"), "\(result.output)")
        #expect(result.output.contains("capture.txt:3: /id:"), "\(result.output)")
        #expect(result.output.contains("capture.txt:4: not JSON"), "\(result.output)")
        #expect(result.output.contains("capture.txt:5: no schema for no_such_message update"), "\(result.output)")
        #expect(result.output.contains("1 valid, 4 invalid"), "\(result.output)")
    }

    @Test("--schema validates against a given schema file")
    func explicitSchema() async throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("good.json", Self.goodResponse, permissions: 0o644)
        let result = try await run(["--schema", Repository.schemas + "/cs_parameters.response.json", file])
        #expect(result.status == 1)
        #expect(result.output.contains("/name:"), "\(result.output)")
    }
}
