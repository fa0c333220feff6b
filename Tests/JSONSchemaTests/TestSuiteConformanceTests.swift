import Foundation
import Testing
import TestSupport

@testable import JSONSchema

/// Runs the official JSON-Schema-Test-Suite (draft-07), vendored in `Tests/Fixtures/json-schema-test-suite`
/// (see Tests/Fixtures/README.md). A missing suite is a failure, not a skip.
enum TestSuite {
    static var root: URL { URL(fileURLWithPath: Fixtures.path("json-schema-test-suite")) }

    static var isPresent: Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent("tests/draft7/type.json").path)
    }

    enum Category: String, Sendable {
        case required, optional, format
    }

    /// Test files, relative to tests/draft7, sorted.
    static func files() -> [String] {
        let base = root.appendingPathComponent("tests/draft7")
        guard let enumerator = FileManager.default.enumerator(atPath: base.path) else { return [] }
        var out: [String] = []
        while let path = enumerator.nextObject() as? String {
            if path.hasSuffix(".json") { out.append(path) }
        }
        return out.sorted()
    }

    static func category(of file: String) -> Category {
        if file.hasPrefix("optional/format/") { return .format }
        if file.hasPrefix("optional/") { return .optional }
        return .required
    }

    static func load(_ url: URL) throws -> JSONValue {
        let data = try Data(contentsOf: url)
        return try JSONValue.parse([UInt8](data))
    }

    /// Every file under remotes/, as http://localhost:1234/<relative path>.
    static let registry: SchemaRegistry = {
        let registry = SchemaRegistry()
        let remotes = root.appendingPathComponent("remotes")
        if let enumerator = FileManager.default.enumerator(atPath: remotes.path) {
            while let path = enumerator.nextObject() as? String {
                guard path.hasSuffix(".json"), let doc = try? load(remotes.appendingPathComponent(path)) else { continue }
                registry.add(doc, uri: "http://localhost:1234/" + path)
            }
        }
        return registry
    }()

    /// Cases we do not pass, each with its reason. Keys: "file | group | test".
    /// Only optional format cases (and remote cases that cannot run) may be listed here.
    static let skipped: [String: String] = idnaSkips.merging(otherSkips) { first, _ in first }

    static let idnaReason =
        "IDNA2008 (RFC 5890-5893) is not implemented: no Punycode decoding of A-labels, no contextual (CONTEXTJ/CONTEXTO), "
        + "DISALLOWED code point or Bidi rules; the daemon's messages use ASCII host names only"

    /// Optional format cases that need a full IDNA2008 implementation (reason: `idnaReason`).
    static let idnaSkips: [String: String] = Dictionary(
        uniqueKeysWithValues: [
        "optional/format/hostname.json | validation of A-label (punycode) host names | invalid Punycode",
        "optional/format/hostname.json | validation of A-label (punycode) host names | contains illegal char U+302E Hangul single dot tone mark",
        "optional/format/hostname.json | validation of A-label (punycode) host names | Begins with a Spacing Combining Mark",
        "optional/format/hostname.json | validation of A-label (punycode) host names | Begins with a Nonspacing Mark",
        "optional/format/hostname.json | validation of A-label (punycode) host names | Begins with an Enclosing Mark",
        "optional/format/hostname.json | validation of A-label (punycode) host names | Exceptions that are DISALLOWED, right-to-left chars",
        "optional/format/hostname.json | validation of A-label (punycode) host names | Exceptions that are DISALLOWED, left-to-right chars",
        "optional/format/hostname.json | validation of A-label (punycode) host names | MIDDLE DOT with no preceding 'l'",
        "optional/format/hostname.json | validation of A-label (punycode) host names | MIDDLE DOT with nothing preceding",
        "optional/format/hostname.json | validation of A-label (punycode) host names | MIDDLE DOT with no following 'l'",
        "optional/format/hostname.json | validation of A-label (punycode) host names | MIDDLE DOT with nothing following",
        "optional/format/hostname.json | validation of A-label (punycode) host names | Greek KERAIA not followed by Greek",
        "optional/format/hostname.json | validation of A-label (punycode) host names | Greek KERAIA not followed by anything",
        "optional/format/hostname.json | validation of A-label (punycode) host names | Hebrew GERESH not preceded by Hebrew",
        "optional/format/hostname.json | validation of A-label (punycode) host names | Hebrew GERESH not preceded by anything",
        "optional/format/hostname.json | validation of A-label (punycode) host names | Hebrew GERSHAYIM not preceded by Hebrew",
        "optional/format/hostname.json | validation of A-label (punycode) host names | Hebrew GERSHAYIM not preceded by anything",
        "optional/format/hostname.json | validation of A-label (punycode) host names | KATAKANA MIDDLE DOT with no Hiragana, Katakana, or Han",
        "optional/format/hostname.json | validation of A-label (punycode) host names | KATAKANA MIDDLE DOT with no other characters",
        "optional/format/hostname.json | validation of A-label (punycode) host names | Arabic-Indic digits mixed with Extended Arabic-Indic digits",
        "optional/format/hostname.json | validation of A-label (punycode) host names | ZERO WIDTH JOINER not preceded by Virama",
        "optional/format/hostname.json | validation of A-label (punycode) host names | ZERO WIDTH JOINER not preceded by anything",
        "optional/format/hostname.json | validation of A-label (punycode) host names | contains \"--\" in the 3rd and 4th position",
        "optional/format/idn-hostname.json | validation of internationalized host names | illegal first char U+302E Hangul single dot tone mark",
        "optional/format/idn-hostname.json | validation of internationalized host names | contains illegal char U+302E Hangul single dot tone mark",
        "optional/format/idn-hostname.json | validation of internationalized host names | invalid Punycode",
        "optional/format/idn-hostname.json | validation of internationalized host names | U-label contains \"--\" in the 3rd and 4th position",
        "optional/format/idn-hostname.json | validation of internationalized host names | Begins with a Spacing Combining Mark",
        "optional/format/idn-hostname.json | validation of internationalized host names | Begins with a Nonspacing Mark",
        "optional/format/idn-hostname.json | validation of internationalized host names | Exceptions that are PVALID, left-to-right chars",
        "optional/format/idn-hostname.json | validation of internationalized host names | Exceptions that are PVALID, right-to-left chars",
        "optional/format/idn-hostname.json | validation of internationalized host names | Exceptions that are DISALLOWED, right-to-left chars",
        "optional/format/idn-hostname.json | validation of internationalized host names | Exceptions that are DISALLOWED, left-to-right chars",
        "optional/format/idn-hostname.json | validation of internationalized host names | MIDDLE DOT with surrounding 'l's",
        "optional/format/idn-hostname.json | validation of internationalized host names | Greek KERAIA followed by Greek",
        "optional/format/idn-hostname.json | validation of internationalized host names | Hebrew GERESH preceded by Hebrew",
        "optional/format/idn-hostname.json | validation of internationalized host names | Hebrew GERSHAYIM preceded by Hebrew",
        "optional/format/idn-hostname.json | validation of internationalized host names | KATAKANA MIDDLE DOT with Hiragana",
        "optional/format/idn-hostname.json | validation of internationalized host names | KATAKANA MIDDLE DOT with Katakana",
        "optional/format/idn-hostname.json | validation of internationalized host names | KATAKANA MIDDLE DOT with Han",
        "optional/format/idn-hostname.json | validation of internationalized host names | Arabic-Indic digits mixed with Extended Arabic-Indic digits",
        "optional/format/idn-hostname.json | validation of internationalized host names | ZERO WIDTH JOINER preceded by Virama",
        "optional/format/idn-hostname.json | validation of internationalized host names | ZERO WIDTH NON-JOINER preceded by Virama",
        "optional/format/idn-hostname.json | validation of internationalized host names | ZERO WIDTH NON-JOINER not preceded by Virama but matches regexp",
        "optional/format/idn-hostname.json | validation of internationalized host names | Bidi domain name with a digit-first label is invalid",
        "optional/format/idn-hostname.json | validation of internationalized host names | label starting with a digit before a right-to-left letter is invalid",
        "optional/format/idn-hostname.json | validation of internationalized host names | left-to-right label containing a right-to-left letter is invalid",
        "optional/format/idn-hostname.json | validation of internationalized host names | right-to-left label mixing both digit types is invalid",
        "optional/format/idn-hostname.json | validation of internationalized host names | A-label that decodes to a disallowed code point is invalid",
        "optional/format/idn-hostname.json | validation of internationalized host names | A-label that decodes to a Bidi rule violation is invalid",
        "optional/format/idn-hostname.json | validation of internationalized host names | a U-label whose A-label form is longer than 63 octets is invalid",
        "optional/format/idn-hostname.json | validation of internationalized host names | non-canonical Punycode that does not re-encode to itself is invalid",
        ].map { ($0, idnaReason) })

    static let otherSkips: [String: String] = [
        "optional/cross-draft.json | refs to future drafts are processed as future drafts | missing bar is invalid":
            "needs remote draft2019-09/dependentRequired.json, which the vendored suite does not ship, and draft 2019-09 semantics",
        "optional/cross-draft.json | refs to future drafts are processed as future drafts | present bar is valid":
            "needs remote draft2019-09/dependentRequired.json, which the vendored suite does not ship",
    ]

    struct Outcome: Sendable {
        var passed = 0
        var failed: [String] = []
        var skipped = 0
        var total: Int { passed + failed.count + skipped }
    }

    /// Runs one file; returns the outcome.
    static func run(file: String) -> Outcome {
        var outcome = Outcome()
        let url = root.appendingPathComponent("tests/draft7").appendingPathComponent(file)
        guard let groups = (try? load(url))?.arrayValue else {
            outcome.failed.append("\(file): cannot load")
            return outcome
        }
        for group in groups {
            let groupName = group["description"]?.stringValue ?? "?"
            let tests = group["tests"]?.arrayValue ?? []
            let validator: JSONSchemaValidator?
            var compileError = ""
            do {
                validator = try JSONSchemaValidator(schema: group["schema"] ?? .bool(true), registry: registry)
            } catch {
                validator = nil
                compileError = error.description
            }
            for test in tests {
                let testName = test["description"]?.stringValue ?? "?"
                let key = "\(file) | \(groupName) | \(testName)"
                if skipped[key] != nil {
                    outcome.skipped += 1
                    continue
                }
                guard let validator else {
                    outcome.failed.append("\(key): schema did not compile: \(compileError)")
                    continue
                }
                let data = test["data"] ?? .null
                let expected = test["valid"]?.boolValue ?? false
                let fast = validator.isValid(data)
                let errors = validator.validate(data)
                if fast != expected {
                    outcome.failed.append("\(key): expected \(expected ? "valid" : "invalid"), got \(fast ? "valid" : "invalid")")
                } else if errors.isEmpty != expected {
                    outcome.failed.append("\(key): validate() disagrees with isValid(): \(errors)")
                } else {
                    outcome.passed += 1
                }
            }
        }
        return outcome
    }
}

@Suite struct TestSuiteConformanceTests {
    @Test func suiteIsPresent() {
        #expect(TestSuite.isPresent, "JSON-Schema-Test-Suite not found at \(TestSuite.root.path)")
        #expect(TestSuite.files().count > 40)
    }

    @Test(arguments: TestSuite.files())
    func draft7(file: String) {
        let outcome = TestSuite.run(file: file)
        for failure in outcome.failed {
            Issue.record(Comment(rawValue: failure))
        }
    }

    @Test func skipListOnlyHasAllowedEntriesWithReasons() {
        for (key, reason) in TestSuite.skipped {
            #expect(!reason.isEmpty)
            let file = key.components(separatedBy: " | ")[0]
            let allowed = TestSuite.category(of: file) == .format || key.contains("remote") || reason.contains("remote")
            #expect(allowed, "\(key) may not be skipped")
        }
    }

    @Test func summary() {
        var totals: [TestSuite.Category: TestSuite.Outcome] = [:]
        for file in TestSuite.files() {
            let outcome = TestSuite.run(file: file)
            var total = totals[TestSuite.category(of: file)] ?? TestSuite.Outcome()
            total.passed += outcome.passed
            total.failed += outcome.failed
            total.skipped += outcome.skipped
            totals[TestSuite.category(of: file)] = total
        }
        let required = totals[.required] ?? TestSuite.Outcome()
        let optional = totals[.optional] ?? TestSuite.Outcome()
        let format = totals[.format] ?? TestSuite.Outcome()
        let skipped = required.skipped + optional.skipped + format.skipped
        if let dump = ProcessInfo.processInfo.environment["CS_SUITE_FAILURES"] {
            let text = (required.failed + optional.failed + format.failed).joined(separator: "\n")
            try? text.write(toFile: dump, atomically: true, encoding: .utf8)
        }
        print(
            "draft7 required: \(required.passed)/\(required.total), optional: \(optional.passed)/\(optional.total), "
                + "format: \(format.passed)/\(format.total) (skipped: \(skipped))")
        #expect(required.total > 900)
        #expect(required.failed.isEmpty)
        #expect(required.skipped == 0)
    }
}
