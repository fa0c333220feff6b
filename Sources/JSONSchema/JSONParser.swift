// Strict RFC 8259 JSON parser working directly on a UTF-8 byte buffer.

/// Why and where a JSON text was rejected.
///
/// `offset` is the 0-based byte offset of the offending byte, `line` and `column` are 1-based;
/// the column counts Unicode scalars (not bytes) from the start of the line.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case unexpectedEndOfInput
        case unexpectedCharacter
        case invalidNumber
        case numberOutOfRange
        case invalidEscape
        case invalidSurrogate
        case controlCharacterInString
        case invalidUTF8
        case duplicateKey
        case tooDeep
        case trailingContent
    }

    public let kind: Kind
    public let offset: Int
    public let line: Int
    public let column: Int
    public let message: String

    public init(kind: Kind, offset: Int, line: Int, column: Int, message: String) {
        self.kind = kind
        self.offset = offset
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "line \(line), column \(column): \(message)" }
}

extension JSONValue {
    /// The largest `maxDepth` honoured: the parser recurses once per nesting level, and this keeps
    /// its stack use far below any thread's stack size.
    public static let maxSupportedDepth = 2048

    /// Parses exactly one JSON value (surrounded by optional whitespace) from UTF-8 bytes.
    ///
    /// Strict RFC 8259: no comments, trailing commas, NaN/Infinity, leading zeros, unescaped control
    /// characters, invalid UTF-8 or lone surrogates; duplicate object keys are rejected as well.
    /// Integers (no fraction, no exponent) that fit in `Int64` become `.int`, every other number
    /// `.double`; a number too large for a Double is an error. Arrays and objects may nest at most
    /// `maxDepth` levels (clamped to `maxSupportedDepth`).
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 128) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBufferPointer { buffer in
            parseBuffer(buffer, maxDepth: maxDepth)
        }
        return try result.get()
    }

    /// Parses a JSON text given as a String (its UTF-8 form).
    public static func parse(_ text: String, maxDepth: Int = 128) throws(JSONParseError) -> JSONValue {
        var text = text
        let result: Result<JSONValue, JSONParseError> = text.withUTF8 { buffer in
            parseBuffer(buffer, maxDepth: maxDepth)
        }
        return try result.get()
    }

    /// Parses UTF-8 bytes from any collection (contiguous storage is used directly when available).
    public static func parse<C: Collection>(bytes: C, maxDepth: Int = 128) throws(JSONParseError) -> JSONValue
    where C.Element == UInt8 {
        let direct: Result<JSONValue, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            parseBuffer(buffer, maxDepth: maxDepth)
        }
        if let direct { return try direct.get() }
        return try parse(Array(bytes), maxDepth: maxDepth)
    }

    static func parseBuffer(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) -> Result<JSONValue, JSONParseError> {
        var parser = JSONByteParser(buffer: buffer, maxDepth: max(0, min(maxDepth, maxSupportedDepth)))
        do {
            let value = try parser.parseDocument()
            return .success(value)
        } catch {
            return .failure(error)
        }
    }
}

// ASCII bytes used by the parser.
private let kQuote: UInt8 = 0x22
private let kBackslash: UInt8 = 0x5C
private let kSlash: UInt8 = 0x2F
private let kComma: UInt8 = 0x2C
private let kColon: UInt8 = 0x3A
private let kOpenBrace: UInt8 = 0x7B
private let kCloseBrace: UInt8 = 0x7D
private let kOpenBracket: UInt8 = 0x5B
private let kCloseBracket: UInt8 = 0x5D
private let kMinus: UInt8 = 0x2D
private let kPlus: UInt8 = 0x2B
private let kDot: UInt8 = 0x2E
private let kZero: UInt8 = 0x30
private let kNine: UInt8 = 0x39
private let kSpace: UInt8 = 0x20
private let kTab: UInt8 = 0x09
private let kNewline: UInt8 = 0x0A
private let kReturn: UInt8 = 0x0D

struct JSONByteParser {
    let buffer: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var pos: Int = 0

    init(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.buffer = buffer
        self.maxDepth = maxDepth
    }

    // MARK: Errors

    func error(_ kind: JSONParseError.Kind, _ message: String, at offset: Int? = nil) -> JSONParseError {
        let offset = min(offset ?? pos, buffer.count)
        var line = 1
        var column = 1
        var index = 0
        while index < offset {
            let byte = buffer[index]
            if byte == kNewline {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            index += 1
        }
        // A continuation byte at the offset itself belongs to the scalar already counted.
        return JSONParseError(kind: kind, offset: offset, line: line, column: column, message: message)
    }

    func describeByte(at offset: Int) -> String {
        guard offset < buffer.count else { return "end of input" }
        let byte = buffer[offset]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(hex2(byte))"
    }

    // MARK: Structure

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        if pos >= buffer.count {
            throw error(.unexpectedEndOfInput, "empty input, expected a JSON value")
        }
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if pos < buffer.count {
            throw error(.trailingContent, "unexpected \(describeByte(at: pos)) after the JSON value")
        }
        return value
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < buffer.count {
            let byte = buffer[pos]
            guard byte == kSpace || byte == kNewline || byte == kReturn || byte == kTab else { return }
            pos += 1
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard pos < buffer.count else {
            throw error(.unexpectedEndOfInput, "unexpected end of input, expected a value")
        }
        switch buffer[pos] {
        case kQuote: return .string(try parseString())
        case kOpenBrace: return try parseObject(depth: depth + 1)
        case kOpenBracket: return try parseArray(depth: depth + 1)
        case kMinus, kZero...kNine: return try parseNumber()
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        default:
            throw error(.unexpectedCharacter, "unexpected \(describeByte(at: pos)), expected a value")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = pos
        let count = literal.utf8CodeUnitCount
        let expected = literal.utf8Start
        for index in 0..<count {
            guard pos < buffer.count, buffer[pos] == expected[index] else {
                if pos >= buffer.count {
                    throw error(.unexpectedEndOfInput, "unexpected end of input in literal '\(literal)'")
                }
                throw error(.unexpectedCharacter, "invalid literal, expected '\(literal)'", at: start)
            }
            pos += 1
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > maxDepth {
            throw error(.tooDeep, "nesting deeper than \(maxDepth) levels")
        }
        pos += 1  // '['
        var elements: [JSONValue] = []
        skipWhitespace()
        if pos < buffer.count && buffer[pos] == kCloseBracket {
            pos += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if pos < buffer.count && buffer[pos] == kCloseBracket {
                throw error(.unexpectedCharacter, "trailing comma in array")
            }
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard pos < buffer.count else {
                throw error(.unexpectedEndOfInput, "unexpected end of input, expected ',' or ']' in array")
            }
            let byte = buffer[pos]
            pos += 1
            if byte == kComma { continue }
            if byte == kCloseBracket { return .array(elements) }
            throw error(.unexpectedCharacter, "expected ',' or ']' after array element", at: pos - 1)
        }
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > maxDepth {
            throw error(.tooDeep, "nesting deeper than \(maxDepth) levels")
        }
        pos += 1  // '{'
        var members: [JSONObject.Member] = []
        var keySet: Set<String>? = nil
        skipWhitespace()
        if pos < buffer.count && buffer[pos] == kCloseBrace {
            pos += 1
            return .object(JSONObject(members))
        }
        while true {
            skipWhitespace()
            guard pos < buffer.count else {
                throw error(.unexpectedEndOfInput, "unexpected end of input, expected an object key")
            }
            if buffer[pos] != kQuote {
                if buffer[pos] == kCloseBrace && !members.isEmpty {
                    throw error(.unexpectedCharacter, "trailing comma in object")
                }
                throw error(.unexpectedCharacter, "expected '\"' to start an object key, found \(describeByte(at: pos))")
            }
            let keyOffset = pos
            let key = try parseString()
            // Duplicate detection: a linear scan for small objects, a set beyond that.
            if members.count < 16 {
                for member in members where jsonStringsEqual(member.key, key) {
                    throw error(.duplicateKey, "duplicate object key '\(key)'", at: keyOffset)
                }
            } else {
                if keySet == nil { keySet = Set(members.map(\.key)) }
                // The set compares canonically; confirm a hit byte for byte.
                if keySet?.insert(key).inserted == false, members.contains(where: { jsonStringsEqual($0.key, key) }) {
                    throw error(.duplicateKey, "duplicate object key '\(key)'", at: keyOffset)
                }
            }
            skipWhitespace()
            guard pos < buffer.count else {
                throw error(.unexpectedEndOfInput, "unexpected end of input, expected ':' after object key")
            }
            guard buffer[pos] == kColon else {
                throw error(.unexpectedCharacter, "expected ':' after object key, found \(describeByte(at: pos))")
            }
            pos += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append(JSONObject.Member(key: key, value: value))
            skipWhitespace()
            guard pos < buffer.count else {
                throw error(.unexpectedEndOfInput, "unexpected end of input, expected ',' or '}' in object")
            }
            let byte = buffer[pos]
            pos += 1
            if byte == kComma { continue }
            if byte == kCloseBrace { return .object(JSONObject(members)) }
            throw error(.unexpectedCharacter, "expected ',' or '}' after object member", at: pos - 1)
        }
    }

    // MARK: Strings

    /// Parses a string starting at the opening quote.
    mutating func parseString() throws(JSONParseError) -> String {
        pos += 1  // opening quote
        let start = pos
        // Fast path: plain ASCII without escapes.
        while pos < buffer.count {
            let byte = buffer[pos]
            if byte == kQuote {
                let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<pos]), as: UTF8.self)
                pos += 1
                return text
            }
            if byte == kBackslash || byte < 0x20 || byte >= 0x80 { break }
            pos += 1
        }
        var out: [UInt8] = []
        out.reserveCapacity(pos - start + 16)
        out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<pos]))
        while true {
            guard pos < buffer.count else {
                throw error(.unexpectedEndOfInput, "unterminated string")
            }
            let byte = buffer[pos]
            if byte == kQuote {
                pos += 1
                return String(decoding: out, as: UTF8.self)
            } else if byte == kBackslash {
                try parseEscape(into: &out)
            } else if byte < 0x20 {
                throw error(.controlCharacterInString, "unescaped control character 0x\(hex2(byte)) in string")
            } else if byte < 0x80 {
                out.append(byte)
                pos += 1
            } else {
                try copyUTF8Sequence(into: &out)
            }
        }
    }

    /// Validates one multi-byte UTF-8 sequence (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF).
    mutating func copyUTF8Sequence(into out: inout [UInt8]) throws(JSONParseError) {
        let lead = buffer[pos]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default:
            throw error(.invalidUTF8, "invalid UTF-8 byte 0x\(hex2(lead)) in string")
        }
        for index in 1..<length {
            let at = pos + index
            guard at < buffer.count else {
                throw error(.invalidUTF8, "truncated UTF-8 sequence in string")
            }
            let byte = buffer[at]
            let lo = index == 1 ? low : 0x80
            let hi = index == 1 ? high : 0xBF
            guard byte >= lo && byte <= hi else {
                throw error(.invalidUTF8, "invalid UTF-8 sequence in string", at: pos)
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[pos..<(pos + length)]))
        pos += length
    }

    mutating func parseEscape(into out: inout [UInt8]) throws(JSONParseError) {
        let escapeStart = pos
        pos += 1  // backslash
        guard pos < buffer.count else {
            throw error(.unexpectedEndOfInput, "unterminated escape sequence in string")
        }
        let byte = buffer[pos]
        pos += 1
        switch byte {
        case kQuote: out.append(kQuote)
        case kBackslash: out.append(kBackslash)
        case kSlash: out.append(kSlash)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(kNewline)
        case UInt8(ascii: "r"): out.append(kReturn)
        case UInt8(ascii: "t"): out.append(kTab)
        case UInt8(ascii: "u"):
            let unit = try parseHex4(escapeStart: escapeStart)
            var scalarValue = UInt32(unit)
            if unit >= 0xD800 && unit <= 0xDBFF {
                // Must be followed by a \u low surrogate.
                guard pos + 1 < buffer.count, buffer[pos] == kBackslash, buffer[pos + 1] == UInt8(ascii: "u") else {
                    throw error(.invalidSurrogate, "lone high surrogate \\u\(hex4(unit)) in string", at: escapeStart)
                }
                let secondStart = pos
                pos += 2
                let low = try parseHex4(escapeStart: secondStart)
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw error(.invalidSurrogate, "high surrogate \\u\(hex4(unit)) not followed by a low surrogate", at: escapeStart)
                }
                scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw error(.invalidSurrogate, "lone low surrogate \\u\(hex4(unit)) in string", at: escapeStart)
            }
            appendUTF8(scalarValue, to: &out)
        default:
            throw error(.invalidEscape, "invalid escape sequence '\\\(Character(Unicode.Scalar(byte)))' in string", at: escapeStart)
        }
    }

    mutating func parseHex4(escapeStart: Int) throws(JSONParseError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard pos < buffer.count else {
                throw error(.unexpectedEndOfInput, "unterminated \\u escape in string")
            }
            let byte = buffer[pos]
            let digit: UInt8
            switch byte {
            case kZero...kNine: digit = byte - kZero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                throw error(.invalidEscape, "invalid \\u escape: expected 4 hex digits", at: escapeStart)
            }
            value = value << 4 | UInt16(digit)
            pos += 1
        }
        return value
    }

    // MARK: Numbers

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = pos
        var negative = false
        if buffer[pos] == kMinus {
            negative = true
            pos += 1
        }
        guard pos < buffer.count, isDigit(buffer[pos]) else {
            throw error(.invalidNumber, "expected a digit after '-'")
        }
        let intStart = pos
        if buffer[pos] == kZero {
            pos += 1
            if pos < buffer.count && isDigit(buffer[pos]) {
                throw error(.invalidNumber, "leading zeros are not allowed in numbers", at: intStart)
            }
        } else {
            while pos < buffer.count && isDigit(buffer[pos]) { pos += 1 }
        }
        let intEnd = pos
        var isInteger = true
        if pos < buffer.count && buffer[pos] == kDot {
            isInteger = false
            pos += 1
            guard pos < buffer.count, isDigit(buffer[pos]) else {
                throw error(.invalidNumber, "expected a digit after the decimal point")
            }
            while pos < buffer.count && isDigit(buffer[pos]) { pos += 1 }
        }
        if pos < buffer.count && (buffer[pos] == UInt8(ascii: "e") || buffer[pos] == UInt8(ascii: "E")) {
            isInteger = false
            pos += 1
            if pos < buffer.count && (buffer[pos] == kPlus || buffer[pos] == kMinus) { pos += 1 }
            guard pos < buffer.count, isDigit(buffer[pos]) else {
                throw error(.invalidNumber, "expected a digit in the exponent")
            }
            while pos < buffer.count && isDigit(buffer[pos]) { pos += 1 }
        }
        if isInteger && intEnd - intStart <= 19 {
            // Accumulate negatively so that Int64.min fits.
            var value: Int64 = 0
            var overflow = false
            for index in intStart..<intEnd {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.subtractingReportingOverflow(Int64(buffer[index] - kZero))
                if o1 || o2 {
                    overflow = true
                    break
                }
                value = next
            }
            if !overflow {
                if negative { return .int(value) }
                if value != Int64.min { return .int(-value) }
            }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<pos]), as: UTF8.self)
        guard let double = Double(text), double.isFinite else {
            throw error(.numberOutOfRange, "number \(text.count > 40 ? String(text.prefix(40)) + "…" : text) is out of range", at: start)
        }
        return .double(double)
    }
}

/// Appends the UTF-8 encoding of a Unicode scalar value (not a surrogate, ≤ U+10FFFF).
func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
    if v < 0x80 {
        out.append(UInt8(v))
    } else if v < 0x800 {
        out.append(UInt8(0xC0 | (v >> 6)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    } else if v < 0x10000 {
        out.append(UInt8(0xE0 | (v >> 12)))
        out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    } else {
        out.append(UInt8(0xF0 | (v >> 18)))
        out.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
        out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    }
}

@inline(__always)
private func isDigit(_ byte: UInt8) -> Bool { byte >= kZero && byte <= kNine }

private let hexDigits: [Character] = Array("0123456789ABCDEF")

func hex2(_ byte: UInt8) -> String {
    String([hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]])
}

func hex4(_ value: UInt16) -> String {
    hex2(UInt8(value >> 8)) + hex2(UInt8(value & 0xFF))
}
