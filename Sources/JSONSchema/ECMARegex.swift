// ECMA-262 regular expressions (as JSON Schema's `pattern` means them) on top of Swift's Regex.

/// An ECMA-262 pattern translated to Swift `Regex` syntax and compiled once.
///
/// Differences handled by the translation: `\d`, `\w`, `\b` are ASCII-only; `\s` is ECMA's
/// whitespace set; `.` excludes only line terminators; `$` matches only at the very end (not
/// before a trailing newline); `\cX`, `\xHH`, `\uHHHH` (including surrogate pairs) and `\u{…}`
/// escapes; `\v` is the vertical tab; unknown identity escapes of letters are errors (as in
/// Unicode mode). Matching works on Unicode scalars and is an unanchored search.
struct ECMARegex: @unchecked Sendable {
    // Regex<AnyRegexOutput> is immutable after creation and safe to share between threads; it is
    // only not declared Sendable because AnyRegexOutput can carry arbitrary captures.
    let source: String
    let regex: Regex<AnyRegexOutput>
    /// `^[class]+$`-shaped patterns (e.g. the envelope's `^[a-z0-9_]+$`) are matched by a byte
    /// scan against this ASCII set instead of the Regex engine; the Regex is still compiled, so a
    /// pattern is accepted or refused exactly as before.
    let asciiRun: ASCIIRun?

    init(_ pattern: String) throws(RegexTranslationError) {
        source = pattern
        asciiRun = ASCIIRun(pattern)
        let translated = try translateECMAPattern(pattern)
        do {
            regex = try Regex(translated)
                .matchingSemantics(.unicodeScalar)
                .asciiOnlyDigits()
                .asciiOnlyWordCharacters()
                .wordBoundaryKind(.simple)
                .anchorsMatchLineEndings(false)
        } catch {
            throw RegexTranslationError(message: "invalid regular expression '\(pattern)': \(error)")
        }
    }

    func matches(_ string: String) -> Bool {
        if let asciiRun { return asciiRun.matches(string) }
        do {
            return try regex.firstMatch(in: string) != nil
        } catch {
            return false
        }
    }
}

/// A pattern of the form `^[…]+$` or `^[…]*$` whose class holds only printable ASCII literals and
/// ranges (no escapes, no negation): the whole string must be one run of members of the class.
struct ASCIIRun: Sendable {
    /// Membership of the bytes 0..<128, as two 64-bit words.
    let low: UInt64
    let high: UInt64
    let allowsEmpty: Bool

    init?(_ pattern: String) {
        let bytes = Array(pattern.utf8)
        guard bytes.count >= 6, bytes[0] == UInt8(ascii: "^"), bytes[1] == UInt8(ascii: "["),
            bytes[bytes.count - 1] == UInt8(ascii: "$"),
            bytes[bytes.count - 3] == UInt8(ascii: "]")
        else { return nil }
        switch bytes[bytes.count - 2] {
        case UInt8(ascii: "+"): allowsEmpty = false
        case UInt8(ascii: "*"): allowsEmpty = true
        default: return nil
        }
        let members = bytes[2..<(bytes.count - 3)]
        guard let first = members.first, first != UInt8(ascii: "^"), first != UInt8(ascii: "-") else { return nil }
        var low: UInt64 = 0
        var high: UInt64 = 0
        func add(_ byte: UInt8) {
            if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
        }
        var index = members.startIndex
        while index < members.endIndex {
            let byte = members[index]
            // Printable ASCII only, and nothing with a meaning inside a class.
            guard byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "\\"), byte != UInt8(ascii: "["), byte != UInt8(ascii: "]")
            else { return nil }
            if index + 2 < members.endIndex, members[index + 1] == UInt8(ascii: "-") {
                let upper = members[index + 2]
                guard upper > 0x20, upper < 0x7F, upper != UInt8(ascii: "\\"), upper != UInt8(ascii: "["),
                    upper != UInt8(ascii: "]"), byte <= upper
                else { return nil }
                for member in byte...upper { add(member) }
                index += 3
            } else {
                guard byte != UInt8(ascii: "-") || index + 1 == members.endIndex else { return nil }
                add(byte)
                index += 1
            }
        }
        self.low = low
        self.high = high
    }

    func matches(_ string: String) -> Bool {
        var count = 0
        for byte in string.utf8 {
            // A byte ≥ 0x80 belongs to a non-ASCII scalar, which no ASCII class holds.
            guard byte < 0x80 else { return false }
            let member = byte < 64 ? low & (1 << UInt64(byte)) : high & (1 << UInt64(byte - 64))
            guard member != 0 else { return false }
            count += 1
        }
        return allowsEmpty || count > 0
    }
}

struct RegexTranslationError: Error, Sendable {
    let message: String
}

// U+2000…U+200A are listed one by one: Swift's Regex rejects U+2000 and U+2001 (which have
// canonical decompositions) as range bounds.
private let ecmaWhitespace =
    "\\t\\n\\u{B}\\f\\r \\u{A0}\\u{1680}\\u{2000}\\u{2001}\\u{2002}\\u{2003}\\u{2004}\\u{2005}\\u{2006}\\u{2007}\\u{2008}\\u{2009}\\u{200A}\\u{2028}\\u{2029}\\u{202F}\\u{205F}\\u{3000}\\u{FEFF}"

func translateECMAPattern(_ pattern: String) throws(RegexTranslationError) -> String {
    let scalars = Array(pattern.unicodeScalars)
    var out = ""
    var index = 0
    var inClass = false
    var depth = 0
    func fail(_ message: String) -> RegexTranslationError {
        RegexTranslationError(message: "invalid regular expression '\(pattern)': \(message)")
    }
    func hexRun(_ start: Int, _ count: Int) -> UInt32? {
        guard start + count <= scalars.count else { return nil }
        var value: UInt32 = 0
        for i in start..<(start + count) {
            guard scalars[i].isASCII, let digit = hexValue(UInt8(scalars[i].value)) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
    func literal(_ value: UInt32) -> String { "\\u{\(String(value, radix: 16))}" }

    while index < scalars.count {
        let c = scalars[index]
        switch c {
        case "\\":
            index += 1
            guard index < scalars.count else { throw fail("trailing backslash") }
            let e = scalars[index]
            switch e {
            case "d": out += inClass ? "0-9" : "[0-9]"
            case "D": out += "[^0-9]"
            case "w": out += inClass ? "A-Za-z0-9_" : "[A-Za-z0-9_]"
            case "W": out += "[^A-Za-z0-9_]"
            case "s": out += inClass ? ecmaWhitespace : "[" + ecmaWhitespace + "]"
            case "S": out += "[^" + ecmaWhitespace + "]"
            case "b": out += inClass ? "\\u{8}" : "\\b"
            case "B": if inClass { throw fail("\\B in a class") } else { out += "\\B" }
            case "t", "n", "r", "f": out += "\\" + String(e)
            case "v": out += "\\u{B}"
            case "0":
                if index + 1 < scalars.count, scalars[index + 1].properties.numericType != nil,
                    scalars[index + 1].isASCII
                {
                    throw fail("octal escapes are not allowed")
                }
                out += "\\u{0}"
            case "c":
                guard index + 1 < scalars.count, scalars[index + 1].isASCII,
                    scalars[index + 1].properties.isAlphabetic
                else { throw fail("\\c must be followed by a letter") }
                index += 1
                out += literal(scalars[index].value % 32)
            case "x":
                guard let value = hexRun(index + 1, 2) else { throw fail("\\x needs two hex digits") }
                index += 2
                out += literal(value)
            case "u":
                if index + 1 < scalars.count && scalars[index + 1] == "{" {
                    var end = index + 2
                    var value: UInt32 = 0
                    while end < scalars.count && scalars[end] != "}" {
                        guard scalars[end].isASCII, let digit = hexValue(UInt8(scalars[end].value)), value < 0x110000
                        else { throw fail("invalid \\u{…} escape") }
                        value = value << 4 | UInt32(digit)
                        end += 1
                    }
                    guard end < scalars.count, end > index + 2, value < 0x110000 else {
                        throw fail("invalid \\u{…} escape")
                    }
                    index = end
                    out += literal(value)
                } else {
                    guard let unit = hexRun(index + 1, 4) else { throw fail("\\u needs four hex digits") }
                    index += 4
                    var value = unit
                    if unit >= 0xD800 && unit <= 0xDBFF, index + 2 < scalars.count, scalars[index + 1] == "\\",
                        scalars[index + 2] == "u", let low = hexRun(index + 3, 4), low >= 0xDC00 && low <= 0xDFFF
                    {
                        value = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                    if value >= 0xD800 && value <= 0xDFFF { throw fail("lone surrogate escape") }
                    out += literal(value)
                }
            case "p", "P":
                guard index + 1 < scalars.count, scalars[index + 1] == "{" else { throw fail("\\p needs {…}") }
                var end = index + 1
                while end < scalars.count && scalars[end] != "}" { end += 1 }
                guard end < scalars.count else { throw fail("unterminated \\p{…}") }
                out += "\\" + String(String.UnicodeScalarView(scalars[index...end]))
                index = end
            case "1"..."9":
                // Back reference.
                out += "\\" + String(e)
                while index + 1 < scalars.count, scalars[index + 1].isASCII,
                    scalars[index + 1].properties.numericType != nil
                {
                    index += 1
                    out.unicodeScalars.append(scalars[index])
                }
            case "k":
                out += "\\k"
            default:
                if e.isASCII && (e.properties.isAlphabetic || e.properties.numericType != nil) {
                    throw fail("invalid escape '\\\(e)'")
                }
                out += "\\"
                out.unicodeScalars.append(e)
            }
            index += 1
        case "[":
            if inClass {
                out += "\\["
                index += 1
            } else if index + 2 < scalars.count + 1, index + 1 < scalars.count, scalars[index + 1] == "]" {
                out += "(?!)"  // [] matches nothing
                index += 2
            } else if index + 2 < scalars.count, scalars[index + 1] == "^", scalars[index + 2] == "]" {
                out += "(?s:.)"  // [^] matches anything
                index += 3
            } else {
                inClass = true
                out += "["
                index += 1
                if index < scalars.count && scalars[index] == "^" {
                    out += "^"
                    index += 1
                }
            }
        case "]":
            if inClass {
                inClass = false
                out += "]"
            } else {
                out += "\\]"
            }
            index += 1
        case "$":
            out += inClass ? "$" : "\\z"
            index += 1
        case ".":
            out += inClass ? "." : "[^\\n\\r\\u{2028}\\u{2029}]"
            index += 1
        case "(":
            if !inClass {
                depth += 1
                if index + 1 < scalars.count && scalars[index + 1] == "?" {
                    // ECMA group syntax only: (?:…) (?=…) (?!…) (?<=…) (?<!…) (?<name>…).
                    let next = index + 2 < scalars.count ? scalars[index + 2] : "\u{0}"
                    let after = index + 3 < scalars.count ? scalars[index + 3] : "\u{0}"
                    switch next {
                    case ":", "=", "!": break
                    case "<":
                        if after != "=" && after != "!" && !(after.isASCII && after.properties.isAlphabetic) {
                            throw fail("invalid group name")
                        }
                    default:
                        throw fail("unsupported group syntax '(?\(next)'")
                    }
                }
            }
            out += "("
            index += 1
        case ")":
            if !inClass {
                depth -= 1
                if depth < 0 { throw fail("unbalanced ')'") }
            }
            out += ")"
            index += 1
        case "&" where inClass, "~" where inClass,
            "-" where inClass && index + 1 < scalars.count && scalars[index + 1] == "-":
            // Swift treats `&&`, `~~`, `--` in classes as set operators; ECMA treats them literally.
            out += "\\"
            out.unicodeScalars.append(c)
            index += 1
        case " ", "#":
            out += "\\"
            out.unicodeScalars.append(c)
            index += 1
        default:
            out.unicodeScalars.append(c)
            index += 1
        }
    }
    if inClass { throw fail("unterminated character class") }
    if depth != 0 { throw fail("unbalanced '('") }
    return out
}
