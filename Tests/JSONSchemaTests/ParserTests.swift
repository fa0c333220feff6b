import Testing
@testable import JSONSchema

@Suite struct ParserTests {
    @Test func parsesScalars() throws {
        #expect(try JSONValue.parse("null") == .null)
        #expect(try JSONValue.parse(" true ") == .bool(true))
        #expect(try JSONValue.parse("false") == .bool(false))
        #expect(try JSONValue.parse("0") == .int(0))
        #expect(try JSONValue.parse("-0") == .int(0))
        #expect(try JSONValue.parse("42") == .int(42))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(Int64.min))
        #expect(try JSONValue.parse("9223372036854775807") == .int(Int64.max))
        #expect(try JSONValue.parse("1.5") == .double(1.5))
        #expect(try JSONValue.parse("1e3") == .double(1000))
        #expect(try JSONValue.parse("-1.25E-2") == .double(-0.0125))
        #expect(try JSONValue.parse("\"hi\"") == .string("hi"))
    }

    @Test func numberKinds() throws {
        guard case .double(let d) = try JSONValue.parse("9223372036854775808") else {
            Issue.record("expected double")
            return
        }
        #expect(d == 9223372036854775808.0)
        guard case .double = try JSONValue.parse("-9223372036854775809") else {
            Issue.record("expected double")
            return
        }
        guard case .double = try JSONValue.parse("1.0") else {
            Issue.record("1.0 must stay a double")
            return
        }
        let big = try JSONValue.parse("12345678910111213141516171819202122232425262728293031")
        #expect(big.schemaTypeName == "integer")
        #expect(try JSONValue.parse("1e-400") == .double(0))
    }

    @Test func parsesStructures() throws {
        let v = try JSONValue.parse(#"{"a":[1,2,{"b":null}],"c":"x","d":{}}"#)
        #expect(v["a"] == [1, 2, ["b": nil]])
        #expect(v.objectValue?.keys == ["a", "c", "d"])
        #expect(v["d"] == .object(JSONObject()))
    }

    @Test func stringEscapes() throws {
        #expect(try JSONValue.parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{c}\n\r\t"))
        #expect(try JSONValue.parse(#""\u00e9\u20AC""#) == .string("é€"))
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try JSONValue.parse("\"é😀\"") == .string("é😀"))
        #expect(try JSONValue.parse(#""\u0000""#) == .string("\u{0}"))
    }

    func failure(_ text: String) -> JSONParseError? {
        do {
            _ = try JSONValue.parse(text)
            return nil
        } catch {
            return error
        }
    }

    func failure(bytes: [UInt8]) -> JSONParseError? {
        do {
            _ = try JSONValue.parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        "", " ", "[1,]", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{a:1}", "01", "-", "1.", ".5", "1e", "+1",
        "NaN", "Infinity", "-Infinity", "nul", "tru", "[", "{", "\"abc", "// c\n1", "/* c */1", "1 2",
        "'a'", "[1]]", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "\"a\tb\"", "\"a\nb\"", "{\"a\":1,\"a\":2}", "1e400", "-1e400", "[-]", "0x10", "\u{FEFF}1",
    ])
    func rejectsInvalid(_ text: String) {
        #expect(failure(text) != nil, "\(text) should be rejected")
    }

    @Test func invalidUTF8() {
        #expect(failure(bytes: [0x22, 0xFF, 0x22])?.kind == .invalidUTF8)
        #expect(failure(bytes: [0x22, 0xC0, 0xAF, 0x22])?.kind == .invalidUTF8)  // overlong '/'
        #expect(failure(bytes: [0x22, 0xED, 0xA0, 0x80, 0x22])?.kind == .invalidUTF8)  // surrogate
        #expect(failure(bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22])?.kind == .invalidUTF8)  // > U+10FFFF
        #expect(failure(bytes: [0x22, 0xE2, 0x82, 0x22])?.kind == .invalidUTF8)  // truncated
        #expect(failure(bytes: [0x22, 0xE2, 0x82, 0xAC, 0x22]) == nil)
        #expect(failure(bytes: [0xFF])?.kind == .unexpectedCharacter)
    }

    @Test func errorPositions() {
        let e = failure(#"{"a": 1, "b": 2 "c": 3}"#)
        #expect(e?.kind == .unexpectedCharacter)
        #expect(e?.offset == 16)
        #expect(e?.line == 1)
        #expect(e?.column == 17)
        #expect(e?.description == "line 1, column 17: expected ',' or '}' after object member")

        let multi = failure("{\n  \"é\": [1,\n    2,,3]\n}")
        #expect(multi?.line == 3)
        #expect(multi?.column == 7)

        let dup = failure("{\"k\":1,\n\"k\":2}")
        #expect(dup?.kind == .duplicateKey)
        #expect(dup?.line == 2)
        #expect(dup?.column == 1)
        #expect(dup?.message == "duplicate object key 'k'")

        #expect(failure("[1,]")?.message == "trailing comma in array")
        #expect(failure("007")?.message == "leading zeros are not allowed in numbers")
        #expect(failure("[1] x")?.kind == .trailingContent)
        #expect(failure("\"\\ud800\"")?.kind == .invalidSurrogate)
        #expect(failure("\"a\u{1}\"")?.kind == .controlCharacterInString)
        #expect(failure("1e999")?.kind == .numberOutOfRange)
    }

    @Test func duplicatesInLargeObjects() {
        var text = "{"
        for i in 0..<40 { text += "\"k\(i)\":\(i)," }
        text += "\"k33\":0}"
        #expect(failure(text)?.kind == .duplicateKey)
    }

    @Test func depthLimit() throws {
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect(failure(ok) == nil)
        let deep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        #expect(failure(deep)?.kind == .tooDeep)
        let hostile = String(repeating: "{\"a\":[", count: 200_000)
        #expect(failure(hostile)?.kind == .tooDeep)
        // Clamped: even an absurd maxDepth can't overflow the stack.
        let veryDeep = String(repeating: "[", count: 1_000_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(veryDeep, maxDepth: Int.max) }
        _ = try JSONValue.parse(String(repeating: "[", count: 10) + String(repeating: "]", count: 10), maxDepth: 10)
    }

    @Test func largePayload() throws {
        var text = "["
        for i in 0..<50_000 { text += "{\"id\":\(i),\"name\":\"evse-\(i)\",\"v\":\(Double(i) / 8)}," }
        text += "null]"
        #expect(text.utf8.count > 1_000_000)
        let v = try JSONValue.parse(text)
        #expect(v.arrayValue?.count == 50_001)
        #expect(try JSONValue.parse(v.serialized()) == v)
    }

    @Test func genericCollectionOverload() throws {
        let bytes: ArraySlice<UInt8> = Array("[1,2]".utf8)[...]
        #expect(try JSONValue.parse(bytes: bytes) == [1, 2])
        #expect(try JSONValue.parse(bytes: "[true]".utf8) == [true])
    }
}

@Suite struct SerializerTests {
    @Test func compact() {
        let v: JSONValue = ["b": 1, "a": [true, nil, 1.5, "x"], "c": ["z": 32.0]]
        #expect(v.serialized() == #"{"b":1,"a":[true,null,1.5,"x"],"c":{"z":32.0}}"#)
    }

    @Test func doubles() {
        #expect(JSONValue.double(32).serialized() == "32.0")
        #expect(JSONValue.double(230).serialized() == "230.0")
        #expect(JSONValue.double(0.1).serialized() == "0.1")
        #expect(JSONValue.double(1e20).serialized() == "1e+20")
        #expect(JSONValue.double(1e-5).serialized() == "1e-05")
        #expect(JSONValue.double(-0.0).serialized() == "-0.0")
        #expect(JSONValue.double(.nan).serialized() == "null")
        #expect(JSONValue.double(.infinity).serialized() == "null")
        #expect(JSONValue.int(-7).serialized() == "-7")
        for d in [1e20, 1e-5, 1.7976931348623157e308, Double.leastNonzeroMagnitude, 0.1 + 0.2, 123456.789] {
            #expect((try? JSONValue.parse(JSONValue.double(d).serialized())) == .double(d))
        }
    }

    @Test func escaping() {
        let s = JSONValue.string("q\"b\\s/\n\r\t\u{8}\u{c}\u{1}\u{1f}é😀")
        #expect(s.serialized() == #""q\"b\\s/\n\r\t\b\f\u0001\u001fé😀""#)
        #expect((try? JSONValue.parse(s.serialized())) == s)
    }

    @Test func pretty() {
        let v: JSONValue = ["a": [1, 2], "b": [:], "c": [], "d": ["e": "f"]]
        let expected = """
            {
              "a": [
                1,
                2
              ],
              "b": {},
              "c": [],
              "d": {
                "e": "f"
              }
            }
            """
        #expect(v.serialized(pretty: true) == expected)
        #expect(JSONValue.int(1).serialized(pretty: true) == "1")
    }

    @Test func roundTripKeepsOrder() throws {
        let text = #"{"z":1,"y":[1,2.5,"\u00e9"],"x":{"w":null,"v":false}}"#
        let v = try JSONValue.parse(text)
        #expect(v.serialized() == #"{"z":1,"y":[1,2.5,"é"],"x":{"w":null,"v":false}}"#)
        #expect(v.serializedBytes() == Array(v.serialized().utf8))
    }
}

@Suite struct PointerTests {
    @Test func escapeUnescape() throws {
        #expect(JSONPointer.escape("a/b~c") == "a~1b~0c")
        #expect(JSONPointer.unescape("a~1b~0c") == "a/b~c")
        #expect(JSONPointer.unescape("~01") == "~1")
        #expect(JSONPointer.unescape("a~2") == nil)
        #expect(JSONPointer(tokens: ["data", "evses", "0", "ac"]).description == "/data/evses/0/ac")
        #expect(JSONPointer().description == "")
        let p = try JSONPointer(parsing: "/a~1b/~0/")
        #expect(p.tokens == ["a/b", "~", ""])
        #expect(throws: JSONPointerError.self) { try JSONPointer(parsing: "a") }
        #expect(throws: JSONPointerError.self) { try JSONPointer(parsing: "/~") }
    }

    @Test func resolve() throws {
        // The RFC 6901 example document.
        let doc = try JSONValue.parse(#"{"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,"i\\j":5,"k\"l":6," ":7,"m~n":8}"#)
        func at(_ s: String) throws -> JSONValue? { try JSONPointer(parsing: s).resolve(in: doc) }
        #expect(try at("") == doc)
        #expect(try at("/foo") == ["bar", "baz"])
        #expect(try at("/foo/0") == "bar")
        #expect(try at("/") == 0)
        #expect(try at("/a~1b") == 1)
        #expect(try at("/c%d") == 2)
        #expect(try at("/i\\j") == 5)
        #expect(try at("/k\"l") == 6)
        #expect(try at("/ ") == 7)
        #expect(try at("/m~0n") == 8)
        #expect(try at("/foo/2") == nil)
        #expect(try at("/foo/01") == nil)
        #expect(try at("/foo/-") == nil)
        #expect(try at("/nope") == nil)
        #expect(doc[pointer: ["foo", "1"]] == "baz")
    }
}
