// The bundled schemas as josev-sim uses them: every `<name>.<type>.json` found in the schema
// directory, not only the names the daemon's catalogue already lists, so that the simulator checks
// messages whose handlers are still being written.
import Foundation
import JSONSchema
import JosevContract

/// Compiled schemas by (name, type), loaded one file at a time: a broken or missing file only
/// affects the messages it describes, and is reported when such a message is checked.
final class SchemaBook: Sendable {
    let directory: String
    private let envelope: JSONSchemaValidator?
    private let envelopeProblem: String?
    private let validators: [String: JSONSchemaValidator]
    private let loadProblems: [String: String]

    /// Outcome of checking one message.
    enum Verdict: Equatable {
        case valid
        case invalid([String])
        /// No `<name>.<type>.json` in the directory (or it could not be compiled: the reason).
        case noSchema(String)

        var isValid: Bool { self == .valid }
    }

    init(directory: String) throws {
        self.directory = directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SimError("schema directory \(directory) does not exist")
        }
        do {
            envelope = try SchemaCatalog.compile(
                path: directory + "/" + MessageCatalog.envelopeSchemaFile, assertFormats: true)
            envelopeProblem = nil
        } catch {
            envelope = nil
            envelopeProblem = error.description
        }
        var validators: [String: JSONSchemaValidator] = [:]
        var problems: [String: String] = [:]
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for file in files.sorted() {
            guard let key = Self.key(ofFile: file) else { continue }
            do {
                // Formats asserted in both directions: what the CS emits is held to the strict
                // reading, and the simulator's own messages should pass it too.
                validators[key] = try SchemaCatalog.compile(path: directory + "/" + file, assertFormats: true)
            } catch {
                problems[key] = error.description
            }
        }
        self.validators = validators
        loadProblems = problems
    }

    /// The directory given, else the one found next to the binary or in the source tree.
    static func load(_ directory: String?) throws -> SchemaBook? {
        guard let directory = directory ?? SchemaCatalog.findDefaultDirectory() else { return nil }
        return try SchemaBook(directory: directory)
    }

    var count: Int { validators.count }

    func has(name: String, type: MessageType) -> Bool { validators[name + "." + type.rawValue] != nil }

    /// Checks the envelope, then the message against the schema of its (name, type).
    func check(_ message: JSONValue, name: String, type: MessageType) -> Verdict {
        var problems: [String] = []
        if let envelope {
            problems += envelope.validate(message).map { "envelope\(Self.pointer($0.instancePointer)): \($0.message)" }
        } else if let envelopeProblem {
            problems.append("envelope schema unusable: \(envelopeProblem)")
        }
        let key = name + "." + type.rawValue
        guard let validator = validators[key] else {
            if !problems.isEmpty { return .invalid(problems) }
            return .noSchema(loadProblems[key] ?? "no \(key).json in \(directory)")
        }
        problems += validator.validate(message).map { "\(Self.pointer($0.instancePointer)): \($0.message)" }
        return problems.isEmpty ? .valid : .invalid(problems)
    }

    /// Fast yes/no for the load generator.
    func isValid(_ message: JSONValue, name: String, type: MessageType) -> Bool {
        if let envelope, !envelope.isValid(message) { return false }
        guard let validator = validators[name + "." + type.rawValue] else { return true }
        return validator.isValid(message)
    }

    private static func pointer(_ pointer: String) -> String { pointer.isEmpty ? " (root)" : " " + pointer }

    /// `cp_status.update.json` → `cp_status.update`; nil for `envelope.json`, `config.schema.json`, ….
    static func key(ofFile file: String) -> String? {
        guard file.hasSuffix(".json") else { return nil }
        let stem = file.dropLast(5)
        for type in MessageType.allCases where stem.hasSuffix("." + type.rawValue) {
            return String(stem)
        }
        return nil
    }
}

/// An error with a message meant for the user.
struct SimError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
