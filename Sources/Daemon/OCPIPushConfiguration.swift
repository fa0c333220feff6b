import JSONSchema
import Store

/// The `ocpi:` block: pushing the station's sessions to an eMSP's OCPI 2.2.1 Sessions receiver
/// interface (off by default). Secrets are file names looked up in `$CREDENTIALS_DIRECTORY`, or
/// absolute paths; they are read when a push is sent, never logged.
public struct OCPIPushConfiguration: Sendable, Equatable {
    /// How the eMSP is authenticated to.
    public enum Authentication: Sendable, Equatable {
        /// OCPI's `Authorization: Token <token>` (the token in `tokenFile`).
        case token(tokenFile: String)
        /// OAuth2 client credentials: a bearer token from `tokenURL`, cached until it expires.
        case oauth2(tokenURL: String, clientID: String, clientSecretFile: String, scope: String?)
    }

    public var push = false
    /// `…/ocpi/2.2.1`: sessions go to `{base}/sessions/{country_code}/{party_id}/{session_id}`.
    public var baseURL: String
    public var parameters: OCPIParameters
    public var authentication: Authentication
    /// An extra `ApiKey` header (some platforms ask for one beside OAuth2).
    public var apiKeyFile: String?
    /// Seconds between PATCHes of a running session at most (a new period pushes at once).
    public var updateInterval: Double = 300
    /// A CA file for the eMSP's certificate (tests, private CAs).
    public var caFile: String?
}

extension ConfigLoader {
    /// Reads the `ocpi:` block (already schema-checked) and checks what the schema cannot: the
    /// identifiers, `http://` only to loopback, a credentials directory for relative secret names.
    static func decodeOCPI(
        _ block: JSONValue?, credentialsDirectory: String?, problems: inout [ConfigProblem], located: (String, String) -> ConfigProblem
    ) -> OCPIPushConfiguration? {
        guard let block else { return nil }
        func secret(_ value: JSONValue?, _ pointer: String) -> String? {
            guard let name = value?.stringValue else { return nil }
            if name.hasPrefix("/") { return name }
            let bare = name.hasPrefix(credentialsPrefix) ? String(name.dropFirst(credentialsPrefix.count)) : name
            guard let credentialsDirectory else {
                problems.append(located(pointer, "\(name) is not an absolute path and $CREDENTIALS_DIRECTORY is not set (add LoadCredential= to the unit)"))
                return nil
            }
            return credentialsDirectory + "/" + bare
        }
        let baseURL = block["base_url"]?.stringValue ?? ""
        let lower = baseURL.lowercased()
        if lower.hasPrefix("http://") {
            let authority = lower.dropFirst("http://".count).prefix { $0 != "/" }
            let host = authority.hasPrefix("[") ? authority.prefix { $0 != "]" } + "]" : authority.prefix { $0 != ":" }
            if !(host == "127.0.0.1" || host == "localhost" || host == "[::1]") {
                problems.append(located("/ocpi/base_url", "http:// only to loopback (127.0.0.1, [::1], localhost); use https://"))
            }
        } else if !lower.hasPrefix("https://") {
            problems.append(located("/ocpi/base_url", "must start with https://"))
        }
        let parameters = OCPIParameters(
            countryCode: block["country_code"]?.stringValue ?? "", partyID: block["party_id"]?.stringValue ?? "",
            locationID: block["location_id"]?.stringValue ?? "", currency: block["currency"]?.stringValue ?? "")
        for problem in parameters.problems() { problems.append(located("/ocpi", problem)) }
        let authentication: OCPIPushConfiguration.Authentication
        if let oauth = block["oauth2"] {
            authentication = .oauth2(
                tokenURL: oauth["token_url"]?.stringValue ?? "", clientID: oauth["client_id"]?.stringValue ?? "",
                clientSecretFile: secret(oauth["client_secret_file"], "/ocpi/oauth2/client_secret_file") ?? "",
                scope: oauth["scope"]?.stringValue)
        } else {
            authentication = .token(tokenFile: secret(block["token_file"], "/ocpi/token_file") ?? "")
        }
        var configuration = OCPIPushConfiguration(
            push: block["push"]?.boolValue ?? false, baseURL: baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL,
            parameters: parameters, authentication: authentication, apiKeyFile: secret(block["api_key_file"], "/ocpi/api_key_file"))
        if let interval = block["update_interval"]?.numberValue { configuration.updateInterval = interval }
        configuration.caFile = block["ca_file"]?.stringValue
        return configuration
    }
}
