// The draft-07 validator: evaluates compiled node tables against instances.

/// One way an instance fails its schema.
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// JSON pointer into the instance; "" is the root.
    public let instancePointer: String
    /// The failing keyword: "required", "type", "additionalProperties", ...
    public let keyword: String
    /// JSON pointer to the keyword in the schema, e.g. "/properties/data/required" (prefixed by
    /// "uri#" when the keyword lives in another document reached through `$ref`).
    public let schemaPointer: String
    /// Readable explanation, e.g. "missing required property 'evses'".
    public let message: String

    public init(instancePointer: String, keyword: String, schemaPointer: String, message: String) {
        self.instancePointer = instancePointer
        self.keyword = keyword
        self.schemaPointer = schemaPointer
        self.message = message
    }

    public var description: String {
        "\(instancePointer.isEmpty ? "(root)" : instancePointer): \(message) [\(keyword) at \(schemaPointer.isEmpty ? "#" : schemaPointer)]"
    }
}

/// A compiled draft-07 schema. Compile once, validate many times, from any thread.
public struct JSONSchemaValidator: Sendable {
    let nodes: [SchemaNode]
    let root: Int
    let assertFormats: Bool

    /// Validation gives up (reporting an error) beyond this many nested schema evaluations, so
    /// neither deep instances nor `$ref` loops can exhaust the stack.
    public static let maxEvaluationDepth = 400

    /// Compiles `schema` (draft-07). `baseURI` is its retrieval URI for resolving relative `$id` and
    /// `$ref`; other documents come from `registry`. `assertFormats` makes `format` (and
    /// `contentEncoding: base64` / `contentMediaType: application/json`) assertions instead of
    /// annotations.
    public init(
        schema: JSONValue, baseURI: String? = nil, registry: SchemaRegistry? = nil, assertFormats: Bool = true
    ) throws(SchemaCompileError) {
        var compiler = SchemaCompiler(registry: registry)
        root = try compiler.compileRoot(schema, baseURI: baseURI)
        var table: [SchemaNode] = []
        table.reserveCapacity(compiler.nodes.count)
        for node in compiler.nodes {
            guard let node else {
                throw SchemaCompileError(location: "", message: "internal error: schema node left uncompiled")
            }
            table.append(node)
        }
        nodes = table
        self.assertFormats = assertFormats
    }

    /// Every way `instance` fails (empty when valid), in a deterministic order.
    public func validate(_ instance: JSONValue) -> [ValidationError] {
        if isValid(instance) { return [] }
        var collector = ErrorCollector(validator: self)
        collector.collect(root, instance, depth: 0)
        if collector.errors.isEmpty {
            // Cannot happen unless the two passes disagree; never report "invalid" without a reason.
            collector.errors.append(
                ValidationError(instancePointer: "", keyword: "", schemaPointer: "", message: "instance is invalid"))
        }
        return collector.errors
    }

    /// Whether `instance` is valid; stops at the first failure and builds no strings.
    public func isValid(_ instance: JSONValue) -> Bool {
        valid(root, instance, depth: 0)
    }

    // MARK: Fast path

    func valid(_ index: Int, _ instance: JSONValue, depth: Int) -> Bool {
        let s = nodes[index]
        if let b = s.boolean { return b }
        guard depth < Self.maxEvaluationDepth else { return false }
        if let ref = s.ref { return valid(ref, instance, depth: depth + 1) }

        if let types = s.types, !typeMatches(types, instance) { return false }
        if let values = s.enumValues {
            if let set = s.enumSet {
                if !set.contains(instance) && !values.contains(instance) { return false }
            } else if !values.contains(instance) {
                return false
            }
        }
        if s.hasConst, let c = s.constValue, c != instance { return false }

        switch instance {
        case .int, .double:
            if s.hasNumeric && numericFailure(s, instance) != nil { return false }
            if case .double(let d) = instance, !d.isFinite { return false }
        case .string(let str):
            if s.hasString && stringFailure(s, str) != nil { return false }
        case .array(let elements):
            if s.hasArray && !arrayValid(s, elements, depth: depth) { return false }
        case .object(let object):
            if s.hasObject && !objectValid(s, object, depth: depth) { return false }
        default:
            break
        }

        for sub in s.allOf where !valid(sub, instance, depth: depth + 1) { return false }
        if !s.anyOf.isEmpty {
            var any = false
            for sub in s.anyOf where valid(sub, instance, depth: depth + 1) {
                any = true
                break
            }
            if !any { return false }
        }
        if !s.oneOf.isEmpty {
            var count = 0
            for sub in s.oneOf where valid(sub, instance, depth: depth + 1) {
                count += 1
                if count > 1 { return false }
            }
            if count != 1 { return false }
        }
        if let not = s.not, valid(not, instance, depth: depth + 1) { return false }
        if let ifNode = s.ifNode {
            if valid(ifNode, instance, depth: depth + 1) {
                if let then = s.thenNode, !valid(then, instance, depth: depth + 1) { return false }
            } else {
                if let otherwise = s.elseNode, !valid(otherwise, instance, depth: depth + 1) { return false }
            }
        }
        return true
    }

    func arrayValid(_ s: SchemaNode, _ elements: [JSONValue], depth: Int) -> Bool {
        if let max = s.maxItems, elements.count > max { return false }
        if let min = s.minItems, elements.count < min { return false }
        switch s.items {
        case .none:
            break
        case .single(let item):
            for element in elements where !valid(item, element, depth: depth + 1) { return false }
        case .tuple(let items):
            for (i, element) in elements.enumerated() {
                if i < items.count {
                    if !valid(items[i], element, depth: depth + 1) { return false }
                } else if let additional = s.additionalItems {
                    if !valid(additional, element, depth: depth + 1) { return false }
                } else {
                    break
                }
            }
        }
        if s.uniqueItems && firstDuplicate(elements) != nil { return false }
        if let contains = s.contains {
            var found = false
            for element in elements where valid(contains, element, depth: depth + 1) {
                found = true
                break
            }
            if !found { return false }
        }
        return true
    }

    func propertySchema(_ s: SchemaNode, _ key: String) -> Int? {
        if let table = s.propertyTable {
            guard let position = table[key], jsonStringsEqual(s.properties[position].0, key) else { return nil }
            return s.properties[position].1
        }
        for (name, node) in s.properties where jsonStringsEqual(name, key) { return node }
        return nil
    }

    func objectValid(_ s: SchemaNode, _ object: JSONObject, depth: Int) -> Bool {
        if let max = s.maxProperties, object.count > max { return false }
        if let min = s.minProperties, object.count < min { return false }
        for name in s.required where !object.contains(name) { return false }
        let checksMembers = !s.properties.isEmpty || !s.patternProperties.isEmpty || s.additionalProperties != nil
        if checksMembers {
            for member in object.members {
                var matched = false
                if let sub = propertySchema(s, member.key) {
                    matched = true
                    if !valid(sub, member.value, depth: depth + 1) { return false }
                }
                for pattern in s.patternProperties where pattern.regex.matches(member.key) {
                    matched = true
                    if !valid(pattern.node, member.value, depth: depth + 1) { return false }
                }
                if !matched, let additional = s.additionalProperties,
                    !valid(additional, member.value, depth: depth + 1)
                {
                    return false
                }
            }
        }
        for (name, dependency) in s.dependencies where object.contains(name) {
            switch dependency {
            case .required(let names):
                for other in names where !object.contains(other) { return false }
            case .schema(let sub):
                if !valid(sub, .object(object), depth: depth + 1) { return false }
            }
        }
        if let names = s.propertyNames {
            for member in object.members where !valid(names, .string(member.key), depth: depth + 1) { return false }
        }
        return true
    }

    // MARK: Leaf checks (shared by both passes; messages are built only on failure)

    func typeMatches(_ types: TypeMask, _ instance: JSONValue) -> Bool {
        switch instance {
        case .null: return types.contains(.null)
        case .bool: return types.contains(.boolean)
        case .int: return types.contains(.integer) || types.contains(.number)
        case .double(let d):
            if types.contains(.number) { return true }
            return types.contains(.integer) && d.isFinite && d.rounded(.towardZero) == d
        case .string: return types.contains(.string)
        case .array: return types.contains(.array)
        case .object: return types.contains(.object)
        }
    }

    /// The failing numeric keyword and its message, or nil.
    func numericFailure(_ s: SchemaNode, _ instance: JSONValue) -> (String, String)? {
        if let m = s.multipleOf, !isMultiple(instance, of: m) {
            return ("multipleOf", "\(instance) is not a multiple of \(m)")
        }
        if let m = s.maximum, compareNumbers(instance, m) > 0 {
            return ("maximum", "\(instance) is greater than the maximum \(m)")
        }
        if let m = s.exclusiveMaximum, compareNumbers(instance, m) >= 0 {
            return ("exclusiveMaximum", "\(instance) is not less than \(m)")
        }
        if let m = s.minimum, compareNumbers(instance, m) < 0 {
            return ("minimum", "\(instance) is less than the minimum \(m)")
        }
        if let m = s.exclusiveMinimum, compareNumbers(instance, m) <= 0 {
            return ("exclusiveMinimum", "\(instance) is not greater than \(m)")
        }
        return nil
    }

    func stringFailure(_ s: SchemaNode, _ str: String) -> (String, String)? {
        if s.maxLength != nil || s.minLength != nil {
            let byteCount = str.utf8.count
            // Code points never outnumber UTF-8 bytes: skip the count when bytes decide it.
            var length: Int? = nil
            if let max = s.maxLength, byteCount > max {
                let n = str.unicodeScalars.count
                length = n
                if n > max { return ("maxLength", "string is longer than \(max) characters (\(n))") }
            }
            if let min = s.minLength {
                let n = length ?? (byteCount < min ? byteCount : str.unicodeScalars.count)
                if n < min { return ("minLength", "string is shorter than \(min) characters (\(n))") }
            }
        }
        if let pattern = s.pattern, !pattern.matches(str) {
            return ("pattern", "string does not match pattern '\(pattern.source)'")
        }
        if assertFormats {
            if let format = s.format, !format.check(str) {
                return ("format", "'\(str)' is not a valid \(s.formatName)")
            }
            if s.contentBase64 || s.contentJSON {
                var bytes: [UInt8]
                if s.contentBase64 {
                    guard let decoded = decodeBase64(str) else {
                        return ("contentEncoding", "string is not valid base64")
                    }
                    bytes = decoded
                } else {
                    bytes = Array(str.utf8)
                }
                if s.contentJSON {
                    do {
                        _ = try JSONValue.parse(bytes)
                    } catch {
                        return ("contentMediaType", "content is not valid JSON: \(error)")
                    }
                }
            }
        }
        return nil
    }
}

// MARK: - Numbers

/// -1, 0, 1 comparing two JSON numbers exactly (Int64 against Double without rounding).
func compareNumbers(_ a: JSONValue, _ b: JSONValue) -> Int {
    switch (a, b) {
    case (.int(let x), .int(let y)): return x < y ? -1 : (x > y ? 1 : 0)
    case (.int(let x), .double(let y)): return -compareDoubleInt(y, x)
    case (.double(let x), .int(let y)): return compareDoubleInt(x, y)
    case (.double(let x), .double(let y)): return x < y ? -1 : (x > y ? 1 : 0)
    default: return 0
    }
}

private func compareDoubleInt(_ d: Double, _ i: Int64) -> Int {
    if d.isNaN { return 0 }
    if d >= 9.223372036854775808e18 { return 1 }
    if d < -9.223372036854775808e18 { return -1 }
    let t = Int64(d.rounded(.towardZero))
    if t != i { return t < i ? -1 : 1 }
    let frac = d - d.rounded(.towardZero)
    return frac > 0 ? 1 : (frac < 0 ? -1 : 0)
}

func isMultiple(_ value: JSONValue, of divisor: JSONValue) -> Bool {
    if case .int(let a) = value, case .int(let b) = divisor {
        let (r, overflow) = a.remainderReportingOverflow(dividingBy: b)
        return overflow || r == 0
    }
    guard let a = value.numberValue, let b = divisor.numberValue, b > 0, a.isFinite else { return false }
    let q = a / b
    if !q.isFinite {
        // The quotient overflows (1e308 / 0.5): fall back to the exact floating-point remainder.
        return a.truncatingRemainder(dividingBy: b) == 0
    }
    if abs(q) >= 9007199254740992 { return true }  // beyond 2^53 every double is an integer
    return abs(q - q.rounded()) < 1e-9
}

// MARK: - Equality helpers

/// Index pair of the first two equal elements (JSON equality), or nil.
func firstDuplicate(_ elements: [JSONValue]) -> (Int, Int)? {
    if elements.count < 2 { return nil }
    if elements.count <= 16 {
        for i in 0..<elements.count {
            for j in (i + 1)..<elements.count where elements[i] == elements[j] { return (i, j) }
        }
        return nil
    }
    var seen: [JSONValue: Int] = [:]
    for (i, element) in elements.enumerated() {
        if let first = seen[element] { return (first, i) }
        seen[element] = i
    }
    return nil
}

// MARK: - Error collection

struct ErrorCollector {
    let validator: JSONSchemaValidator
    var errors: [ValidationError] = []
    var path: [String] = []

    init(validator: JSONSchemaValidator) { self.validator = validator }

    var pointer: String { JSONPointer(tokens: path).description }

    mutating func report(_ s: SchemaNode, _ keyword: String, _ message: String, extra: String? = nil) {
        var schemaPointer = s.location + "/" + keyword
        if let extra { schemaPointer += "/" + JSONPointer.escape(extra) }
        errors.append(ValidationError(instancePointer: pointer, keyword: keyword, schemaPointer: schemaPointer, message: message))
    }

    func valid(_ index: Int, _ instance: JSONValue, depth: Int) -> Bool {
        validator.valid(index, instance, depth: depth)
    }

    mutating func collect(_ index: Int, _ instance: JSONValue, depth: Int) {
        let s = validator.nodes[index]
        if let b = s.boolean {
            if !b {
                errors.append(ValidationError(instancePointer: pointer, keyword: "false", schemaPointer: s.location, message: "no value is allowed here (schema is false)"))
            }
            return
        }
        guard depth < JSONSchemaValidator.maxEvaluationDepth else {
            errors.append(ValidationError(instancePointer: pointer, keyword: "$ref", schemaPointer: s.location, message: "schema evaluation nested deeper than \(JSONSchemaValidator.maxEvaluationDepth) levels"))
            return
        }
        if let ref = s.ref {
            collect(ref, instance, depth: depth + 1)
            return
        }
        if let types = s.types, !validator.typeMatches(types, instance) {
            let expected = types.names.joined(separator: " or ")
            report(s, "type", "expected \(expected), got \(instance.schemaTypeNameForMessages)")
        }
        if let values = s.enumValues, !values.contains(instance) {
            let listed = values.prefix(10).map { $0.serialized() }.joined(separator: ", ")
            report(s, "enum", "\(instance.shortText) is not one of [\(listed)\(values.count > 10 ? ", …" : "")]")
        }
        if s.hasConst, let c = s.constValue, c != instance {
            report(s, "const", "expected \(c.shortText), got \(instance.shortText)")
        }
        switch instance {
        case .int, .double:
            if case .double(let d) = instance, !d.isFinite {
                report(s, "type", "\(d) is not a JSON number")
            }
            if s.hasNumeric, let (keyword, message) = validator.numericFailure(s, instance) {
                report(s, keyword, message)
            }
        case .string(let str):
            if s.hasString, let (keyword, message) = validator.stringFailure(s, str) {
                report(s, keyword, message)
            }
        case .array(let elements):
            if s.hasArray { collectArray(s, elements, depth: depth) }
        case .object(let object):
            if s.hasObject { collectObject(s, object, depth: depth) }
        default:
            break
        }
        for sub in s.allOf { collect(sub, instance, depth: depth + 1) }
        if !s.anyOf.isEmpty, !s.anyOf.contains(where: { valid($0, instance, depth: depth + 1) }) {
            report(s, "anyOf", "value does not match any of the \(s.anyOf.count) alternatives")
        }
        if !s.oneOf.isEmpty {
            let matching = s.oneOf.indices.filter { valid(s.oneOf[$0], instance, depth: depth + 1) }
            if matching.isEmpty {
                report(s, "oneOf", "value does not match any of the \(s.oneOf.count) alternatives")
            } else if matching.count > 1 {
                report(s, "oneOf", "value matches \(matching.count) alternatives (\(matching.map(String.init).joined(separator: ", "))), expected exactly one")
            }
        }
        if let not = s.not, valid(not, instance, depth: depth + 1) {
            report(s, "not", "value must not match the 'not' schema")
        }
        if let ifNode = s.ifNode {
            if valid(ifNode, instance, depth: depth + 1) {
                if let then = s.thenNode { collect(then, instance, depth: depth + 1) }
            } else if let otherwise = s.elseNode {
                collect(otherwise, instance, depth: depth + 1)
            }
        }
    }

    mutating func collectArray(_ s: SchemaNode, _ elements: [JSONValue], depth: Int) {
        if let max = s.maxItems, elements.count > max {
            report(s, "maxItems", "array has \(elements.count) items, more than \(max)")
        }
        if let min = s.minItems, elements.count < min {
            report(s, "minItems", "array has \(elements.count) items, fewer than \(min)")
        }
        switch s.items {
        case .none:
            break
        case .single(let item):
            for (i, element) in elements.enumerated() { collectChild(item, element, String(i), depth: depth) }
        case .tuple(let items):
            for (i, element) in elements.enumerated() {
                if i < items.count {
                    collectChild(items[i], element, String(i), depth: depth)
                } else if let additional = s.additionalItems {
                    if validator.nodes[additional].boolean == false {
                        path.append(String(i))
                        report(s, "additionalItems", "additional item at index \(i) is not allowed")
                        path.removeLast()
                    } else {
                        collectChild(additional, element, String(i), depth: depth)
                    }
                }
            }
        }
        if s.uniqueItems, let (i, j) = firstDuplicate(elements) {
            report(s, "uniqueItems", "items at index \(i) and \(j) are equal")
        }
        if let contains = s.contains, !elements.contains(where: { valid(contains, $0, depth: depth + 1) }) {
            report(s, "contains", "no item matches the 'contains' schema")
        }
    }

    mutating func collectChild(_ node: Int, _ value: JSONValue, _ token: String, depth: Int) {
        if valid(node, value, depth: depth + 1) { return }
        path.append(token)
        collect(node, value, depth: depth + 1)
        path.removeLast()
    }

    mutating func collectObject(_ s: SchemaNode, _ object: JSONObject, depth: Int) {
        if let max = s.maxProperties, object.count > max {
            report(s, "maxProperties", "object has \(object.count) properties, more than \(max)")
        }
        if let min = s.minProperties, object.count < min {
            report(s, "minProperties", "object has \(object.count) properties, fewer than \(min)")
        }
        for name in s.required where !object.contains(name) {
            report(s, "required", "missing required property '\(name)'")
        }
        for member in object.members {
            var matched = false
            if let sub = validator.propertySchema(s, member.key) {
                matched = true
                collectChild(sub, member.value, member.key, depth: depth)
            }
            for pattern in s.patternProperties where pattern.regex.matches(member.key) {
                matched = true
                collectChild(pattern.node, member.value, member.key, depth: depth)
            }
            if !matched, let additional = s.additionalProperties {
                if validator.nodes[additional].boolean == false {
                    report(s, "additionalProperties", "property '\(member.key)' is not allowed")
                } else {
                    collectChild(additional, member.value, member.key, depth: depth)
                }
            }
        }
        for (name, dependency) in s.dependencies where object.contains(name) {
            switch dependency {
            case .required(let names):
                for other in names where !object.contains(other) {
                    report(s, "dependencies", "property '\(other)' is required when '\(name)' is present", extra: name)
                }
            case .schema(let sub):
                collect(sub, .object(object), depth: depth + 1)
            }
        }
        if let names = s.propertyNames {
            for member in object.members where !valid(names, .string(member.key), depth: depth + 1) {
                report(s, "propertyNames", "property name '\(member.key)' is not valid")
            }
        }
    }
}

extension JSONValue {
    var schemaTypeNameForMessages: String {
        schemaTypeName
    }

    /// Serialized, cut to 60 characters for messages.
    var shortText: String {
        let text = serialized()
        return text.count > 60 ? String(text.prefix(57)) + "..." : text
    }
}
