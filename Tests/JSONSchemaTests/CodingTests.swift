import Testing

@testable import JSONSchema

enum ConnectorType: String, Codable, Equatable {
    case ccs2 = "CCS2"
    case chademo = "CHAdeMO"
}

struct EVSE: Codable, Equatable {
    var id: Int
    var connector: ConnectorType
    var maxCurrent: Double
    var label: String?
    var phases: [UInt8]
}

struct StatusMessage: Codable, Equatable {
    var name: String
    var version: Int32
    var online: Bool
    var voltage: Float
    var evses: [EVSE]
    var note: String?
    var extra: JSONValue?
}

@Suite struct CodingTests {
    let message = StatusMessage(
        name: "cs-1", version: 7, online: true, voltage: 230, evses: [
            EVSE(id: 1, connector: .ccs2, maxCurrent: 32, label: nil, phases: [1, 2, 3]),
            EVSE(id: 2, connector: .chademo, maxCurrent: 12.5, label: "left", phases: []),
        ], note: nil, extra: ["k": [1, nil]])

    @Test func encodesInDeclarationOrderAndOmitsNil() throws {
        let value = try JSONValueEncoder().encode(message)
        #expect(
            value.serialized()
                == #"{"name":"cs-1","version":7,"online":true,"voltage":230.0,"evses":[{"id":1,"connector":"CCS2","maxCurrent":32.0,"phases":[1,2,3]},{"id":2,"connector":"CHAdeMO","maxCurrent":12.5,"label":"left","phases":[]}],"extra":{"k":[1,null]}}"#
        )
        guard case .int = value["version"] else {
            Issue.record("Int32 must encode as .int")
            return
        }
        #expect(try JSONValueEncoder().encode(Float(0.1)) == .double(0.1))
        #expect(try JSONValueEncoder().encode([Int?.none, 1]) == [nil, 1])
        #expect(try JSONValueEncoder().encode("x") == "x")
    }

    @Test func roundTrip() throws {
        let value = try JSONValueEncoder().encode(message)
        let decoded = try JSONValueDecoder().decode(StatusMessage.self, from: value)
        #expect(decoded == message)
        let reparsed = try JSONValue.parse(value.serialized())
        #expect(try JSONValueDecoder().decode(StatusMessage.self, from: reparsed) == message)
    }

    @Test func decodingAcceptsIntegralDoublesAndNull() throws {
        let v: JSONValue = ["id": 3.0, "connector": "CCS2", "maxCurrent": 16, "label": nil, "phases": [1]]
        let evse = try JSONValueDecoder().decode(EVSE.self, from: v)
        #expect(evse == EVSE(id: 3, connector: .ccs2, maxCurrent: 16, label: nil, phases: [1]))
    }

    func decodeError<T: Decodable>(_ type: T.Type, _ value: JSONValue) -> JSONValueDecodingError? {
        do {
            _ = try JSONValueDecoder().decode(type, from: value)
            return nil
        } catch {
            return error
        }
    }

    @Test func decodingErrorsCarryPointers() {
        let base: JSONValue = ["name": "x", "version": 1, "online": true, "voltage": 1, "evses": []]
        var bad = base
        if case .object(var o) = bad {
            o["evses"] = [["id": 1, "connector": "CCS2", "maxCurrent": 1, "phases": [1, 300]]]
            bad = .object(o)
        }
        let e1 = decodeError(StatusMessage.self, bad)
        #expect(e1?.pointer == "/evses/0/phases/1")

        var missing = base
        if case .object(var o) = missing {
            o["name"] = nil
            missing = .object(o)
        }
        let e2 = decodeError(StatusMessage.self, missing)
        #expect(e2?.pointer == "")
        #expect(e2?.message == "missing required key 'name'")

        var wrongType = base
        if case .object(var o) = wrongType {
            o["online"] = "yes"
            wrongType = .object(o)
        }
        let e3 = decodeError(StatusMessage.self, wrongType)
        #expect(e3?.pointer == "/online")
        #expect(e3?.message == "expected a boolean, found a string")

        var badEnum = base
        if case .object(var o) = badEnum {
            o["evses"] = [["id": 1, "connector": "Type2", "maxCurrent": 1, "phases": []]]
            badEnum = .object(o)
        }
        #expect(decodeError(StatusMessage.self, badEnum)?.pointer == "/evses/0/connector")
        #expect(decodeError(Int.self, 1.5)?.message == "expected an integer, found a number")
    }

    @Test func encodingErrors() {
        #expect(throws: JSONValueEncodingError.self) { try JSONValueEncoder().encode(["x": Double.nan]) }
        #expect(throws: JSONValueEncodingError.self) { try JSONValueEncoder().encode(UInt64.max) }
        do {
            _ = try JSONValueEncoder().encode(["a": [1.0, .infinity]])
        } catch {
            #expect(error.pointer == "/a/1")
        }
    }
}

@Suite struct ValidatorErrorReportTests {
    let schema: JSONValue = [
        "type": "object",
        "required": ["type", "data"],
        "properties": [
            "type": ["enum": ["status", "ping"]],
            "data": [
                "type": "object",
                "required": ["evses"],
                "additionalProperties": false,
                "properties": [
                    "evses": [
                        "type": "array",
                        "items": ["$ref": "#/definitions/evse"],
                    ],
                    "ts": ["type": "string", "format": "date-time"],
                ],
            ],
        ],
        "definitions": [
            "evse": [
                "type": "object",
                "properties": [
                    "id": ["type": "integer", "minimum": 1],
                    "ac": ["type": "boolean"],
                    "uuid": ["type": "string", "format": "uuid"],
                ],
                "required": ["id"],
            ]
        ],
    ]

    @Test func nestedFailures() throws {
        let validator = try JSONSchemaValidator(schema: schema)
        let instance = try JSONValue.parse(
            #"{"type":"pong","data":{"evses":[{"id":1,"ac":true},{"id":0,"ac":"yes","uuid":"nope"}],"extra":1,"ts":"2024-13-01T00:00:00Z"}}"#
        )
        #expect(!validator.isValid(instance))
        let errors = validator.validate(instance)
        let summary = errors.map { "\($0.instancePointer) \($0.keyword) \($0.schemaPointer)" }
        #expect(
            summary == [
                "/type enum /properties/type/enum",
                "/data/evses/1/id minimum /definitions/evse/properties/id/minimum",
                "/data/evses/1/ac type /definitions/evse/properties/ac/type",
                "/data/evses/1/uuid format /definitions/evse/properties/uuid/format",
                "/data additionalProperties /properties/data/additionalProperties",
                "/data/ts format /properties/data/properties/ts/format",
            ])
        #expect(errors[2].message == "expected boolean, got string")
        #expect(errors[4].message == "property 'extra' is not allowed")

        let missing = validator.validate(["type": "ping", "data": [:]])
        #expect(missing == [
            ValidationError(
                instancePointer: "/data", keyword: "required", schemaPointer: "/properties/data/required",
                message: "missing required property 'evses'")
        ])
        #expect(validator.validate(["type": "ping", "data": ["evses": []]]).isEmpty)
    }

    @Test func compileErrorsSayWhere() {
        do {
            _ = try JSONSchemaValidator(schema: ["properties": ["a": ["$ref": "#/definitions/missing"]]])
            Issue.record("expected a compile error")
        } catch {
            #expect(error.location == "/properties/a/$ref")
        }
        do {
            _ = try JSONSchemaValidator(schema: ["pattern": "(unclosed"])
            Issue.record("expected a compile error")
        } catch {
            #expect(error.location == "/pattern")
        }
        #expect(throws: SchemaCompileError.self) { try JSONSchemaValidator(schema: ["minLength": -1]) }
        #expect(throws: SchemaCompileError.self) { try JSONSchemaValidator(schema: ["type": "float"]) }
    }

    @Test func recursionIsBounded() throws {
        // A schema that refers to itself without consuming the instance must not overflow the stack.
        let loop = try JSONSchemaValidator(schema: ["definitions": ["a": ["$ref": "#/definitions/b"], "b": ["$ref": "#/definitions/a"]], "$ref": "#/definitions/a"])
        #expect(!loop.isValid(1))
        #expect(!loop.validate(1).isEmpty)
        // A deep instance against a recursive schema.
        let tree = try JSONSchemaValidator(schema: ["type": "array", "items": ["$ref": "#"]])
        var deep: JSONValue = []
        for _ in 0..<2000 { deep = [deep] }
        #expect(!tree.isValid(deep))
        var shallow: JSONValue = []
        for _ in 0..<100 { shallow = [shallow] }
        #expect(tree.isValid(shallow))
    }

    @Test func numbersAndFormats() throws {
        let v = try JSONSchemaValidator(schema: ["multipleOf": 0.0001])
        #expect(v.isValid(0.0075))
        #expect(!v.isValid(0.00751))
        let big = try JSONSchemaValidator(schema: ["type": "integer", "multipleOf": 0.5])
        #expect(big.isValid(1e308))
        #expect(try JSONSchemaValidator(schema: ["type": "integer"]).isValid(1.0))
        #expect(!(try JSONSchemaValidator(schema: ["const": false]).isValid(0)))
        #expect(try JSONSchemaValidator(schema: ["const": 1]).isValid(1.0))
        #expect(!(try JSONSchemaValidator(schema: ["type": "number"]).isValid(.double(.nan))))
        let uuid = try JSONSchemaValidator(schema: ["format": "uuid"])
        #expect(uuid.isValid("2eb8aa08-aa98-11ea-b4aa-73b441d16380"))
        #expect(!uuid.isValid("2eb8aa08-aa98-11ea-b4aa-73b441d1638"))
        let lax = try JSONSchemaValidator(schema: ["format": "uuid"], assertFormats: false)
        #expect(lax.isValid("nope"))
        let len = try JSONSchemaValidator(schema: ["maxLength": 2, "minLength": 2])
        #expect(len.isValid("😀é"))
        #expect(!len.isValid("abc"))
        let pattern = try JSONSchemaValidator(schema: ["pattern": "^[0-9]{3}$"])
        #expect(pattern.isValid("123"))
        #expect(!pattern.isValid("123\n"))
        #expect(!pattern.isValid("١٢٣"))
    }

    @Test func registryAndBaseURI() throws {
        let registry = SchemaRegistry()
        registry.add(["$id": "http://example.com/common.json", "definitions": ["id": ["type": "integer"]]], uri: "http://example.com/common.json")
        let v = try JSONSchemaValidator(
            schema: ["properties": ["a": ["$ref": "common.json#/definitions/id"]]], baseURI: "http://example.com/msg.json",
            registry: registry)
        #expect(v.isValid(["a": 1]))
        let errors = v.validate(["a": "x"])
        #expect(errors.first?.schemaPointer == "http://example.com/common.json#/definitions/id/type")
        // The meta-schema is built in.
        let meta = try JSONSchemaValidator(schema: ["$ref": "http://json-schema.org/draft-07/schema#"])
        #expect(meta.isValid(schema))
        #expect(!meta.isValid(["type": 12]))
    }
}
