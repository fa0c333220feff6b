/// Who may use the priority API (gridX-style): a bearer token per account, each account owning
/// systems (gridBoxes, by their UUID systemID); this gridBox is one system.
///
/// * No account configured: the API is open (a bench), as before.
/// * With accounts: every request needs `Authorization: Bearer <token>` of a configured account:
///   none, another scheme or an unknown token → 401 (`WWW-Authenticate: Bearer`); a path naming a
///   system the account does not own → 403; `/evcs-user-priorities` without a system means this
///   gridBox's system, which the account must own too.
/// * `/systems/{systemID}/…`: the id must be a UUID (else 404) and, when this gridBox's `systemID`
///   is set, that one (another system: 404); checked after 401, and the other system after 403, so a
///   stranger learns nothing about which systems exist.
public struct PriorityAccess: Sendable, Equatable {
    public struct Account: Sendable, Equatable {
        public var name: String
        public var token: String
        public var systems: Set<String>

        public init(name: String, token: String, systems: Set<String>) {
            self.name = name
            self.token = token
            self.systems = Set(systems.map { $0.lowercased() })
        }
    }

    public var accounts: [Account]
    /// This gridBox's system (lower case); nil: any UUID is accepted (open bench).
    public var systemID: String?

    public init(accounts: [Account] = [], systemID: String? = nil) {
        self.accounts = accounts
        self.systemID = systemID?.lowercased()
    }

    public static let open = PriorityAccess()

    /// Parses `NAME:TOKEN:SYSTEM[,SYSTEM…]` (gridbox-sim's `--account`).
    public static func account(_ text: String) -> Account? {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        let systems = parts[2].split(separator: ",").map(String.init)
        guard !systems.isEmpty, systems.allSatisfy(isUUID) else { return nil }
        return Account(name: parts[0], token: parts[1], systems: Set(systems))
    }

    /// nil: allowed; else the answer (401, 403 or 404). `authorization` is the header's value.
    public func check(path: String, authorization: String?) -> APIResponse? {
        let named = PriorityAPI.route(path: path)?.systemID
        if !accounts.isEmpty {
            guard let header = authorization, let token = Self.bearer(header), let account = accounts.first(where: { $0.token == token })
            else {
                var response = APIResponse.error(401, "a bearer token of a configured account is required")
                response.challenge = "Bearer realm=\"gridbox-sim\""
                return response
            }
            if let named, !Self.isUUID(named) { return .error(404, "no such system: \(named)") }
            let system = named?.lowercased() ?? systemID
            if let system, !account.systems.contains(system) {
                return .error(403, "account \(account.name) has no access to system \(system)")
            }
            if system == nil { return .error(403, "name the system: /systems/{systemID}/evcs-user-priorities") }
        }
        if let named, !Self.isUUID(named) { return .error(404, "no such system: \(named)") }
        if let named, let systemID, named.lowercased() != systemID { return .error(404, "no such system: \(named)") }
        return nil
    }

    /// The token of `Bearer <token>` (scheme case-insensitive), nil for any other header.
    static func bearer(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].drop { $0 == " " }
        return token.isEmpty ? nil : String(token)
    }

    /// 8-4-4-4-12 hexadecimal digits.
    public static func isUUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12] && groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }
}
