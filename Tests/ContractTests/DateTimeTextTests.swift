import Foundation
import JosevContract
import Testing

@Suite("DateTimeText: the contract's date-times without Foundation")
struct DateTimeTextTests {
    @Test(
        "formats Unix milliseconds as YYYY-MM-DDTHH:MM:SS.mmmZ",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00.000Z"),
            (1_740_823_200_000, "2025-03-01T10:00:00.000Z"),
            (1_740_824_130_123, "2025-03-01T10:15:30.123Z"),
            (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (-2_203_891_200_000, "1900-03-01T00:00:00.000Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
            (-62_167_219_200_000, "0000-01-01T00:00:00.000Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        ])
    func format(milliseconds: Int64, text: String) {
        #expect(DateTimeText.format(unixMilliseconds: milliseconds) == text)
        #expect(DateTimeText.parse(text) == milliseconds)
        if milliseconds >= 0 { #expect(DateTimeText.format(unixMilliseconds: UInt64(milliseconds)) == text) }
        #expect(DateTimeText.format(unixMilliseconds: Double(milliseconds)) == text)
    }

    @Test("the range is the years 0000 to 9999")
    func range() {
        #expect(DateTimeText.earliestMilliseconds == -62_167_219_200_000)
        #expect(DateTimeText.latestMilliseconds == 253_402_300_799_999)
        #expect(DateTimeText.format(unixMilliseconds: DateTimeText.earliestMilliseconds - 1) == nil)
        #expect(DateTimeText.format(unixMilliseconds: DateTimeText.latestMilliseconds + 1) == nil)
        #expect(DateTimeText.format(unixMilliseconds: UInt64.max) == nil)
        #expect(DateTimeText.format(unixMilliseconds: Double.nan) == nil)
        #expect(DateTimeText.format(unixMilliseconds: Double.infinity) == nil)
        #expect(DateTimeText.format(unixMilliseconds: 1e300) == nil)
    }

    @Test("Double milliseconds are rounded to the nearest millisecond")
    func rounding() {
        #expect(DateTimeText.format(unixMilliseconds: 0.4) == "1970-01-01T00:00:00.000Z")
        #expect(DateTimeText.format(unixMilliseconds: 1.5) == "1970-01-01T00:00:00.002Z")
        #expect(DateTimeText.format(unixMilliseconds: 999.6) == "1970-01-01T00:00:01.000Z")
        #expect(DateTimeText.format(unixMilliseconds: -0.6) == "1969-12-31T23:59:59.999Z")
    }

    @Test("the same calendar writes whole seconds, tables and the journal's microseconds")
    func otherForms() {
        #expect(DateTimeText.wholeSeconds(unixMilliseconds: 1_740_824_130_999) == "2025-03-01T10:15:30Z")
        #expect(DateTimeText.readable(unixMilliseconds: 1_740_824_130_123) == "2025-03-01 10:15:30")
        #expect(DateTimeText.microseconds(unixMicroseconds: 1_740_824_130_123_456) == "2025-03-01T10:15:30.123456Z")
        #expect(DateTimeText.microseconds(unixMicroseconds: 7) == "1970-01-01T00:00:00.000007Z")
        #expect(DateTimeText.microseconds(unixMicroseconds: -1) == "1969-12-31T23:59:59.999999Z")
        #expect(DateTimeText.wholeSeconds(unixMilliseconds: -62_167_219_200_001) == "-0001-12-31T23:59:59Z")
    }

    @Test(
        "parses every form of the contract's pattern",
        arguments: [
            ("2025-03-01T10:00:00Z", Int64(1_740_823_200_000)),
            ("2025-03-01t10:00:00z", 1_740_823_200_000),
            ("2025-03-01T10:00:00", 1_740_823_200_000),
            ("2025-03-01T10:00:00.1Z", 1_740_823_200_100),
            ("2025-03-01T10:00:00.12Z", 1_740_823_200_120),
            ("2025-03-01T10:00:00.123", 1_740_823_200_123),
            ("2025-03-01T12:00:00+02:00", 1_740_823_200_000),
            ("2025-03-01T05:30:00.000-04:30", 1_740_823_200_000),
            ("2025-03-01T10:00:00+00:00", 1_740_823_200_000),
            ("1970-01-01T00:00:00+23:59", -86_340_000),
        ])
    func parse(text: String, milliseconds: Int64) {
        #expect(DateTimeText.parse(text) == milliseconds)
    }

    @Test(
        "refuses what the pattern or the calendar refuses",
        arguments: [
            "", "2025-03-01", "2025-03-01 10:00:00Z", "2025-3-01T10:00:00Z", "2025-03-01T10:00Z", "2025-03-01T10:00:00.Z",
            "2025-03-01T10:00:00.1234Z", "2025-03-01T10:00:00.123456+00:00", "2025-03-01T10:00:00Z ", "2025-03-01T10:00:00+0200",
            "2025-03-01T10:00:00+2:00", "2025-03-01T10:00:00+24:00", "2025-03-01T10:00:00+02:60", "2025-03-01T10:00:00UTC",
            "2025-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2025-04-31T00:00:00Z", "2025-13-01T00:00:00Z", "2025-00-01T00:00:00Z",
            "2025-01-00T00:00:00Z", "2025-01-01T24:00:00Z", "2025-01-01T00:60:00Z", "2025-01-01T00:00:60Z", "+2025-01-01T00:00:00Z",
            "２０２５-01-01T00:00:00Z",
        ])
    func refuse(text: String) {
        #expect(DateTimeText.parse(text) == nil)
    }

    @Test("agrees with Foundation over 1970…2100 and round-trips")
    func agreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var generator = SystemRandomNumberGenerator()
        let end: Int64 = 4_102_444_800_000  // 2100-01-01
        var samples: [Int64] = (0..<2000).map { _ in Int64.random(in: 0..<end, using: &generator) }
        samples += stride(from: Int64(0), to: end, by: 86_400_000 * 7).map { $0 + 86_399_999 }
        for milliseconds in samples {
            let text = DateTimeText.format(unixMilliseconds: milliseconds)
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            #expect(text == expected, "\(milliseconds)")
            #expect(text.flatMap(DateTimeText.parse) == milliseconds)
        }
    }

    @Test("round-trips across the whole range, before 1970 too")
    func roundTripWholeRange() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let milliseconds = Int64.random(in: DateTimeText.earliestMilliseconds...DateTimeText.latestMilliseconds, using: &generator)
            let text = DateTimeText.format(unixMilliseconds: milliseconds)
            #expect(text?.utf8.count == 24)
            #expect(text.flatMap(DateTimeText.parse) == milliseconds, "\(milliseconds) \(text ?? "nil")")
        }
    }
}
