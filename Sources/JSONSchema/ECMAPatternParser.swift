// The syntax of ECMA-262 regular expressions (JSON Schema's `pattern`), parsed into `ECMANode`s.
//
// The accepted syntax is what the earlier translation to Swift `Regex` accepted (docs/FOOTPRINT.md,
// step 2, lists the differences): ECMA-262 with Annex B's literal `{`/`}`/`]` and `[\d-z]`,
// identity escapes of ASCII punctuation only, and a few forms Swift's engine also took (`{,n}`,
// possessive `*+`, `\k{name}`, `\k'name'`, `\k<1>`).

/// One node of a parsed pattern.
indirect enum ECMANode: Sendable {
    case empty
    case scalar(UInt32)
    case set(ECMAScalarSet)
    case sequence([ECMANode])
    case alternation([ECMANode])
    /// A capturing group (its number, 1-based) or, with nil, a non-capturing one.
    case group(ECMANode, capture: Int?)
    case lookahead(ECMANode, negative: Bool)
    /// Valid syntax (`format: regex` accepts it) that the matcher does not run.
    case lookbehind(ECMANode, negative: Bool)
    case repetition(ECMANode, min: Int, max: Int?, mode: ECMAQuantifierMode)
    case start, end
    case wordBoundary(negated: Bool)
    case backreference(Int)
    case namedBackreference(String)
}

enum ECMAQuantifierMode: Sendable {
    case greedy, lazy, possessive
}

/// A parsed pattern: its tree, how many capturing groups it has and their names.
struct ECMAPattern: Sendable {
    let root: ECMANode
    let captureCount: Int
    let groupNames: [String: Int]

    init(_ pattern: String) throws(RegexTranslationError) {
        var parser = ECMAPatternParser(pattern)
        root = try parser.parse()
        captureCount = parser.captureCount
        groupNames = parser.groupNames
    }
}

/// The largest count a `{n,m}` quantifier may name (Swift's Regex refused larger ones).
let ecmaMaximumRepetitionCount = 65_535

private struct ECMAPatternParser {
    let pattern: String
    let scalars: [Unicode.Scalar]
    var index = 0
    var captureCount = 0
    var groupNames: [String: Int] = [:]
    /// References seen, checked once every group is known (`\2(a)(b)`, `\k<n>(?<n>a)` refer forwards).
    var namedReferences: [String] = []
    var numberedReferences: [Int] = []

    init(_ pattern: String) {
        self.pattern = pattern
        scalars = Array(pattern.unicodeScalars)
    }

    func fail(_ message: String) -> RegexTranslationError {
        RegexTranslationError(message: "invalid regular expression '\(pattern)': \(message)")
    }

    var atEnd: Bool { index >= scalars.count }
    func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    mutating func parse() throws(RegexTranslationError) -> ECMANode {
        let root = try parseDisjunction()
        if !atEnd { throw fail("unbalanced ')'") }
        for number in numberedReferences where number > captureCount {
            throw fail("no capture numbered \(number)")
        }
        for name in namedReferences where groupNames[name] == nil {
            throw fail("no capture named '\(name)'")
        }
        return root
    }

    mutating func parseDisjunction() throws(RegexTranslationError) -> ECMANode {
        var alternatives = [try parseAlternative()]
        while peek() == "|" {
            index += 1
            alternatives.append(try parseAlternative())
        }
        return alternatives.count == 1 ? alternatives[0] : .alternation(alternatives)
    }

    mutating func parseAlternative() throws(RegexTranslationError) -> ECMANode {
        var terms: [ECMANode] = []
        while let c = peek(), c != "|", c != ")" {
            terms.append(try parseTerm())
        }
        switch terms.count {
        case 0: return .empty
        case 1: return terms[0]
        default: return .sequence(terms)
        }
    }

    mutating func parseTerm() throws(RegexTranslationError) -> ECMANode {
        if let quantifier = try parseQuantifier(), quantifier.length > 0 {
            throw fail("quantifier must appear after an expression")
        }
        let (atom, quantifiable) = try parseAtom()
        guard let quantifier = try parseQuantifier() else { return atom }
        guard quantifiable else { throw fail("expression is not quantifiable") }
        index += quantifier.length
        var mode = ECMAQuantifierMode.greedy
        if peek() == "?" {
            mode = .lazy
            index += 1
        } else if peek() == "+" {
            mode = .possessive
            index += 1
        }
        if let next = try parseQuantifier(), next.length > 0 {
            throw fail("quantifier must appear after an expression")
        }
        return .repetition(atom, min: quantifier.min, max: quantifier.max, mode: mode)
    }

    /// The quantifier at the current position, without consuming it; nil if there is none (a `{`
    /// that does not start `{n}`, `{n,}`, `{n,m}` or `{,m}` is a literal).
    func parseQuantifier() throws(RegexTranslationError) -> (min: Int, max: Int?, length: Int)? {
        switch peek() {
        case "*": return (0, nil, 1)
        case "+": return (1, nil, 1)
        case "?": return (0, 1, 1)
        case "{":
            var i = index + 1
            func number() throws(RegexTranslationError) -> Int? {
                var value: Int?
                while i < scalars.count, let digit = decimalValue(scalars[i]) {
                    value = (value ?? 0) * 10 + digit
                    if value ?? 0 > ecmaMaximumRepetitionCount { throw fail("number overflow in quantifier") }
                    i += 1
                }
                return value
            }
            let low = try number()
            var high = low
            if i < scalars.count, scalars[i] == "," {
                i += 1
                high = try number()
                if low == nil && high == nil { return nil }
            } else if low == nil {
                return nil
            }
            guard i < scalars.count, scalars[i] == "}" else { return nil }
            if let low, let high, low > high { throw fail("quantifier range {\(low),\(high)} is out of order") }
            return (low ?? 0, high, i + 1 - index)
        default: return nil
        }
    }

    mutating func parseAtom() throws(RegexTranslationError) -> (ECMANode, quantifiable: Bool) {
        guard let c = peek() else { throw fail("unexpected end") }
        index += 1
        switch c {
        case "^": return (.start, false)
        case "$": return (.end, false)
        case ".": return (.set(.dot), true)
        case "(": return try parseGroup()
        case "[": return (.set(try parseClass()), true)
        case "\\": return try parseAtomEscape()
        default: return (.scalar(c.value), true)
        }
    }

    mutating func parseGroup() throws(RegexTranslationError) -> (ECMANode, quantifiable: Bool) {
        var node: ECMANode
        var quantifiable = true
        if peek() == "?" {
            let next = peek(1)
            let after = peek(2)
            switch next {
            case ":":
                index += 2
                node = .group(try parseDisjunction(), capture: nil)
            case "=", "!":
                index += 2
                node = .lookahead(try parseDisjunction(), negative: next == "!")
                quantifiable = false
            case "<" where after == "=" || after == "!":
                index += 3
                node = .lookbehind(try parseDisjunction(), negative: after == "!")
                quantifiable = false
            case "<":
                index += 2
                guard let first = peek(), isASCIILetter(first) else { throw fail("invalid group name") }
                var name = ""
                while let n = peek(), isASCIILetter(n) || decimalValue(n) != nil || n == "_" {
                    name.unicodeScalars.append(n)
                    index += 1
                }
                guard peek() == ">" else { throw fail("invalid group name") }
                index += 1
                guard groupNames[name] == nil else { throw fail("group named '\(name)' already exists") }
                captureCount += 1
                let number = captureCount
                groupNames[name] = number
                node = .group(try parseDisjunction(), capture: number)
            default:
                throw fail("unsupported group syntax '(?\(next.map { String($0) } ?? "")'")
            }
        } else {
            captureCount += 1
            let number = captureCount
            node = .group(try parseDisjunction(), capture: number)
        }
        guard peek() == ")" else { throw fail("unbalanced '('") }
        index += 1
        return (node, quantifiable)
    }

    mutating func parseAtomEscape() throws(RegexTranslationError) -> (ECMANode, quantifiable: Bool) {
        guard let e = peek() else { throw fail("trailing backslash") }
        switch e {
        case "b":
            index += 1
            return (.wordBoundary(negated: false), false)
        case "B":
            index += 1
            return (.wordBoundary(negated: true), false)
        case "1"..."9":
            var number = 0
            while let c = peek(), let digit = decimalValue(c) {
                number = min(number * 10 + digit, Int(Int32.max))
                index += 1
            }
            numberedReferences.append(number)
            return (.backreference(number), true)
        case "k":
            index += 1
            let close: Unicode.Scalar
            switch peek() {
            case "<": close = ">"
            case "{": close = "}"
            case "'": close = "'"
            default: throw fail("invalid escape '\\k'")
            }
            index += 1
            var name = ""
            while let c = peek(), c != close {
                name.unicodeScalars.append(c)
                index += 1
            }
            guard peek() == close, !name.isEmpty else { throw fail("invalid group reference") }
            index += 1
            if name.unicodeScalars.allSatisfy({ decimalValue($0) != nil }), let number = Int(name) {
                numberedReferences.append(number)
                return (.backreference(number), true)
            }
            namedReferences.append(name)
            return (.namedBackreference(name), true)
        default:
            switch try parseCharacterEscape(inClass: false) {
            case .scalar(let value): return (.scalar(value), true)
            case .set(let set): return (.set(set), true)
            }
        }
    }

    enum ClassAtom {
        case scalar(UInt32)
        case set(ECMAScalarSet)
    }

    /// An escape after `\` that means a character or a set (not an assertion or a reference).
    mutating func parseCharacterEscape(inClass: Bool) throws(RegexTranslationError) -> ClassAtom {
        guard let e = peek() else { throw fail("trailing backslash") }
        index += 1
        switch e {
        case "d": return .set(.digit)
        case "D": return .set(.digit.inverted)
        case "w": return .set(.word)
        case "W": return .set(.word.inverted)
        case "s": return .set(.whitespace)
        case "S": return .set(.whitespace.inverted)
        case "t": return .scalar(0x09)
        case "n": return .scalar(0x0A)
        case "v": return .scalar(0x0B)
        case "f": return .scalar(0x0C)
        case "r": return .scalar(0x0D)
        case "b" where inClass: return .scalar(0x08)
        case "0":
            if let next = peek(), decimalValue(next) != nil { throw fail("octal escapes are not allowed") }
            return .scalar(0)
        case "c":
            guard let letter = peek(), isASCIILetter(letter) else { throw fail("\\c must be followed by a letter") }
            index += 1
            return .scalar(letter.value % 32)
        case "x":
            guard let value = hexRun(index, 2) else { throw fail("\\x needs two hex digits") }
            index += 2
            return .scalar(value)
        case "u":
            return .scalar(try parseUnicodeEscape())
        case "p", "P":
            guard peek() == "{" else { throw fail("\\p needs {…}") }
            var end = index + 1
            while end < scalars.count && scalars[end] != "}" { end += 1 }
            guard end < scalars.count else { throw fail("unterminated \\p{…}") }
            let name = String(String.UnicodeScalarView(scalars[(index + 1)..<end]))
            index = end + 1
            guard let property = ECMAUnicodeProperty(name) else { throw fail("unknown or unsupported character property '\(name)'") }
            return .set(ECMAScalarSet(property: property, negated: e == "P"))
        default:
            if e.isASCII && (isASCIILetter(e) || decimalValue(e) != nil) { throw fail("invalid escape '\\\(e)'") }
            if !e.isASCII { throw fail("invalid escape '\\\(e)'") }
            return .scalar(e.value)
        }
    }

    /// After `\u`: `{hex…}`, or four hex digits (a surrogate pair written as two escapes is one scalar).
    mutating func parseUnicodeEscape() throws(RegexTranslationError) -> UInt32 {
        if peek() == "{" {
            var end = index + 1
            var value: UInt32 = 0
            while end < scalars.count && scalars[end] != "}" {
                guard scalars[end].isASCII, let digit = hexValue(UInt8(scalars[end].value)), value < 0x110000
                else { throw fail("invalid \\u{…} escape") }
                value = value << 4 | UInt32(digit)
                end += 1
            }
            guard end < scalars.count, end > index + 1, value < 0x110000 else { throw fail("invalid \\u{…} escape") }
            if value >= 0xD800 && value <= 0xDFFF { throw fail("lone surrogate escape") }
            index = end + 1
            return value
        }
        guard let unit = hexRun(index, 4) else { throw fail("\\u needs four hex digits") }
        index += 4
        var value = unit
        if unit >= 0xD800 && unit <= 0xDBFF, peek() == "\\", peek(1) == "u", let low = hexRun(index + 2, 4),
            low >= 0xDC00 && low <= 0xDFFF
        {
            value = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            index += 6
        }
        if value >= 0xD800 && value <= 0xDFFF { throw fail("lone surrogate escape") }
        return value
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

    /// After `[`: the class up to its `]`. `[]` matches nothing, `[^]` anything.
    mutating func parseClass() throws(RegexTranslationError) -> ECMAScalarSet {
        var set = ECMAScalarSet()
        if peek() == "^" {
            set.isInverted = true
            index += 1
        }
        while true {
            guard let c = peek() else { throw fail("unterminated character class") }
            if c == "]" {
                index += 1
                return set.finished()
            }
            let (first, firstIsProperty) = try parseClassAtom()
            guard peek() == "-", let upper = peek(1), upper != "]" else {
                set.add(first)
                continue
            }
            switch first {
            case .set:
                // `[\d-z]`: the dash is literal (Annex B); after `\p{…}` it is an error.
                if firstIsProperty { throw fail("invalid bound for character class range") }
                set.add(first)
            case .scalar(let low):
                index += 1
                let (second, _) = try parseClassAtom()
                guard case .scalar(let high) = second else { throw fail("invalid bound for character class range") }
                guard low <= high else { throw fail("character class range out of order") }
                set.ranges.append(low...high)
            }
        }
    }

    mutating func parseClassAtom() throws(RegexTranslationError) -> (ClassAtom, isProperty: Bool) {
        guard let c = peek() else { throw fail("unterminated character class") }
        index += 1
        guard c == "\\" else { return (.scalar(c.value), false) }
        guard let e = peek() else { throw fail("trailing backslash") }
        switch e {
        case "B": throw fail("\\B in a class")
        case "-":
            index += 1
            return (.scalar(e.value), false)
        case "1"..."9", "k": throw fail("invalid escape '\\\(e)' in a class")
        default: return (try parseCharacterEscape(inClass: true), e == "p" || e == "P")
        }
    }
}

extension ECMAScalarSet {
    fileprivate mutating func add(_ atom: ECMAPatternParser.ClassAtom) {
        switch atom {
        case .scalar(let value): ranges.append(value...value)
        case .set(let set): members.append(set)
        }
    }
}

func decimalValue(_ c: Unicode.Scalar) -> Int? {
    c.value >= 0x30 && c.value <= 0x39 ? Int(c.value - 0x30) : nil
}

func isASCIILetter(_ c: Unicode.Scalar) -> Bool {
    (c.value >= 0x41 && c.value <= 0x5A) || (c.value >= 0x61 && c.value <= 0x7A)
}
