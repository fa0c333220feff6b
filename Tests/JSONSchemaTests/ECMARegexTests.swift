import Testing

@testable import JSONSchema

/// The ECMA-262 matcher behind `pattern`, `patternProperties` and `format: regex` (ECMARegex).
@Suite struct ECMARegexTests {
    func matches(_ pattern: String, _ subject: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        do {
            return try ECMARegex(pattern).matches(subject)
        } catch {
            Issue.record("\(pattern) did not compile: \(error.message)", sourceLocation: sourceLocation)
            return false
        }
    }

    func refused(_ pattern: String) -> Bool {
        (try? ECMARegex(pattern)) == nil
    }

    // MARK: ECMA-262 character semantics

    @Test func digitsWordsAndBoundariesAreASCII() {
        #expect(matches("^\\d+$", "0123456789"))
        #expect(!matches("^\\d$", "\u{0663}"))  // ARABIC-INDIC DIGIT THREE
        #expect(matches("^\\D$", "\u{0663}"))
        #expect(matches("^\\w+$", "Az09_"))
        #expect(!matches("^\\w$", "é"))
        #expect(matches("^\\W$", "é"))
        // \b looks at [A-Za-z0-9_]: digits and '_' are word characters, 'é' is not.
        #expect(matches("\\b1", "1"))
        #expect(matches("a\\b", "aé"))
        #expect(!matches("a\\b", "a_"))
        #expect(matches("_\\B", "__"))
        #expect(matches("^\\B$", ""))  // both sides of the empty string are non-word
        #expect(!matches("\\b", ""))
    }

    @Test func whitespaceIsECMAsSet() {
        for space in ["\t", "\n", "\u{B}", "\u{C}", "\r", " ", "\u{A0}", "\u{1680}", "\u{2000}", "\u{200A}", "\u{2028}", "\u{2029}", "\u{202F}", "\u{205F}", "\u{3000}", "\u{FEFF}"] {
            #expect(matches("^\\s$", space), "\(space.debugDescription)")
            #expect(!matches("^\\S$", space), "\(space.debugDescription)")
        }
        for other in ["\u{1}", "\u{85}", "\u{200B}", "\u{2013}", "a"] {
            #expect(!matches("^\\s$", other), "\(other.debugDescription)")
        }
    }

    @Test func dotExcludesOnlyLineTerminators() {
        for terminator in ["\n", "\r", "\u{2028}", "\u{2029}"] { #expect(!matches("^.$", terminator)) }
        for other in ["a", "\u{B}", "\u{85}", "🐲", "\u{0}"] { #expect(matches("^.$", other)) }
        #expect(matches("^[^]$", "\n"))
        #expect(!matches("[]", "anything"))
    }

    @Test func anchorsAreTheWholeSubjectsEnds() {
        #expect(!matches("^abc$", "abc\n"))
        #expect(!matches("^abc$", "x\nabc"))
        #expect(matches("^abc$", "abc"))
        #expect(matches("b", "abc"))  // unanchored search
        #expect(!matches("a^b", "ab"))
    }

    @Test func escapes() {
        #expect(matches("^\\cC$", "\u{3}"))
        #expect(matches("^\\cc$", "\u{3}"))
        #expect(matches("^\\x41\\u0042\\u{43}\\u{1F432}$", "ABC🐲"))
        #expect(matches("^\\ud83d\\udc32$", "🐲"))  // a surrogate pair is one scalar
        #expect(matches("^\\v\\t\\n\\r\\f\\0$", "\u{B}\t\n\r\u{C}\u{0}"))
        #expect(matches("^\\-\\.\\/\\$\\{$", "-./${"))
        #expect(matches("^[\\b]$", "\u{8}"))
        for invalid in ["\\a", "\\e", "\\i", "\\z", "\\Q", "\\é", "\\ud800", "\\u{D800}", "\\u{110000}", "\\x4", "\\u12", "\\c1", "\\01", "\\"] {
            #expect(refused(invalid), "\(invalid)")
            #expect(!isECMARegex(invalid), "\(invalid)")
        }
    }

    @Test func classes() {
        #expect(matches("^[a-c]+$", "abcabc"))
        #expect(!matches("^[a-c]$", "d"))
        #expect(matches("^[^a-c]$", "d"))
        #expect(!matches("^[^a-c]$", "b"))
        #expect(matches("^[\\d\\s_]+$", "1 _2\t"))
        #expect(matches("^[\\d-z]+$", "1-z"))  // Annex B: the dash after a class escape is literal
        #expect(!matches("^[\\d-z]$", "y"))
        #expect(matches("^[\\u0041-\\u0043]+$", "ABC"))
        #expect(matches("^[^\\W]$", "a"))
        #expect(matches("^[]a]$", "]") == false)  // `[]` then `a]`
        #expect(refused("[z-a]"))
        #expect(refused("[a-\\d]"))
        #expect(refused("[a"))
        #expect(refused("[\\B]"))
    }

    @Test func unicodePropertyEscapes() {
        #expect(matches("^\\p{Letter}+$", "éÉa"))
        #expect(!matches("^\\p{L}$", "1"))
        #expect(matches("^\\P{L}$", "1"))
        #expect(matches("^\\p{Lu}$", "É"))
        #expect(!matches("^\\p{Lu}$", "é"))
        #expect(matches("^\\p{digit}+$", "42\u{09EA}"))
        #expect(matches("^\\p{gc=Nd}$", "\u{0663}"))
        #expect(matches("^[\\p{Lu}\\d]+$", "A1É"))
        #expect(!matches("^[^\\p{Lu}]$", "A"))
        #expect(refused("\\p{Greek}"))  // scripts are not supported
        #expect(refused("\\p{NoSuchProperty}"))
        #expect(refused("\\pL"))
    }

    // MARK: Structure

    @Test func groupsAlternationAndBacktrackingIntoGroups() {
        #expect(matches("^(?:a|ab)c$", "abc"))  // the first alternative fails later; the second is tried
        #expect(matches("^(a|ab)(c|bcd)(d*)$", "abcd"))
        #expect(matches("^(ab)+$", "ababab"))
        #expect(!matches("^(ab)+$", "ababa"))
        #expect(matches("^(?:a+)+b$", "aaab"))
        #expect(matches("^x(?:)*y$", "xy"))  // an empty loop body ends the loop
        #expect(matches("^(?:a?)*$", "aaa"))
        #expect(matches("^(a*)*$", "aaaa"))
    }

    @Test func quantifierCounts() {
        #expect(matches("^a{3}$", "aaa"))
        #expect(!matches("^a{3}$", "aa"))
        #expect(matches("^a{2,}$", "aaaaa"))
        #expect(!matches("^a{2,}$", "a"))
        #expect(matches("^a{1,2}$", "aa"))
        #expect(!matches("^a{1,2}$", "aaa"))
        #expect(matches("^(?:ab){2}$", "abab"))
        #expect(!matches("^(?:ab){2,3}$", "abababab"))
        #expect(matches("^a{$", "a{"))  // a `{` that is no quantifier is a literal (Annex B)
        #expect(refused("a**"))
        #expect(refused("{2}"))
        #expect(refused("x{2,1}"))
        #expect(refused("a{1,65536}"))
        #expect(refused("(?=a)*"))
    }

    @Test func greedyAndLazyDiffer() {
        // A lookahead is not backtracked into: what it captured first is what the rest sees.
        #expect(matches("^(?=(a+))\\1b$", "aab"))  // greedy: \1 = "aa"
        #expect(!matches("^(?=(a+?))\\1b$", "aab"))  // lazy: \1 = "a", then 'a' is no 'b'
        #expect(matches("^(?=(a+?))\\1b$", "ab"))
        // Possessive quantifiers give nothing back.
        #expect(!matches("^a*+a$", "aaa"))
        #expect(matches("^a*a$", "aaa"))
    }

    @Test func lookaheadAndBackreferences() {
        #expect(matches("^(?=.*\\d)\\w+$", "abc1"))
        #expect(!matches("^(?=.*\\d)\\w+$", "abc"))
        #expect(matches("^(?!ab)\\w+$", "ba"))
        #expect(!matches("^(?!ab)\\w+$", "abc"))
        #expect(matches("^(\\w+) \\1$", "hey hey"))
        #expect(!matches("^(\\w+) \\1$", "hey you"))
        #expect(matches("^(?<word>\\w+)-\\k<word>$", "ab-ab"))
        #expect(matches("^\\1(a)$", "a"))  // a group that has not matched yet is empty
        #expect(matches("^(?:(a)|b)\\1$", "b"))
        #expect(refused("(a)\\2"))
        #expect(refused("\\k<x>(?<y>a)"))
        #expect(refused("(?<a>x)(?<a>y)"))
    }

    @Test func groupSyntaxOfOtherDialectsIsRefused() {
        for invalid in ["(?i)abc", "(?P<n>x)", "(?#c)a", "(?<1a>x)", "(", ")", "(a))", "^(abc]"] {
            #expect(refused(invalid), "\(invalid)")
            #expect(!isECMARegex(invalid), "\(invalid)")
        }
    }

    @Test func lookbehindIsValidSyntaxButNoPattern() {
        #expect(isECMARegex("(?<=a+)b"))
        #expect(isECMARegex("(?<!a)b"))
        #expect(refused("(?<=a)b"))
        #expect(!isECMARegex("(?<=a"))
    }

    // MARK: Cost

    @Test func catastrophicPatternsRunOutOfBudget() throws {
        let nested = try ECMARegex("^(a*)*b$")
        let subject = String(repeating: "a", count: 40)
        #expect(nested.program.search(subject) == .budgetExhausted)
        #expect(!nested.matches(subject))
        // The same pattern answers quickly where it can.
        #expect(nested.matches("aaab"))
        // The budget counts steps: a small one stops an ordinary search.
        let simple = try ECMARegex("(ab)+c")
        #expect(simple.program.search("ababababc", budget: 5) == .budgetExhausted)
        #expect(simple.program.search("ababababc") == .match)
    }

    @Test func longSubjectsNeedNoDeepStack() throws {
        let long = String(repeating: "x", count: 200_000)
        #expect(try ECMARegex("^https?://[^\\s]+$").matches("https://" + long))
        #expect(try ECMARegex("^(?:x|y)+$").matches(long))
        #expect(try !ECMARegex("^(?:x|y)+$").matches(long + " "))
    }

    @Test func theBacktrackStackIsBounded() throws {
        // Two entries per iteration (the loop's and the alternation's): past the limit the search
        // gives up instead of growing the stack further.
        let loop = try ECMARegex("^(?:x|y)+$")
        let iterations = ECMAProgram.backtrackLimit / 2 + 1_000
        #expect(loop.program.search(String(repeating: "x", count: iterations)) == .budgetExhausted)
        #expect(loop.program.search(String(repeating: "x", count: iterations / 2)) == .match)
        // A repeated set is one entry, whatever its length.
        #expect(try ECMARegex("^x+$").program.search(String(repeating: "x", count: iterations)) == .match)
    }

    @Test func bundledSchemaPatternsCompile() {
        let patterns = [
            "^(/|\\$CREDENTIALS_DIRECTORY/)", "^([Ee][Ii][Mm]|[Pp][Nn][Cc])$", "^(https?|ftps?|sftp)://", "^(ws|wss)://",
            "^[0-9a-fA-F:.]+(/[0-9]{1,3})?$", "^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", "^[^:]+:[0-9]+$",
            "^\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?([Zz]|[+-]\\d{2}:\\d{2})?$", "^https?://[^\\s]+$",
        ]
        for pattern in patterns { #expect(!refused(pattern), "\(pattern)") }
        #expect(matches(patterns[7], "2026-12-06T18:30:00.123+01:00"))
        #expect(!matches(patterns[7], "2026-12-06T18:30:00.1234Z"))
        #expect(matches(patterns[0], "$CREDENTIALS_DIRECTORY/key.pem"))
        #expect(matches(patterns[4], "fe80::1/64"))
        #expect(!matches(patterns[4], "fe80::1/1234"))
        #expect(matches(patterns[5], "a/b.c/d_e"))
        #expect(!matches(patterns[5], "a//b"))
    }
}
