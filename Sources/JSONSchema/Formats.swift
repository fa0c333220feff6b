// `format` assertions, written against the RFCs they name. Unknown formats are not checked.

enum FormatKind: String, Sendable {
    case dateTime = "date-time"
    case date
    case time
    case email
    case idnEmail = "idn-email"
    case hostname
    case idnHostname = "idn-hostname"
    case ipv4
    case ipv6
    case uri
    case uriReference = "uri-reference"
    case iri
    case iriReference = "iri-reference"
    case uriTemplate = "uri-template"
    case jsonPointer = "json-pointer"
    case relativeJSONPointer = "relative-json-pointer"
    case regex
    case uuid

    func check(_ s: String) -> Bool {
        switch self {
        case .dateTime: isDateTime(s)
        case .date: isDate(Array(s.utf8)[...])
        case .time: isTime(Array(s.utf8)[...], dateForLeap: nil)
        case .email: isEmail(s, international: false)
        case .idnEmail: isEmail(s, international: true)
        case .hostname: isHostname(s, international: false)
        case .idnHostname: isHostname(s, international: true)
        case .ipv4: isIPv4(Substring(s))
        case .ipv6: isIPv6(Substring(s))
        case .uri: isURI(s, requireScheme: true, allowNonASCII: false)
        case .uriReference: isURI(s, requireScheme: false, allowNonASCII: false)
        case .iri: isURI(s, requireScheme: true, allowNonASCII: true)
        case .iriReference: isURI(s, requireScheme: false, allowNonASCII: true)
        case .uriTemplate: isURITemplate(s)
        case .jsonPointer: (try? JSONPointer(parsing: s)) != nil
        case .relativeJSONPointer: isRelativeJSONPointer(s)
        case .regex: isECMARegex(s)
        case .uuid: isUUID(s)
        }
    }
}

// MARK: - Dates and times (RFC 3339)

private func digits(_ b: ArraySlice<UInt8>, _ start: Int, _ count: Int) -> Int? {
    guard start >= b.startIndex, start + count <= b.endIndex else { return nil }
    var value = 0
    for i in start..<(start + count) {
        let c = b[i]
        guard c >= 0x30 && c <= 0x39 else { return nil }
        value = value * 10 + Int(c - 0x30)
    }
    return value
}

private func daysInMonth(_ year: Int, _ month: Int) -> Int {
    switch month {
    case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
}

func isDate(_ b: ArraySlice<UInt8>) -> Bool {
    let o = b.startIndex
    guard b.count == 10, b[o + 4] == UInt8(ascii: "-"), b[o + 7] == UInt8(ascii: "-"),
        let year = digits(b, o, 4), let month = digits(b, o + 5, 2), let day = digits(b, o + 8, 2)
    else { return false }
    return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)
}

/// `dateForLeap` is nil for a bare time (a leap second is then judged on the UTC time alone).
func isTime(_ b: ArraySlice<UInt8>, dateForLeap: (Int, Int, Int)?) -> Bool {
    let o = b.startIndex
    guard b.count >= 9, b[o + 2] == UInt8(ascii: ":"), b[o + 5] == UInt8(ascii: ":"),
        let hour = digits(b, o, 2), let minute = digits(b, o + 3, 2), let second = digits(b, o + 6, 2)
    else { return false }
    guard hour <= 23, minute <= 59, second <= 60 else { return false }
    var i = o + 8
    if b[i] == UInt8(ascii: ".") {
        i += 1
        let start = i
        while i < b.endIndex, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
        guard i > start else { return false }
    }
    guard i < b.endIndex else { return false }
    var offsetMinutes = 0
    switch b[i] {
    case UInt8(ascii: "Z"), UInt8(ascii: "z"):
        guard i + 1 == b.endIndex else { return false }
    case UInt8(ascii: "+"), UInt8(ascii: "-"):
        guard b.endIndex - i == 6, b[i + 3] == UInt8(ascii: ":"), let oh = digits(b, i + 1, 2),
            let om = digits(b, i + 4, 2), oh <= 23, om <= 59
        else { return false }
        offsetMinutes = (oh * 60 + om) * (b[i] == UInt8(ascii: "+") ? 1 : -1)
    default:
        return false
    }
    if second == 60 {
        // A leap second exists only at 23:59:60 UTC.
        var utc = hour * 60 + minute - offsetMinutes
        utc = ((utc % 1440) + 1440) % 1440
        if utc != 23 * 60 + 59 { return false }
    }
    return true
}

func isDateTime(_ s: String) -> Bool {
    let b = Array(s.utf8)[...]
    guard b.count >= 20, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") else { return false }
    return isDate(b[0..<10]) && isTime(b[11...], dateForLeap: nil)
}

// MARK: - Internet names and addresses

func isIPv4(_ s: Substring) -> Bool {
    let parts = s.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return false }
    for part in parts {
        guard !part.isEmpty, part.count <= 3, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        if part.count > 1 && part.utf8.first == 0x30 { return false }
        guard let n = Int(part), n <= 255 else { return false }
    }
    return true
}

func isIPv6(_ s: Substring) -> Bool {
    guard !s.isEmpty, s.utf8.count <= 45 else { return false }
    var text = s
    var groupsBudget = 8
    // An embedded IPv4 address takes the place of the last two groups.
    if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
        guard isIPv4(text[text.index(after: lastColon)...]) else { return false }
        text = text[...lastColon]
        if text.hasSuffix("::") {
            // keep "::" intact
        } else {
            text = text.dropLast()
        }
        groupsBudget = 6
    }
    let doubleColons = text.ranges(ofDoubleColon: ())
    guard doubleColons <= 1 else { return false }
    if doubleColons == 1 {
        guard let doubleColon = text.indices.first(where: { text[$0...].starts(with: "::") }) else { return false }
        let head = text[..<doubleColon]
        let tail = text[text.index(doubleColon, offsetBy: 2)...]
        let headGroups = head.isEmpty ? [] : head.split(separator: ":", omittingEmptySubsequences: false)
        let tailGroups = tail.isEmpty ? [] : tail.split(separator: ":", omittingEmptySubsequences: false)
        guard headGroups.allSatisfy(isHexGroup), tailGroups.allSatisfy(isHexGroup) else { return false }
        return headGroups.count + tailGroups.count < groupsBudget
    }
    let groups = text.split(separator: ":", omittingEmptySubsequences: false)
    return groups.count == groupsBudget && groups.allSatisfy(isHexGroup)
}

private func isHexGroup(_ g: Substring) -> Bool {
    !g.isEmpty && g.utf8.count <= 4 && g.utf8.allSatisfy { hexValue($0) != nil }
}

extension Substring {
    fileprivate func ranges(ofDoubleColon: ()) -> Int {
        var count = 0
        var previousColon = false
        var run = 0
        for c in self.utf8 {
            if c == UInt8(ascii: ":") {
                run += 1
                if previousColon && run == 2 { count += 1 }
                if run > 2 { return 99 }
                previousColon = true
            } else {
                run = 0
                previousColon = false
            }
        }
        return count
    }
}

func isHostname(_ s: String, international: Bool) -> Bool {
    guard !s.isEmpty, s.unicodeScalars.count <= 253 else { return false }
    let separators: Set<Unicode.Scalar> = international ? [".", "\u{3002}", "\u{FF0E}", "\u{FF61}"] : ["."]
    var labels: [Substring] = []
    var start = s.unicodeScalars.startIndex
    for i in s.unicodeScalars.indices where separators.contains(s.unicodeScalars[i]) {
        labels.append(Substring(s.unicodeScalars[start..<i]))
        start = s.unicodeScalars.index(after: i)
    }
    labels.append(Substring(s.unicodeScalars[start...]))
    for label in labels {
        guard !label.isEmpty else { return false }
        if label.hasPrefix("-") || label.hasSuffix("-") { return false }
        if international && !label.unicodeScalars.allSatisfy(\.isASCII) {
            // Unicode label: letters, marks, digits and hyphens.
            guard label.unicodeScalars.count <= 63 else { return false }
            for scalar in label.unicodeScalars {
                let p = scalar.properties
                if scalar.isASCII {
                    guard isLDH(UInt8(scalar.value)) else { return false }
                } else {
                    guard p.isAlphabetic || p.generalCategory == .nonspacingMark || p.generalCategory == .spacingMark
                        || p.generalCategory == .decimalNumber || p.generalCategory == .otherLetter
                    else { return false }
                }
            }
            continue
        }
        guard label.utf8.count <= 63, label.utf8.allSatisfy(isLDH) else { return false }
        // "--" in the 3rd and 4th position is reserved for A-labels ("xn--").
        let bytes = Array(label.utf8)
        if bytes.count >= 4 && bytes[2] == UInt8(ascii: "-") && bytes[3] == UInt8(ascii: "-") {
            guard label.lowercased().hasPrefix("xn--") else { return false }
            guard bytes.count > 4 else { return false }
        }
    }
    return true
}

private func isLDH(_ c: UInt8) -> Bool {
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "-")
}

func isEmail(_ s: String, international: Bool) -> Bool {
    guard let at = s.lastIndex(of: "@") else { return false }
    let local = s[..<at]
    let domain = s[s.index(after: at)...]
    guard !local.isEmpty, !domain.isEmpty, local.utf8.count <= 64 else { return false }
    if local.hasPrefix("\"") && local.hasSuffix("\"") && local.count >= 2 {
        // Quoted local part: printable characters, with \ escapes.
        var escaped = false
        for scalar in local.unicodeScalars.dropFirst().dropLast() {
            if escaped {
                escaped = false
                continue
            }
            if scalar == "\\" {
                escaped = true
            } else if scalar == "\"" || scalar.value < 0x20 || scalar.value == 0x7F {
                return false
            }
        }
        if escaped { return false }
    } else {
        if local.hasPrefix(".") || local.hasSuffix(".") || zip(local, local.dropFirst()).contains(where: { $0 == "." && $1 == "." }) { return false }
        for scalar in local.unicodeScalars {
            if scalar.isASCII {
                let c = UInt8(scalar.value)
                let allowed =
                    isLDH(c) || "!#$%&'*+/=?^_`{|}~.".utf8.contains(c)
                guard allowed else { return false }
            } else if !international {
                return false
            }
        }
    }
    if domain.hasPrefix("[") && domain.hasSuffix("]") {
        let inner = domain.dropFirst().dropLast()
        if inner.lowercased().hasPrefix("ipv6:") { return isIPv6(inner.dropFirst(5)) }
        return isIPv4(inner)
    }
    return isHostname(String(domain), international: international)
}

/// The `uuid` format: 8-4-4-4-12 hex digits (the router checks incoming request ids with it).
public func isUUID(_ s: String) -> Bool {
    let b = s.utf8
    guard b.count == 36 else { return false }
    var i = 0
    for c in b {
        if i == 8 || i == 13 || i == 18 || i == 23 {
            guard c == UInt8(ascii: "-") else { return false }
        } else if hexValue(c) == nil {
            return false
        }
        i += 1
    }
    return true
}

// MARK: - URIs (RFC 3986 / 3987)

private func isUnreserved(_ c: UInt8) -> Bool {
    isLDH(c) || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "~")
}

private func isSubDelim(_ c: UInt8) -> Bool { "!$&'()*+,;=".utf8.contains(c) }

/// Checks that every character is allowed in the component (`extra` are additional ASCII
/// characters) and every `%` starts a valid escape.
private func validComponent(_ s: Substring, extra: String, allowNonASCII: Bool) -> Bool {
    var iterator = s.unicodeScalars.makeIterator()
    while let scalar = iterator.next() {
        if !scalar.isASCII {
            if !allowNonASCII { return false }
            continue
        }
        let c = UInt8(scalar.value)
        if c == UInt8(ascii: "%") {
            guard let h = iterator.next(), h.isASCII, hexValue(UInt8(h.value)) != nil,
                let l = iterator.next(), l.isASCII, hexValue(UInt8(l.value)) != nil
            else { return false }
            continue
        }
        if !(isUnreserved(c) || isSubDelim(c) || extra.utf8.contains(c)) { return false }
    }
    return true
}

func isURI(_ s: String, requireScheme: Bool, allowNonASCII: Bool) -> Bool {
    let ref = URIReference(s)
    if requireScheme && ref.scheme == nil { return false }
    if ref.scheme == nil {
        // A relative reference's first path segment must not contain ':'.
        if let first = ref.path.split(separator: "/", omittingEmptySubsequences: false).first, first.contains(":"),
            ref.authority == nil
        {
            return false
        }
    }
    if let authority = ref.authority {
        var host = Substring(authority)
        if let at = host.lastIndex(of: "@") {
            guard validComponent(host[..<at], extra: ":", allowNonASCII: allowNonASCII) else { return false }
            host = host[host.index(after: at)...]
        }
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let literal = host[host.index(after: host.startIndex)..<close]
            if literal.hasPrefix("v") || literal.hasPrefix("V") {
                guard literal.contains(".") else { return false }
            } else if !isIPv6(literal) {
                return false
            }
            let rest = host[host.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), rest.dropFirst().utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
            }
        } else {
            if let colon = host.lastIndex(of: ":") {
                guard host[host.index(after: colon)...].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
                host = host[..<colon]
            }
            guard validComponent(host, extra: "", allowNonASCII: allowNonASCII) else { return false }
        }
    }
    guard validComponent(Substring(ref.path), extra: ":@/", allowNonASCII: allowNonASCII) else { return false }
    if let query = ref.query, !validComponent(Substring(query), extra: ":@/?", allowNonASCII: allowNonASCII) {
        return false
    }
    if let fragment = ref.fragment, !validComponent(Substring(fragment), extra: ":@/?", allowNonASCII: allowNonASCII) {
        return false
    }
    return true
}

/// Whether `s` is a syntactically valid ECMA-262 pattern; lookbehind, which `pattern` refuses
/// (ECMARegex), is valid syntax.
func isECMARegex(_ s: String) -> Bool {
    (try? ECMAPattern(s)) != nil
}

/// RFC 6570 URI Template syntax (levels 1–4).
func isURITemplate(_ s: String) -> Bool {
    let scalars = Array(s.unicodeScalars)
    var i = 0
    func pctEncoded(_ at: Int) -> Bool {
        at + 2 < scalars.count && scalars[at + 1].isASCII && scalars[at + 2].isASCII
            && hexValue(UInt8(scalars[at + 1].value)) != nil && hexValue(UInt8(scalars[at + 2].value)) != nil
    }
    while i < scalars.count {
        let c = scalars[i]
        if c == "{" {
            i += 1
            if i < scalars.count, "+#./;?&=,!@|".unicodeScalars.contains(scalars[i]) { i += 1 }
            while true {
                // varname
                var nameLength = 0
                var lastWasDot = true
                while i < scalars.count {
                    let v = scalars[i]
                    if v.isASCII && (v.properties.isAlphabetic || ("0"..."9").contains(v) || v == "_") {
                        i += 1
                    } else if v == "%" && pctEncoded(i) {
                        i += 3
                    } else if v == "." && !lastWasDot {
                        i += 1
                        lastWasDot = true
                        continue
                    } else {
                        break
                    }
                    nameLength += 1
                    lastWasDot = false
                }
                guard nameLength > 0, !lastWasDot, i < scalars.count else { return false }
                if scalars[i] == ":" {
                    i += 1
                    var digits = 0
                    guard i < scalars.count, ("1"..."9").contains(scalars[i]) else { return false }
                    while i < scalars.count, ("0"..."9").contains(scalars[i]) {
                        digits += 1
                        i += 1
                    }
                    guard digits <= 4 else { return false }
                } else if scalars[i] == "*" {
                    i += 1
                }
                guard i < scalars.count else { return false }
                if scalars[i] == "," {
                    i += 1
                    continue
                }
                guard scalars[i] == "}" else { return false }
                i += 1
                break
            }
        } else {
            if c.value <= 0x20 || c.value == 0x7F || "\"<>\\^`{|}".unicodeScalars.contains(c) { return false }
            if c == "%" {
                guard pctEncoded(i) else { return false }
                i += 3
                continue
            }
            i += 1
        }
    }
    return true
}

func isRelativeJSONPointer(_ s: String) -> Bool {
    let b = Array(s.utf8)
    var i = 0
    while i < b.count && b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
    guard i > 0 else { return false }
    if i > 1 && b[0] == 0x30 { return false }
    if i == b.count { return true }
    if b[i] == UInt8(ascii: "#") { return i + 1 == b.count }
    let rest = String(decoding: b[i...], as: UTF8.self)
    return rest.hasPrefix("/") && (try? JSONPointer(parsing: rest)) != nil
}

// MARK: - Base64 (RFC 4648, for contentEncoding)

func decodeBase64(_ s: String) -> [UInt8]? {
    let input = Array(s.utf8)
    guard input.count % 4 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(input.count / 4 * 3)
    var index = 0
    while index < input.count {
        var values: [UInt8] = []
        var padding = 0
        for j in 0..<4 {
            let c = input[index + j]
            if c == UInt8(ascii: "=") {
                guard index + 4 == input.count, j >= 2 else { return nil }
                padding += 1
                values.append(0)
                continue
            }
            guard padding == 0 else { return nil }
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            default: return nil
            }
            values.append(v)
        }
        let triple = UInt32(values[0]) << 18 | UInt32(values[1]) << 12 | UInt32(values[2]) << 6 | UInt32(values[3])
        out.append(UInt8(truncatingIfNeeded: triple >> 16))
        if padding < 2 { out.append(UInt8(truncatingIfNeeded: triple >> 8)) }
        if padding < 1 { out.append(UInt8(truncatingIfNeeded: triple)) }
        index += 4
    }
    return out
}
