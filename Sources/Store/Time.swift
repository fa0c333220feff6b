#if canImport(Glibc)
    import Glibc
#endif

/// The wall clock, in Unix milliseconds.
public enum UnixTime {
    /// `clock_gettime(CLOCK_REALTIME)` in milliseconds.
    public static func nowMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

/// UTC date-times as text without Foundation: civil-date arithmetic on the proleptic Gregorian
/// calendar (Howard Hinnant's algorithms), no time-zone database, no leap seconds.
public enum UTCDateTime {
    private static let millisecondsPerDay: Int64 = 86_400_000

    /// `YYYY-MM-DDTHH:MM:SSZ` (OCPI's DateTime, RFC 3339 in UTC), whole seconds (milliseconds are
    /// truncated towards the past).
    public static func iso8601(milliseconds: Int64) -> String {
        let (date, time) = parts(milliseconds)
        return date + "T" + time + "Z"
    }

    /// `YYYY-MM-DD HH:MM:SS` in UTC, for tables.
    public static func readable(milliseconds: Int64) -> String {
        let (date, time) = parts(milliseconds)
        return date + " " + time
    }

    private static func parts(_ milliseconds: Int64) -> (String, String) {
        let days = floorDivide(milliseconds, millisecondsPerDay)
        let inDay = milliseconds - days * millisecondsPerDay
        let (year, month, day) = civilFromDays(days)
        let date = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
        let time = pad(inDay / 3_600_000, 2) + ":" + pad(inDay / 60_000 % 60, 2) + ":" + pad(inDay / 1000 % 60, 2)
        return (date, time)
    }

    /// Parses a time for command lines: Unix seconds (digits, optionally negative), or ISO 8601
    /// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, `YYYY-MM-DDTHH:MM:SS`, with optional fraction
    /// (`.123`), and zone `Z` or `±HH:MM` (none = UTC); `T` may be a space. Returns Unix
    /// milliseconds, or nil when the text is none of these or names no real instant.
    public static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        if bytes.allSatisfy({ isDigit($0) }) || (bytes.first == UInt8(ascii: "-") && bytes.count > 1 && bytes.dropFirst().allSatisfy({ isDigit($0) })) {
            guard let seconds = Int64(text) else { return nil }
            let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
            return overflow ? nil : milliseconds
        }
        var index = 0
        func digits(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<(index + count)] {
                guard isDigit(byte) else { return nil }
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
            let day = digits(2), (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month)
        else { return nil }
        var hour: Int64 = 0
        var minute: Int64 = 0
        var second: Int64 = 0
        var fraction: Int64 = 0
        var offsetMinutes: Int64 = 0
        if index < bytes.count {
            guard literal(UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")), let h = digits(2), literal(UInt8(ascii: ":")),
                let m = digits(2)
            else { return nil }
            hour = h
            minute = m
            if literal(UInt8(ascii: ":")) {
                guard let s = digits(2) else { return nil }
                second = s
                if literal(UInt8(ascii: "."), UInt8(ascii: ",")) {
                    var scale: Int64 = 100
                    var count = 0
                    while index < bytes.count, isDigit(bytes[index]) {
                        fraction += Int64(bytes[index] - UInt8(ascii: "0")) * scale
                        scale /= 10
                        index += 1
                        count += 1
                    }
                    guard count > 0 else { return nil }
                }
            }
            if literal(UInt8(ascii: "Z"), UInt8(ascii: "z")) {
            } else if index < bytes.count {
                let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
                guard literal(UInt8(ascii: "+"), UInt8(ascii: "-")), let oh = digits(2), literal(UInt8(ascii: ":")), let om = digits(2),
                    oh <= 23, om <= 59
                else { return nil }
                offsetMinutes = sign * (oh * 60 + om)
            }
            guard index == bytes.count, hour <= 23, minute <= 59, second <= 59 else { return nil }
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        return days * millisecondsPerDay + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + fraction
    }

    // MARK: Civil calendar

    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value < 0 ? -value : value)
        let padded = String(repeating: "0", count: max(0, width - digits.count)) + digits
        return value < 0 ? "-" + padded : padded
    }
}

/// Random (version 4) UUIDs as 36-character lowercase text.
public enum UUIDText {
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
