import Basics
import JSONSchema

/// A schema that could not be loaded or compiled, with the file it came from.
public struct SchemaLoadError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}

/// Which way a message crosses the broker, for the schemas that read differently each way.
public enum Traffic: String, Sendable {
    /// Josev → CS, consumed from `josev/cs`.
    case received
    /// CS → Josev, published on `cs/josev`.
    case sent
}

/// The bundled schemas of `schemas/`, compiled once at start and reused for every message.
///
/// Incoming messages (Josev → CS) are checked as Josev checks what it receives: `format` is an
/// annotation there (Josev's validator runs without a format checker), so an `id` that is not a
/// UUID is still answered. What the CS emits is checked with `format` asserted: the daemon holds
/// itself to the stricter reading.
///
/// Unknown keys (docs/MESSAGES.md, "Unknown keys"): where Josev's own schema leaves an object open,
/// the file leaves it open too and marks it `"x-cs-closed": true` — a newer Josev that adds a key
/// there must not stop the station. The marker is an annotation to every other validator (Python
/// jsonschema included), so the file as written is the schema of what the CS *receives*. For each
/// file with markers the catalogue also compiles a *closed* variant, `additionalProperties: false`
/// at every marker, which serves two purposes: what the CS *sends* is checked against it (Josev
/// builds its dataclasses with `cls(**data)` and raises on any unknown key, whatever its schema
/// allows), and it names the keys of a received message that the CS does not know (`unknownKeys`).
public final class SchemaCatalog: Sendable {
    /// The annotation that marks an object open on the way in and closed on the way out.
    public static let closedWhenSentKeyword = "x-cs-closed"

    public let directory: String
    public let envelope: JSONSchemaValidator
    /// The files as written: what the CS accepts.
    private let validators: [String: JSONSchemaValidator]
    /// The closed variants, only for files with `x-cs-closed` markers.
    private let closedValidators: [String: JSONSchemaValidator]
    /// The closed variants as JSON, to name the declared properties of a closed object.
    private let closedSchemas: [String: JSONValue]

    /// Loads and compiles `envelope.json` and the schema of every catalogue entry. A missing or
    /// broken file is an installation error: the daemon does not start without its schemas.
    public init(directory: String, entries: [CatalogEntry] = MessageCatalog.entries) throws(SchemaLoadError) {
        self.directory = directory
        envelope = try Self.compile(path: directory + "/" + MessageCatalog.envelopeSchemaFile, assertFormats: false)
        var validators: [String: JSONSchemaValidator] = [:]
        var closedValidators: [String: JSONSchemaValidator] = [:]
        var closedSchemas: [String: JSONValue] = [:]
        for entry in entries {
            let path = directory + "/" + entry.schemaFile
            let key = Self.key(entry.name, entry.type)
            let schema = try Self.load(path: path)
            let assertFormats = entry.direction == .csToJosev
            validators[key] = try Self.compile(schema: schema, file: path, assertFormats: assertFormats)
            let closed = Self.closedVariant(of: schema)
            if closed != schema {
                closedSchemas[key] = closed
                closedValidators[key] = try Self.compile(schema: closed, file: path + " (closed variant)", assertFormats: assertFormats)
            }
        }
        self.validators = validators
        self.closedValidators = closedValidators
        self.closedSchemas = closedSchemas
    }

    /// The compiled schema of a catalogue entry, as the file is written (the received reading).
    public func validator(name: String, type: MessageType) -> JSONSchemaValidator? {
        validators[Self.key(name, type)]
    }

    /// The compiled schema of a catalogue entry for one direction: `.received` is the file as
    /// written, `.sent` its closed variant where the file has `x-cs-closed` markers.
    public func validator(name: String, type: MessageType, for traffic: Traffic) -> JSONSchemaValidator? {
        let key = Self.key(name, type)
        switch traffic {
        case .received: return validators[key]
        case .sent: return closedValidators[key] ?? validators[key]
        }
    }

    /// Validates a whole message (envelope included) against the schema of its (name, type).
    /// Returns nil when the catalogue has no such message.
    public func validate(_ message: JSONValue, name: String, type: MessageType) -> [ValidationError]? {
        validator(name: name, type: type)?.validate(message)
    }

    /// `validate` for one direction (see `validator(name:type:for:)`).
    public func validate(_ message: JSONValue, name: String, type: MessageType, for traffic: Traffic) -> [ValidationError]? {
        validator(name: name, type: type, for: traffic)?.validate(message)
    }

    /// The JSON pointers of the keys in a received message that its schema accepts but the CS
    /// does not know (members of an `x-cs-closed` object that the schema does not declare), in
    /// document order. Empty for a message without such keys, or whose file has no marker.
    public func unknownKeys(in message: JSONValue, name: String, type: MessageType) -> [String] {
        let key = Self.key(name, type)
        guard let closed = closedValidators[key], let schema = closedSchemas[key] else { return [] }
        var pointers: [String] = []
        for error in closed.validate(message) where error.keyword == "additionalProperties" {
            guard let object = Self.value(at: error.instancePointer, in: message)?.objectValue,
                let node = Self.value(at: String(error.schemaPointer.dropLast("/additionalProperties".count)), in: schema)
            else { continue }
            let declared = node["properties"]?.objectValue
            for member in object.members where declared?[member.key] == nil {
                let pointer = error.instancePointer + "/" + JSONPointer.escape(member.key)
                if !pointers.contains(pointer) { pointers.append(pointer) }
            }
        }
        return pointers
    }

    /// The schema with `additionalProperties: false` wherever it says `"x-cs-closed": true`.
    public static func closedVariant(of schema: JSONValue) -> JSONValue {
        switch schema {
        case .object(let object):
            var result = JSONObject()
            for member in object.members {
                if member.key == closedWhenSentKeyword, member.value == .bool(true) {
                    result["additionalProperties"] = .bool(false)
                } else {
                    result[member.key] = closedVariant(of: member.value)
                }
            }
            return .object(result)
        case .array(let items):
            return .array(items.map(closedVariant(of:)))
        default:
            return schema
        }
    }

    /// Loads one schema file as JSON.
    public static func load(path: String) throws(SchemaLoadError) -> JSONValue {
        let bytes: [UInt8]
        do {
            bytes = try SystemFile.read(path, maxBytes: 4 << 20)
        } catch {
            throw SchemaLoadError(file: path, reason: error.reason)
        }
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw SchemaLoadError(file: path, reason: "not valid JSON: \(error)")
        }
    }

    /// Loads and compiles one schema file.
    public static func compile(path: String, assertFormats: Bool = true) throws(SchemaLoadError) -> JSONSchemaValidator {
        try compile(schema: try load(path: path), file: path, assertFormats: assertFormats)
    }

    private static func compile(schema: JSONValue, file: String, assertFormats: Bool) throws(SchemaLoadError) -> JSONSchemaValidator {
        do {
            return try JSONSchemaValidator(schema: schema, assertFormats: assertFormats)
        } catch {
            throw SchemaLoadError(file: file, reason: "not a valid draft-07 schema: \(error)")
        }
    }

    /// Where to look for the schemas when no directory is configured, in order: next to the
    /// binary (`<prefix>/bin/x` → `<prefix>/share/cs-companion/schemas`), the source tree when the
    /// binary runs from a SwiftPM build folder, then `/usr/share/cs-companion/schemas`.
    public static func defaultDirectories(executable: String? = SystemFile.executablePath()) -> [String] {
        var candidates: [String] = []
        if let executable {
            let binDirectory = SystemFile.directory(of: executable)
            candidates.append(SystemFile.directory(of: binDirectory) + "/share/cs-companion/schemas")
            if let range = executable.firstRange(ofText: "/.build") {
                candidates.append(String(executable[..<range.lowerBound]) + "/schemas")
            }
        }
        candidates.append("/usr/share/cs-companion/schemas")
        return candidates
    }

    /// The first default directory that holds `envelope.json`.
    public static func findDefaultDirectory() -> String? {
        defaultDirectories().first { SystemFile.exists($0 + "/" + MessageCatalog.envelopeSchemaFile) }
    }

    private static func key(_ name: String, _ type: MessageType) -> String { name + "." + type.rawValue }

    private static func value(at pointer: String, in root: JSONValue) -> JSONValue? {
        guard let parsed = try? JSONPointer(parsing: pointer) else { return nil }
        return parsed.resolve(in: root)
    }
}
