import BackOffice
import Basics
import JSONSchema
import Synchronization

/// The headers that authenticate the station to the eMSP: OCPI's `Authorization: Token <base64>`
/// or an OAuth2 bearer token (client credentials, fetched from the token URL, cached until a minute
/// before it expires), plus the optional `ApiKey`. Secrets are read from their files at each use
/// (a rotated credential needs no restart) and never logged.
final class OCPIAuthorization: Sendable {
    enum Failure: Error, CustomStringConvertible {
        case secret(String, String)
        case tokenEndpoint(String)

        var description: String {
            switch self {
            case .secret(let path, let reason): "cannot read the secret \(path): \(reason)"
            case .tokenEndpoint(let reason): "OAuth2 token endpoint: \(reason)"
            }
        }
    }

    let configuration: OCPIPushConfiguration
    let time: any TimeSource
    let options: TransferOptions
    /// The cached bearer token and when it must be renewed (monotonic).
    private let cached = Mutex<(token: String, renewAt: ContinuousClock.Instant)?>(nil)

    init(configuration: OCPIPushConfiguration, time: any TimeSource, options: TransferOptions) {
        self.configuration = configuration
        self.time = time
        self.options = options
    }

    /// The authentication headers for one request.
    func headers() async throws(Failure) -> [String] {
        var headers: [String] = []
        switch configuration.authentication {
        case .token(let file):
            headers.append("Authorization: Token " + HTTPExchange.base64(Array(try Self.secret(file).utf8)))
        case .oauth2:
            headers.append("Authorization: Bearer " + (try await bearer()))
        }
        if let file = configuration.apiKeyFile { headers.append("ApiKey: " + (try Self.secret(file))) }
        return headers
    }

    /// The eMSP refused the token (HTTP 401): the next request fetches a new one.
    func invalidate() { cached.withLock { $0 = nil } }

    private func bearer() async throws(Failure) -> String {
        let now = time.monotonic()
        if let cached = cached.withLock({ $0 }), now < cached.renewAt { return cached.token }
        guard case .oauth2(let url, let clientID, let secretFile, let scope) = configuration.authentication else { return "" }
        var form = "grant_type=client_credentials&client_id=" + Self.formEncoded(clientID)
        form += "&client_secret=" + Self.formEncoded(try Self.secret(secretFile))
        if let scope { form += "&scope=" + Self.formEncoded(scope) }
        let response: HTTPExchange.Response
        do {
            response = try await HTTPExchange.send(
                "POST", url: url, headers: ["Content-Type: application/x-www-form-urlencoded", "Accept: application/json"],
                body: Array(form.utf8), options: options)
        } catch {
            throw .tokenEndpoint("\(error)")
        }
        guard response.status == 200, let json = try? JSONValue.parse(response.body), let token = json["access_token"]?.stringValue,
            !token.isEmpty
        else { throw .tokenEndpoint("HTTP \(response.status): \(String(response.text.prefix(200)))") }
        let lifetime = json["expires_in"]?.numberValue ?? 3600
        let renewAt = now + .seconds(max(5, lifetime - 60))
        cached.withLock { $0 = (token, renewAt) }
        return token
    }

    static func secret(_ path: String) throws(Failure) -> String {
        do {
            let text = try SystemFile.readText(path, maxBytes: 8192)
            return String(text.prefix { $0 != "\n" && $0 != "\r" })
        } catch {
            throw .secret(path, error.reason)
        }
    }

    /// `application/x-www-form-urlencoded`: unreserved characters as they are, the rest %XX.
    static func formEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
