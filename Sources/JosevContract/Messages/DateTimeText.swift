// Date-times of the contract (§1.1) without Foundation: every `format: date-time` field also has the
// pattern `^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,3})?([Zz]|[+-]\d{2}:\d{2})?$`.

/// Formats Unix times as the contract's date-time text and parses that text back, with civil-date
/// arithmetic on the proleptic Gregorian calendar (no time-zone database, no leap seconds).
public enum DateTimeText {
    private static let millisecondsPerDay: Int64 = 86_400_000

    /// 0000-01-01T00:00:00.000Z, the earliest instant `format` writes.
    public static let earliestMilliseconds: Int64 = daysFromCivil(year: 0, month: 1, day: 1) * millisecondsPerDay
    /// 9999-12-31T23:59:59.999Z, the latest instant `format` writes.
    public static let latestMilliseconds: Int64 = daysFromCivil(year: 9999, month: 12, day: 31) * millisecondsPerDay + millisecondsPerDay - 1

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for a Unix time in milliseconds, or nil outside the years 0000…9999
    /// (which four year digits cannot write).
    public static func format<Milliseconds: BinaryInteger>(unixMilliseconds: Milliseconds) -> String? {
        guard let milliseconds = Int64(exactly: unixMilliseconds),
            milliseconds >= earliestMilliseconds, milliseconds <= latestMilliseconds
        else { return nil }
        let days = floorDivide(milliseconds, millisecondsPerDay)
        let inDay = milliseconds - days * millisecondsPerDay
        let (year, month, day) = civilFromDays(days)
        var text = ""
        text.reserveCapacity(24)
        append(year, width: 4, to: &text)
        text.append("-")
        append(month, width: 2, to: &text)
        text.append("-")
        append(day, width: 2, to: &text)
        text.append("T")
        append(inDay / 3_600_000, width: 2, to: &text)
        text.append(":")
        append(inDay / 60_000 % 60, width: 2, to: &text)
        text.append(":")
        append(inDay / 1000 % 60, width: 2, to: &text)
        text.append(".")
        append(inDay % 1000, width: 3, to: &text)
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

    /// The Unix time in milliseconds of a text that matches the contract's date-time pattern and names a
    /// real instant (month 1…12, a day of that month, hour 0…23, minute and second 0…59, offset
    /// hours 0…23 and minutes 0…59); nil otherwise. One or two fractional digits are tenths or
    /// hundredths; a text without zone is read as UTC.
    public static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        var index = 0

        func digits(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<(index + count)] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
        func literal(_ accepted: UInt8...) -> Bool {
            guard index < bytes.count, accepted.contains(bytes[index]) else { return false }
            index += 1
            return true
        }

        guard let year = digits(4), literal(UInt8(ascii: "-")), let month = digits(2), literal(UInt8(ascii: "-")),
            let day = digits(2), literal(UInt8(ascii: "T"), UInt8(ascii: "t")),
            let hour = digits(2), literal(UInt8(ascii: ":")), let minute = digits(2), literal(UInt8(ascii: ":")),
            let second = digits(2)
        else { return nil }

        var milliseconds: Int64 = 0
        if literal(UInt8(ascii: ".")) {
            var count = 0
            while count < 3, let digit = digits(1) {
                milliseconds = milliseconds * 10 + digit
                count += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<3 { milliseconds *= 10 }
        }

        var offsetMinutes: Int64 = 0
        if literal(UInt8(ascii: "Z"), UInt8(ascii: "z")) {
            // UTC
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHour = digits(2), literal(UInt8(ascii: ":")), let offsetMinute = digits(2),
                offsetHour <= 23, offsetMinute <= 59
            else { return nil }
            offsetMinutes = sign * (offsetHour * 60 + offsetMinute)
        }
        guard index == bytes.count else { return nil }

        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        return seconds * 1000 + milliseconds
    }

    // MARK: Civil-date arithmetic (Howard Hinnant's algorithms)

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let shiftedMonth = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01.
    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }

    private static func append(_ value: Int64, width: Int, to text: inout String) {
        let digits = String(value)
        if digits.count < width { text.append(String(repeating: "0", count: width - digits.count)) }
        text.append(digits)
    }
}
