import Basics
import JSONSchema
import JosevContract

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The `contract` target: what `ContractRouter.route` does with a payload from `josev/cs`, minus
/// logging, the station and the MQTT client.
enum ContractFuzz {
    /// `ContractRouter.defaultMaxPayloadBytes` (the Daemon module is not a dependency).
    static let maxPayloadBytes = 256 * 1024
    /// The router's `maxDepth`.
    static let maxDepth = 64

    /// The catalogue, loaded once: env `CS_COMPANION_SCHEMAS`, else the daemon's default search
    /// (a binary under `<repo>/.build*/…` finds `<repo>/schemas`), else `./schemas`.
    static let catalog: SchemaCatalog = {
        var candidates: [String] = []
        if let env = getenv("CS_COMPANION_SCHEMAS") { candidates.append(String(cString: env)) }
        if let found = SchemaCatalog.findDefaultDirectory() { candidates.append(found) }
        candidates.append("schemas")
        for directory in candidates where SystemFile.exists(directory + "/" + MessageCatalog.envelopeSchemaFile) {
            do {
                return try SchemaCatalog(directory: directory)
            } catch {
                fatalError("fuzz: cannot load the schemas of \(directory): \(error)")
            }
        }
        fatalError("fuzz: no schemas/ found (tried \(candidates)); set CS_COMPANION_SCHEMAS")
    }()

    static func run(_ bytes: [UInt8]) {
        guard bytes.count <= maxPayloadBytes else { return }
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes, maxDepth: maxDepth)
        } catch {
            // The router logs the error: its description must be computable for any input.
            _ = error.description
            return
        }
        checkSerialization(json)

        let catalog = Self.catalog
        let envelopeErrors = validate(json, with: catalog.envelope)
        guard envelopeErrors.isEmpty, let envelope = Envelope(json: json) else {
            if envelopeErrors.isEmpty, FuzzTargets.strict {
                invariantFailure("valid by envelope.json but not an Envelope")
            }
            return
        }
        // The router goes on only for (name, type)s the CS consumes; the fuzzer takes every
        // catalogue entry, so the outgoing schemas (formats asserted) are exercised as well.
        guard let entry = MessageCatalog.entry(name: envelope.name, type: envelope.type) else {
            _ = MessageCatalog.knows(name: envelope.name)
            return
        }
        guard let validator = catalog.validator(name: entry.name, type: entry.type) else {
            invariantFailure("catalogue entry \(entry.schemaFile) has no compiled schema")
        }
        guard validate(json, with: validator).isEmpty else { return }

        // Typed decode, as the handlers do.
        let payload: any ContractPayload
        do {
            payload = try ContractMessages.decode(envelope)
        } catch {
            let text = error.description
            // Known and accepted: JSON Schema's "integer" takes any integral number (1e30 too),
            // the typed models hold Int; the handlers log the decode error and drop the message.
            // Reproducer: fuzz/crashes/contract/strict-integer-beyond-int64.json.
            let integerOutOfRange = text.contains("does not fit in")
            if FuzzTargets.strict, !integerOutOfRange {
                invariantFailure("\(entry.schemaFile) accepts the message but the typed decode fails: \(error)")
            }
            return
        }

        // Re-encode as the router sends answers: payload → data → envelope → schema → bytes.
        let data: JSONObject
        do {
            data = try ContractMessages.encode(payload)
        } catch {
            _ = error.description
            if FuzzTargets.strict { invariantFailure("decoded \(entry.name) \(entry.type) does not encode: \(error)") }
            return
        }
        let out = Envelope(id: envelope.id, name: envelope.name, type: envelope.type, data: data)
        let outJSON = out.json
        let outErrors = validate(outJSON, with: validator)
        if FuzzTargets.strict, !outErrors.isEmpty {
            invariantFailure("re-encoded \(entry.name) \(entry.type) fails its schema: \(outErrors.prefix(3))")
        }
        checkSerialization(outJSON)
        if entry.type == .request { _ = out.response(data: [:]).json.serializedBytes() }

        // Decoding what was encoded gives the same payload.
        do {
            let again = try ContractMessages.decode(name: entry.name, type: entry.type, data: data)
            if FuzzTargets.strict, !again.isEqual(to: payload) {
                invariantFailure("\(entry.name) \(entry.type): decode(encode(payload)) differs from payload")
            }
        } catch {
            if FuzzTargets.strict { invariantFailure("\(entry.name) \(entry.type): re-encoded data does not decode: \(error)") }
        }
    }

    /// Both validator passes, with the errors' text built as the router's log line builds it.
    static func validate(_ json: JSONValue, with validator: JSONSchemaValidator) -> [ValidationError] {
        let errors = validator.validate(json)
        for error in errors.prefix(3) { _ = error.description }
        if FuzzTargets.strict {
            let fast = validator.isValid(json)
            if fast != errors.isEmpty {
                invariantFailure("isValid() = \(fast) but validate() found \(errors.count) error(s): \(errors.prefix(3))")
            }
        }
        return errors
    }

    /// The serializer's output (compact and pretty) parses back to the same value: serializing the
    /// parsed text again gives the same bytes. (Bytes rather than `==`, whose member-order-blind
    /// object comparison is quadratic in the number of keys.)
    static func checkSerialization(_ json: JSONValue) {
        let compact = json.serializedBytes()
        for pretty in [false, true] {
            let text = pretty ? json.serializedBytes(pretty: true) : compact
            let again: JSONValue
            do {
                again = try JSONValue.parse(text, maxDepth: JSONValue.maxSupportedDepth)
            } catch {
                invariantFailure("serializer output (pretty: \(pretty)) does not parse: \(error)")
            }
            if again.serializedBytes() != compact {
                invariantFailure("serialize/parse round trip (pretty: \(pretty)) changes the value")
            }
        }
    }
}
