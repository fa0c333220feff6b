/// Frames on the phyVERSO link: `COBS(payload ‖ CRC-32 LE) 0x00`, as EVerest's `evSerial.cpp`
/// writes them (`link_write`) and reads them (`cobs_decode_byte`, `handle_packet`).
public enum Framing {
    /// Largest decoded frame (payload and checksum): EVerest's receive buffer is 2048 bytes.
    public static let maxFrameSize = 2048
    /// Largest COBS body of a `maxFrameSize` frame (one code byte per 254 data bytes, plus one).
    public static let maxEncodedSize = maxFrameSize + maxFrameSize / 254 + 1
    /// The frame delimiter.
    public static let delimiter: UInt8 = 0

    /// The bytes to write for one protobuf payload, delimiter included.
    public static func frame(payload: [UInt8]) -> [UInt8] {
        COBS.encode(CRC32.appending(to: payload)) + [delimiter]
    }

    public static func frame(_ message: EverestToMcu) -> [UInt8] { frame(payload: message.serialized()) }
    public static func frame(_ message: McuToEverest) -> [UInt8] { frame(payload: message.serialized()) }
}

/// Counters of one end of the link; every frame dropped is counted under exactly one reason.
public struct LinkStatistics: Sendable, Equatable {
    /// Frames that passed COBS and CRC (including those whose message then failed to decode).
    public var framesIn = 0
    public var framesOut = 0
    public var crcErrors = 0
    public var cobsErrors = 0
    /// Frames shorter than their 4-byte checksum.
    public var truncated = 0
    /// Frames longer than `Framing.maxFrameSize`, dropped up to the next delimiter.
    public var oversized = 0
    /// Frames with a good CRC whose payload is not a valid message (counted by `MessageReceiver`).
    public var decodeErrors = 0

    public init() {}

    /// All frames dropped, whatever the reason.
    public var dropped: Int { crcErrors + cobsErrors + truncated + oversized + decodeErrors }
}

/// Splits a byte stream into frames: feed it chunks as they arrive, in any sizes, and it returns
/// the payloads (checksum removed) of the frames that completed. Bad frames are dropped and
/// counted; decoding starts afresh after every 0x00, so one bad frame never costs the next one.
public struct FrameDecoder: Sendable {
    public private(set) var statistics = LinkStatistics()
    private var buffer: [UInt8] = []
    /// True while skipping the rest of an oversized frame.
    private var discarding = false

    public init() {}

    public mutating func feed(_ chunk: some Sequence<UInt8>) -> [[UInt8]] {
        var payloads: [[UInt8]] = []
        for byte in chunk {
            if byte == Framing.delimiter {
                if let payload = finishFrame() { payloads.append(payload) }
                continue
            }
            if discarding { continue }
            if buffer.count == Framing.maxEncodedSize {
                statistics.oversized += 1
                buffer.removeAll(keepingCapacity: true)
                discarding = true
                continue
            }
            buffer.append(byte)
        }
        return payloads
    }

    private mutating func finishFrame() -> [UInt8]? {
        defer {
            buffer.removeAll(keepingCapacity: true)
            discarding = false
        }
        // Back-to-back delimiters (a sender resynchronising) are no frame at all.
        if discarding || buffer.isEmpty { return nil }
        let decoded: [UInt8]
        do {
            decoded = try COBS.decode(buffer)
        } catch {
            statistics.cobsErrors += 1
            return nil
        }
        guard decoded.count >= 4 else {
            statistics.truncated += 1
            return nil
        }
        guard decoded.count <= Framing.maxFrameSize else {
            statistics.oversized += 1
            return nil
        }
        guard CRC32.isValid(decoded[...]) else {
            statistics.crcErrors += 1
            return nil
        }
        statistics.framesIn += 1
        return Array(decoded.dropLast(4))
    }
}
