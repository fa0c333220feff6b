import Basics
import Testing

/// Basics' text search (used where the daemon must not link the Regex module) answers as the
/// standard library's `firstRange(of:)`, `contains(_:)` and `replacing(_:with:)` do.
@Suite struct TextSearchTests {
    static let haystacks = [
        "", "://", "https://host/x", "no scheme", "a://b://c", "{image}", "/opt/{image} --now {image}", "x{image",
        "e\u{301}://", ":/\u{301}/", "é{image}é", "/work/.build/debug/cs-companiond", "HTTP 416 range", "41", "~0~1~01",
    ]
    static let needles = ["://", "{image}", "/.build", "416", "~1", "~0", "é", "e"]

    @Test func findsWhatTheStandardLibraryFinds() {
        for haystack in Self.haystacks {
            for needle in Self.needles {
                #expect(haystack.firstRange(ofText: needle) == haystack.firstRange(of: needle), "\(haystack) / \(needle)")
                #expect(haystack.contains(text: needle) == haystack.contains(needle), "\(haystack) / \(needle)")
                #expect(haystack.replacing(text: needle, with: "<\(needle)>") == haystack.replacing(needle, with: "<\(needle)>"))
                let sub = haystack.dropFirst()
                #expect(sub.firstRange(ofText: needle) == sub.firstRange(of: needle), "\(sub) / \(needle)")
            }
        }
    }

    @Test func replacesEveryOccurrence() {
        #expect("run {image} then {image}".replacing(text: "{image}", with: "/tmp/fw.bin") == "run /tmp/fw.bin then /tmp/fw.bin")
        #expect("aaa".replacing(text: "aa", with: "b") == "ba")
        #expect("abc".replacing(text: "", with: "x") == "abc")
        #expect("x".firstRange(ofText: "") == "x".startIndex..<"x".startIndex)
    }
}
