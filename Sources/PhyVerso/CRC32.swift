/// The frame checksum of the phyVERSO link: CRC-32 with the reflected polynomial 0xEDB88320,
/// initial value 0xFFFFFFFF and no final XOR (CRC-32/JAMCRC), appended as 4 bytes little-endian.
/// As in EVerest's `evSerial.cpp` (`crc32`, `link_write`, `handle_packet`): the receiver runs the
/// CRC over payload and checksum together and accepts the frame when the result is 0.
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        return crc
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = (crc >> 8) ^ table[Int((crc ^ UInt32(byte)) & 0xFF)]
        }
        return crc
    }

    /// `payload` followed by its checksum, little-endian.
    public static func appending(to payload: [UInt8]) -> [UInt8] {
        let crc = checksum(payload)
        return payload + [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8),
                          UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 24)]
    }

    /// True when the last 4 bytes of `frame` are the checksum of the bytes before them.
    public static func isValid(_ frame: ArraySlice<UInt8>) -> Bool {
        frame.count >= 4 && checksum(frame) == 0
    }
}
