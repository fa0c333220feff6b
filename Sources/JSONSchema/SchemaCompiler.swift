import Synchronization

// Compiles draft-07 schema documents into a flat table of nodes (cycle-safe for recursive $ref).

/// A schema that could not be compiled: invalid keyword value, unresolvable `$ref`, bad regex.
/// `location` is where in the schema (URI and JSON pointer) the problem is.
public struct SchemaCompileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let location: String
    public let message: String

    public init(location: String, message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "invalid schema at '\(location)': \(message)" }
}

/// Schema documents by absolute URI, for `$ref`s to other documents (no network access ever).
/// The draft-07 meta-schema (`http://json-schema.org/draft-07/schema`) is always available.
public final class SchemaRegistry: Sendable {
    private let storage: Mutex<[String: JSONValue]>

    public init() { storage = Mutex([:]) }

    /// Adds (or replaces) a document under an absolute URI (a trailing empty fragment is ignored).
    public func add(_ document: JSONValue, uri: String) {
        let key = splitFragment(uri).0
        storage.withLock { $0[key] = document }
    }

    public func document(for uri: String) -> JSONValue? {
        let key = splitFragment(uri).0
        if let found = storage.withLock({ $0[key] }) { return found }
        if key == draft07MetaSchemaURI || key == "https://json-schema.org/draft-07/schema" {
            return draft07MetaSchema
        }
        return nil
    }

    public var uris: [String] { storage.withLock { Array($0.keys) }.sorted() }
}

// MARK: - Nodes

struct TypeMask: OptionSet, Sendable {
    let rawValue: UInt8
    static let null = TypeMask(rawValue: 1)
    static let boolean = TypeMask(rawValue: 2)
    static let object = TypeMask(rawValue: 4)
    static let array = TypeMask(rawValue: 8)
    static let number = TypeMask(rawValue: 16)
    static let string = TypeMask(rawValue: 32)
    static let integer = TypeMask(rawValue: 64)

    static func named(_ name: String) -> TypeMask? {
        switch name {
        case "null": .null
        case "boolean": .boolean
        case "object": .object
        case "array": .array
        case "number": .number
        case "string": .string
        case "integer": .integer
        default: nil
        }
    }

    var names: [String] {
        var out: [String] = []
        for (bit, name) in [
            (TypeMask.null, "null"), (.boolean, "boolean"), (.object, "object"), (.array, "array"),
            (.number, "number"), (.string, "string"), (.integer, "integer"),
        ] where contains(bit) { out.append(name) }
        return out
    }
}

enum ItemsSpec: Sendable {
    case none
    case single(Int)
    case tuple([Int])
}

enum DependencySpec: Sendable {
    case required([String])
    case schema(Int)
}

struct PatternProperty: Sendable {
    let regex: ECMARegex
    let node: Int
}

/// Everything a schema object says, resolved, while it is being compiled. Absent keywords are
/// nil / empty. Frozen into a `SchemaNode` when done.
struct NodeSpec: Sendable {
    var location = ""  // schema pointer of this node, "" for the root document's root
    var boolean: Bool? = nil  // boolean schema
    var ref: Int? = nil  // $ref: everything else ignored

    var types: TypeMask? = nil
    var enumValues: [JSONValue]? = nil
    var enumSet: Set<JSONValue>? = nil
    var constValue: JSONValue? = nil
    var hasConst = false

    var multipleOf: JSONValue? = nil
    var maximum: JSONValue? = nil
    var exclusiveMaximum: JSONValue? = nil
    var minimum: JSONValue? = nil
    var exclusiveMinimum: JSONValue? = nil

    var maxLength: Int? = nil
    var minLength: Int? = nil
    var pattern: ECMARegex? = nil
    var format: FormatKind? = nil
    var formatName = ""
    var contentBase64 = false
    var contentJSON = false

    var items: ItemsSpec = .none
    var additionalItems: Int? = nil
    var maxItems: Int? = nil
    var minItems: Int? = nil
    var uniqueItems = false
    var contains: Int? = nil

    var maxProperties: Int? = nil
    var minProperties: Int? = nil
    var required: [String] = []
    var properties: [(String, Int)] = []
    var propertyTable: [String: Int]? = nil  // name → position in `properties`, for big objects
    var patternProperties: [PatternProperty] = []
    var additionalProperties: Int? = nil
    var dependencies: [(String, DependencySpec)] = []
    var propertyNames: Int? = nil

    var ifNode: Int? = nil
    var thenNode: Int? = nil
    var elseNode: Int? = nil
    var allOf: [Int] = []
    var anyOf: [Int] = []
    var oneOf: [Int] = []
    var not: Int? = nil

    var hasNumeric = false
    var hasString = false
    var hasArray = false
    var hasObject = false
}

/// A compiled schema node: immutable `let` fields, so evaluation reads them without copying a
/// struct (and retaining all its references) or paying for exclusivity checks.
final class SchemaNode: Sendable {
    let location: String
    let boolean: Bool?
    let ref: Int?
    let types: TypeMask?
    let enumValues: [JSONValue]?
    let enumSet: Set<JSONValue>?
    let constValue: JSONValue?
    let hasConst: Bool
    let multipleOf: JSONValue?
    let maximum: JSONValue?
    let exclusiveMaximum: JSONValue?
    let minimum: JSONValue?
    let exclusiveMinimum: JSONValue?
    let maxLength: Int?
    let minLength: Int?
    let pattern: ECMARegex?
    let format: FormatKind?
    let formatName: String
    let contentBase64: Bool
    let contentJSON: Bool
    let items: ItemsSpec
    let additionalItems: Int?
    let maxItems: Int?
    let minItems: Int?
    let uniqueItems: Bool
    let contains: Int?
    let maxProperties: Int?
    let minProperties: Int?
    let required: [String]
    let properties: [(String, Int)]
    let propertyTable: [String: Int]?
    let patternProperties: [PatternProperty]
    let additionalProperties: Int?
    let dependencies: [(String, DependencySpec)]
    let propertyNames: Int?
    let ifNode: Int?
    let thenNode: Int?
    let elseNode: Int?
    let allOf: [Int]
    let anyOf: [Int]
    let oneOf: [Int]
    let not: Int?
    let hasNumeric: Bool
    let hasString: Bool
    let hasArray: Bool
    let hasObject: Bool

    init(_ spec: NodeSpec) {
        location = spec.location
        boolean = spec.boolean
        ref = spec.ref
        types = spec.types
        enumValues = spec.enumValues
        enumSet = spec.enumSet
        constValue = spec.constValue
        hasConst = spec.hasConst
        multipleOf = spec.multipleOf
        maximum = spec.maximum
        exclusiveMaximum = spec.exclusiveMaximum
        minimum = spec.minimum
        exclusiveMinimum = spec.exclusiveMinimum
        maxLength = spec.maxLength
        minLength = spec.minLength
        pattern = spec.pattern
        format = spec.format
        formatName = spec.formatName
        contentBase64 = spec.contentBase64
        contentJSON = spec.contentJSON
        items = spec.items
        additionalItems = spec.additionalItems
        maxItems = spec.maxItems
        minItems = spec.minItems
        uniqueItems = spec.uniqueItems
        contains = spec.contains
        maxProperties = spec.maxProperties
        minProperties = spec.minProperties
        required = spec.required
        properties = spec.properties
        propertyTable = spec.propertyTable
        patternProperties = spec.patternProperties
        additionalProperties = spec.additionalProperties
        dependencies = spec.dependencies
        propertyNames = spec.propertyNames
        ifNode = spec.ifNode
        thenNode = spec.thenNode
        elseNode = spec.elseNode
        allOf = spec.allOf
        anyOf = spec.anyOf
        oneOf = spec.oneOf
        not = spec.not
        hasNumeric = spec.hasNumeric
        hasString = spec.hasString
        hasArray = spec.hasArray
        hasObject = spec.hasObject
    }
}

// MARK: - Compiler

private struct Resource {
    var docKey: String
    var pointer: [String]
    var value: JSONValue
    var base: String
}

private let rootDocumentKey = "urn:cs-companion:root-schema"

struct SchemaCompiler {
    let registry: SchemaRegistry?
    var nodes: [SchemaNode?] = []
    private var cache: [String: Int] = [:]
    private var resources: [String: Resource] = [:]
    private var indexedDocuments: Set<String> = []
    var rootDocKey = rootDocumentKey

    init(registry: SchemaRegistry?) {
        self.registry = registry
    }

    mutating func compileRoot(_ schema: JSONValue, baseURI: String?) throws(SchemaCompileError) -> Int {
        let base = baseURI.map { splitFragment($0).0 } ?? rootDocumentKey
        rootDocKey = base
        index(schema, docKey: base, pointer: [], base: base, isRoot: true)
        indexedDocuments.insert(base)
        return try compile(schema, base: base, docKey: base, pointer: [])
    }

    // MARK: Indexing $id

    private mutating func index(_ value: JSONValue, docKey: String, pointer: [String], base: String, isRoot: Bool) {
        if isRoot {
            resources[base] = resources[base] ?? Resource(docKey: docKey, pointer: pointer, value: value, base: base)
        }
        guard case .object(let object) = value else { return }
        // Resources record the base URI in effect *around* the schema; compiling it applies its $id.
        let parentBase = base
        var base = base
        if object["$ref"] == nil, case .string(let id)? = object["$id"] {
            let resolved = resolveURI(id, against: base)
            let (uri, fragment) = splitFragment(resolved)
            base = uri
            if (fragment ?? "").isEmpty {
                resources[uri] = Resource(docKey: docKey, pointer: pointer, value: value, base: parentBase)
            } else if let fragment, !fragment.hasPrefix("/") {
                resources[uri + "#" + fragment] = Resource(docKey: docKey, pointer: pointer, value: value, base: parentBase)
            }
        }
        for member in object.members {
            switch member.key {
            case "additionalItems", "additionalProperties", "contains", "propertyNames", "if", "then", "else", "not":
                index(member.value, docKey: docKey, pointer: pointer + [member.key], base: base, isRoot: false)
            case "items", "allOf", "anyOf", "oneOf":
                if case .array(let elements) = member.value {
                    for (i, element) in elements.enumerated() {
                        index(element, docKey: docKey, pointer: pointer + [member.key, String(i)], base: base, isRoot: false)
                    }
                } else {
                    index(member.value, docKey: docKey, pointer: pointer + [member.key], base: base, isRoot: false)
                }
            case "properties", "patternProperties", "definitions", "dependencies":
                if case .object(let children) = member.value {
                    for child in children.members {
                        index(child.value, docKey: docKey, pointer: pointer + [member.key, child.key], base: base, isRoot: false)
                    }
                }
            default:
                break
            }
        }
    }

    private mutating func indexRegistryDocument(_ uri: String) -> Bool {
        guard !indexedDocuments.contains(uri), let document = registry?.document(for: uri) ?? SchemaRegistry.builtin(uri)
        else { return false }
        indexedDocuments.insert(uri)
        index(document, docKey: uri, pointer: [], base: uri, isRoot: true)
        return true
    }

    // MARK: $ref resolution

    private mutating func resolveReference(_ absolute: String, from location: String) throws(SchemaCompileError) -> (
        JSONValue, String, String, [String]
    ) {
        let (uri, fragment) = splitFragment(absolute)
        func unresolvable() -> SchemaCompileError {
            SchemaCompileError(location: location, message: "cannot resolve $ref '\(absolute)'")
        }
        if let fragment, !fragment.isEmpty, !fragment.hasPrefix("/") {
            let key = uri + "#" + fragment
            if resources[key] == nil { _ = indexRegistryDocument(uri) }
            if resources[key] == nil { indexAllRegistryDocuments() }
            guard let resource = resources[key] else { throw unresolvable() }
            return (resource.value, resource.base, resource.docKey, resource.pointer)
        }
        if resources[uri] == nil { _ = indexRegistryDocument(uri) }
        if resources[uri] == nil { indexAllRegistryDocuments() }
        guard let resource = resources[uri] else { throw unresolvable() }
        guard let decoded = percentDecode(fragment ?? ""), let pointer = try? JSONPointer(parsing: decoded) else {
            throw SchemaCompileError(location: location, message: "invalid JSON pointer in $ref '\(absolute)'")
        }
        var value = resource.value
        var base = resource.base
        for token in pointer.tokens {
            if case .object(let object) = value, object["$ref"] == nil, case .string(let id)? = object["$id"] {
                base = splitFragment(resolveURI(id, against: base)).0
            }
            switch value {
            case .object(let object):
                guard let next = object[token] else { throw unresolvable() }
                value = next
            case .array(let elements):
                guard let i = JSONPointer.arrayIndex(token), i < elements.count else { throw unresolvable() }
                value = elements[i]
            default:
                throw unresolvable()
            }
        }
        return (value, base, resource.docKey, resource.pointer + pointer.tokens)
    }

    private mutating func indexAllRegistryDocuments() {
        guard let registry else { return }
        for uri in registry.uris { _ = indexRegistryDocument(uri) }
    }

    // MARK: Compiling

    private func locationString(docKey: String, pointer: [String]) -> String {
        let text = JSONPointer(tokens: pointer).description
        return docKey == rootDocKey ? text : docKey + "#" + text
    }

    mutating func compile(_ value: JSONValue, base: String, docKey: String, pointer: [String]) throws(SchemaCompileError)
        -> Int
    {
        let location = locationString(docKey: docKey, pointer: pointer)
        let key = docKey + "#" + JSONPointer(tokens: pointer).description
        if let existing = cache[key] { return existing }
        let slot = nodes.count
        nodes.append(nil)
        cache[key] = slot

        var spec = NodeSpec()
        spec.location = location
        func fail(_ keyword: String, _ message: String) -> SchemaCompileError {
            SchemaCompileError(location: location + "/" + JSONPointer.escape(keyword), message: message)
        }

        switch value {
        case .bool(let b):
            spec.boolean = b
            nodes[slot] = SchemaNode(spec)
            return slot
        case .object:
            break
        default:
            throw SchemaCompileError(location: location, message: "a schema must be an object or a boolean")
        }
        guard case .object(let object) = value else { return slot }

        if let refValue = object["$ref"] {
            guard case .string(let ref) = refValue else { throw fail("$ref", "$ref must be a string") }
            let absolute = resolveURI(ref, against: base)
            let (target, targetBase, targetDoc, targetPointer) = try resolveReference(absolute, from: location + "/$ref")
            spec.ref = try compile(target, base: targetBase, docKey: targetDoc, pointer: targetPointer)
            nodes[slot] = SchemaNode(spec)
            return slot
        }

        var base = base
        if let idValue = object["$id"] {
            guard case .string(let id) = idValue else { throw fail("$id", "$id must be a string") }
            base = splitFragment(resolveURI(id, against: base)).0
        }

        func sub(_ keyword: String, _ child: JSONValue, _ extra: [String] = []) throws(SchemaCompileError) -> Int {
            try compile(child, base: base, docKey: docKey, pointer: pointer + [keyword] + extra)
        }
        func schemaArray(_ keyword: String, _ v: JSONValue) throws(SchemaCompileError) -> [Int] {
            guard case .array(let elements) = v, !elements.isEmpty else {
                throw fail(keyword, "\(keyword) must be a non-empty array of schemas")
            }
            var out: [Int] = []
            for (i, element) in elements.enumerated() { out.append(try sub(keyword, element, [String(i)])) }
            return out
        }
        func nonNegative(_ keyword: String, _ v: JSONValue) throws(SchemaCompileError) -> Int {
            guard let n = v.integerValue, n >= 0 else { throw fail(keyword, "\(keyword) must be a non-negative integer") }
            return n > Int64(Int.max) ? Int.max : Int(n)
        }
        func number(_ keyword: String, _ v: JSONValue) throws(SchemaCompileError) -> JSONValue {
            switch v {
            case .int, .double: return v
            default: throw fail(keyword, "\(keyword) must be a number")
            }
        }
        func regex(_ keyword: String, _ source: String) throws(SchemaCompileError) -> ECMARegex {
            do {
                return try ECMARegex(source)
            } catch {
                throw fail(keyword, error.message)
            }
        }

        for member in object.members {
            let v = member.value
            switch member.key {
            case "type":
                var mask = TypeMask()
                switch v {
                case .string(let name):
                    guard let t = TypeMask.named(name) else { throw fail("type", "unknown type '\(name)'") }
                    mask = t
                case .array(let names):
                    for name in names {
                        guard case .string(let n) = name, let t = TypeMask.named(n) else {
                            throw fail("type", "type must be a type name or an array of type names")
                        }
                        mask.insert(t)
                    }
                default:
                    throw fail("type", "type must be a type name or an array of type names")
                }
                spec.types = mask
            case "enum":
                guard case .array(let values) = v else { throw fail("enum", "enum must be an array") }
                spec.enumValues = values
                if values.count > 8 { spec.enumSet = Set(values) }
            case "const":
                spec.constValue = v
                spec.hasConst = true
            case "multipleOf":
                let n = try number("multipleOf", v)
                guard let d = n.numberValue, d > 0 else { throw fail("multipleOf", "multipleOf must be greater than 0") }
                spec.multipleOf = n
                spec.hasNumeric = true
            case "maximum":
                spec.maximum = try number("maximum", v)
                spec.hasNumeric = true
            case "exclusiveMaximum":
                spec.exclusiveMaximum = try number("exclusiveMaximum", v)
                spec.hasNumeric = true
            case "minimum":
                spec.minimum = try number("minimum", v)
                spec.hasNumeric = true
            case "exclusiveMinimum":
                spec.exclusiveMinimum = try number("exclusiveMinimum", v)
                spec.hasNumeric = true
            case "maxLength":
                spec.maxLength = try nonNegative("maxLength", v)
                spec.hasString = true
            case "minLength":
                spec.minLength = try nonNegative("minLength", v)
                spec.hasString = true
            case "pattern":
                guard case .string(let source) = v else { throw fail("pattern", "pattern must be a string") }
                spec.pattern = try regex("pattern", source)
                spec.hasString = true
            case "format":
                guard case .string(let name) = v else { throw fail("format", "format must be a string") }
                spec.format = FormatKind(rawValue: name)
                spec.formatName = name
                spec.hasString = spec.hasString || spec.format != nil
            case "contentEncoding":
                guard case .string(let name) = v else { throw fail("contentEncoding", "contentEncoding must be a string") }
                spec.contentBase64 = name.lowercased() == "base64"
                spec.hasString = true
            case "contentMediaType":
                guard case .string(let name) = v else { throw fail("contentMediaType", "contentMediaType must be a string") }
                spec.contentJSON = name.lowercased() == "application/json"
                spec.hasString = true
            case "items":
                if case .array(let elements) = v {
                    var out: [Int] = []
                    for (i, element) in elements.enumerated() { out.append(try sub("items", element, [String(i)])) }
                    spec.items = .tuple(out)
                } else {
                    spec.items = .single(try sub("items", v))
                }
                spec.hasArray = true
            case "additionalItems":
                spec.additionalItems = try sub("additionalItems", v)
                spec.hasArray = true
            case "maxItems":
                spec.maxItems = try nonNegative("maxItems", v)
                spec.hasArray = true
            case "minItems":
                spec.minItems = try nonNegative("minItems", v)
                spec.hasArray = true
            case "uniqueItems":
                guard case .bool(let b) = v else { throw fail("uniqueItems", "uniqueItems must be a boolean") }
                spec.uniqueItems = b
                spec.hasArray = spec.hasArray || b
            case "contains":
                spec.contains = try sub("contains", v)
                spec.hasArray = true
            case "maxProperties":
                spec.maxProperties = try nonNegative("maxProperties", v)
                spec.hasObject = true
            case "minProperties":
                spec.minProperties = try nonNegative("minProperties", v)
                spec.hasObject = true
            case "required":
                guard case .array(let names) = v else { throw fail("required", "required must be an array of strings") }
                for name in names {
                    guard case .string(let s) = name else { throw fail("required", "required must be an array of strings") }
                    spec.required.append(s)
                }
                spec.hasObject = true
            case "properties":
                guard case .object(let props) = v else { throw fail("properties", "properties must be an object") }
                for prop in props.members { spec.properties.append((prop.key, try sub("properties", prop.value, [prop.key]))) }
                if spec.properties.count > 8 {
                    var table: [String: Int] = [:]
                    for (position, entry) in spec.properties.enumerated() where table[entry.0] == nil {
                        table[entry.0] = position
                    }
                    spec.propertyTable = table
                }
                spec.hasObject = true
            case "patternProperties":
                guard case .object(let props) = v else {
                    throw fail("patternProperties", "patternProperties must be an object")
                }
                for prop in props.members {
                    let r = try regex("patternProperties", prop.key)
                    spec.patternProperties.append(PatternProperty(regex: r, node: try sub("patternProperties", prop.value, [prop.key])))
                }
                spec.hasObject = true
            case "additionalProperties":
                spec.additionalProperties = try sub("additionalProperties", v)
                spec.hasObject = true
            case "dependencies":
                guard case .object(let deps) = v else { throw fail("dependencies", "dependencies must be an object") }
                for dep in deps.members {
                    if case .array(let names) = dep.value {
                        var list: [String] = []
                        for name in names {
                            guard case .string(let s) = name else {
                                throw fail("dependencies", "dependency '\(dep.key)' must list property names")
                            }
                            list.append(s)
                        }
                        spec.dependencies.append((dep.key, .required(list)))
                    } else {
                        spec.dependencies.append((dep.key, .schema(try sub("dependencies", dep.value, [dep.key]))))
                    }
                }
                spec.hasObject = true
            case "propertyNames":
                spec.propertyNames = try sub("propertyNames", v)
                spec.hasObject = true
            case "if": spec.ifNode = try sub("if", v)
            case "then": spec.thenNode = try sub("then", v)
            case "else": spec.elseNode = try sub("else", v)
            case "allOf": spec.allOf = try schemaArray("allOf", v)
            case "anyOf": spec.anyOf = try schemaArray("anyOf", v)
            case "oneOf": spec.oneOf = try schemaArray("oneOf", v)
            case "not": spec.not = try sub("not", v)
            default:
                break  // annotations ($schema, title, default, definitions, …) and unknown keywords
            }
        }
        if spec.ifNode == nil {
            spec.thenNode = nil
            spec.elseNode = nil
        }
        nodes[slot] = SchemaNode(spec)
        return slot
    }
}

extension SchemaRegistry {
    static func builtin(_ uri: String) -> JSONValue? {
        (uri == draft07MetaSchemaURI || uri == "https://json-schema.org/draft-07/schema") ? draft07MetaSchema : nil
    }
}
