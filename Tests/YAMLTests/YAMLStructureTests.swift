import Glibc
import JSONSchema
import Testing
import YAML

@Suite("YAML structure")
struct YAMLStructureTests {
    @Test func nestingAndOrder() throws {
        let value = try load(
            """
            zeta: 1
            alpha:
              inner:
                deep: [1, 2, {x: y}]
              flow: {b: 2, a: 1}
            middle: text
            """)
        #expect(value.objectValue?.keys == ["zeta", "alpha", "middle"])
        #expect(value["alpha"]?["flow"]?.objectValue?.keys == ["b", "a"])
        #expect(value["alpha"]?["inner"]?["deep"] == [1, 2, ["x": "y"]])
    }

    @Test func sequencesOfMappings() throws {
        let value = try load(
            """
            - id: 1
              name: a
            - id: 2
              tags:
                - x
                -
                - z
            - []
            - {}
            """)
        #expect(value == [["id": 1, "name": "a"], ["id": 2, "tags": ["x", nil, "z"]], [], [:]])
    }

    @Test func keysAreTakenAsWritten() throws {
        let value = try load("1: a\ntrue: b\n~: c\n\"q\": d\n0x10: e\n")
        #expect(value.objectValue?.keys == ["1", "true", "~", "q", "0x10"])
    }

    @Test func duplicateKeyNamesBothLines() throws {
        let error = try #require(
            loadError(
                """
                broker:
                  host: localhost
                  port: 1883
                  host: 10.0.0.1
                """))
        #expect(error.kind == .duplicateKey)
        #expect(error.line == 4)
        #expect(error.column == 3)
        #expect(error.message.contains("\"host\""))
        #expect(error.message.contains("line 2"))
        #expect(error.formatted(file: "cs-companiond.yaml").hasPrefix("cs-companiond.yaml:4:3: duplicate key \"host\""))
    }

    @Test func duplicateKeyEvenWhenQuotedDifferently() {
        #expect(loadError("a: 1\n'a': 2\n")?.kind == .duplicateKey)
        // Same text, different scalar kinds: still the same key (keys are taken as written).
        #expect(loadError("{1: a, \"1\": b}")?.kind == .duplicateKey)
    }

    @Test func complexKeysRejected() {
        #expect(loadError("? [a, b]\n: c\n")?.kind == .complexKey)
        #expect(loadError("? {a: 1}\n: c\n")?.kind == .complexKey)
        #expect(loadError("a: &k key\n*k : v\n")?.kind == .complexKey)
    }

    @Test func anchorsAndAliases() throws {
        let value = try load(
            """
            defaults: &conn
              max_current: 32
              phases: 3
            connectors:
              - *conn
              - *conn
            name: &n station
            again: *n
            """)
        #expect(value["connectors"] == [["max_current": 32, "phases": 3], ["max_current": 32, "phases": 3]])
        #expect(value["again"] == "station")
    }

    @Test func mergeKeys() throws {
        let value = try load(
            """
            base: &base {max_current: 32, phases: 3, type: cCCS2}
            extra: &extra {phases: 1, cable: true}
            one:
              id: 1
              <<: *base
              phases: 1
            two:
              <<: [*extra, *base]
              id: 2
            """)
        #expect(value["one"]?.objectValue?.keys == ["id", "max_current", "type", "phases"])
        #expect(value["one"] == ["id": 1, "max_current": 32, "phases": 1, "type": "cCCS2"])
        #expect(value["two"]?.objectValue?.keys == ["phases", "cable", "max_current", "type", "id"])
        #expect(value["two"] == ["phases": 1, "cable": true, "max_current": 32, "type": "cCCS2", "id": 2])
        #expect(loadError("a: {<<: 3}")?.kind == .invalidMerge)
        #expect(loadError("a: {<<: [1]}")?.kind == .invalidMerge)
        // A quoted "<<" is an ordinary key.
        #expect(try load("'<<': 1")["<<"] == 1)
    }

    @Test func unknownAnchor() {
        let error = loadError("a: *nowhere\n")
        #expect(error?.kind == .unknownAnchor)
        #expect(error?.line == 1)
        // An anchor cannot be used inside itself: no cycles.
        #expect(loadError("a: &x [1, *x]\n")?.kind == .unknownAnchor)
    }

    @Test func emptyStreamIsNull() throws {
        let document = try YAMLDocument.parse("")
        #expect(document.value == .null)
        #expect(document.sourceMap.location(of: "") == .init(line: 1, column: 1))
        #expect(try load("# only a comment\n\n") == .null)
        #expect(try load("---\n") == .null)
        #expect(try load("~") == .null)
    }

    @Test func multipleDocumentsRejected() {
        let error = loadError("a: 1\n---\nb: 2\n")
        #expect(error?.kind == .multipleDocuments)
        #expect(error?.line == 2)
        #expect(loadError("---\na: 1\n...\n---\nb: 2\n")?.kind == .multipleDocuments)
        // One document with explicit markers is fine.
        #expect(loadError("%YAML 1.2\n---\na: 1\n...\n") == nil)
    }

    @Test func syntaxErrorsCarryLineAndColumn() throws {
        let badIndent = try #require(loadError("broker:\n  host: a\n port: 1\n"))
        #expect(badIndent.kind == .syntax)
        #expect(badIndent.line == 3)
        #expect(!badIndent.message.isEmpty)

        let unclosed = try #require(loadError("a: 1\nb: \"open\nc: 2\n"))
        #expect(unclosed.kind == .syntax)
        #expect(unclosed.line >= 2)
        #expect(unclosed.message.contains("quoted scalar"))

        let tab = try #require(loadError("a:\n\tb: 1\n"))
        #expect(tab.kind == .syntax)
        #expect(tab.line == 2)

        let colon = try #require(loadError("a: b: c\n"))
        #expect(colon.kind == .syntax)
        #expect(colon.line == 1 && colon.column == 5)
        #expect(colon.description == "1:5: \(colon.message)")
    }

    @Test func encodingErrors() throws {
        var invalidUTF8: YAMLError?
        do {
            _ = try YAMLDocument.parse(bytes: Array("a: ok\nb: ".utf8) + [0xFF, 0xFE, 0x0A])
        } catch {
            invalidUTF8 = error
        }
        let failure = try #require(invalidUTF8)
        #expect(failure.kind == .syntax)
        #expect(failure.line == 2)
        let control = try #require(loadError("a: x\u{1}y\n"))
        #expect(control.kind == .syntax)
    }

    @Test func utf8AndBOM() throws {
        #expect(try load("name: Ladesäule Süd ⚡\n")["name"] == "Ladesäule Süd ⚡")
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("a: 1\n".utf8)
        #expect(try YAMLDocument.parse(bytes: bom).value == ["a": 1])
    }
}

@Suite("YAML limits against hostile input")
struct YAMLLimitTests {
    @Test func billionLaughsRejected() throws {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(refs)]\n"
        }
        let error = try #require(loadError(text))
        #expect(error.kind == .limitExceeded)
        #expect(error.line <= 6)
    }

    @Test func quadraticBlowupRejected() throws {
        // One big list aliased many times.
        let big = "big: &b [" + Array(repeating: "x", count: 1000).joined(separator: ",") + "]\n"
        let uses = "uses: [" + Array(repeating: "*b", count: 200).joined(separator: ",") + "]\n"
        #expect(loadError(big + uses)?.kind == .limitExceeded)
    }

    @Test func deepNestingRejected() throws {
        let flow = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = try #require(loadError(flow))
        #expect(error.kind == .limitExceeded)
        #expect(error.column == 65)
        var block = ""
        for depth in 0..<80 { block += String(repeating: " ", count: depth * 2) + "k\(depth):\n" }
        #expect(loadError(block)?.kind == .limitExceeded)
        #expect(loadError(block, limits: YAMLLimits(maxDepth: 100)) == nil)
    }

    @Test func hugeInputRejectedBeforeParsing() {
        let text = String(repeating: "a", count: 5 << 20)
        let error = loadError("v: " + text)
        #expect(error?.kind == .limitExceeded)
        #expect(error?.line == 1)
    }

    @Test func nodeLimitIsConfigurable() {
        let list = "[" + Array(repeating: "1", count: 50).joined(separator: ",") + "]"
        #expect(loadError(list, limits: YAMLLimits(maxNodes: 50)) != nil)
        #expect(loadError(list, limits: YAMLLimits(maxNodes: 51)) == nil)
    }
}

@Suite("YAML files")
struct YAMLFileTests {
    @Test func readsAFile() throws {
        let path = "/tmp/cs-yaml-test-\(UInt64.random(in: 0...UInt64.max)).yaml"
        let text = "broker:\n  host: localhost\n"
        let file = try #require(fopen(path, "w"))
        fputs(text, file)
        fclose(file)
        defer { unlink(path) }
        let document = try YAMLDocument.parse(contentsOfFile: path)
        #expect(document.value == ["broker": ["host": "localhost"]])
        #expect(document.sourceMap.location(of: "/broker/host") == .init(line: 2, column: 9))
    }

    @Test func missingFile() {
        var caught: YAMLError?
        do { _ = try YAMLDocument.parse(contentsOfFile: "/nonexistent/cs-companiond.yaml") } catch { caught = error }
        #expect(caught?.kind == .unreadable)
        #expect(caught?.formatted(file: "cs-companiond.yaml").contains("No such file or directory") == true)
    }

    @Test func endlessFileIsCutAtTheLimit() {
        var caught: YAMLError?
        do { _ = try YAMLDocument.parse(contentsOfFile: "/dev/zero", limits: YAMLLimits(maxInputBytes: 1 << 20)) } catch { caught = error }
        #expect(caught?.kind == .limitExceeded)
    }
}
