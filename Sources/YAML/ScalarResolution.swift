// YAML 1.2 core-schema resolution of scalars (YAML 1.2.2, §10.3.2).
import JSONSchema

enum Tags {
    static let string = "tag:yaml.org,2002:str"
    static let null = "tag:yaml.org,2002:null"
    static let bool = "tag:yaml.org,2002:bool"
    static let int = "tag:yaml.org,2002:int"
    static let float = "tag:yaml.org,2002:float"
    static let map = "tag:yaml.org,2002:map"
    static let seq = "tag:yaml.org,2002:seq"
    /// The non-specific tag `!`: "not a plain scalar", i.e. a string.
    static let nonSpecific = "!"
}

enum ScalarResolution {
    enum Failure: Error {
        case invalid(String)
    }

    /// Resolves a plain (unquoted, untagged) scalar by the core schema: null, bool, int, float,
    /// and string for everything else.
    static func plain(_ text: String) throws(Failure) -> JSONValue {
        if isNull(text) { return .null }
        if let bool = bool(text) { return .bool(bool) }
        if let int = try integer(text) { return .int(int) }
        if let double = try float(text) { return .double(double) }
        return .string(text)
    }

    /// Applies an explicit tag (already expanded by libyaml: `!!int` → `tag:yaml.org,2002:int`).
    /// Nil for a tag this loader does not know.
    static func tagged(_ text: String, tag: String) throws(Failure) -> JSONValue? {
        switch tag {
        case Tags.string, Tags.nonSpecific:
            return .string(text)
        case Tags.null:
            guard isNull(text) else { throw .invalid("\"\(text)\" is not a null (null, Null, NULL, ~ or empty)") }
            return .null
        case Tags.bool:
            guard let bool = bool(text) else { throw .invalid("\"\(text)\" is not a boolean (true or false)") }
            return .bool(bool)
        case Tags.int:
            guard let int = try integer(text) else { throw .invalid("\"\(text)\" is not an integer") }
            return .int(int)
        case Tags.float:
            if let int = try integer(text) { return .double(Double(int)) }
            guard let double = try float(text) else { throw .invalid("\"\(text)\" is not a number") }
            return .double(double)
        default:
            return nil
        }
    }

    static func isNull(_ text: String) -> Bool {
        switch text {
        case "", "~", "null", "Null", "NULL": true
        default: false
        }
    }

    static func bool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": true
        case "false", "False", "FALSE": false
        default: nil
        }
    }

    /// `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`; nil when the text is not an integer at all,
    /// a failure when it is one that does not fit Int64.
    static func integer(_ text: String) throws(Failure) -> Int64? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        var digits = Substring(text)
        var radix = 10
        if bytes.count > 2, bytes[0] == UInt8(ascii: "0"), bytes[1] == UInt8(ascii: "o") {
            guard bytes.dropFirst(2).allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }) else { return nil }
            digits = digits.dropFirst(2)
            radix = 8
        } else if bytes.count > 2, bytes[0] == UInt8(ascii: "0"), bytes[1] == UInt8(ascii: "x") {
            guard bytes.dropFirst(2).allSatisfy(isHexDigit) else { return nil }
            digits = digits.dropFirst(2)
            radix = 16
        } else {
            let unsigned = bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") ? bytes.dropFirst() : bytes[...]
            guard !unsigned.isEmpty, unsigned.allSatisfy(isDecimalDigit) else { return nil }
        }
        guard let value = Int64(digits, radix: radix) else {
            throw .invalid("integer \(text) is out of range (-2^63 … 2^63-1)")
        }
        return value
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, plus `.inf`/`.nan`, which are
    /// rejected: JSON has no non-finite numbers, and no setting of this daemon needs one. A finite
    /// literal too large for a Double (`1e999`) is rejected too.
    static func float(_ text: String) throws(Failure) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN":
            throw .invalid("\(text) is not a finite number; JSON cannot hold it (quote it for a string)")
        default:
            break
        }
        guard matchesFloat(Array(text.utf8)) else { return nil }
        guard let value = Double(text), value.isFinite else {
            throw .invalid("\(text) is out of the range of a double")
        }
        return value
    }

    private static func matchesFloat(_ bytes: [UInt8]) -> Bool {
        var index = 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, isDecimalDigit(bytes[index]) { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return false }
        } else {
            guard digits() > 0 else { return false }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                _ = digits()
            }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
            guard digits() > 0 else { return false }
        }
        return index == bytes.count
    }

    private static func isDecimalDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDecimalDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }
}
