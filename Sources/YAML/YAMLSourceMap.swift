// Where each value of a loaded document was written, by JSON pointer.

/// Maps JSON pointers (RFC 6901: `""` for the root, `/evses/0/connectors/1/max_current`) of a
/// loaded document to where they were written, so an error found later (by schema validation, or
/// by the daemon's own checks) can name the line:
///
///     cs-companiond.yaml:14:22: /evses/0/connectors/1/max_current: must be at most 63
///
/// For each pointer the map keeps where the value starts and, for mapping members, where its key
/// is. ``location(of:)`` picks what an error message should point at: the value for scalars, the
/// key for collections (a block mapping "starts" at its first member, a line below its key).
///
/// Values reached through an alias (`*defaults`) are recorded at the alias itself only; pointers
/// inside them resolve, through ``nearestLocation(of:)``, to the alias. Members brought in by a
/// `<<` merge key are recorded at the merge value.
public struct YAMLSourceMap: Sendable, Hashable {
    /// A 1-based line and column.
    public struct Location: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var line: Int
        public var column: Int

        public init(line: Int, column: Int) {
            self.line = line
            self.column = column
        }

        public var description: String { "\(line):\(column)" }

        public static func < (a: Location, b: Location) -> Bool {
            (a.line, a.column) < (b.line, b.column)
        }
    }

    struct Entry: Sendable, Hashable {
        var value: Location
        var key: Location?
        var isCollection: Bool
    }

    private(set) var entries: [String: Entry] = [:]

    public init() {}

    mutating func record(_ pointer: String, value: Location, key: Location?, isCollection: Bool) {
        entries[pointer] = Entry(value: value, key: key, isCollection: isCollection)
    }

    /// Every pointer the map knows, sorted by position in the text.
    public var pointers: [String] {
        entries.sorted { ($0.value.key ?? $0.value.value, $0.key) < ($1.value.key ?? $1.value.value, $1.key) }.map(\.key)
    }

    /// Where an error about `pointer` should point: the value of a scalar, the key of a keyed
    /// collection, the start of an unkeyed collection. Nil when the pointer is not in the document.
    public func location(of pointer: String) -> Location? {
        guard let entry = entries[pointer] else { return nil }
        if entry.isCollection, let key = entry.key { return key }
        return entry.value
    }

    /// Same as ``location(of:)``.
    public subscript(pointer: String) -> Location? { location(of: pointer) }

    /// Where the value at `pointer` starts.
    public func valueLocation(of pointer: String) -> Location? { entries[pointer]?.value }

    /// Where the key of the mapping member at `pointer` is; nil for the root, sequence items and
    /// unknown pointers.
    public func keyLocation(of pointer: String) -> Location? { entries[pointer]?.key }

    /// The location of `pointer`, or of its nearest parent that is in the document (for a pointer
    /// that names a missing key, or a place inside an alias). Falls back to the root, and to 1:1
    /// for a map without entries.
    public func nearestLocation(of pointer: String) -> (pointer: String, location: Location) {
        var current = pointer
        while true {
            if let location = location(of: current) { return (current, location) }
            guard let slash = current.lastIndex(of: "/") else { break }
            current = String(current[..<slash])
        }
        return ("", location(of: "") ?? Location(line: 1, column: 1))
    }

    /// `file:line:column: pointer: message`, the location found by ``nearestLocation(of:)``. The
    /// root pointer is printed as `/`.
    public func diagnostic(file: String, pointer: String, message: String) -> String {
        let location = nearestLocation(of: pointer).location
        return "\(file):\(location): \(pointer.isEmpty ? "/" : pointer): \(message)"
    }

    /// `token` escaped for a JSON pointer (`~` → `~0`, `/` → `~1`).
    public static func escape(_ token: String) -> String {
        guard token.contains(where: { $0 == "~" || $0 == "/" }) else { return token }
        var result = ""
        for character in token {
            switch character {
            case "~": result += "~0"
            case "/": result += "~1"
            default: result.append(character)
            }
        }
        return result
    }
}
