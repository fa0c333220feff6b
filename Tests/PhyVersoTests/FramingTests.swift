import Testing

@testable import PhyVerso

@Suite("CRC-32 and COBS")
struct ChecksumAndStuffingTests {
    @Test("CRC-32/JAMCRC check value: no final XOR")
    func crcCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0x340B_C6D9)
        #expect(CRC32.checksum([]) == 0xFFFF_FFFF)
    }

    @Test("the checksum is appended little-endian and a good frame leaves residue 0")
    func crcAppended() {
        let framed = CRC32.appending(to: Array("123456789".utf8))
        #expect(Array(framed.suffix(4)) == [0xD9, 0xC6, 0x0B, 0x34])
        #expect(CRC32.isValid(framed[...]))
        var damaged = framed
        damaged[2] ^= 0x01
        #expect(!CRC32.isValid(damaged[...]))
        #expect(!CRC32.isValid([0x00, 0x00, 0x00][...]))
    }

    @Test("COBS known encodings")
    func cobsKnown() throws {
        #expect(COBS.encode([]) == [0x01])
        #expect(COBS.encode([0x00]) == [0x01, 0x01])
        #expect(COBS.encode([0x00, 0x00]) == [0x01, 0x01, 0x01])
        #expect(COBS.encode([0x11, 0x22, 0x00, 0x33]) == [0x03, 0x11, 0x22, 0x02, 0x33])
        #expect(COBS.encode([0x11, 0x00]) == [0x02, 0x11, 0x01])
        for encoded in [[0x01], [0x01, 0x01], [0x03, 0x11, 0x22, 0x02, 0x33]] as [[UInt8]] {
            #expect(COBS.encode(try COBS.decode(encoded)) == encoded)
        }
    }

    @Test("COBS runs of 253, 254, 255 and 508 non-zero bytes")
    func cobsLongRuns() throws {
        let run253 = [UInt8](repeating: 0xAB, count: 253)
        #expect(COBS.encode(run253) == [0xFE] + run253)
        let run254 = [UInt8](repeating: 0xAB, count: 254)
        #expect(COBS.encode(run254) == [0xFF] + run254 + [0x01])
        // evSerial.cpp's encoder leaves the trailing empty block out; both forms decode alike.
        #expect(try COBS.decode([0xFF] + run254) == run254)
        #expect(try COBS.decode([0xFF] + run254 + [0x01]) == run254)
        let run255 = [UInt8](repeating: 0xAB, count: 255)
        #expect(COBS.encode(run255) == [0xFF] + run254 + [0x02, 0xAB])
        #expect(try COBS.decode(COBS.encode(run255)) == run255)
        let withZero = run254 + [0x00] + run254
        #expect(COBS.encode(withZero) == [0xFF] + run254 + [0x01, 0xFF] + run254 + [0x01])
        #expect(try COBS.decode(COBS.encode(withZero)) == withZero)
    }

    @Test("COBS round trip of every length up to 600 with zeros anywhere; no zero in the output")
    func cobsRoundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        for length in 0...600 {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) & (Bool.random() ? 0xFF : 0x0F) }
            let encoded = COBS.encode(data)
            #expect(!encoded.contains(0))
            #expect(encoded.count <= data.count + data.count / 254 + 1)
            #expect(try COBS.decode(encoded) == data)
        }
    }

    @Test("COBS errors")
    func cobsErrors() {
        #expect(throws: COBS.DecodeError.blockOverrun) { try COBS.decode([0x05, 0x11, 0x22]) }
        #expect(throws: COBS.DecodeError.zeroInBody) { try COBS.decode([0x03, 0x11, 0x00]) }
    }
}

@Suite("frame decoder")
struct FrameDecoderTests {
    static let keepAlive = Framing.frame(McuToEverest(.keepAlive(KeepAlive(timeStamp: 7, swVersion: "fw 1.0"))))
    static let cpC = Framing.frame(McuToEverest(.cpState(.c), connector: 1))

    private func decode(_ chunks: [[UInt8]]) -> (messages: [McuToEverest], statistics: LinkStatistics) {
        var receiver = MessageReceiver<McuToEverest>()
        var messages: [McuToEverest] = []
        for chunk in chunks { messages += receiver.feed(chunk).map(\.message) }
        return (messages, receiver.statistics)
    }

    @Test("frames split anywhere, one byte at a time or many per chunk")
    func arbitraryChunks() {
        let stream = Self.keepAlive + Self.cpC + Self.keepAlive
        let expected = [
            McuToEverest(.keepAlive(KeepAlive(timeStamp: 7, swVersion: "fw 1.0"))), McuToEverest(.cpState(.c), connector: 1),
            McuToEverest(.keepAlive(KeepAlive(timeStamp: 7, swVersion: "fw 1.0"))),
        ]
        for size in [1, 2, 3, 7, 64, stream.count] {
            let chunks = stride(from: 0, to: stream.count, by: size).map { Array(stream[$0..<min($0 + size, stream.count)]) }
            let (messages, statistics) = decode(chunks)
            #expect(messages == expected)
            #expect(statistics.framesIn == 3)
            #expect(statistics.dropped == 0)
        }
    }

    @Test("garbage, bad CRC, truncated, COBS errors and undecodable payloads are dropped, counted, and the next frame decodes")
    func badFramesThenResync() {
        var badCRC = CRC32.appending(to: McuToEverest(.cpState(.b), connector: 1).serialized())
        badCRC[badCRC.count - 1] ^= 0xFF
        let garbage: [UInt8] = [0x13, 0x37, 0xFF, 0xFE, 0x00]
        let truncated = COBS.encode([0x18, 0x02]) + [0x00]
        let cobsError: [UInt8] = [0x09, 0x11, 0x22, 0x00]
        let undecodable = Framing.frame(payload: [0x18])  // good CRC, key without value
        let stream: [[UInt8]] = [
            garbage, Self.cpC, COBS.encode(badCRC) + [0x00], Self.cpC, truncated, Self.cpC, cobsError, Self.cpC, undecodable, Self.cpC,
            [0x00, 0x00, 0x00], Self.cpC,
        ]
        let (messages, statistics) = decode(stream)
        #expect(messages == [McuToEverest](repeating: McuToEverest(.cpState(.c), connector: 1), count: 6))
        #expect(statistics.crcErrors == 1)
        #expect(statistics.truncated == 1)
        #expect(statistics.cobsErrors == 2)  // the garbage and the overrunning block
        #expect(statistics.decodeErrors == 1)
        #expect(statistics.framesIn == 7)  // the six messages and the undecodable payload passed the CRC
    }

    @Test("a frame cut short by the delimiter costs itself only")
    func cutFrame() {
        let (messages, statistics) = decode([Array(Self.keepAlive.prefix(Self.keepAlive.count / 2)) + [0x00], Self.cpC])
        #expect(messages == [McuToEverest(.cpState(.c), connector: 1)])
        #expect(statistics.dropped == 1)
    }

    @Test("frames over 2 KiB are dropped up to the next delimiter; 2048 bytes exactly still pass")
    func oversized() {
        let largest = Framing.frame(payload: [UInt8](repeating: 0x77, count: Framing.maxFrameSize - 4))
        let tooLarge = Framing.frame(payload: [UInt8](repeating: 0x77, count: Framing.maxFrameSize - 3))
        var receiver = FrameDecoder()
        #expect(receiver.feed(largest).map(\.count) == [Framing.maxFrameSize - 4])
        #expect(receiver.feed(tooLarge).isEmpty)
        // An endless run without a delimiter, fed in pieces: counted once, then the stream resyncs.
        for _ in 0..<10 { #expect(receiver.feed([UInt8](repeating: 0x42, count: 1000)).isEmpty) }
        #expect(receiver.feed([0x00] + Self.cpC).count == 1)
        #expect(receiver.statistics.oversized == 2)
        #expect(receiver.statistics.framesIn == 2)
        #expect(receiver.statistics.dropped == 2)
    }
}
