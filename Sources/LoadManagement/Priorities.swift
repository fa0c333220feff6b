/// User priorities per connector (gridX "EVCS user priorities"): 0 is the default and is not stored.
public struct PriorityBook: Sendable, Equatable {
    public private(set) var priorities: [ConnectorID: Int] = [:]

    public init() {}

    public func priority(of id: ConnectorID) -> Int { priorities[id] ?? 0 }

    /// Sets a priority (0 removes the entry); returns the change, nil when nothing changed.
    @discardableResult
    public mutating func set(_ priority: Int, for id: ConnectorID) -> PriorityChange? {
        let old = self.priority(of: id)
        guard old != priority else { return nil }
        priorities[id] = priority == 0 ? nil : priority
        return PriorityChange(id: id, old: old, new: priority)
    }

    /// Back to the default (on unplug).
    @discardableResult
    public mutating func reset(_ id: ConnectorID) -> PriorityChange? { set(0, for: id) }

    /// Everything back to the default (DELETE).
    @discardableResult
    public mutating func resetAll() -> [PriorityChange] {
        let changes = priorities.sorted { $0.key < $1.key }.map { PriorityChange(id: $0.key, old: $0.value, new: 0) }
        priorities = [:]
        return changes
    }

    /// The non-default entries, ordered by connector.
    public var entries: [(id: ConnectorID, priority: Int)] {
        priorities.sorted { $0.key < $1.key }.map { (id: $0.key, priority: $0.value) }
    }
}

public struct PriorityChange: Sendable, Equatable, CustomStringConvertible {
    public var id: ConnectorID
    public var old: Int
    public var new: Int

    public init(id: ConnectorID, old: Int, new: Int) {
        self.id = id
        self.old = old
        self.new = new
    }

    public var description: String { "\(id) priority \(old) → \(new)" }
}

/// The connectors the priority API may address: those of the stations reachable now, plus the EVSE
/// ids gridbox-sim was told (the Alfen map has no EVSE id).
public struct ConnectorDirectory: Sendable, Equatable {
    public var known: Set<ConnectorID>
    public var evseIDs: [String: ConnectorID]

    public init(known: Set<ConnectorID> = [], evseIDs: [String: ConnectorID] = [:]) {
        self.known = known
        self.evseIDs = evseIDs
    }

    public func evseID(for id: ConnectorID) -> String? {
        evseIDs.filter { $0.value == id }.keys.sorted().first
    }
}

/// An HTTP answer: status, JSON body text (empty for 204) and, for 405, the allowed methods.
public struct APIResponse: Sendable, Equatable {
    public var status: Int
    public var body: String
    public var allow: String?
    /// For 401: the `WWW-Authenticate` challenge.
    public var challenge: String?

    public init(status: Int, body: String = "", allow: String? = nil) {
        self.status = status
        self.body = body
        self.allow = allow
    }

    static func error(_ status: Int, _ message: String, field: String? = nil) -> APIResponse {
        var members: [(String, JSONValue)] = [("error", .string(message))]
        if let field { members.append(("field", .string(field))) }
        return APIResponse(status: status, body: JSONValue.object(members).text)
    }
}

/// The local EVCS user-priority API (gridX flow, PROFILE §8.2), as a pure function.
///
/// * `PUT /evcs-user-priorities` with `{"serial_number":"…","connector":1,"priority":5}` or
///   `{"evse_id":"DE*…","priority":5}`, or a JSON array of such objects (all or nothing). Answers 200
///   with the entries as stored (an object for an object, an array for an array). Priority 0 puts the
///   connector back to the default.
/// * `GET /evcs-user-priorities`: 200, a JSON array of the non-default entries
///   `{"serial_number","connector","evse_id" (when known),"priority"}`, ordered by connector.
/// * `DELETE /evcs-user-priorities`: every priority back to 0; 204. With a body naming connectors
///   (an object or an array of objects with `serial_number` and `connector`, or `evse_id`): only
///   those, all or nothing; a body that names none (or is not valid) is an error and resets nothing.
/// * `DELETE /evcs-user-priorities/{serial_number}/{connector}`: that connector only; 204.
/// * The same under `/systems/{systemID}/evcs-user-priorities` (gridX API layout); who may use which
///   system is `PriorityAccess`'s to say, checked before this.
/// * 400 `{"error":…,"field":…}` for a bad body (field `body` when it is not a JSON object/array,
///   `[i].name` inside an array), 404 for an unknown connector or EVSE id or another path, 405 with
///   `Allow: GET, PUT, DELETE` for other methods.
public enum PriorityAPI {
    public static let path = "/evcs-user-priorities"
    public static let allowedMethods = "GET, PUT, DELETE"
    /// Accepted priorities (gridX has not published a range; OCPP 2.0.1 uses -9…9).
    public static let priorityRange = -1000...1000
    /// Socket unit ids: 1…199 (200 is the station).
    public static let connectorRange = 1...199

    /// What a request path (query ignored) names: the collection, or one connector of it, of this
    /// gridBox or of a system.
    public struct Route: Sendable, Equatable {
        public var systemID: String?
        /// `…/evcs-user-priorities/{serial_number}/{connector}`.
        public var connector: ConnectorID?
    }

    public static func route(path: String) -> Route? {
        var path = String(path.prefix { $0 != "?" && $0 != "#" })
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).map { percentDecoded(String($0)) }
        guard parts.first == "" else { return nil }
        parts.removeFirst()
        var route = Route()
        if parts.first == "systems" {
            guard parts.count >= 3, !parts[1].isEmpty else { return nil }
            route.systemID = parts[1]
            parts.removeFirst(2)
        }
        guard parts.first == "evcs-user-priorities" else { return nil }
        switch parts.count {
        case 1:
            return route
        case 3:
            guard !parts[1].isEmpty, let connector = Int(parts[2]), connectorRange.contains(connector) else { return nil }
            route.connector = ConnectorID(serial: parts[1], connector: connector)
            return route
        default:
            return nil
        }
    }

    /// Whether a request path (query ignored) is the priority resource or one of its connectors.
    public static func matches(path: String) -> Bool { route(path: path) != nil }

    public static func handle(
        method: String, path: String, body: [UInt8], book: inout PriorityBook, directory: ConnectorDirectory
    ) -> (response: APIResponse, changes: [PriorityChange]) {
        guard let route = route(path: path) else { return (.error(404, "no such resource: \(path)"), []) }
        if let id = route.connector {
            guard method.uppercased() == "DELETE" else {
                return (APIResponse(status: 405, body: APIResponse.error(405, "method \(method) not allowed").body, allow: "DELETE"), [])
            }
            guard directory.known.contains(id) || book.priority(of: id) != 0 else {
                return (.error(404, "unknown connector \(id) (no reachable station has it)"), [])
            }
            return (APIResponse(status: 204), book.reset(id).map { [$0] } ?? [])
        }
        switch method.uppercased() {
        case "GET":
            let list = book.entries.map { entry(id: $0.id, priority: $0.priority, directory: directory) }
            return (APIResponse(status: 200, body: JSONValue.array(list).text), [])
        case "DELETE":
            guard body.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else {
                return (APIResponse(status: 204), book.resetAll())
            }
            return delete(body: body, book: &book, directory: directory)
        case "PUT":
            return put(body: body, book: &book, directory: directory)
        default:
            return (APIResponse(status: 405, body: APIResponse.error(405, "method \(method) not allowed").body,
                                allow: allowedMethods), [])
        }
    }

    static func entry(id: ConnectorID, priority: Int, directory: ConnectorDirectory) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("serial_number", .string(id.serial)), ("connector", .number(Double(id.connector))),
        ]
        if let evse = directory.evseID(for: id) { members.append(("evse_id", .string(evse))) }
        members.append(("priority", .number(Double(priority))))
        return .object(members)
    }

    struct Failure: Error {
        var response: APIResponse
    }

    /// A body of one object or a non-empty list of objects, each read by `read` (with the field
    /// prefix `""`, or `"[i]."` inside a list).
    static func objects<T>(
        _ body: [UInt8], _ read: (JSONValue, String) throws(Failure) -> T
    ) throws(Failure) -> (items: [T], isList: Bool) {
        let document: JSONValue
        do {
            document = try JSONValue.parse(body)
        } catch {
            throw Failure(response: .error(400, "body is not valid JSON: \(error)", field: "body"))
        }
        switch document {
        case .object:
            return ([try read(document, "")], false)
        case .array(let items):
            guard !items.isEmpty else { throw Failure(response: .error(400, "empty list", field: "body")) }
            var objects: [T] = []
            for (index, item) in items.enumerated() { objects.append(try read(item, "[\(index)].")) }
            return (objects, true)
        default:
            throw Failure(response: .error(400, "body must be a JSON object or an array of objects", field: "body"))
        }
    }

    static func put(
        body: [UInt8], book: inout PriorityBook, directory: ConnectorDirectory
    ) -> (response: APIResponse, changes: [PriorityChange]) {
        let requests: [(ConnectorID, Int)]
        let isList: Bool
        do throws(Failure) {
            (requests, isList) = try objects(body) { (item, prefix) throws(Failure) in try request(item, prefix: prefix, directory: directory) }
        } catch {
            return (error.response, [])
        }
        var changes: [PriorityChange] = []
        for (id, priority) in requests {
            if let change = book.set(priority, for: id) { changes.append(change) }
        }
        let entries = requests.map { entry(id: $0.0, priority: book.priority(of: $0.0), directory: directory) }
        let answer = isList ? JSONValue.array(entries) : entries[0]
        return (APIResponse(status: 200, body: answer.text), changes)
    }

    /// A DELETE whose body names connectors: only those go back to the default (all or nothing).
    static func delete(
        body: [UInt8], book: inout PriorityBook, directory: ConnectorDirectory
    ) -> (response: APIResponse, changes: [PriorityChange]) {
        let ids: [ConnectorID]
        do throws(Failure) {
            ids = try objects(body) { (item, prefix) throws(Failure) in
                try target(item, prefix: prefix, directory: directory, fields: ["serial_number", "connector", "evse_id"])
            }.items
        } catch {
            return (error.response, [])
        }
        return (APIResponse(status: 204), ids.compactMap { book.reset($0) })
    }

    static func request(
        _ value: JSONValue, prefix: String, directory: ConnectorDirectory
    ) throws(Failure) -> (ConnectorID, Int) {
        func bad(_ field: String, _ message: String) -> Failure {
            Failure(response: .error(400, message, field: prefix + field))
        }
        let allowed = ["serial_number", "connector", "evse_id", "priority"]
        guard case .object(let members) = value else {
            throw Failure(response: .error(400, "expected an object", field: prefix.isEmpty ? "body" : String(prefix.dropLast())))
        }
        if let unknown = members.first(where: { !allowed.contains($0.0) }) {
            throw bad(unknown.0, "unknown field '\(unknown.0)' (allowed: \(allowed.joined(separator: ", ")))")
        }

        guard let priorityValue = value["priority"] else { throw bad("priority", "missing") }
        guard case .number(let number) = priorityValue, number == number.rounded(),
            abs(number) <= 1e9
        else { throw bad("priority", "must be an integer") }
        let priority = Int(number)
        guard priorityRange.contains(priority) else {
            throw bad("priority", "must be between \(priorityRange.lowerBound) and \(priorityRange.upperBound)")
        }
        return (try target(value, prefix: prefix, directory: directory, fields: allowed), priority)
    }

    /// The connector an object names (`serial_number` and `connector`, or `evse_id`), known to the directory.
    static func target(
        _ value: JSONValue, prefix: String, directory: ConnectorDirectory, fields allowed: [String]
    ) throws(Failure) -> ConnectorID {
        func bad(_ field: String, _ message: String) -> Failure {
            Failure(response: .error(400, message, field: prefix + field))
        }
        guard case .object(let members) = value else {
            throw Failure(response: .error(400, "expected an object", field: prefix.isEmpty ? "body" : String(prefix.dropLast())))
        }
        if let unknown = members.first(where: { !allowed.contains($0.0) }) {
            throw bad(unknown.0, "unknown field '\(unknown.0)' (allowed: \(allowed.joined(separator: ", ")))")
        }
        let id: ConnectorID
        if let evseValue = value["evse_id"] {
            if value["serial_number"] != nil || value["connector"] != nil {
                throw bad("evse_id", "give either evse_id or serial_number and connector, not both")
            }
            guard case .string(let evse) = evseValue, !evse.isEmpty else {
                throw bad("evse_id", "must be a non-empty string")
            }
            guard let mapped = directory.evseIDs[evse] else {
                throw Failure(response: .error(404, "unknown EVSE id '\(evse)' (not read from a station's vendor registers nor given with --evse-id)", field: prefix + "evse_id"))
            }
            id = mapped
        } else {
            guard let serialValue = value["serial_number"] else {
                throw bad("serial_number", "missing (or give evse_id)")
            }
            guard case .string(let serial) = serialValue, !serial.isEmpty else {
                throw bad("serial_number", "must be a non-empty string")
            }
            guard let connectorValue = value["connector"] else { throw bad("connector", "missing") }
            guard case .number(let connector) = connectorValue, connector == connector.rounded(),
                connectorRange.contains(Int(exactly: connector) ?? 0)
            else {
                throw bad("connector", "must be an integer between \(connectorRange.lowerBound) and \(connectorRange.upperBound)")
            }
            id = ConnectorID(serial: serial, connector: Int(connector))
        }
        guard directory.known.contains(id) else {
            throw Failure(response: .error(404, "unknown connector \(id) (no reachable station has it)",
                                            field: value["evse_id"] != nil ? prefix + "evse_id" : prefix + "serial_number"))
        }
        return id
    }

    /// `%XX` escapes of a path segment decoded (EVSE ids and serials may carry `*`, spaces); the
    /// segment as it is when an escape is broken or not UTF-8.
    static func percentDecoded(_ segment: String) -> String {
        guard segment.contains("%") else { return segment }
        var bytes: [UInt8] = []
        var utf8 = segment.utf8[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else { return segment }
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self) ?? segment
    }
}
