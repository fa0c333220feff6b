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

/// The bundled schemas of `schemas/`, compiled once at start and reused for every message.
///
/// Incoming messages (Josev → CS) are checked as Josev checks what it receives: `format` is an
/// annotation there (Josev's validator runs without a format checker), so an `id` that is not a
/// UUID is still answered. What the CS emits is checked with `format` asserted: the daemon holds
/// itself to the stricter reading.
public final class SchemaCatalog: Sendable {
    public let directory: String
    public let envelope: JSONSchemaValidator
    private let validators: [String: JSONSchemaValidator]

    /// Loads and compiles `envelope.json` and the schema of every catalogue entry. A missing or
    /// broken file is an installation error: the daemon does not start without its schemas.
    public init(directory: String, entries: [CatalogEntry] = MessageCatalog.entries) throws(SchemaLoadError) {
        self.directory = directory
        envelope = try Self.compile(path: directory + "/" + MessageCatalog.envelopeSchemaFile, assertFormats: false)
        var validators: [String: JSONSchemaValidator] = [:]
        for entry in entries {
            validators[Self.key(entry.name, entry.type)] = try Self.compile(
                path: directory + "/" + entry.schemaFile,
                assertFormats: entry.direction == .csToJosev
            )
        }
        self.validators = validators
    }

    /// The compiled schema of a catalogue entry.
    public func validator(name: String, type: MessageType) -> JSONSchemaValidator? {
        validators[Self.key(name, type)]
    }

    /// Validates a whole message (envelope included) against the schema of its (name, type).
    /// Returns nil when the catalogue has no such message.
    public func validate(_ message: JSONValue, name: String, type: MessageType) -> [ValidationError]? {
        validator(name: name, type: type)?.validate(message)
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
        let schema = try load(path: path)
        do {
            return try JSONSchemaValidator(schema: schema, assertFormats: assertFormats)
        } catch {
            throw SchemaLoadError(file: path, reason: "not a valid draft-07 schema: \(error)")
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
            if let range = executable.firstRange(of: "/.build") {
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
}
