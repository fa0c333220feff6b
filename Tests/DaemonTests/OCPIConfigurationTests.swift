import Testing
import TestSupport

@testable import Daemon

/// The `ocpi:` block as issue 19 writes it: off by default, token or OAuth2, http only to loopback.
@Suite("ocpi configuration")
struct OCPIConfigurationTests {
    static func load(_ block: String) throws -> DaemonConfiguration {
        try ConfigLoader(schemaDirectory: Repository.schemas).load(text: stationConfigYAML(port: 1883) + block, file: "test.yaml")
    }

    @Test("absent: nothing is pushed; the block as written in the issue (absolute secret paths) loads")
    func asWritten() throws {
        #expect(try Self.load("").ocpi == nil)
        let configuration = try Self.load(
            """

            ocpi:
              push: true
              base_url: "https://emsp.example.com/ocpi/2.2.1"
              country_code: "DE"
              party_id: "PNX"
              location_id: "LOC1"
              currency: "EUR"
              token_file: /etc/cs/ocpi-token
              update_interval: 300

            """)
        let ocpi = try #require(configuration.ocpi)
        #expect(ocpi.push)
        #expect(ocpi.baseURL == "https://emsp.example.com/ocpi/2.2.1")
        #expect(ocpi.parameters.partyID == "PNX")
        #expect(ocpi.authentication == .token(tokenFile: "/etc/cs/ocpi-token"))
        #expect(ocpi.updateInterval == 300)
    }

    @Test("OAuth2 client credentials with an ApiKey; http:// to another host is refused; a relative secret needs $CREDENTIALS_DIRECTORY")
    func oauthAndRefusals() throws {
        let oauth = try Self.load(
            """

            ocpi:
              base_url: "http://127.0.0.1:8080/ocpi/2.2.1"
              country_code: "DE"
              party_id: "PNX"
              location_id: "LOC1"
              currency: "EUR"
              oauth2: { token_url: "http://127.0.0.1:8080/token", client_id: "station", client_secret_file: /s/secret, scope: "sessions" }
              api_key_file: /s/apikey

            """)
        #expect(oauth.ocpi?.push == false)
        #expect(oauth.ocpi?.authentication == .oauth2(tokenURL: "http://127.0.0.1:8080/token", clientID: "station", clientSecretFile: "/s/secret", scope: "sessions"))
        #expect(oauth.ocpi?.apiKeyFile == "/s/apikey")
        #expect(throws: ConfigError.self) {
            try Self.load(
                """

                ocpi:
                  base_url: "http://emsp.example.com/ocpi/2.2.1"
                  country_code: "DE"
                  party_id: "PNX"
                  location_id: "LOC1"
                  currency: "EUR"
                  token_file: /s/token

                """)
        }
        var problems: [ConfigProblem] = []
        let relative = ConfigLoader.decodeOCPI(
            ["base_url": "https://e.example/ocpi", "country_code": "DE", "party_id": "PNX", "location_id": "L", "currency": "EUR", "token_file": "ocpi-token"],
            credentialsDirectory: "/run/credentials/cs-companiond.service", problems: &problems, located: { ConfigProblem(pointer: $0, message: $1) })
        #expect(problems.isEmpty)
        #expect(relative?.authentication == .token(tokenFile: "/run/credentials/cs-companiond.service/ocpi-token"))
        _ = ConfigLoader.decodeOCPI(
            ["base_url": "https://e.example/ocpi", "country_code": "DE", "party_id": "PNX", "location_id": "L", "currency": "EUR", "token_file": "ocpi-token"],
            credentialsDirectory: nil, problems: &problems, located: { ConfigProblem(pointer: $0, message: $1) })
        #expect(problems.map(\.pointer) == ["/ocpi/token_file"])
    }
}
