/// Who sends a message of a given (name, type) on which topic.
public enum Direction: String, Sendable {
    /// Josev publishes on `josev/cs`; the CS consumes.
    case josevToCS
    /// The CS publishes on `cs/josev`.
    case csToJosev

    public var topic: String { self == .josevToCS ? Topic.josevToCS : Topic.csToJosev }
}

/// One (name, type) that crosses `josev/cs` / `cs/josev`, with its schema file in `schemas/`.
public struct CatalogEntry: Sendable, Hashable {
    public let name: String
    public let type: MessageType
    public let direction: Direction

    public init(_ name: String, _ type: MessageType, _ direction: Direction) {
        self.name = name
        self.type = type
        self.direction = direction
    }

    /// `schemas/<name>.<type>.json`.
    public var schemaFile: String { "\(name).\(type.rawValue).json" }
}

/// The message catalogue: the one place that says which messages the CS handles, in which
/// direction, and where their schemas are. Adding a message means adding its line here, its
/// schema file, its typed model and its handler.
public enum MessageCatalog {
    public static let entries: [CatalogEntry] = [
        CatalogEntry("cs_parameters", .request, .josevToCS),
        CatalogEntry("cs_parameters", .response, .csToJosev),
        CatalogEntry("cs_status_and_limits", .request, .josevToCS),
        CatalogEntry("cs_status_and_limits", .response, .csToJosev),
        CatalogEntry("cs_status_and_limits", .update, .csToJosev),
    ]

    /// Schema of the envelope every message must satisfy first.
    public static let envelopeSchemaFile = "envelope.json"
    /// Schema of the daemon's configuration file.
    public static let configSchemaFile = "config.schema.json"

    public static func entry(name: String, type: MessageType) -> CatalogEntry? {
        entries.first { $0.name == name && $0.type == type }
    }

    /// Whether the name is known at all (in any type).
    public static func knows(name: String) -> Bool {
        entries.contains { $0.name == name }
    }
}
