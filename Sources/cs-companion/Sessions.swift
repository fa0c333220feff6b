// `cs-companion sessions`: the charging sessions cs-companiond recorded, as a table, as JSON, or as
// OCPI 2.2.1 Session objects. Reads the daemon's SQLite database read-only (safe while it runs).
//
// Compiled only once the cs-companion target depends on `Store` (`canImport(CSQLite)` is true only
// then: the Store module's own module map comes with that dependency, while Store.swiftmodule alone
// sits in the shared build directory either way); the `#if` can go when the dependency is in.
import ArgumentParser
import Basics
import JSONSchema
import Store

#if canImport(Glibc)
    import Glibc
#endif

struct Sessions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the charging sessions recorded by cs-companiond (table, JSON, or OCPI 2.2.1 Sessions).",
        discussion: """
            Opens the daemon's database read-only; works while the daemon runs. --since keeps the sessions \
            changed at or after that time (started, updated or stopped), like OCPI's date_from. Times in the \
            table are UTC. --format ocpi needs the CPO's identifiers: --country-code, --party-id, \
            --location-id and --currency. Exit status 1 when the database cannot be read.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, ocpi
    }

    @Option(name: .long, help: "The daemon's database.")
    var db = Store.defaultPath

    @Option(name: .long, help: "Only sessions changed at or after this time: ISO 8601 (2024-05-01, 2024-05-01T12:00:00Z, …) or Unix seconds.")
    var since: String?

    @Option(name: .long, help: "Output format: table, json, or ocpi (OCPI 2.2.1 Session objects).")
    var format: Format = .table

    @Option(name: .customLong("country-code"), help: "OCPI: the CPO's ISO 3166-1 alpha-2 country code (e.g. DE).")
    var countryCode: String?

    @Option(name: .customLong("party-id"), help: "OCPI: the CPO's party id (3 characters).")
    var partyID: String?

    @Option(name: .customLong("location-id"), help: "OCPI: the Location id of this station.")
    var locationID: String?

    @Option(name: .long, help: "OCPI: ISO 4217 currency (e.g. EUR).")
    var currency: String?

    func validate() throws {
        if let since, DateTimeText.parseCommandLine(since) == nil {
            throw ArgumentParser.ValidationError("--since: not an ISO 8601 date-time or Unix seconds: \(since)")
        }
        if format == .ocpi {
            let parameters = try ocpiParameters()
            let problems = parameters.problems()
            if !problems.isEmpty { throw ArgumentParser.ValidationError(problems.joined(separator: "; ")) }
        }
    }

    func run() throws {
        let records: [ChargingSessionRecord]
        do {
            let store = try Store(path: db, readOnly: true)
            defer { store.close() }
            records = try store.sessions(since: since.flatMap(DateTimeText.parseCommandLine))
        } catch {
            Self.printError("cs-companion: \(db): \(error)")
            throw ExitCode(1)
        }
        switch format {
        case .table:
            print(SessionExport.table(records), terminator: "")
        case .json:
            print(JSONValue(SessionExport.json(records)).serialized(pretty: true))
        case .ocpi:
            print(JSONValue(SessionExport.ocpiSessions(records, parameters: try ocpiParameters())).serialized(pretty: true))
        }
    }

    /// One line on standard error (stdout may be piped into jq).
    private static func printError(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { bytes in _ = Glibc.write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
    }

    private func ocpiParameters() throws -> OCPIParameters {
        var missing: [String] = []
        if countryCode == nil { missing.append("--country-code") }
        if partyID == nil { missing.append("--party-id") }
        if locationID == nil { missing.append("--location-id") }
        if currency == nil { missing.append("--currency") }
        guard missing.isEmpty, let countryCode, let partyID, let locationID, let currency else {
            throw ArgumentParser.ValidationError("--format ocpi needs \(missing.joined(separator: ", "))")
        }
        return OCPIParameters(countryCode: countryCode, partyID: partyID, locationID: locationID, currency: currency)
    }
}

extension JSONValue {
    /// The project's JSON value of an export value (same text when serialized).
    fileprivate init(_ value: ExportJSON) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let elements): self = .array(elements.map { JSONValue($0) })
        case .object(let members): self = .object(JSONObject(members.map { JSONObject.Member(key: $0.key, value: JSONValue($0.value)) }))
        }
    }
}
