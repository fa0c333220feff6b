// Loading one YAML document into a JSONValue, with the position of every value.
import CYAML
import Glibc
import JSONSchema

/// One YAML document loaded as a ``JSONValue`` plus where each value was written.
///
/// ```swift
/// let document = try YAMLDocument.parse(text)
/// // schema validation reports /evses/0/connectors/1/max_current:
/// print(document.sourceMap.diagnostic(file: "cs-companiond.yaml", pointer: pointer, message: "must be at most 63"))
/// ```
///
/// What the loader accepts (libyaml 0.2.5 parses, this type composes and resolves):
///
/// * **Scalars** are resolved by the YAML 1.2 core schema when plain (unquoted, untagged):
///   `null`/`Null`/`NULL`/`~`/empty → null; `true`/`True`/`TRUE`/`false`/… → bool; `[-+]?[0-9]+`,
///   `0x…`, `0o…` → `.int` (out of Int64 range: an error); decimal floats with optional exponent
///   → `.double`; everything else → string. So, unlike YAML 1.1, `yes`/`no`/`on`/`off`, `1_000`,
///   `2024-01-01` and `12:30` are strings, and `0777` is the decimal 777.
///   `.inf`, `.nan` and finite literals that overflow a Double are **errors**: JSON cannot hold
///   non-finite numbers and no setting needs them (quote them to get a string).
/// * Quoted (`'…'`, `"…"`) and block (`|`, `>`) scalars are always strings.
/// * Explicit tags `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!map`, `!!seq` and the
///   non-specific `!` are honoured (`!!int "12"` is 12, `!!str 12` is "12"); any other tag is an
///   error.
/// * **Mappings** become ``JSONObject``s in document order. Keys must be scalars and are taken as
///   written (`1: x` has the key "1", `~: x` the key "~"). A **duplicate key** is an error that
///   names both lines.
/// * **Anchors and aliases** are supported; an alias must follow its anchor. Each alias counts as
///   the full size of the value it repeats against ``YAMLLimits/maxNodes``, so alias bombs fail.
///   **Merge keys** (`<<: *defaults`, `<<: [*a, *b]`) are supported: explicit keys win over merged
///   ones, earlier merge sources over later ones; merged members are placed where `<<` was.
/// * An **empty stream** (nothing, or only comments) loads as `.null` (the caller's schema then
///   reports "expected an object" at `/`, line 1). **More than one document** is an error.
public struct YAMLDocument: Sendable {
    /// The document's content.
    public var value: JSONValue
    /// Where each value was written.
    public var sourceMap: YAMLSourceMap

    public init(value: JSONValue, sourceMap: YAMLSourceMap) {
        self.value = value
        self.sourceMap = sourceMap
    }

    /// Loads `text`.
    public static func parse(_ text: String, limits: YAMLLimits = .default) throws(YAMLError) -> YAMLDocument {
        try parse(bytes: Array(text.utf8), limits: limits)
    }

    /// Reads and loads the file at `path`, reading at most ``YAMLLimits/maxInputBytes`` + 1 bytes,
    /// so a huge file (or `/dev/zero`) is rejected without being read into memory.
    public static func parse(contentsOfFile path: String, limits: YAMLLimits = .default) throws(YAMLError) -> YAMLDocument {
        try parse(bytes: try readFile(path, limit: limits.maxInputBytes), limits: limits)
    }

    static func readFile(_ path: String, limit: Int) throws(YAMLError) -> [UInt8] {
        func failure(_ what: String) -> YAMLError {
            let code = errno
            return YAMLError(.unreadable, "cannot \(what) \(path): \(String(cString: strerror(code)))", line: 0, column: 0)
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count <= limit {
            let wanted = min(chunk.count, limit + 1 - bytes.count)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, wanted) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("read")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
        }
        return bytes
    }

    /// Loads UTF-8 (or BOM-marked UTF-16) bytes, e.g. a file's contents.
    public static func parse(bytes: [UInt8], limits: YAMLLimits = .default) throws(YAMLError) -> YAMLDocument {
        guard bytes.count <= limits.maxInputBytes else {
            throw YAMLError(
                .limitExceeded, "input is \(bytes.count) bytes, more than the limit of \(limits.maxInputBytes)", line: 1,
                column: 1)
        }
        var composer = try Composer(bytes: bytes, limits: limits)
        let value = try composer.document()
        return YAMLDocument(value: value, sourceMap: composer.sourceMap)
    }
}

// MARK: - Events

/// One libyaml event, copied out of the C structure so that it can be freed at once.
struct Event {
    enum Kind {
        case streamStart, streamEnd, documentStart, documentEnd, alias, scalar
        case sequenceStart, sequenceEnd, mappingStart, mappingEnd, other
    }

    var kind: Kind
    var anchor: String?
    var tag: String?
    var value: String = ""
    var isPlain = false
    var location: YAMLSourceMap.Location
}

/// Owns a libyaml parser and a private copy of the input it reads from.
final class EventReader {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>

    init(bytes: [UInt8]) throws(YAMLError) {
        parser = .allocate(capacity: 1)
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        guard yaml_parser_initialize(parser) != 0 else {
            parser.deallocate()
            input.deallocate()
            throw YAMLError(.outOfMemory, "libyaml could not allocate its parser", line: 1, column: 1)
        }
        // `input` is never empty (capacity ≥ 1), so baseAddress is set; `bytes.count` may be 0.
        if let base = input.baseAddress {
            yaml_parser_set_input_string(parser, base, bytes.count)
        }
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    /// The next event, or libyaml's error.
    func next() throws(YAMLError) -> Event {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) != 0 else { throw parserError() }
        defer { yaml_event_delete(&event) }
        let location = YAMLSourceMap.Location(
            line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        switch event.type {
        case YAML_STREAM_START_EVENT: return Event(kind: .streamStart, location: location)
        case YAML_STREAM_END_EVENT: return Event(kind: .streamEnd, location: location)
        case YAML_DOCUMENT_START_EVENT: return Event(kind: .documentStart, location: location)
        case YAML_DOCUMENT_END_EVENT: return Event(kind: .documentEnd, location: location)
        case YAML_ALIAS_EVENT:
            return Event(kind: .alias, anchor: Self.string(event.data.alias.anchor), location: location)
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            var value = ""
            if let pointer = scalar.value, scalar.length > 0 {
                value = String(decoding: UnsafeBufferPointer(start: pointer, count: Int(scalar.length)), as: UTF8.self)
            }
            return Event(
                kind: .scalar, anchor: Self.string(scalar.anchor), tag: Self.string(scalar.tag), value: value,
                isPlain: scalar.style == YAML_PLAIN_SCALAR_STYLE, location: location)
        case YAML_SEQUENCE_START_EVENT:
            let start = event.data.sequence_start
            return Event(kind: .sequenceStart, anchor: Self.string(start.anchor), tag: Self.string(start.tag), location: location)
        case YAML_SEQUENCE_END_EVENT: return Event(kind: .sequenceEnd, location: location)
        case YAML_MAPPING_START_EVENT:
            let start = event.data.mapping_start
            return Event(kind: .mappingStart, anchor: Self.string(start.anchor), tag: Self.string(start.tag), location: location)
        case YAML_MAPPING_END_EVENT: return Event(kind: .mappingEnd, location: location)
        default: return Event(kind: .other, location: location)
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    private func parserError() -> YAMLError {
        let state = parser.pointee
        if state.error == YAML_MEMORY_ERROR {
            return YAMLError(.outOfMemory, "libyaml ran out of memory", line: 1, column: 1)
        }
        var message = state.problem.map { String(cString: $0) } ?? "invalid YAML"
        var line = Int(state.problem_mark.line) + 1
        var column = Int(state.problem_mark.column) + 1
        if state.error == YAML_READER_ERROR {
            // Reader errors (encoding, control characters) carry a byte offset, not a mark.
            (line, column) = position(ofByte: Int(state.problem_offset))
            if state.problem_value >= 0 {
                message += " (byte 0x" + String(state.problem_value, radix: 16) + ")"
            }
        } else if let context = state.context.map({ String(cString: $0) }) {
            let contextLine = Int(state.context_mark.line) + 1
            let contextColumn = Int(state.context_mark.column) + 1
            message += " (\(context) at line \(contextLine), column \(contextColumn))"
        }
        return YAMLError(.syntax, message, line: line, column: column)
    }

    /// Line and column (1-based, counting UTF-8 lead bytes as characters) of a byte offset.
    private func position(ofByte offset: Int) -> (Int, Int) {
        var line = 1
        var column = 1
        for byte in input.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }
}

// MARK: - Composition

/// Builds the JSONValue from the events, enforcing the limits and recording positions.
struct Composer {
    private let reader: EventReader
    private let limits: YAMLLimits
    private var anchors: [String: (value: JSONValue, nodes: Int)] = [:]
    private var nodeCount = 0
    private(set) var sourceMap = YAMLSourceMap()

    init(bytes: [UInt8], limits: YAMLLimits) throws(YAMLError) {
        reader = try EventReader(bytes: bytes)
        self.limits = limits
    }

    mutating func document() throws(YAMLError) -> JSONValue {
        try expect(.streamStart, "stream start")
        let first = try reader.next()
        if first.kind == .streamEnd {
            sourceMap.record("", value: first.location, key: nil, isCollection: false)
            return .null
        }
        guard first.kind == .documentStart else { throw unexpected(first, "a document") }
        let (value, _) = try node(try reader.next(), pointer: "", key: nil, depth: 0)
        try expect(.documentEnd, "the end of the document")
        let after = try reader.next()
        if after.kind == .documentStart {
            throw YAMLError(
                .multipleDocuments, "a second document starts here; the file must hold exactly one", at: after.location)
        }
        guard after.kind == .streamEnd else { throw unexpected(after, "the end of the stream") }
        return value
    }

    private func expect(_ kind: Event.Kind, _ what: String) throws(YAMLError) {
        let event = try reader.next()
        guard event.kind == kind else { throw unexpected(event, what) }
    }

    private func unexpected(_ event: Event, _ expected: String) -> YAMLError {
        YAMLError(.syntax, "expected \(expected), found \(event.kind)", at: event.location)
    }

    private mutating func count(_ nodes: Int, at location: YAMLSourceMap.Location) throws(YAMLError) {
        nodeCount += nodes
        guard nodeCount <= limits.maxNodes else {
            throw YAMLError(
                .limitExceeded,
                "the document has more than \(limits.maxNodes) values (aliases counted as what they repeat)",
                at: location)
        }
    }

    /// Composes the node that starts with `event`. `pointer` nil: a merge source, not recorded.
    /// Returns the value and its node count (for anchors).
    private mutating func node(
        _ event: Event,
        pointer: String?,
        key: YAMLSourceMap.Location?,
        depth: Int
    ) throws(YAMLError) -> (JSONValue, Int) {
        let before = nodeCount
        let value: JSONValue
        switch event.kind {
        case .alias:
            let name = event.anchor ?? ""
            guard let anchored = anchors[name] else {
                throw YAMLError(.unknownAnchor, "alias *\(name) refers to no anchor defined before it", at: event.location)
            }
            try count(anchored.nodes, at: event.location)
            if let pointer { sourceMap.record(pointer, value: event.location, key: key, isCollection: false) }
            return (anchored.value, anchored.nodes)
        case .scalar:
            try count(1, at: event.location)
            value = try scalar(event)
            if let pointer { sourceMap.record(pointer, value: event.location, key: key, isCollection: false) }
        case .sequenceStart:
            try checkDepth(depth + 1, at: event.location)
            try checkCollectionTag(event, expected: Tags.seq)
            try count(1, at: event.location)
            if let pointer { sourceMap.record(pointer, value: event.location, key: key, isCollection: true) }
            value = try sequence(pointer: pointer, depth: depth + 1)
        case .mappingStart:
            try checkDepth(depth + 1, at: event.location)
            try checkCollectionTag(event, expected: Tags.map)
            try count(1, at: event.location)
            if let pointer { sourceMap.record(pointer, value: event.location, key: key, isCollection: true) }
            value = try mapping(pointer: pointer, depth: depth + 1)
        default:
            throw unexpected(event, "a value")
        }
        let nodes = nodeCount - before
        if let anchor = event.anchor { anchors[anchor] = (value, nodes) }
        return (value, nodes)
    }

    private func checkDepth(_ depth: Int, at location: YAMLSourceMap.Location) throws(YAMLError) {
        guard depth <= limits.maxDepth else {
            throw YAMLError(.limitExceeded, "nesting is deeper than \(limits.maxDepth) levels", at: location)
        }
    }

    private func checkCollectionTag(_ event: Event, expected: String) throws(YAMLError) {
        guard let tag = event.tag, tag != expected, tag != Tags.nonSpecific else { return }
        throw YAMLError(.unsupportedTag, "unsupported tag \(tag)", at: event.location)
    }

    private func scalar(_ event: Event) throws(YAMLError) -> JSONValue {
        do {
            if let tag = event.tag {
                guard let value = try ScalarResolution.tagged(event.value, tag: tag) else {
                    throw YAMLError(.unsupportedTag, "unsupported tag \(tag)", at: event.location)
                }
                return value
            }
            return event.isPlain ? try ScalarResolution.plain(event.value) : .string(event.value)
        } catch let failure as ScalarResolution.Failure {
            switch failure {
            case .invalid(let message): throw YAMLError(.invalidScalar, message, at: event.location)
            }
        } catch let error as YAMLError {
            throw error
        } catch {
            throw YAMLError(.invalidScalar, "\(error)", at: event.location)
        }
    }

    private mutating func sequence(pointer: String?, depth: Int) throws(YAMLError) -> JSONValue {
        var items: [JSONValue] = []
        while true {
            let event = try reader.next()
            if event.kind == .sequenceEnd { return .array(items) }
            let itemPointer = pointer.map { $0 + "/" + String(items.count) }
            let (item, _) = try node(event, pointer: itemPointer, key: nil, depth: depth)
            items.append(item)
        }
    }

    private enum Part {
        case member(String, JSONValue)
        case merge([JSONObject], YAMLSourceMap.Location)
    }

    private mutating func mapping(pointer: String?, depth: Int) throws(YAMLError) -> JSONValue {
        var parts: [Part] = []
        var keyLocations: [String: YAMLSourceMap.Location] = [:]
        while true {
            let keyEvent = try reader.next()
            switch keyEvent.kind {
            case .mappingEnd:
                return .object(merged(parts, explicit: keyLocations, pointer: pointer))
            case .scalar:
                break
            case .alias:
                throw YAMLError(.complexKey, "an alias cannot be a mapping key here; write the key out", at: keyEvent.location)
            default:
                throw YAMLError(.complexKey, "mapping keys must be scalars", at: keyEvent.location)
            }
            let key = keyEvent.value
            if keyEvent.isPlain, keyEvent.tag == nil, key == "<<" {
                let valueEvent = try reader.next()
                let (source, _) = try node(valueEvent, pointer: nil, key: nil, depth: depth)
                parts.append(.merge(try mergeSources(source, at: valueEvent.location), valueEvent.location))
                continue
            }
            if let first = keyLocations[key] {
                throw YAMLError(
                    .duplicateKey,
                    "duplicate key \"\(key)\" (first defined at line \(first.line), column \(first.column))",
                    at: keyEvent.location)
            }
            keyLocations[key] = keyEvent.location
            let memberPointer = pointer.map { $0 + "/" + YAMLSourceMap.escape(key) }
            let (value, _) = try node(try reader.next(), pointer: memberPointer, key: keyEvent.location, depth: depth)
            parts.append(.member(key, value))
        }
    }

    private func mergeSources(_ value: JSONValue, at location: YAMLSourceMap.Location) throws(YAMLError) -> [JSONObject] {
        switch value {
        case .object(let object):
            return [object]
        case .array(let items):
            var objects: [JSONObject] = []
            for item in items {
                guard case .object(let object) = item else {
                    throw YAMLError(.invalidMerge, "a << merge list may only hold mappings", at: location)
                }
                objects.append(object)
            }
            return objects
        default:
            throw YAMLError(.invalidMerge, "the value of << must be a mapping or a list of mappings", at: location)
        }
    }

    /// The members in document order, merge sources expanded in place of their `<<`, keeping
    /// explicit keys over merged ones and earlier merged ones over later ones.
    private mutating func merged(
        _ parts: [Part],
        explicit: [String: YAMLSourceMap.Location],
        pointer: String?
    ) -> JSONObject {
        var members: [JSONObject.Member] = []
        var seen = Set(explicit.keys)
        for part in parts {
            switch part {
            case .member(let key, let value):
                members.append(.init(key: key, value: value))
            case .merge(let sources, let location):
                for source in sources {
                    for member in source.members where !seen.contains(member.key) {
                        seen.insert(member.key)
                        members.append(member)
                        if let pointer {
                            let memberPointer = pointer + "/" + YAMLSourceMap.escape(member.key)
                            sourceMap.record(memberPointer, value: location, key: location, isCollection: false)
                        }
                    }
                }
            }
        }
        return JSONObject(members)
    }
}

extension Event.Kind: CustomStringConvertible {
    var description: String {
        switch self {
        case .streamStart: "the start of the stream"
        case .streamEnd: "the end of the stream"
        case .documentStart: "a document start"
        case .documentEnd: "a document end"
        case .alias: "an alias"
        case .scalar: "a scalar"
        case .sequenceStart: "a sequence"
        case .sequenceEnd: "the end of a sequence"
        case .mappingStart: "a mapping"
        case .mappingEnd: "the end of a mapping"
        case .other: "an unknown event"
        }
    }
}
