import JSONSchema
import JosevContract
import Logging
import Synchronization

/// Keys a received message may carry that the CS does not know: Josev leaves some objects open
/// (`x-cs-closed` in `schemas/`, docs/MESSAGES.md "Unknown keys"), so a newer Josev may add a key
/// there. The message is still handled (the decoders ignore the key); this writes one debug line
/// per (name, type), the first time such a key is seen, so a person can tell what a newer Josev
/// sends without a line per message.
///
/// Call `note` in the router once a received message has passed its schema (`ContractRouter.route`,
/// after `target.validator?.validate(json)`), with the logger that carries the message's facts.
public final class UnknownKeyLog: Sendable {
    private let schemas: SchemaCatalog
    /// The "name.type" already logged.
    private let logged = Mutex<Set<String>>([])

    public init(schemas: SchemaCatalog) {
        self.schemas = schemas
    }

    /// Logs the unknown keys of `message` at debug if none was logged for its (name, type) yet.
    /// Returns the JSON pointers it logged (empty when it wrote nothing). Costs one dictionary
    /// look-up per message once the line was written, and nothing when debug is off.
    @discardableResult
    public func note(_ message: JSONValue, name: String, type: MessageType, logger: Logger) -> [String] {
        guard logger.logLevel <= .debug else { return [] }
        let key = name + "." + type.rawValue
        guard !logged.withLock({ $0.contains(key) }) else { return [] }
        let pointers = schemas.unknownKeys(in: message, name: name, type: type)
        guard !pointers.isEmpty, logged.withLock({ $0.insert(key).inserted }) else { return [] }
        logger.debug(
            "\(name) \(type.rawValue) carries keys the CS does not know, ignored: \(pointers.joined(separator: ", ")) (logged once)")
        return pointers
    }
}
