// ECMA-262 regular expressions, as JSON Schema's `pattern`, `patternProperties` and
// `format: regex` mean them, matched by a small engine of our own (ECMAPatternParser, ECMAProgram,
// ECMABacktracker): no reachable library matches ECMA-262 without Swift's Regex engine, which
// would add 0.95 MB to the daemon (docs/FOOTPRINT.md).

/// An ECMA-262 pattern, parsed and compiled once.
///
/// ECMA-262 semantics: `\d`, `\w`, `\b` are ASCII-only; `\s` is ECMA's whitespace and line
/// terminator set; `.` excludes only line terminators; `^` and `$` match only at the very start and
/// end (not around a newline); `\cX`, `\xHH`, `\uHHHH` (a surrogate pair written as two escapes
/// is one scalar) and `\u{…}` escapes; `\v` is the vertical tab; identity escapes of letters and
/// digits are errors (as in Unicode mode). Classes with ranges, escapes and negation; capturing,
/// named and non-capturing groups; lookahead; back references; greedy, lazy (and possessive)
/// quantifiers; `\p{…}` for general categories and binary properties (ECMAScalarSet.swift).
/// Lookbehind is valid syntax (`format: regex`) but refused as a `pattern`; scripts and other
/// enumerated properties in `\p{…}` are refused. Matching works on Unicode scalars and is an unanchored search, within a step budget
/// and a bounded backtrack stack (`ECMAProgram.stepBudget`, `backtrackLimit`): a subject that
/// needs more counts as not matching.
struct ECMARegex: Sendable {
    let source: String
    let program: ECMAProgram
    /// `^[class]+$`-shaped patterns (e.g. the envelope's `^[a-z0-9_]+$`) are matched by a byte
    /// scan against this ASCII set instead of the program; the program is still compiled, so a
    /// pattern is accepted or refused exactly as before.
    let asciiRun: ASCIIRun?

    init(_ pattern: String) throws(RegexTranslationError) {
        source = pattern
        asciiRun = ASCIIRun(pattern)
        program = try ECMAProgram(ECMAPattern(pattern), source: pattern)
    }

    func matches(_ string: String) -> Bool {
        if let asciiRun { return asciiRun.matches(string) }
        return program.search(string) == .match
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
