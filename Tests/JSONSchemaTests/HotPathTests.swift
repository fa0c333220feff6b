import Testing

@testable import JSONSchema

/// The shortcuts of the per-message path (docs/PERFORMANCE.md) must give the answers of the general
/// code they bypass.
@Suite struct HotPathTests {
    // MARK: `^[class]+$` patterns without the general matcher

    static let runPatterns = ["^[a-z0-9_]+$", "^[A-Za-z]*$", "^[a-f0-9-]+$", "^[*A-Z0-9]+$", "^[ab^c]+$"]
    static let subjects = [
        "", "cs_status_and_limits", "CS", "a-b", "abc\n", "\nabc", "ab c", "é", "ab\u{0}", "DE*PNX*E12345*1", "ffff-0000",
        "a^b", "_", "Z", "x\u{2028}", "ABC", "abc",
    ]

    @Test(arguments: runPatterns)
    func asciiRunMatchesAsTheRegexDoes(pattern: String) throws {
        let compiled = try ECMARegex(pattern)
        let run = try #require(compiled.asciiRun, "\(pattern) should take the byte scan")
        for subject in Self.subjects {
            let byRegex = compiled.program.search(subject) == .match
            #expect(run.matches(subject) == byRegex, "\(pattern) on \(subject.debugDescription)")
            #expect(compiled.matches(subject) == byRegex)
        }
    }

    @Test(arguments: ["^[a-z]+", "[a-z]+$", "^[^a-z]+$", "^[\\d]+$", "^[a-z]{2}$", "^[-a]+$", "^(a|b)+$", "^[a-z]+$|^x$", "^[z-a]+$"])
    func otherPatternsKeepTheRegex(pattern: String) {
        // Either not of the shape, or not a valid class: the general matcher decides (and may refuse it).
        if let compiled = try? ECMARegex(pattern) { #expect(compiled.asciiRun == nil, "\(pattern)") }
    }

    @Test func envelopeNamePatternStillRejects() throws {
        let validator = try JSONSchemaValidator(schema: JSONValue.parse(#"{"type":"string","pattern":"^[a-z0-9_]+$"}"#))
        #expect(validator.isValid(.string("cs_status_and_limits")))
        #expect(!validator.isValid(.string("CsStatus")))
        #expect(!validator.isValid(.string("")))
        #expect(validator.validate(.string("a b")).first?.keyword == "pattern")
    }

    // MARK: String equality is code-point equality

    @Test func jsonStringEqualityIsByteEquality() {
        #expect(jsonStringsEqual("evse_id", "evse_id"))
        #expect(!jsonStringsEqual("evse_id", "evse_ie"))
        #expect(!jsonStringsEqual("a_long_key_of_more_than_eight", "a_long_key_of_more_than_eighT"))
        #expect(jsonStringsEqual("a_long_key_of_more_than_eight", "a_long_key_of_more_than_eight"))
        #expect(jsonStringsEqual("", ""))
        // Canonically equivalent, different code points: different JSON strings.
        #expect(!jsonStringsEqual("\u{E9}", "e\u{301}"))
        #expect("\u{E9}" == "e\u{301}")
    }

    @Test func uuidFormat() {
        #expect(isUUID("3f2504e0-4f89-41d3-9a0c-0305e82c3301"))
        #expect(isUUID("3F2504E0-4F89-41D3-9A0C-0305E82C3301"))
        #expect(!isUUID("3f2504e0-4f89-41d3-9a0c-0305e82c330"))
        #expect(!isUUID("3f2504e0x4f89-41d3-9a0c-0305e82c3301"))
        #expect(!isUUID("3f2504e0-4f89-41d3-9a0c-0305e82c330g"))
        #expect(!isUUID("3f2504e0-4f89-41d3-9a0c-0305e82c33é"))
    }

    // MARK: The encoder's primitives, found by metatype

    struct Primitives: Encodable {
        var i8: Int8 = -8
        var i16: Int16 = -16
        var i32: Int32 = -32
        var i64: Int64 = -64
        var int: Int = -1
        var u8: UInt8 = 8
        var u16: UInt16 = 16
        var u32: UInt32 = 32
        var u64: UInt64 = 64
        var uint: UInt = 1
        var float: Float = 0.1
        var double: Double = 2.5
        var bool = true
        var string = "s"
        var json: JSONValue = .array([.null])
        var absent: Int? = nil
        var present: Double? = 1
        var list: [UInt16] = [1, 2]

        enum CodingKeys: String, CodingKey {
            case i8, i16, i32, i64, int, u8, u16, u32, u64, uint, float, double, bool, string, json, absent, present, list
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(i8, forKey: .i8)
            try container.encode(i16, forKey: .i16)
            try container.encode(i32, forKey: .i32)
            try container.encode(i64, forKey: .i64)
            try container.encode(int, forKey: .int)
            try container.encode(u8, forKey: .u8)
            try container.encode(u16, forKey: .u16)
            try container.encode(u32, forKey: .u32)
            try container.encode(u64, forKey: .u64)
            try container.encode(uint, forKey: .uint)
            try container.encode(float, forKey: .float)
            try container.encode(double, forKey: .double)
            try container.encode(bool, forKey: .bool)
            try container.encode(string, forKey: .string)
            try container.encode(json, forKey: .json)
            try container.encode(absent, forKey: .absent)  // generic Optional: omitted when nil
            try container.encodeIfPresent(present, forKey: .present)
            try container.encode(list, forKey: .list)
        }
    }

    @Test func primitivesEncodeToTheirJSON() throws {
        let json = try JSONValueEncoder().encode(Primitives())
        #expect(
            json.serialized()
                == #"{"i8":-8,"i16":-16,"i32":-32,"i64":-64,"int":-1,"u8":8,"u16":16,"u32":32,"u64":64,"uint":1,"float":0.1,"double":2.5,"bool":true,"string":"s","json":[null],"present":1.0,"list":[1,2]}"#
        )
    }

    struct Unrepresentable: Encodable {
        var values: [UInt64]
        var ratio: Double
    }

    @Test func unrepresentableValuesNameTheirPointer() {
        #expect(throws: JSONValueEncodingError.self) { try JSONValueEncoder().encode(Unrepresentable(values: [1, .max], ratio: 1)) }
        do {
            _ = try JSONValueEncoder().encode(Unrepresentable(values: [1, .max], ratio: 1))
        } catch {
            #expect(error.pointer == "/values/1")
        }
        do {
            _ = try JSONValueEncoder().encode(Unrepresentable(values: [], ratio: .nan))
        } catch {
            #expect(error.pointer == "/ratio")
        }
    }
}
