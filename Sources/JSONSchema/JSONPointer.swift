// RFC 6901 JSON Pointer.

/// A JSON Pointer (RFC 6901): a path of reference tokens into a JSON document.
/// `description` is the string form, e.g. `/data/evses/0/ac`; the root is the empty pointer "".
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    /// Unescaped reference tokens.
    public var tokens: [String]

    public init() { tokens = [] }

    public init(tokens: [String]) { self.tokens = tokens }

    /// Parses the string form ("" or "/a/b~1c"). Throws for a non-empty string not starting with
    /// "/" or a `~` not followed by `0` or `1`.
    public init(parsing text: String) throws(JSONPointerError) {
        if text.isEmpty {
            tokens = []
            return
        }
        guard text.utf8.first == UInt8(ascii: "/") else {
            throw JSONPointerError(pointer: text, message: "a JSON pointer must be empty or start with '/'")
        }
        var result: [String] = []
        for raw in text.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard let token = JSONPointer.unescape(String(decoding: raw, as: UTF8.self)) else {
                throw JSONPointerError(pointer: text, message: "'~' must be followed by '0' or '1'")
            }
            result.append(token)
        }
        tokens = result
    }

    /// `~` → `~0`, `/` → `~1`.
    public static func escape(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
        var out = ""
        for ch in token.unicodeScalars {
            switch ch {
            case "~": out += "~0"
            case "/": out += "~1"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// `~1` → `/`, `~0` → `~`; nil when a `~` is not followed by `0` or `1`.
    public static func unescape(_ token: String) -> String? {
        guard token.utf8.contains(UInt8(ascii: "~")) else { return token }
        var out = ""
        var iterator = token.unicodeScalars.makeIterator()
        while let ch = iterator.next() {
            if ch == "~" {
                switch iterator.next() {
                case "0": out += "~"
                case "1": out += "/"
                default: return nil
                }
            } else {
                out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    public func appending(_ token: String) -> JSONPointer {
        var copy = self
        copy.tokens.append(token)
        return copy
    }

    public func appending(index: Int) -> JSONPointer { appending(String(index)) }

    public var isRoot: Bool { tokens.isEmpty }

    public var description: String {
        var out = ""
        for token in tokens {
            out += "/"
            out += JSONPointer.escape(token)
        }
        return out
    }

    /// The value this pointer designates in `document`, or nil when it does not exist.
    /// Array indices must be "0" or digits without a leading zero; "-" designates nothing.
    public func resolve(in document: JSONValue) -> JSONValue? {
        var current = document
        for token in tokens {
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let elements):
                guard let index = JSONPointer.arrayIndex(token), index < elements.count else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }

    static func arrayIndex(_ token: String) -> Int? {
        let utf8 = token.utf8
        guard let first = utf8.first, utf8.count <= 18 else { return nil }
        if first == UInt8(ascii: "0") { return utf8.count == 1 ? 0 : nil }
        var value = 0
        for byte in utf8 {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

/// An ill-formed JSON pointer string.
public struct JSONPointerError: Error, Sendable, Equatable, CustomStringConvertible {
    public let pointer: String
    public let message: String
    public var description: String { "invalid JSON pointer '\(pointer)': \(message)" }
}

extension JSONPointer: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: String...) { tokens = elements }
}

extension JSONValue {
    /// The value at `pointer`, or nil.
    public subscript(pointer pointer: JSONPointer) -> JSONValue? { pointer.resolve(in: self) }
}
