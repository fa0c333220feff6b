// bench-validator: the validator alone, for `make bench` (not part of the daemon). One thread:
// how many times per second the compiled `cs_status_and_limits` response schema (format asserted,
// as the daemon checks what it sends) accepts one answer; then the same with the error-collecting
// `validate`, and the daemon's whole outgoing step (envelope schema + message schema + serialize).
//
//   bench-validator SCHEMA_DIR ANSWER_FILE [SECONDS_PER_FIGURE]
//   bench-validator --check SCHEMA_DIR FILE...   (each file: one cs_status_and_limits response;
//                                                 exit 1 with the errors when one fails)
import Basics
import JSONSchema
import JosevContract

#if canImport(Glibc)
    import Glibc
#endif

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Runs `body` in batches until `seconds` have passed; the number of calls per second.
func rate(seconds: Double, _ body: () -> Bool) -> (perSecond: Double, allTrue: Bool) {
    var calls = 0
    var allTrue = true
    let start = monotonicSeconds()
    var elapsed = 0.0
    repeat {
        for _ in 0..<1000 where !body() { allTrue = false }
        calls += 1000
        elapsed = monotonicSeconds() - start
    } while elapsed < seconds
    return (Double(calls) / elapsed, allTrue)
}

func fail(_ text: String) -> Never {
    let line = Array("bench-validator: \(text)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

func load(_ path: String) -> ([UInt8], JSONValue) {
    let bytes: [UInt8]
    do {
        bytes = try SystemFile.read(path, maxBytes: 1 << 20)
    } catch {
        fail("\(path): \(error.reason)")
    }
    do {
        return (bytes, try JSONValue.parse(bytes))
    } catch {
        fail("\(path): not JSON: \(error)")
    }
}

func answerValidator(_ directory: String) -> (SchemaCatalog, JSONSchemaValidator) {
    let catalog: SchemaCatalog
    do {
        catalog = try SchemaCatalog(directory: directory)
    } catch {
        fail("\(error)")
    }
    guard let validator = catalog.validator(name: "cs_status_and_limits", type: .response) else {
        fail("no cs_status_and_limits response schema in \(directory)")
    }
    return (catalog, validator)
}

let arguments = CommandLine.arguments
if arguments.count >= 4, arguments[1] == "--check" {
    let (catalog, validator) = answerValidator(arguments[2])
    var failed = false
    for path in arguments[3...] {
        let message = load(path).1
        let errors = catalog.envelope.validate(message) + validator.validate(message)
        if !errors.isEmpty {
            failed = true
            print("\(path): \(errors.map(\.description).joined(separator: "; "))")
        }
    }
    exit(failed ? 1 : 0)
}
guard arguments.count == 3 || arguments.count == 4 else {
    fail("usage: bench-validator SCHEMA_DIR ANSWER_FILE [SECONDS_PER_FIGURE]")
}
let seconds = arguments.count == 4 ? Double(arguments[3]) ?? 2 : 2
let (catalog, validator) = answerValidator(arguments[1])
let (bytes, message) = load(arguments[2])
let errors = validator.validate(message)
guard errors.isEmpty else { fail("\(arguments[2]) fails the schema: \(errors.map(\.description).joined(separator: "; "))") }

let isValid = rate(seconds: seconds) { validator.isValid(message) }
let validate = rate(seconds: seconds) { validator.validate(message).isEmpty }
let outgoing = rate(seconds: seconds) {
    catalog.envelope.isValid(message) && validator.validate(message).isEmpty && !message.serializedBytes().isEmpty
}
guard isValid.allTrue, validate.allTrue, outgoing.allTrue else { fail("the answer was rejected during the run") }
func rounded(_ value: Double) -> Int { Int(value.rounded()) }
print(
    "{\"payload_bytes\":\(bytes.count),\"is_valid_per_s\":\(rounded(isValid.perSecond)),"
        + "\"validate_per_s\":\(rounded(validate.perSecond)),\"envelope_validate_serialize_per_s\":\(rounded(outgoing.perSecond))}")
