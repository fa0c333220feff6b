// JSON text output: compact (like Python's `separators=(",", ":")`) or pretty (2-space indent).

extension JSONValue {
    /// The JSON text of this value. Compact by default; `pretty` indents nested values by two
    /// spaces and puts one member or element per line (for CLIs and humans).
    ///
    /// Object members keep their order. Strings escape `"`, `\` and control characters (`\n`,
    /// `\t`, … or `\u00XX`); `/` and non-ASCII are written as UTF-8. `.int` prints its digits;
    /// `.double` prints the shortest text that round-trips, with integral values ending in `.0`
    /// (`32.0`) and large or small ones in exponent form (`1e+20`), as Python does.
    /// Non-finite doubles (NaN, ±infinity) have no JSON form and are written as `null`; the schema
    /// validator rejects them as "not a number" before a message is ever sent.
    public func serialized(pretty: Bool = false) -> String {
        String(decoding: serializedBytes(pretty: pretty), as: UTF8.self)
    }

    /// The UTF-8 bytes of `serialized(pretty:)`.
    public func serializedBytes(pretty: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        if pretty {
            writePretty(to: &out, indent: 0)
        } else {
            write(to: &out)
        }
        return out
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): writeDouble(d, to: &out)
        case .string(let s): writeJSONString(s, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            var first = true
            for element in elements {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                element.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            var first = true
            for member in object.members {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                writeJSONString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    func writePretty(to out: inout [UInt8], indent: Int) {
        switch self {
        case .array(let elements) where !elements.isEmpty:
            out.append(UInt8(ascii: "["))
            var first = true
            for element in elements {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                newline(&out, indent: indent + 1)
                element.writePretty(to: &out, indent: indent + 1)
            }
            newline(&out, indent: indent)
            out.append(UInt8(ascii: "]"))
        case .object(let object) where !object.isEmpty:
            out.append(UInt8(ascii: "{"))
            var first = true
            for member in object.members {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                newline(&out, indent: indent + 1)
                writeJSONString(member.key, to: &out)
                out.append(contentsOf: ": ".utf8)
                member.value.writePretty(to: &out, indent: indent + 1)
            }
            newline(&out, indent: indent)
            out.append(UInt8(ascii: "}"))
        default:
            write(to: &out)
        }
    }
}

private func newline(_ out: inout [UInt8], indent: Int) {
    out.append(0x0A)
    for _ in 0..<(indent * 2) { out.append(0x20) }
}

func writeDouble(_ d: Double, to out: inout [UInt8]) {
    guard d.isFinite else {
        out.append(contentsOf: "null".utf8)
        return
    }
    // Swift's description is the shortest round-trip form; integral values get ".0" and big or
    // tiny ones an exponent like "1e+20" or "1e-05", all valid JSON numbers.
    out.append(contentsOf: d.description.utf8)
}

private let escapeTable: [UInt8] = {
    // 0 = copy as is, 1 = needs escaping.
    var table = [UInt8](repeating: 0, count: 256)
    for byte in 0..<0x20 { table[byte] = 1 }
    table[0x22] = 1
    table[0x5C] = 1
    return table
}()

private let hexLower: [UInt8] = Array("0123456789abcdef".utf8)

func writeJSONString(_ string: String, to out: inout [UInt8]) {
    out.append(0x22)
    var string = string
    string.withUTF8 { bytes in
        var runStart = 0
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if escapeTable[Int(byte)] != 0 {
                if runStart < index { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index])) }
                out.append(0x5C)
                switch byte {
                case 0x22: out.append(0x22)
                case 0x5C: out.append(0x5C)
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                default:
                    out.append(contentsOf: "u00".utf8)
                    out.append(hexLower[Int(byte >> 4)])
                    out.append(hexLower[Int(byte & 0xF)])
                }
                runStart = index + 1
            }
            index += 1
        }
        if runStart < count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<count])) }
    }
    out.append(0x22)
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text.
    public var description: String { serialized() }
}
