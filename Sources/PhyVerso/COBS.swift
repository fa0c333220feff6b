/// Consistent Overhead Byte Stuffing: the frame body contains no 0x00, so 0x00 can delimit frames.
/// Each block starts with a code byte n (1…255): n − 1 data bytes follow, then an implied 0x00
/// unless n is 255 or the block ends the frame.
public enum COBS {
    public enum DecodeError: Error, Equatable, Sendable {
        /// A 0x00 inside the encoded body.
        case zeroInBody
        /// A code byte announces more bytes than the frame has.
        case blockOverrun
    }

    /// Encodes `data`; the result contains no 0x00 and no delimiter.
    public static func encode(_ data: some Collection<UInt8>) -> [UInt8] {
        var output: [UInt8] = [0]
        output.reserveCapacity(data.count + data.count / 254 + 2)
        var codeIndex = 0
        var code: UInt8 = 1
        for byte in data {
            if byte != 0 {
                output.append(byte)
                code += 1
            }
            if byte == 0 || code == 0xFF {
                output[codeIndex] = code
                code = 1
                codeIndex = output.count
                output.append(0)
            }
        }
        // A full 254-byte block at the very end leaves an empty block behind; it decodes to nothing.
        output[codeIndex] = code
        return output
    }

    /// Decodes one encoded frame body (without its delimiter).
    public static func decode(_ encoded: some Collection<UInt8>) throws(DecodeError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(encoded.count)
        var remaining = 0
        var code: UInt8 = 0xFF
        var first = true
        for byte in encoded {
            guard byte != 0 else { throw .zeroInBody }
            if remaining > 0 {
                output.append(byte)
                remaining -= 1
                continue
            }
            if !first && code != 0xFF { output.append(0) }
            first = false
            code = byte
            remaining = Int(byte) - 1
        }
        guard remaining == 0 else { throw .blockOverrun }
        return output
    }
}
