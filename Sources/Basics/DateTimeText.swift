// Date-times as text without Foundation: civil-date arithmetic on the proleptic Gregorian calendar
// (Howard Hinnant's algorithms), no time-zone database, no leap seconds.
//
// The contract (§1.1): every `format: date-time` field also has the pattern
// `^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,3})?([Zz]|[+-]\d{2}:\d{2})?$`.

/// Formats Unix times (milliseconds) as ISO 8601 / RFC 3339 text in UTC and parses such text back.
public enum DateTimeText {
    static let millisecondsPerDay: Int64 = 86_400_000

    /// 0000-01-01T00:00:00.000Z, the earliest instant `format` writes.
    public static let earliestMilliseconds: Int64 = CivilCalendar.days(year: 0, month: 1, day: 1) * millisecondsPerDay
    /// 9999-12-31T23:59:59.999Z, the latest instant `format` writes.
    public static let latestMilliseconds: Int64 =
        CivilCalendar.days(year: 9999, month: 12, day: 31) * millisecondsPerDay + millisecondsPerDay - 1

    // MARK: Formatting

    /// The contract's `YYYY-MM-DDTHH:MM:SS.mmmZ` for a Unix time in milliseconds, or nil outside the
    /// years 0000…9999 (which four year digits cannot write).
    public static func format<Milliseconds: BinaryInteger>(unixMilliseconds: Milliseconds) -> String? {
        guard let milliseconds = Int64(exactly: unixMilliseconds),
            milliseconds >= earliestMilliseconds, milliseconds <= latestMilliseconds
        else { return nil }
        let fields = Fields(milliseconds)
        var text = fields.date(separator: "T")
        text.append(".")
        append(fields.millisecond, width: 3, to: &text)
        text.append("Z")
        return text
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for a Unix time in milliseconds, rounded to the nearest millisecond;
    /// nil when not finite or outside the years 0000…9999.
    public static func format(unixMilliseconds: Double) -> String? {
        guard unixMilliseconds.isFinite else { return nil }
        let rounded = unixMilliseconds.rounded()
        guard rounded >= Double(earliestMilliseconds), rounded <= Double(latestMilliseconds) else { return nil }
        return format(unixMilliseconds: Int64(rounded))
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` (OCPI's DateTime, RFC 3339 in UTC), whole seconds (milliseconds are
    /// truncated towards the past); any year.
    public static func wholeSeconds(unixMilliseconds: Int64) -> String {
        Fields(unixMilliseconds).date(separator: "T") + "Z"
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microseconds, as the journal keeps time); any year.
    public static func microseconds(unixMicroseconds: Int64) -> String {
        let fraction = unixMicroseconds - CivilCalendar.floorDivide(unixMicroseconds, 1_000_000) * 1_000_000
        var text = Fields(CivilCalendar.floorDivide(unixMicroseconds, 1000)).date(separator: "T")
        text.append(".")
        append(fraction, width: 6, to: &text)
        text.append("Z")
        return text
    }

    /// `YYYY-MM-DD HH:MM:SS` in UTC, for tables; any year.
    public static func readable(unixMilliseconds: Int64) -> String {
        Fields(unixMilliseconds).date(separator: " ")
    }

    // MARK: Parsing

    /// The Unix time in milliseconds of a text that matches the contract's date-time pattern and names a
    /// real instant (month 1…12, a day of that month, hour 0…23, minute and second 0…59, offset
    /// hours 0…23 and minutes 0…59); nil otherwise. One or two fractional digits are tenths or
    /// hundredths; a text without zone is read as UTC.
    public static func parse(_ text: String) -> Int64? {
        parse(text, lenient: false)
    }

    /// Parses a time for command lines: Unix seconds (digits, optionally negative), or ISO 8601
    /// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, `YYYY-MM-DDTHH:MM:SS`, with optional fraction
    /// (`.123` or `,123`, any number of digits, truncated to milliseconds), and zone `Z` or `±HH:MM`
    /// (none = UTC); `T` may be a space. Returns Unix milliseconds, or nil when the text is none of
    /// these or names no real instant.
    public static func parseCommandLine(_ text: String) -> Int64? {
        let bytes = text.utf8
        let unsigned = bytes.first == UInt8(ascii: "-") ? bytes.dropFirst() : bytes[...]
        if !unsigned.isEmpty, unsigned.allSatisfy(isDigit) {
            guard let seconds = Int64(text) else { return nil }
            let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
            return overflow ? nil : milliseconds
        }
        return parse(text, lenient: true)
    }

    /// The one date-time grammar. Strict: the contract's pattern. Lenient (command lines): the date
    /// alone, minutes without seconds, a space for `T`, `,` for `.`, any number of fractional digits.
    private static func parse(_ text: String, lenient: Bool) -> Int64? {
        var scanner = Scanner(bytes: Array(text.utf8))
        guard let year = scanner.digits(4), scanner.literal("-"), let month = scanner.digits(2), scanner.literal("-"),
            let day = scanner.digits(2)
        else { return nil }
        var hour: Int64 = 0
        var minute: Int64 = 0
        var second: Int64 = 0
        var millisecond: Int64 = 0
        var offsetMinutes: Int64 = 0
        if !(lenient && scanner.atEnd) {
            guard scanner.literal(lenient ? "Tt " : "Tt"), let h = scanner.digits(2), scanner.literal(":"), let m = scanner.digits(2)
            else { return nil }
            hour = h
            minute = m
            if scanner.literal(":") {
                guard let s = scanner.digits(2) else { return nil }
                second = s
                if scanner.literal(lenient ? ".," : ".") {
                    var count = 0
                    while count < (lenient ? Int.max : 3), let digit = scanner.digits(1) {
                        if count < 3 { millisecond = millisecond * 10 + digit }
                        count += 1
                    }
                    guard count > 0 else { return nil }
                    for _ in min(count, 3)..<3 { millisecond *= 10 }
                }
            } else if !lenient {
                return nil
            }
            if scanner.literal("Zz") {
                // UTC
            } else if let sign = scanner.sign() {
                guard let offsetHour = scanner.digits(2), scanner.literal(":"), let offsetMinute = scanner.digits(2),
                    offsetHour <= 23, offsetMinute <= 59
                else { return nil }
                offsetMinutes = sign * (offsetHour * 60 + offsetMinute)
            }
        }
        guard scanner.atEnd, (1...12).contains(month), day >= 1, day <= CivilCalendar.daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        let days = CivilCalendar.days(year: year, month: month, day: day)
        return days * millisecondsPerDay + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + millisecond
    }

    // MARK: Pieces

    /// A Unix time split into its UTC calendar fields.
    struct Fields {
        var year, month, day, hour, minute, second, millisecond: Int64

        init(_ milliseconds: Int64) {
            let days = CivilCalendar.floorDivide(milliseconds, millisecondsPerDay)
            let inDay = milliseconds - days * millisecondsPerDay
            (year, month, day) = CivilCalendar.date(days: days)
            hour = inDay / 3_600_000
            minute = inDay / 60_000 % 60
            second = inDay / 1000 % 60
            millisecond = inDay % 1000
        }

        /// `YYYY-MM-DD<separator>HH:MM:SS`.
        func date(separator: Character) -> String {
            var text = ""
            text.reserveCapacity(24)
            append(year, width: 4, to: &text)
            text.append("-")
            append(month, width: 2, to: &text)
            text.append("-")
            append(day, width: 2, to: &text)
            text.append(separator)
            append(hour, width: 2, to: &text)
            text.append(":")
            append(minute, width: 2, to: &text)
            text.append(":")
            append(second, width: 2, to: &text)
            return text
        }
    }

    /// Reads ASCII date-time text from the front.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool { index == bytes.count }

        /// Exactly `count` decimal digits as a number; nothing consumed when they are not there.
        mutating func digits(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<(index + count)] {
                guard isDigit(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }

        /// One of the characters of `accepted`.
        mutating func literal(_ accepted: StaticString) -> Bool {
            guard index < bytes.count else { return false }
            let found = accepted.withUTF8Buffer { $0.contains(bytes[index]) }
            if found { index += 1 }
            return found
        }

        /// `+` (1) or `-` (-1).
        mutating func sign() -> Int64? {
            if literal("+") { return 1 }
            if literal("-") { return -1 }
            return nil
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// Zero-padded to `width` digits, the sign in front.
    private static func append(_ value: Int64, width: Int, to text: inout String) {
        if value < 0 { text.append("-") }
        let digits = String(value.magnitude)
        if digits.count < width { text.append(String(repeating: "0", count: width - digits.count)) }
        text.append(digits)
    }
}

/// The proleptic Gregorian calendar as day counts since 1970-01-01 (Howard Hinnant's algorithms).
enum CivilCalendar {
    /// Days since 1970-01-01 of a date.
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let shiftedMonth = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day count since 1970-01-01.
    static func date(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Division rounding towards minus infinity.
    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }
}
