// The sets of Unicode scalars a pattern's classes, `.`, `\d \w \s` and `\p{…}` stand for.

/// A set of scalars: ranges, nested sets and at most one Unicode property, possibly inverted. The
/// ASCII members are precomputed into a bitmap (`finished()`), so ASCII subjects never reach the
/// ranges or the property tables.
struct ECMAScalarSet: Sendable {
    var ranges: [ClosedRange<UInt32>] = []
    var members: [ECMAScalarSet] = []
    var property: ECMAUnicodeProperty?
    var isInverted = false
    private var asciiLow: UInt64 = 0
    private var asciiHigh: UInt64 = 0

    init() {}

    init(property: ECMAUnicodeProperty, negated: Bool) {
        self.property = property
        isInverted = negated
        self = finished()
    }

    private init(_ ranges: [ClosedRange<UInt32>]) {
        self.ranges = ranges
        self = finished()
    }

    /// ASCII digits (`\d`: ASCII only, as ECMA-262 says).
    static let digit = ECMAScalarSet([0x30...0x39])
    /// ASCII word characters (`\w`, and what `\b` looks at).
    static let word = ECMAScalarSet([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
    /// ECMA-262's WhiteSpace and LineTerminator (`\s`).
    static let whitespace = ECMAScalarSet([
        0x09...0x0D, 0x20...0x20, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029, 0x202F...0x202F,
        0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF,
    ])
    /// `.`: anything but a line terminator.
    static let dot = ECMAScalarSet([0x0A...0x0A, 0x0D...0x0D, 0x2028...0x2029]).inverted

    var inverted: ECMAScalarSet {
        var set = ECMAScalarSet()
        set.members = [self]
        set.isInverted = true
        return set.finished()
    }

    /// The set with its ASCII bitmap computed; call once the members are all added.
    func finished() -> ECMAScalarSet {
        var set = self
        set.asciiLow = 0
        set.asciiHigh = 0
        for c in UInt32(0)..<128 where containsBeyondASCII(c) {
            if c < 64 { set.asciiLow |= 1 << UInt64(c) } else { set.asciiHigh |= 1 << UInt64(c - 64) }
        }
        return set
    }

    func contains(_ c: UInt32) -> Bool {
        if c < 64 { return asciiLow & (1 << UInt64(c)) != 0 }
        if c < 128 { return asciiHigh & (1 << UInt64(c - 64)) != 0 }
        return containsBeyondASCII(c)
    }

    private func containsBeyondASCII(_ c: UInt32) -> Bool {
        var found = false
        for range in ranges where range.contains(c) {
            found = true
            break
        }
        if !found {
            for member in members where member.contains(c) {
                found = true
                break
            }
        }
        if !found, let property { found = property.contains(c) }
        return found != isInverted
    }
}

/// The Unicode properties `\p{…}` may name: general categories (long or short names, optionally as
/// `gc=…` / `General_Category=…`), the binary properties the standard library knows, `Any`,
/// `ASCII`, `Assigned` and the POSIX-style names (`alnum`, `digit`, `punct`, …). Names match
/// loosely (case, spaces, `_` and `-` ignored; an `is` prefix allowed). Scripts, blocks, ages and
/// other enumerated properties are not supported: such a pattern is refused.
struct ECMAUnicodeProperty: Sendable {
    private let test: @Sendable (Unicode.Scalar) -> Bool

    private init(_ test: @escaping @Sendable (Unicode.Scalar) -> Bool) {
        self.test = test
    }

    func contains(_ c: UInt32) -> Bool {
        guard let scalar = Unicode.Scalar(c) else { return false }
        return test(scalar)
    }

    init?(_ name: String) {
        var key = Self.looseName(name)
        var value: String?
        if let equals = key.firstIndex(of: "=") {
            value = String(key[key.index(after: equals)...])
            key = String(key[..<equals])
        }
        if let value {
            guard key == "gc" || key == "generalcategory", let categories = Self.generalCategories(value) else { return nil }
            self.init { categories.contains($0.properties.generalCategory) }
            return
        }
        for candidate in [key, key.hasPrefix("is") ? String(key.dropFirst(2)) : nil] {
            guard let candidate else { continue }
            if let categories = Self.generalCategories(candidate) {
                self.init { categories.contains($0.properties.generalCategory) }
                return
            }
            if let test = Self.binary(candidate) {
                self.init(test)
                return
            }
        }
        return nil
    }

    /// Lower case, without spaces, underscores and hyphens (UAX #44, LM3).
    private static func looseName(_ name: String) -> String {
        var out = ""
        for c in name.unicodeScalars where c != " " && c != "_" && c != "-" {
            out.unicodeScalars.append(isASCIILetter(c) ? Unicode.Scalar(c.value | 0x20) ?? c : c)
        }
        return out
    }

    private static func generalCategories(_ name: String) -> Set<Unicode.GeneralCategory>? {
        switch name {
        case "l", "letter": [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter]
        case "lc", "l&", "casedletter": [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter]
        case "lu", "uppercaseletter": [.uppercaseLetter]
        case "ll", "lowercaseletter": [.lowercaseLetter]
        case "lt", "titlecaseletter": [.titlecaseLetter]
        case "lm", "modifierletter": [.modifierLetter]
        case "lo", "otherletter": [.otherLetter]
        case "m", "mark", "combiningmark": [.nonspacingMark, .spacingMark, .enclosingMark]
        case "mn", "nonspacingmark": [.nonspacingMark]
        case "mc", "spacingmark": [.spacingMark]
        case "me", "enclosingmark": [.enclosingMark]
        case "n", "number": [.decimalNumber, .letterNumber, .otherNumber]
        case "nd", "decimalnumber", "digit": [.decimalNumber]
        case "nl", "letternumber": [.letterNumber]
        case "no", "othernumber": [.otherNumber]
        case "p", "punctuation", "punct":
            [
                .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
                .finalPunctuation, .otherPunctuation,
            ]
        case "pc", "connectorpunctuation": [.connectorPunctuation]
        case "pd", "dashpunctuation": [.dashPunctuation]
        case "ps", "openpunctuation": [.openPunctuation]
        case "pe", "closepunctuation": [.closePunctuation]
        case "pi", "initialpunctuation": [.initialPunctuation]
        case "pf", "finalpunctuation": [.finalPunctuation]
        case "po", "otherpunctuation": [.otherPunctuation]
        case "s", "symbol": [.mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol]
        case "sm", "mathsymbol": [.mathSymbol]
        case "sc", "currencysymbol": [.currencySymbol]
        case "sk", "modifiersymbol": [.modifierSymbol]
        case "so", "othersymbol": [.otherSymbol]
        case "z", "separator": [.spaceSeparator, .lineSeparator, .paragraphSeparator]
        case "zs", "spaceseparator": [.spaceSeparator]
        case "zl", "lineseparator": [.lineSeparator]
        case "zp", "paragraphseparator": [.paragraphSeparator]
        case "c", "other": [.control, .format, .surrogate, .privateUse, .unassigned]
        case "cc", "control", "cntrl": [.control]
        case "cf", "format": [.format]
        case "cs", "surrogate": [.surrogate]
        case "co", "privateuse": [.privateUse]
        case "cn", "unassigned": [.unassigned]
        default: nil
        }
    }

    private static func binary(_ name: String) -> (@Sendable (Unicode.Scalar) -> Bool)? {
        switch name {
        case "any": { _ in true }
        case "ascii": { $0.isASCII }
        case "assigned": { $0.properties.generalCategory != .unassigned }
        case "alphabetic", "alpha": { $0.properties.isAlphabetic }
        case "whitespace", "wspace", "space": { $0.properties.isWhitespace }
        case "uppercase", "upper": { $0.properties.isUppercase }
        case "lowercase", "lower": { $0.properties.isLowercase }
        case "hexdigit", "hex": { $0.properties.isHexDigit }
        case "asciihexdigit", "ahex": { $0.properties.isASCIIHexDigit }
        case "xdigit": { $0.properties.isHexDigit }
        case "alnum": { $0.properties.isAlphabetic || $0.properties.numericType != nil }
        case "blank": { $0.properties.generalCategory == .spaceSeparator || $0 == "\t" }
        case "graph": { isGraph($0) }
        case "print": { $0.properties.generalCategory != .control }
        case "word": { isWord($0) }
        case "math": { $0.properties.isMath }
        case "dash": { $0.properties.isDash }
        case "diacritic", "dia": { $0.properties.isDiacritic }
        case "extender", "ext": { $0.properties.isExtender }
        case "ideographic", "ideo": { $0.properties.isIdeographic }
        case "idstart", "ids": { $0.properties.isIDStart }
        case "idcontinue", "idc": { $0.properties.isIDContinue }
        case "xidstart", "xids": { $0.properties.isXIDStart }
        case "xidcontinue", "xidc": { $0.properties.isXIDContinue }
        case "joincontrol", "joinc": { $0.properties.isJoinControl }
        case "noncharactercodepoint", "nchar": { $0.properties.isNoncharacterCodePoint }
        case "quotationmark", "qmark": { $0.properties.isQuotationMark }
        case "radical": { $0.properties.isRadical }
        case "softdotted", "sd": { $0.properties.isSoftDotted }
        case "terminalpunctuation", "term": { $0.properties.isTerminalPunctuation }
        case "sentenceterminal", "sterm": { $0.properties.isSentenceTerminal }
        case "unifiedideograph", "uideo": { $0.properties.isUnifiedIdeograph }
        case "variationselector", "vs": { $0.properties.isVariationSelector }
        case "patternsyntax", "patsyn": { $0.properties.isPatternSyntax }
        case "patternwhitespace", "patws": { $0.properties.isPatternWhitespace }
        case "cased": { $0.properties.isCased }
        case "caseignorable", "ci": { $0.properties.isCaseIgnorable }
        case "changeswhenlowercased", "cwl": { $0.properties.changesWhenLowercased }
        case "changeswhenuppercased", "cwu": { $0.properties.changesWhenUppercased }
        case "changeswhentitlecased", "cwt": { $0.properties.changesWhenTitlecased }
        case "changeswhencasefolded", "cwcf": { $0.properties.changesWhenCaseFolded }
        case "changeswhencasemapped", "cwcm": { $0.properties.changesWhenCaseMapped }
        case "changeswhennfkccasefolded", "cwkcf": { $0.properties.changesWhenNFKCCaseFolded }
        case "defaultignorablecodepoint", "di": { $0.properties.isDefaultIgnorableCodePoint }
        case "deprecated", "dep": { $0.properties.isDeprecated }
        case "graphemebase", "grbase": { $0.properties.isGraphemeBase }
        case "graphemeextend", "grext": { $0.properties.isGraphemeExtend }
        case "bidicontrol", "bidic": { $0.properties.isBidiControl }
        case "bidimirrored", "bidim": { $0.properties.isBidiMirrored }
        case "logicalorderexception", "loe": { $0.properties.isLogicalOrderException }
        case "fullcompositionexclusion", "compex": { $0.properties.isFullCompositionExclusion }
        case "idsbinaryoperator", "idsb": { $0.properties.isIDSBinaryOperator }
        case "idstrinaryoperator", "idst": { $0.properties.isIDSTrinaryOperator }
        case "emoji": { $0.properties.isEmoji }
        case "emojipresentation", "epres": { $0.properties.isEmojiPresentation }
        case "emojimodifier", "emod": { $0.properties.isEmojiModifier }
        case "emojimodifierbase", "ebase": { $0.properties.isEmojiModifierBase }
        default: nil
        }
    }

    /// UTS #18 Annex C: `graph` is everything but whitespace, controls, surrogates and unassigned.
    private static func isGraph(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .control, .surrogate, .unassigned: false
        default: !c.properties.isWhitespace
        }
    }

    /// UTS #18 Annex C: `word` is alphabetic, marks, decimal digits, connector punctuation, joiners.
    private static func isWord(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: true
        default: c.properties.isAlphabetic || c.properties.isJoinControl
        }
    }
}
