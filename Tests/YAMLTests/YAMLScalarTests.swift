import JSONSchema
import Testing
import YAML

func load(_ text: String, limits: YAMLLimits = .default) throws -> JSONValue {
    try YAMLDocument.parse(text, limits: limits).value
}

func loadError(_ text: String, limits: YAMLLimits = .default) -> YAMLError? {
    do {
        _ = try YAMLDocument.parse(text, limits: limits)
        return nil
    } catch {
        return error
    }
}

/// Exact representation, unlike JSONValue's `==` (where 1 == 1.0).
func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.int(let x), .int(let y)): x == y
    case (.double(let x), .double(let y)): x == y
    case (.int, _), (_, .int), (.double, _), (_, .double): false
    default: a == b
    }
}

@Suite("YAML 1.2 core schema: plain scalars")
struct ScalarResolutionTests {
    @Test(arguments: [
        // null
        ("null", JSONValue.null), ("Null", .null), ("NULL", .null), ("~", .null), ("", .null),
        // bool
        ("true", .bool(true)), ("True", .bool(true)), ("TRUE", .bool(true)),
        ("false", .bool(false)), ("False", .bool(false)), ("FALSE", .bool(false)),
        // int
        ("0", .int(0)), ("42", .int(42)), ("-17", .int(-17)), ("+8", .int(8)), ("0777", .int(777)),
        ("0x1F", .int(31)), ("0xff", .int(255)), ("0o17", .int(15)),
        ("9223372036854775807", .int(Int64.max)), ("-9223372036854775808", .int(Int64.min)),
        // float
        ("1.5", .double(1.5)), ("-0.25", .double(-0.25)), (".5", .double(0.5)), ("1.", .double(1)),
        ("1e3", .double(1000)), ("6.02E+23", .double(6.02e23)), ("+2.5e-1", .double(0.25)),
        // YAML 1.1 values that are strings in 1.2
        ("yes", .string("yes")), ("no", .string("no")), ("on", .string("on")), ("off", .string("off")),
        ("y", .string("y")), ("1_000", .string("1_000")), ("2024-01-01", .string("2024-01-01")),
        ("12:30", .string("12:30")), ("0b101", .string("0b101")), ("0x", .string("0x")), ("0o8", .string("0o8")),
        ("-0x10", .string("-0x10")), ("tRUE", .string("tRUE")), ("nULL", .string("nULL")),
        // strings
        ("hello world", .string("hello world")), ("-x", .string("-x")), (".", .string(".")), ("1.2.3", .string("1.2.3")),
        ("e5", .string("e5")), ("1e", .string("1e")), ("127.0.0.1", .string("127.0.0.1")),
        ("josev/cs/#", .string("josev/cs/#")),
    ])
    func plain(text: String, expected: JSONValue) throws {
        let value = try load("v: \(text)\n")
        let got = try #require(value["v"])
        #expect(same(got, expected), "\(text) → \(got)")
    }

    @Test(arguments: [
        "v: \"123\"", "v: '123'", "v: \"true\"", "v: 'null'", "v: \"\"", "v: |\n  123\n", "v: >\n  true\n", "v: ! 123",
    ])
    func quotedAndBlockScalarsStayStrings(text: String) throws {
        let value = try load(text)
        #expect(value["v"]?.stringValue != nil, "\(text) → \(String(describing: value["v"]))")
    }

    @Test func quotedValues() throws {
        let value = try load(
            """
            a: "123"
            b: '0x10'
            c: "line\\nnext"
            d: |
              x
              y
            """)
        #expect(same(value, ["a": "123", "b": "0x10", "c": "line\nnext", "d": "x\ny"]))
    }

    @Test func explicitTags() throws {
        let value = try load(
            """
            s: !!str 123
            i: !!int "42"
            f: !!float 3
            b: !!bool "true"
            n: !!null ""
            h: !!int 0x10
            m: !!map {a: 1}
            q: !!seq [1]
            """)
        #expect(same(value["s"]!, "123"))
        #expect(same(value["i"]!, .int(42)))
        #expect(same(value["f"]!, .double(3)))
        #expect(same(value["b"]!, true))
        #expect(same(value["n"]!, .null))
        #expect(same(value["h"]!, .int(16)))
        #expect(value["m"] == ["a": 1])
        #expect(value["q"] == [1])
    }

    @Test(arguments: [
        ("v: !!int abc", YAMLError.Kind.invalidScalar),
        ("v: !!bool yes", .invalidScalar),
        ("v: !!null x", .invalidScalar),
        ("v: !!float x", .invalidScalar),
        ("v: !!binary aGk=", .unsupportedTag),
        ("v: !!timestamp 2001-12-14", .unsupportedTag),
        ("v: !custom x", .unsupportedTag),
        ("v: !!set {a}", .unsupportedTag),
        ("v: 9223372036854775808", .invalidScalar),
        ("v: 0xFFFFFFFFFFFFFFFFF", .invalidScalar),
        ("v: .inf", .invalidScalar),
        ("v: -.Inf", .invalidScalar),
        ("v: .nan", .invalidScalar),
        ("v: 1e999", .invalidScalar),
    ])
    func rejected(text: String, kind: YAMLError.Kind) {
        let error = loadError(text)
        #expect(error?.kind == kind, "\(text): \(String(describing: error))")
        #expect(error?.line == 1)
        #expect(error?.column == 4)
    }

    @Test func nonFiniteQuotedIsAString() throws {
        #expect(try load("v: '.inf'")["v"] == ".inf")
    }
}
