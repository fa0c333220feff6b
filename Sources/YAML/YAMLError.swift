// Errors of the YAML loader, each with the 1-based line and column it is about.

/// Why a YAML text was rejected, with the place (1-based line and column) it is about.
///
/// `description` is `line:column: message`; ``formatted(file:)`` prefixes a file name the way
/// compilers do (`cs-companiond.yaml:14:7: duplicate key "port" …`).
public struct YAMLError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// libyaml rejected the text (reader, scanner or parser error: bad indentation, tabs,
        /// unclosed quotes, invalid UTF-8, control characters…).
        case syntax
        /// A key appears twice in one mapping.
        case duplicateKey
        /// A mapping key is not a scalar (a sequence, a mapping or an alias).
        case complexKey
        /// A tag the loader does not resolve (`!!binary`, `!!timestamp`, `!custom`…).
        case unsupportedTag
        /// A scalar does not fit its type: an `!!int` that is not an integer, an integer outside
        /// Int64, a non-finite float.
        case invalidScalar
        /// An alias names an anchor that was not defined before it.
        case unknownAnchor
        /// A `<<` merge key whose value is not a mapping or a sequence of mappings.
        case invalidMerge
        /// The stream holds more than one document.
        case multipleDocuments
        /// Input size, nesting depth or node count (aliases expanded) beyond ``YAMLLimits``.
        case limitExceeded
        /// libyaml could not allocate memory.
        case outOfMemory
        /// The file could not be opened or read (``YAMLDocument/parse(contentsOfFile:limits:)``);
        /// line and column are 0.
        case unreadable
    }

    public var kind: Kind
    /// What is wrong, in one line (libyaml's problem text for syntax errors).
    public var message: String
    /// 1-based line (0 for ``Kind/unreadable``).
    public var line: Int
    /// 1-based column (in Unicode characters as libyaml counts them).
    public var column: Int

    public init(_ kind: Kind, _ message: String, line: Int, column: Int) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
    }

    init(_ kind: Kind, _ message: String, at location: YAMLSourceMap.Location) {
        self.init(kind, message, line: location.line, column: location.column)
    }

    public var location: YAMLSourceMap.Location { .init(line: line, column: column) }

    /// `line:column: message`, or just the message when there is no position.
    public var description: String { line > 0 ? "\(line):\(column): \(message)" : message }

    /// `file:line:column: message` (`file: message` without a position).
    public func formatted(file: String) -> String { line > 0 ? "\(file):\(description)" : "\(file): \(message)" }
}

/// Bounds that keep hostile input from exhausting memory or the stack.
public struct YAMLLimits: Sendable, Hashable {
    /// Largest accepted input, in bytes.
    public var maxInputBytes: Int
    /// Deepest accepted nesting of sequences and mappings (the root collection is depth 1).
    public var maxDepth: Int
    /// Most nodes (scalars and collections) in the result, every alias counted as the full size
    /// of what it repeats: this is what stops a "billion laughs" alias bomb.
    public var maxNodes: Int

    public init(maxInputBytes: Int = 4 << 20, maxDepth: Int = 64, maxNodes: Int = 100_000) {
        self.maxInputBytes = maxInputBytes
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
    }

    /// 4 MiB, depth 64, 100 000 nodes: far above any station configuration.
    public static let `default` = YAMLLimits()
}
